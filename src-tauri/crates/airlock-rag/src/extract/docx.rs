//! DOCX: paragraphs of `word/document.xml`; paragraphs in a heading style (style id or name
//! `Heading N`, `Title`, or an outline level) open sections; list paragraphs get their number
//! or a bullet from `word/numbering.xml`; table rows become one block each, cells joined with
//! `" | "`.

use std::collections::HashMap;
use std::io::{Cursor, Read};

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::{BlockKind, ExtractLimits, Extracted, Format, TextBuilder};
use crate::ExtractError;

/// How many times larger than the file limit a part may expand.
const EXPANSION_FACTOR: u64 = 4;
/// Levels of list numbering Word supports.
const LEVELS: usize = 9;

/// Extracts a `.docx` file.
pub(super) fn extract(bytes: &[u8], limits: &ExtractLimits) -> Result<Extracted, ExtractError> {
    if bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) {
        // An OLE compound file: how Office stores password-protected documents, and also the
        // old binary .doc format.
        return Err(if contains_utf16(bytes, "EncryptionInfo") {
            ExtractError::Encrypted
        } else {
            ExtractError::corrupt("an old binary Word file (.doc); save it as .docx")
        });
    }
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|err| ExtractError::corrupt(format!("not a DOCX (ZIP) file: {err}")))?;
    let cap = limits.max_file_bytes.saturating_mul(EXPANSION_FACTOR);
    let document = read_part(&mut archive, "word/document.xml", cap)?
        .ok_or_else(|| ExtractError::corrupt("word/document.xml is missing"))?;
    let styles = match read_part(&mut archive, "word/styles.xml", cap)? {
        Some(xml) => parse_styles(&xml)?,
        None => Styles::default(),
    };
    let numbering = match read_part(&mut archive, "word/numbering.xml", cap)? {
        Some(xml) => parse_numbering(&xml)?,
        None => Numbering::default(),
    };
    Body::new(&styles, &numbering).read(&document)
}

/// Whether `bytes` contain `needle` in UTF-16LE.
fn contains_utf16(bytes: &[u8], needle: &str) -> bool {
    let pattern: Vec<u8> = needle.encode_utf16().flat_map(u16::to_le_bytes).collect();
    bytes.windows(pattern.len()).any(|w| w == pattern)
}

/// A part of the package as text, `None` when absent; refuses parts that expand beyond `cap`.
fn read_part(
    archive: &mut zip::ZipArchive<Cursor<&[u8]>>,
    name: &str,
    cap: u64,
) -> Result<Option<String>, ExtractError> {
    let part = match archive.by_name(name) {
        Ok(part) => part,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(zip::result::ZipError::UnsupportedArchive(what)) if what.contains("assword") => {
            return Err(ExtractError::Encrypted)
        }
        Err(err) => return Err(ExtractError::corrupt(format!("{name}: {err}"))),
    };
    if part.encrypted() {
        return Err(ExtractError::Encrypted);
    }
    if part.size() > cap {
        return Err(ExtractError::TooLarge {
            bytes: part.size(),
            limit: cap,
        });
    }
    let mut bytes = Vec::new();
    part.take(cap.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|err| ExtractError::corrupt(format!("{name}: {err}")))?;
    if bytes.len() as u64 > cap {
        return Err(ExtractError::TooLarge {
            bytes: bytes.len() as u64,
            limit: cap,
        });
    }
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|err| ExtractError::corrupt(format!("{name} is not UTF-8: {err}")))
}

/// The value of an attribute, matched by local name (`w:val` → `val`).
fn attr(element: &BytesStart<'_>, local: &str) -> Option<String> {
    element
        .attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == local)
        .and_then(|a| {
            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .ok()
                .map(|v| v.into_owned())
        })
}

fn xml_error(part: &str, err: &quick_xml::Error) -> ExtractError {
    ExtractError::corrupt(format!("{part}: {err}"))
}

/// What matters of a paragraph style.
#[derive(Debug, Default, Clone)]
struct Style {
    name: String,
    based_on: Option<String>,
    outline_level: Option<u8>,
}

