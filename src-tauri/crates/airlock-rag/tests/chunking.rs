//! Chunking: exact spans, the token bound, page and section boundaries, overlap, determinism.

mod common;

use airlock_rag::{
    chunk, extract_file, Block, BlockKind, ChunkConfig, ChunkDraft, ExtractLimits, Extracted,
    Format, TokenCounter,
};
use common::{fixture, questions_for, squash, WordCounter};
use proptest::prelude::*;

const FIXTURES: [&str; 8] = [
    "p101-pump-manual.md",
    "p101-pump-manual.pdf",
    "lockout-tagout-sop.md",
    "lockout-tagout-sop.docx",
    "shift-handover-2026-11-20.txt",
    "supplier-contract-pumpco.md",
    "incident-report-2026-17.md",
    "conveyor-cv301-notes.md",
];

fn extract(name: &str) -> Extracted {
    extract_file(&fixture(name), &ExtractLimits::default()).expect(name)
}

fn config(max: usize, overlap: usize) -> ChunkConfig {
    ChunkConfig::new(max, overlap).expect("valid config")
}

/// Builds a document from `(page, section, kind, text)` blocks separated by blank lines.
fn document(blocks: &[(Option<u32>, Option<&str>, BlockKind, String)]) -> Extracted {
    let mut text = String::new();
    let mut out = Vec::new();
    for (page, section, kind, content) in blocks {
        if !text.is_empty() {
            text.push_str("\n\n");
        }
        let start = text.len();
        text.push_str(content);
        out.push(Block {
            range: start..text.len(),
            page: *page,
            section: section.map(str::to_owned),
            kind: *kind,
        });
    }
    Extracted {
        format: Format::Text,
        text,
        blocks: out,
    }
}

/// Every invariant that holds for any document and configuration.
fn assert_invariants(doc: &Extracted, chunks: &[ChunkDraft], config: &ChunkConfig) {
    let counter = WordCounter;
    for (i, c) in chunks.iter().enumerate() {
        assert_eq!(c.ordinal as usize, i, "ordinals are dense");
        assert_eq!(c.text, doc.text[c.range.clone()], "text is the span");
        assert_eq!(c.token_count, counter.count_tokens(&c.text));
        assert!(
            c.token_count <= config.max_tokens() || c.text.chars().count() == 1,
            "chunk {i} has {} tokens: {:?}",
            c.token_count,
            c.text
        );
        assert_eq!(c.text.trim(), c.text, "no leading or trailing whitespace");
        // Every block the chunk touches is of the chunk's page and section.
        for block in doc
            .blocks
            .iter()
            .filter(|b| b.range.start < c.range.end && c.range.start < b.range.end)
        {
            assert_eq!(
                (block.page, &block.section),
                (c.page, &c.section),
                "chunk {i}"
            );
        }
    }
    for pair in chunks.windows(2) {
        assert!(pair[0].range.start < pair[1].range.start, "document order");
    }
    // Nothing is lost: every word of every block is in some chunk.
    for block in &doc.blocks {
        let text = doc.block_text(block);
        let mut offset = block.range.start;
        for word in text.split_whitespace() {
            let start = offset + text[offset - block.range.start..].find(word).expect("word");
            let end = start + word.len();
            assert!(
                chunks
                    .iter()
                    .any(|c| c.range.start <= start && end <= c.range.end)
                    || chunks
                        .iter()
                        .any(|c| c.range.start < end && start < c.range.end),
                "word {word:?} at {start} is in no chunk"
            );
            offset = end;
        }
    }
}

#[test]
fn fixture_chunks_are_exact_spans_within_the_bound_and_boundaries() {
    for name in FIXTURES {
        let doc = extract(name);
        for config in [ChunkConfig::default(), config(64, 8), config(16, 4)] {
            let chunks = chunk(&doc, &WordCounter, &config);
            assert!(!chunks.is_empty(), "{name}");
            assert_invariants(&doc, &chunks, &config);
        }
    }
}

#[test]
fn blocks_of_one_section_and_page_are_packed_together() {
    let doc = extract("p101-pump-manual.pdf");
    let chunks = chunk(&doc, &WordCounter, &ChunkConfig::default());
    // Fewer chunks than blocks, and never fewer than the (page, section) runs.
    let mut runs: Vec<(Option<u32>, Option<String>)> = doc
        .blocks
        .iter()
        .map(|b| (b.page, b.section.clone()))
        .collect();
    runs.dedup();
    assert!(chunks.len() < doc.blocks.len());
    assert!(chunks.len() >= runs.len());
    let torque = chunks
        .iter()
        .find(|c| c.text.contains("M10: 45 N·m"))
        .expect("the torque is in a chunk");
    assert_eq!(torque.page, Some(2));
    assert_eq!(
        torque.section.as_deref(),
        Some("Impeller removal and installation")
    );
}

