//! Each format on the fixture corpus: text, blocks, pages and sections.

mod common;

use std::fs;

use airlock_rag::{extract_file, BlockKind, ExtractLimits, Extracted, Format};
use common::{fixture, markdown_headings, page_text, questions_for, sections_holding, squash};

fn extract(name: &str) -> Extracted {
    extract_file(&fixture(name), &ExtractLimits::default())
        .unwrap_or_else(|err| panic!("{name}: {err}"))
}

fn headings(doc: &Extracted) -> Vec<String> {
    doc.blocks
        .iter()
        .filter(|b| b.kind == BlockKind::Heading)
        .map(|b| squash(doc.block_text(b)))
        .collect()
}

/// Blocks are in order, do not overlap, are not empty and sit on char boundaries.
fn assert_well_formed(doc: &Extracted) {
    let mut end = 0;
    for block in &doc.blocks {
        assert!(block.range.start >= end, "overlap or disorder at {block:?}");
        assert!(block.range.start < block.range.end, "empty block {block:?}");
        assert!(doc.text.is_char_boundary(block.range.start));
        assert!(doc.text.is_char_boundary(block.range.end));
        end = block.range.end;
    }
    assert!(end <= doc.text.len());
}

#[test]
fn markdown_keeps_the_file_text_and_its_sections_are_the_headings() {
    for name in [
        "p101-pump-manual.md",
        "lockout-tagout-sop.md",
        "supplier-contract-pumpco.md",
        "incident-report-2026-17.md",
        "conveyor-cv301-notes.md",
    ] {
        let doc = extract(name);
        assert_eq!(doc.format, Format::Markdown);
        assert_well_formed(&doc);
        assert_eq!(doc.text, fs::read_to_string(fixture(name)).expect("read"));
        let expected = markdown_headings(name, &["# ", "## "]);
        assert_eq!(headings(&doc).len(), expected.len(), "{name}");
        let sections: Vec<String> = doc
            .blocks
            .iter()
            .filter(|b| b.kind == BlockKind::Heading)
            .filter_map(|b| b.section.clone())
            .collect();
        assert_eq!(sections, expected, "{name}");
        // Every block after a heading carries the nearest heading before it.
        let mut current = None;
        for block in &doc.blocks {
            if block.kind == BlockKind::Heading {
                current.clone_from(&block.section);
            }
            assert_eq!(block.section, current, "{name}: {}", doc.block_text(block));
        }
    }
}

#[test]
fn markdown_blocks_are_paragraphs_list_items_and_table_rows() {
    let doc = extract("p101-pump-manual.md");
    let in_section = |section: &str, kind: BlockKind| -> Vec<&str> {
        doc.blocks
            .iter()
            .filter(|b| b.kind == kind && b.section.as_deref() == Some(section))
            .map(|b| doc.block_text(b))
            .collect()
    };
    let rows = in_section("Specifications", BlockKind::TableRow);
    assert_eq!(
        rows.len(),
        13,
        "header and 12 rows, the rule is not a block"
    );
    assert_eq!(rows[0], "| Item | Value |");
    let steps = in_section("Impeller removal and installation", BlockKind::ListItem);
    assert_eq!(steps.len(), 13);
    assert!(steps[0].starts_with("1. Lock out P-101"));
    assert!(
        steps[0].ends_with("closed and locked)."),
        "continuation lines stay with the item"
    );
}

#[test]
fn markdown_answers_are_in_their_expected_sections() {
    for (document, file) in [
        ("p101-pump-manual", "p101-pump-manual.md"),
        ("lockout-tagout-sop", "lockout-tagout-sop.md"),
        ("supplier-contract-pumpco", "supplier-contract-pumpco.md"),
        ("incident-report-2026-17", "incident-report-2026-17.md"),
        ("conveyor-cv301-notes", "conveyor-cv301-notes.md"),
    ] {
        let doc = extract(file);
        for question in questions_for(document) {
            let sections = sections_holding(&doc, &question.expected_quote);
            assert!(
                !sections.is_empty(),
                "{file}: quote of {:?} not in one block",
                question.text
            );
            assert!(
                sections
                    .iter()
                    .all(|s| s.as_deref() == Some(question.expected_section.as_str())),
                "{file}: {:?} found in {sections:?}",
                question.expected_quote
            );
        }
    }
}

#[test]
fn plain_text_paragraphs_split_on_blank_lines_without_sections() {
    let name = "shift-handover-2026-11-20.txt";
    let doc = extract(name);
    assert_eq!(doc.format, Format::Text);
    assert_well_formed(&doc);
    let source = fs::read_to_string(fixture(name)).expect("read");
    assert_eq!(doc.text, source);
    let paragraphs: Vec<String> = source
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect();
    let blocks: Vec<&str> = doc.blocks.iter().map(|b| doc.block_text(b)).collect();
    assert_eq!(blocks, paragraphs);
    assert!(doc
        .blocks
        .iter()
        .all(|b| b.section.is_none() && b.page.is_none() && b.kind == BlockKind::Paragraph));
    for question in questions_for("shift-handover-2026-11-20") {
        assert_eq!(sections_holding(&doc, &question.expected_quote), [None]);
    }
}