#[derive(Debug, Default)]
struct Styles {
    by_id: HashMap<String, Style>,
}

impl Styles {
    /// Whether a paragraph style is a heading: `Heading N` / `Title` by id or name, or an outline
    /// level, here or in a style it is based on.
    fn is_heading(&self, id: &str) -> bool {
        let mut current = Some(id.to_owned());
        for _ in 0..16 {
            let Some(id) = current.take() else {
                return false;
            };
            if heading_name(&id) {
                return true;
            }
            let Some(style) = self.by_id.get(&id) else {
                return false;
            };
            if heading_name(&style.name) || style.outline_level.is_some_and(|l| l < 9) {
                return true;
            }
            current.clone_from(&style.based_on);
        }
        false
    }
}

/// `Heading1`, `heading 2`, `Title`.
fn heading_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase().replace(' ', "");
    lower == "title"
        || lower
            .strip_prefix("heading")
            .is_some_and(|n| n.len() == 1 && n.chars().all(|c| c.is_ascii_digit()))
}

fn parse_styles(xml: &str) -> Result<Styles, ExtractError> {
    let mut reader = Reader::from_str(xml);
    let mut styles = Styles::default();
    let mut current: Option<(String, Style)> = None;
    loop {
        let event = reader
            .read_event()
            .map_err(|err| xml_error("word/styles.xml", &err))?;
        match event {
            Event::Start(e) | Event::Empty(e) => {
                let Some((_, style)) = current.as_mut() else {
                    if e.local_name().as_ref() == "style"
                        && attr(&e, "type").as_deref() == Some("paragraph")
                    {
                        if let Some(id) = attr(&e, "styleId") {
                            current = Some((id, Style::default()));
                        }
                    }
                    continue;
                };
                match e.local_name().as_ref() {
                    "name" => style.name = attr(&e, "val").unwrap_or_default(),
                    "basedOn" => style.based_on = attr(&e, "val"),
                    "outlineLvl" => {
                        style.outline_level = attr(&e, "val").and_then(|v| v.parse().ok());
                    }
                    _ => {}
                }
            }
            Event::End(e) if e.local_name().as_ref() == "style" => {
                if let Some((id, style)) = current.take() {
                    styles.by_id.insert(id, style);
                }
            }
            Event::Eof => return Ok(styles),
            _ => {}
        }
    }
}

/// One level of a list definition.
#[derive(Debug, Clone)]
struct Level {
    format: String,
    text: String,
    start: u32,
}

#[derive(Debug, Default)]
struct Numbering {
    /// Abstract definition id → levels.
    abstracts: HashMap<String, HashMap<usize, Level>>,
    /// Numbering instance id → abstract definition id.
    instances: HashMap<String, String>,
}

impl Numbering {
    fn level(&self, num_id: &str, level: usize) -> Option<&Level> {
        self.abstracts.get(self.instances.get(num_id)?)?.get(&level)
    }
}

fn parse_numbering(xml: &str) -> Result<Numbering, ExtractError> {
    let mut reader = Reader::from_str(xml);
    let mut numbering = Numbering::default();
    let mut abstract_id: Option<String> = None;
    let mut level: Option<(usize, Level)> = None;
    let mut instance: Option<String> = None;
    loop {
        let event = reader
            .read_event()
            .map_err(|err| xml_error("word/numbering.xml", &err))?;
        match event {
            Event::Start(e) | Event::Empty(e) => match e.local_name().as_ref() {
                "abstractNum" => abstract_id = attr(&e, "abstractNumId"),
                "lvl" if abstract_id.is_some() => {
                    level = attr(&e, "ilvl").and_then(|l| l.parse().ok()).map(|l| {
                        (
                            l,
                            Level {
                                format: "decimal".into(),
                                text: String::new(),
                                start: 1,
                            },
                        )
                    });
                }
                "start" => {
                    if let Some((_, lvl)) = level.as_mut() {
                        lvl.start = attr(&e, "val").and_then(|v| v.parse().ok()).unwrap_or(1);
                    }
                }
                "numFmt" => {
                    if let Some((_, lvl)) = level.as_mut() {
                        lvl.format = attr(&e, "val").unwrap_or_default();
                    }
                }
                "lvlText" => {
                    if let Some((_, lvl)) = level.as_mut() {
                        lvl.text = attr(&e, "val").unwrap_or_default();
                    }
                }
                "num" => instance = attr(&e, "numId"),
                "abstractNumId" => {
                    if let (Some(num), Some(abs)) = (instance.as_ref(), attr(&e, "val")) {
                        numbering.instances.insert(num.clone(), abs);
                    }
                }
                _ => {}
            },
            Event::End(e) => match e.local_name().as_ref() {
                "lvl" => {
                    if let (Some(abs), Some((index, lvl))) = (abstract_id.as_ref(), level.take()) {
                        numbering
                            .abstracts
                            .entry(abs.clone())
                            .or_default()
                            .insert(index, lvl);
                    }
                }
                "abstractNum" => abstract_id = None,
                "num" => instance = None,
                _ => {}
            },
            Event::Eof => return Ok(numbering),
            _ => {}
        }
    }
}