#[test]
fn a_heading_goes_with_the_chunk_that_follows_it() {
    for name in FIXTURES {
        let doc = extract(name);
        for config in [ChunkConfig::default(), config(24, 4)] {
            let chunks = chunk(&doc, &WordCounter, &config);
            for (i, block) in doc.blocks.iter().enumerate() {
                let Some(next) = doc.blocks.get(i + 1) else {
                    continue;
                };
                if block.kind != BlockKind::Heading
                    || (next.page, &next.section) != (block.page, &block.section)
                {
                    continue;
                }
                let holder = chunks
                    .iter()
                    .find(|c| c.range.start <= block.range.start && block.range.end <= c.range.end)
                    .expect("heading in a chunk");
                assert!(
                    holder.range.end > next.range.start,
                    "{name}: heading {:?} is alone in its chunk",
                    doc.block_text(block)
                );
            }
        }
    }
}

#[test]
fn every_answer_lands_whole_in_a_chunk_of_its_section() {
    let cases = [
        ("p101-pump-manual", "p101-pump-manual.pdf"),
        ("p101-pump-manual", "p101-pump-manual.md"),
        ("lockout-tagout-sop", "lockout-tagout-sop.docx"),
        ("shift-handover-2026-11-20", "shift-handover-2026-11-20.txt"),
        ("supplier-contract-pumpco", "supplier-contract-pumpco.md"),
        ("incident-report-2026-17", "incident-report-2026-17.md"),
        ("conveyor-cv301-notes", "conveyor-cv301-notes.md"),
    ];
    for (document, file) in cases {
        let doc = extract(file);
        let chunks = chunk(&doc, &WordCounter, &ChunkConfig::default());
        for question in questions_for(document) {
            let holder = chunks
                .iter()
                .find(|c| squash(&c.text).contains(&question.expected_quote))
                .unwrap_or_else(|| panic!("{file}: {:?} in no chunk", question.expected_quote));
            let section =
                (!question.expected_section.is_empty()).then_some(&question.expected_section);
            assert_eq!(holder.section.as_ref(), section, "{file}");
            if doc.format == Format::Pdf {
                assert_eq!(holder.page, question.expected_page, "{file}");
            }
        }
    }
}

/// One paragraph of `n` numbered sentences of seven words.
fn long_paragraph(n: usize) -> String {
    (0..n)
        .map(|i| format!("Sentence number {i} is about pump seals."))
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn a_long_paragraph_is_split_at_sentences_with_overlap() {
    let doc = document(&[
        (None, Some("Intro"), BlockKind::Heading, "Intro".into()),
        (
            None,
            Some("Intro"),
            BlockKind::Paragraph,
            long_paragraph(40),
        ),
        (
            None,
            Some("Intro"),
            BlockKind::Paragraph,
            "Short tail.".into(),
        ),
    ]);
    let config = config(50, 10);
    let chunks = chunk(&doc, &WordCounter, &config);
    assert_invariants(&doc, &chunks, &config);
    assert!(chunks.len() >= 6, "{} chunks", chunks.len());
    assert!(
        chunks[0].text.starts_with("Intro\n\nSentence number 0"),
        "the heading leads"
    );
    let pieces = &chunks[..chunks.len() - 1];
    for pair in pieces.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        assert!(b.range.start < a.range.end, "pieces overlap");
        let shared = &doc.text[b.range.start..a.range.end];
        let shared_tokens = WordCounter.count_tokens(shared);
        assert!(
            (1..=config.overlap_tokens()).contains(&shared_tokens),
            "overlap of {shared_tokens} tokens: {shared:?}"
        );
        assert!(
            a.text.ends_with('.'),
            "pieces end at a sentence: {:?}",
            a.text
        );
    }
    assert_eq!(chunks.last().map(|c| c.text.as_str()), Some("Short tail."));
}

#[test]
fn without_overlap_pieces_only_touch() {
    let doc = document(&[(None, None, BlockKind::Paragraph, long_paragraph(30))]);
    let chunks = chunk(&doc, &WordCounter, &config(40, 0));
    assert!(chunks.len() > 3);
    for pair in chunks.windows(2) {
        assert!(pair[0].range.end <= pair[1].range.start);
    }
}

#[test]
fn a_sentence_longer_than_the_window_is_split_between_words() {
    let words: Vec<String> = (0..100).map(|i| format!("w{i}")).collect();
    let doc = document(&[(None, None, BlockKind::Paragraph, words.join(" "))]);
    let config = config(20, 5);
    let chunks = chunk(&doc, &WordCounter, &config);
    assert_invariants(&doc, &chunks, &config);
    let (last, pieces) = chunks.split_last().expect("chunks");
    assert!(
        pieces.iter().all(|c| c.token_count > 10),
        "pieces are filled"
    );
    assert!(last.text.ends_with("w99"));
}