#[test]
fn pdf_has_five_pages_and_the_torque_on_page_two() {
    let doc = extract("p101-pump-manual.pdf");
    assert_eq!(doc.format, Format::Pdf);
    assert_well_formed(&doc);
    assert_eq!(doc.pages(), Some(5));
    for page in 1..=5 {
        assert_eq!(
            page_text(&doc, page).contains("M10: 45 N·m"),
            page == 2,
            "page {page}"
        );
    }
    // The exact characters: a MIDDLE DOT and an ordinary space before the N.
    assert!(doc.text.contains("M10: 45 N\u{b7}m"));
}

#[test]
fn pdf_answers_are_on_their_expected_pages_and_in_their_sections() {
    let doc = extract("p101-pump-manual.pdf");
    for question in questions_for("p101-pump-manual") {
        let page = question.expected_page.expect("manual questions have pages");
        assert!(
            page_text(&doc, page).contains(&question.expected_quote),
            "{:?} not on page {page}",
            question.expected_quote
        );
        let holding: Vec<_> = doc
            .blocks
            .iter()
            .filter(|b| squash(doc.block_text(b)).contains(&question.expected_quote))
            .map(|b| (b.page, b.section.clone()))
            .collect();
        assert_eq!(
            holding,
            [(Some(page), Some(question.expected_section.clone()))],
            "{:?}",
            question.expected_quote
        );
    }
}

#[test]
fn pdf_headings_are_detected_from_font_size() {
    let doc = extract("p101-pump-manual.pdf");
    assert_eq!(
        headings(&doc),
        markdown_headings("p101-pump-manual.md", &["# ", "## "])
    );
}

#[test]
fn pdf_tables_are_rows_and_page_numbers_are_gone() {
    let doc = extract("p101-pump-manual.pdf");
    let rows: Vec<&str> = doc
        .blocks
        .iter()
        .filter(|b| b.kind == BlockKind::TableRow)
        .map(|b| doc.block_text(b))
        .collect();
    assert!(rows.contains(&"Impeller bolts | M10 | 45 N·m"));
    // LibreOffice writes a row cell by cell; the multi-line first cell stays whole.
    assert!(rows.contains(
        &"Rhythmic knocking or clicking at shaft speed | damaged rolling element or cage | plan bearing replacement within 1 week"
    ));
    assert!(doc
        .blocks
        .iter()
        .all(|b| !doc.block_text(b).chars().all(|c| c.is_ascii_digit())));
    // Hyphens at line ends are kept and the parts joined.
    assert!(doc
        .text
        .contains("Equipment P-101, functional location PLT1-L3-PMP"));
    assert!(doc.text.contains("filler L3-FIL-01"));
}

#[test]
fn docx_headings_are_sections_and_list_numbers_are_resolved() {
    let doc = extract("lockout-tagout-sop.docx");
    assert_eq!(doc.format, Format::Docx);
    assert_well_formed(&doc);
    assert_eq!(
        headings(&doc),
        markdown_headings("lockout-tagout-sop.md", &["# ", "## "])
    );
    let items = |section: &str| -> Vec<&str> {
        doc.blocks
            .iter()
            .filter(|b| b.kind == BlockKind::ListItem && b.section.as_deref() == Some(section))
            .map(|b| doc.block_text(b))
            .collect()
    };
    let steps = items("Lockout procedure");
    assert_eq!(steps.len(), 7);
    assert!(steps[0].starts_with("1. Prepare: read the energy isolation sheet"));
    assert!(steps[6].starts_with("7. Verify zero energy"));
    // Each list restarts its numbering.
    let verification = items("Verification of zero energy");
    assert!(verification[0].starts_with("1. Make sure nobody is in a danger zone."));
    assert!(verification[4].starts_with("5. Return all controls"));
    // Bulleted lists get a bullet.
    assert!(items("Roles").iter().all(|item| item.starts_with("• ")));
    for question in questions_for("lockout-tagout-sop") {
        assert_eq!(
            sections_holding(&doc, &question.expected_quote),
            [Some(question.expected_section.clone())],
            "{:?}",
            question.expected_quote
        );
    }
}

#[test]
fn docx_and_markdown_of_the_sop_carry_the_same_words() {
    let docx = extract("lockout-tagout-sop.docx");
    let markdown = extract("lockout-tagout-sop.md");
    let words = |doc: &Extracted| -> Vec<String> {
        doc.text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.len() > 3)
            .map(str::to_lowercase)
            .collect()
    };
    assert_eq!(words(&docx), words(&markdown));
}

#[test]
fn csv_rows_name_their_columns() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("Spare-Parts.CSV");
    fs::write(
        &path,
        "part;pumpco number;stock\n\
         \"Seal kit; EPDM\";PC-MS35-SIC-E;2\n\
         Impeller bolt set M10;PC-BS-M10-A4;\n\
         ;;\n\
         Casing gasket;PC-GK-160;4\n",
    )
    .expect("write");
    let doc = extract_file(&path, &ExtractLimits::default()).expect("csv");
    assert_eq!(doc.format, Format::Csv);
    assert_well_formed(&doc);
    let rows: Vec<&str> = doc.blocks.iter().map(|b| doc.block_text(b)).collect();
    assert_eq!(
        rows,
        [
            "part: Seal kit; EPDM; pumpco number: PC-MS35-SIC-E; stock: 2",
            "part: Impeller bolt set M10; pumpco number: PC-BS-M10-A4",
            "part: Casing gasket; pumpco number: PC-GK-160; stock: 4",
        ]
    );
    assert!(doc
        .blocks
        .iter()
        .all(|b| b.kind == BlockKind::TableRow && b.section.is_none()));
}