/// The counters of the lists in use.
#[derive(Debug, Default)]
struct Counters {
    by_instance: HashMap<String, [u32; LEVELS]>,
}

impl Counters {
    /// The marker for the next item of list `num_id` at `level`, `None` when the level has no
    /// visible marker.
    fn next(&mut self, numbering: &Numbering, num_id: &str, level: usize) -> Option<String> {
        let level = level.min(LEVELS - 1);
        let definition = numbering.level(num_id, level)?;
        let counters = self
            .by_instance
            .entry(num_id.to_owned())
            .or_insert([0; LEVELS]);
        counters[level] = if counters[level] == 0 {
            definition.start
        } else {
            counters[level] + 1
        };
        for deeper in counters.iter_mut().skip(level + 1) {
            *deeper = 0;
        }
        match definition.format.as_str() {
            "none" => None,
            "bullet" => Some("•".into()),
            _ => {
                let mut marker = definition.text.clone();
                for (i, &value) in counters.iter().enumerate().take(level + 1) {
                    let format = numbering
                        .level(num_id, i)
                        .map_or("decimal", |l| l.format.as_str());
                    let value = if value == 0 {
                        numbering.level(num_id, i).map_or(1, |l| l.start)
                    } else {
                        value
                    };
                    marker = marker.replace(&format!("%{}", i + 1), &format_number(value, format));
                }
                let marker = marker.trim().to_owned();
                (!marker.is_empty()).then_some(marker)
            }
        }
    }
}

/// A list number in a Word number format.
fn format_number(value: u32, format: &str) -> String {
    match format {
        "lowerLetter" => letters(value).to_lowercase(),
        "upperLetter" => letters(value),
        "lowerRoman" => roman(value).to_lowercase(),
        "upperRoman" => roman(value),
        "decimalZero" => format!("{value:02}"),
        _ => value.to_string(),
    }
}

/// 1 → A, 26 → Z, 27 → AA (Word repeats the letter).
fn letters(value: u32) -> String {
    let value = value.max(1) - 1;
    let letter = char::from(b'A' + (value % 26) as u8);
    std::iter::repeat_n(letter, (value / 26 + 1) as usize).collect()
}

fn roman(mut value: u32) -> String {
    const NUMERALS: [(u32, &str); 13] = [
        (1000, "M"),
        (900, "CM"),
        (500, "D"),
        (400, "CD"),
        (100, "C"),
        (90, "XC"),
        (50, "L"),
        (40, "XL"),
        (10, "X"),
        (9, "IX"),
        (5, "V"),
        (4, "IV"),
        (1, "I"),
    ];
    let mut out = String::new();
    for (n, numeral) in NUMERALS {
        while value >= n {
            out.push_str(numeral);
            value -= n;
        }
    }
    out
}

/// A paragraph being read.
#[derive(Debug, Default)]
struct Paragraph {
    text: String,
    style: Option<String>,
    num_id: Option<String>,
    level: usize,
    outline_level: Option<u8>,
    /// How many tables were open when it started (to know whether it sits in a cell).
    table_depth: usize,
}