#[test]
fn a_word_longer_than_the_window_is_split_between_characters() {
    // Punctuation counts one token per character, so this "word" is 300 tokens.
    let word = "-".repeat(300);
    let doc = document(&[(
        None,
        None,
        BlockKind::Paragraph,
        format!("before {word} after"),
    )]);
    let config = config(64, 8);
    let chunks = chunk(&doc, &WordCounter, &config);
    assert_invariants(&doc, &chunks, &config);
    assert!(chunks.iter().all(|c| c.token_count <= 64));
    assert_eq!(chunks.first().map(|c| c.text.as_str()), Some("before"));
    assert_eq!(chunks.last().map(|c| c.text.as_str()), Some("after"));
}

#[test]
fn chunks_never_cross_a_page_or_section() {
    let doc = document(&[
        (Some(1), Some("A"), BlockKind::Paragraph, "one".into()),
        (Some(1), Some("B"), BlockKind::Heading, "B".into()),
        (Some(1), Some("B"), BlockKind::Paragraph, "two".into()),
        (Some(2), Some("B"), BlockKind::Paragraph, "three".into()),
        (Some(2), Some("B"), BlockKind::ListItem, "- four".into()),
    ]);
    let chunks = chunk(&doc, &WordCounter, &ChunkConfig::default());
    let got: Vec<(Option<u32>, Option<&str>, &str)> = chunks
        .iter()
        .map(|c| (c.page, c.section.as_deref(), c.text.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (Some(1), Some("A"), "one"),
            (Some(1), Some("B"), "B\n\ntwo"),
            (Some(2), Some("B"), "three\n\n- four"),
        ]
    );
}

#[test]
fn chunking_is_deterministic_with_stable_ordinals() {
    let doc = extract("p101-pump-manual.pdf");
    let first = chunk(&doc, &WordCounter, &config(48, 8));
    let second = chunk(&doc, &WordCounter, &config(48, 8));
    assert_eq!(first, second);
    let ordinals: Vec<u32> = first.iter().map(|c| c.ordinal).collect();
    assert_eq!(ordinals, (0..first.len() as u32).collect::<Vec<_>>());
}

#[test]
fn a_closure_counts_tokens_too() {
    let doc = document(&[(None, None, BlockKind::Paragraph, long_paragraph(5))]);
    let by_bytes = |text: &str| text.len();
    let chunks = chunk(&doc, &by_bytes, &config(60, 10));
    assert!(chunks.iter().all(|c| c.text.len() <= 60));
    assert!(chunks.len() > 1);
}

fn arbitrary_document() -> impl Strategy<Value = Extracted> {
    let word = prop_oneof![
        8 => "[a-zA-Z0-9]{1,8}",
        2 => "[a-z]{1,6}[.!?,;:]",
        1 => "[-=#]{1,40}",
        1 => "[äöüß·–]{1,4}",
    ];
    let block_text = prop::collection::vec(
        (
            word,
            prop_oneof![6 => Just(" "), 1 => Just("\n"), 1 => Just("  ")],
        ),
        1..80,
    )
    .prop_map(|parts| {
        parts
            .into_iter()
            .map(|(w, sep)| format!("{w}{sep}"))
            .collect::<String>()
            .trim()
            .to_owned()
    });
    let block = (
        0u32..3,
        0usize..3,
        prop_oneof![
            Just(BlockKind::Heading),
            Just(BlockKind::Paragraph),
            Just(BlockKind::ListItem),
            Just(BlockKind::TableRow)
        ],
        block_text,
    );
    prop::collection::vec(block, 1..12).prop_map(|blocks| {
        let sections = ["Alpha", "Beta", "Gamma"];
        let blocks: Vec<(Option<u32>, Option<&str>, BlockKind, String)> = blocks
            .into_iter()
            .filter(|(_, _, _, text)| !text.is_empty())
            .map(|(page, section, kind, text)| {
                (Some(page + 1), Some(sections[section]), kind, text)
            })
            .collect();
        document(&blocks)
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn any_document_chunks_within_bounds(
        doc in arbitrary_document(),
        max in 2usize..80,
        overlap_share in 0usize..100,
    ) {
        let config = config(max, overlap_share * max / 100);
        let chunks = chunk(&doc, &WordCounter, &config);
        assert_invariants(&doc, &chunks, &config);
        prop_assert_eq!(chunk(&doc, &WordCounter, &config), chunks);
    }
}