/// A table being read.
#[derive(Debug, Default)]
struct Table {
    row: Vec<String>,
    cell: Option<String>,
}

/// The reader of `word/document.xml`.
struct Body<'a> {
    styles: &'a Styles,
    numbering: &'a Numbering,
    counters: Counters,
    out: TextBuilder,
    paragraphs: Vec<Paragraph>,
    tables: Vec<Table>,
    /// Depth inside elements whose text is skipped (`mc:Fallback` repeats `mc:Choice`).
    skipping: usize,
    /// Inside `w:t`.
    in_text: bool,
    /// Inside `w:pPr`, whose `w:tab` elements are tab stops, not tabs.
    in_properties: bool,
}

impl<'a> Body<'a> {
    fn new(styles: &'a Styles, numbering: &'a Numbering) -> Self {
        Self {
            styles,
            numbering,
            counters: Counters::default(),
            out: TextBuilder::new("\n\n"),
            paragraphs: Vec::new(),
            tables: Vec::new(),
            skipping: 0,
            in_text: false,
            in_properties: false,
        }
    }

    fn read(mut self, xml: &str) -> Result<Extracted, ExtractError> {
        let mut reader = Reader::from_str(xml);
        loop {
            let event = reader
                .read_event()
                .map_err(|err| xml_error("word/document.xml", &err))?;
            match event {
                Event::Start(e) => {
                    if self.skipping > 0 || e.local_name().as_ref() == "Fallback" {
                        self.skipping += 1;
                        continue;
                    }
                    self.start(&e);
                }
                Event::Empty(e) if self.skipping == 0 => self.empty(&e),
                Event::End(e) => {
                    if self.skipping > 0 {
                        self.skipping -= 1;
                        continue;
                    }
                    self.end(e.local_name().as_ref());
                }
                Event::Text(t) if self.in_text && self.skipping == 0 => {
                    self.push_text(&t.xml10_content());
                }
                Event::CData(t) if self.in_text && self.skipping == 0 => {
                    self.push_text(&t);
                }
                Event::GeneralRef(r) if self.in_text && self.skipping == 0 => {
                    let name = r.xml10_content();
                    let resolved = match r.resolve_char_ref() {
                        Ok(Some(c)) => Some(c.to_string()),
                        _ => quick_xml::escape::resolve_predefined_entity(&name).map(str::to_owned),
                    };
                    if let Some(text) = resolved {
                        self.push_text(&text);
                    }
                }
                Event::Eof => break,
                _ => {}
            }
        }
        self.out.finish(Format::Docx)
    }

    fn start(&mut self, e: &BytesStart<'_>) {
        match e.local_name().as_ref() {
            "p" => self.paragraphs.push(Paragraph {
                table_depth: self.tables.len(),
                ..Paragraph::default()
            }),
            "t" => self.in_text = true,
            "pPr" => self.in_properties = true,
            "tbl" => self.tables.push(Table::default()),
            "tc" => {
                if let Some(table) = self.tables.last_mut() {
                    table.cell = Some(String::new());
                }
            }
            _ => self.empty(e),
        }
    }

    /// Elements that matter whether or not they have content.
    fn empty(&mut self, e: &BytesStart<'_>) {
        let Some(paragraph) = self.paragraphs.last_mut() else {
            return;
        };
        match e.local_name().as_ref() {
            "pStyle" => paragraph.style = attr(e, "val"),
            "numId" => paragraph.num_id = attr(e, "val").filter(|id| id != "0"),
            "ilvl" => paragraph.level = attr(e, "val").and_then(|v| v.parse().ok()).unwrap_or(0),
            "outlineLvl" => paragraph.outline_level = attr(e, "val").and_then(|v| v.parse().ok()),
            "tab" if !self.in_properties => paragraph.text.push(' '),
            "br" | "cr" if !self.in_properties => paragraph.text.push('\n'),
            "noBreakHyphen" if !self.in_properties => paragraph.text.push('-'),
            _ => {}
        }
    }

    fn end(&mut self, local: &str) {
        match local {
            "t" => self.in_text = false,
            "pPr" => self.in_properties = false,
            "p" => self.end_paragraph(),
            "tc" => {
                if let Some(table) = self.tables.last_mut() {
                    let cell = table.cell.take().unwrap_or_default();
                    table.row.push(super::tidy_lines(&cell).replace('\n', " "));
                }
            }
            "tr" => {
                let Some(table) = self.tables.last_mut() else {
                    return;
                };
                let cells = std::mem::take(&mut table.row);
                if cells.iter().all(String::is_empty) {
                    return;
                }
                let row = cells.join(" | ");
                let depth = self.tables.len();
                if depth > 1 {
                    // A nested table's row is part of the enclosing cell.
                    if let Some(cell) = self.tables[depth - 2].cell.as_mut() {
                        cell.push('\n');
                        cell.push_str(&row);
                    }
                } else {
                    self.out.push(&row, BlockKind::TableRow, None);
                }
            }
            "tbl" => {
                self.tables.pop();
            }
            _ => {}
        }
    }

    fn push_text(&mut self, text: &str) {
        if let Some(paragraph) = self.paragraphs.last_mut() {
            paragraph.text.push_str(text);
        }
    }

    fn end_paragraph(&mut self) {
        let Some(paragraph) = self.paragraphs.pop() else {
            return;
        };
        let mut text = super::tidy_lines(&paragraph.text);
        let heading = paragraph.outline_level.is_some_and(|l| l < 9)
            || paragraph
                .style
                .as_deref()
                .is_some_and(|style| self.styles.is_heading(style));
        let marker = paragraph
            .num_id
            .as_deref()
            .and_then(|id| self.counters.next(self.numbering, id, paragraph.level));
        if text.is_empty() {
            return;
        }
        let in_cell = paragraph.table_depth > 0 && paragraph.table_depth == self.tables.len();
        if let Some(marker) = marker.filter(|_| !heading) {
            text = format!("{marker} {text}");
        }
        if in_cell {
            if let Some(cell) = self.tables.last_mut().and_then(|t| t.cell.as_mut()) {
                cell.push('\n');
                cell.push_str(&text);
                return;
            }
        }
        let kind = if heading {
            BlockKind::Heading
        } else if paragraph.num_id.is_some() {
            BlockKind::ListItem
        } else {
            BlockKind::Paragraph
        };
        self.out.push(&text, kind, None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_numbers_are_formatted_like_word() {
        assert_eq!(format_number(4, "lowerLetter"), "d");
        assert_eq!(format_number(28, "upperLetter"), "BB");
        assert_eq!(format_number(14, "lowerRoman"), "xiv");
        assert_eq!(format_number(7, "decimalZero"), "07");
        assert_eq!(format_number(12, "decimal"), "12");
    }

    #[test]
    fn heading_styles_are_recognised_by_id_name_and_outline_level() {
        let mut styles = Styles::default();
        styles.by_id.insert(
            "Berschrift1".into(),
            Style {
                name: "heading 1".into(),
                ..Style::default()
            },
        );
        styles.by_id.insert(
            "Custom".into(),
            Style {
                based_on: Some("Chapter".into()),
                ..Style::default()
            },
        );
        styles.by_id.insert(
            "Chapter".into(),
            Style {
                outline_level: Some(0),
                ..Style::default()
            },
        );
        assert!(styles.is_heading("Heading2"));
        assert!(styles.is_heading("Berschrift1"));
        assert!(styles.is_heading("Custom"));
        assert!(!styles.is_heading("TextBody"));
    }

    #[test]
    fn ole_containers_are_encrypted_or_old_word() {
        let mut ole = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
        let limits = ExtractLimits::default();
        assert!(matches!(
            extract(&ole, &limits),
            Err(ExtractError::Corrupt { detail }) if detail.contains(".doc")
        ));
        ole.extend("EncryptionInfo".encode_utf16().flat_map(u16::to_le_bytes));
        assert_eq!(extract(&ole, &limits), Err(ExtractError::Encrypted));
        assert!(matches!(
            extract(b"PK\x03\x04 not really", &limits),
            Err(ExtractError::Corrupt { .. })
        ));
    }
}
