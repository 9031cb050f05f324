//! PDF: the text layer, page by page, rebuilt into lines, paragraphs, list items, table rows and
//! headings from glyph positions and sizes.
//!
//! `pdf-extract` interprets the content streams and hands every glyph to [`Collector`] with its
//! position and size. From those:
//! - glyphs on one baseline form a line; a gap after a text-positioning operator that is wide,
//!   or lands on a known column start, separates table cells;
//! - table cells are gathered into rows even when the producer writes them cell by cell
//!   (LibreOffice does: a multi-line cell comes before the next cell of its row);
//! - lines are grouped into paragraphs by vertical gaps larger than the usual line pitch, and a
//!   line starting with a list marker opens a list item;
//! - a line set in a font clearly larger than the body text is a heading and names the section
//!   of what follows, across pages;
//! - whitespace inside a line is collapsed, line breaks inside a paragraph are kept, a line
//!   ending in a soft hyphen is joined to the next, and one ending in a hyphen between
//!   letters or digits is joined keeping the hyphen (part numbers like `P-101` stay intact);
//! - a bare page number at the top or bottom of a page is dropped.

use std::collections::HashMap;

use pdf_extract::{Document, MediaBox, OutputDev, OutputError, Transform};

use super::{BlockKind, Deadline, ExtractLimits, Extracted, Format, TextBuilder};
use crate::ExtractError;

/// A line whose font is at least this much larger than the body text is a heading.
const HEADING_SIZE_RATIO: f64 = 1.12;
/// Longest heading, in characters; a longer line in a large font is display text.
const MAX_HEADING_CHARS: usize = 200;
/// A horizontal gap (in ems) after which a space is inserted between glyphs.
const SPACE_GAP: f64 = 0.15;
/// A gap (in ems) after a positioning operator that always separates table cells.
const COLUMN_GAP: f64 = 1.0;
/// A smaller gap (in ems) that separates cells when it lands on a known column start.
const ALIGNED_COLUMN_GAP: f64 = 0.3;
/// How far (in points) two x positions may differ and still be one column.
const COLUMN_TOLERANCE: f64 = 1.5;
/// A vertical step larger than this many line pitches starts a new paragraph.
const PARAGRAPH_GAP: f64 = 1.15;

/// Extracts a PDF's text layer.
pub(super) fn extract(
    bytes: &[u8],
    limits: &ExtractLimits,
    deadline: &Deadline,
) -> Result<Extracted, ExtractError> {
    if !bytes[..bytes.len().min(1024)]
        .windows(5)
        .any(|w| w == b"%PDF-")
    {
        return Err(ExtractError::corrupt("no %PDF header"));
    }
    let mut doc = Document::load_mem(bytes).map_err(|err| match err {
        pdf_extract::Error::Decryption(_) => ExtractError::Encrypted,
        other => ExtractError::corrupt(other.to_string()),
    })?;
    if doc.is_encrypted() {
        // Documents with only an owner password open with the empty user password.
        doc.decrypt("").map_err(|_| ExtractError::Encrypted)?;
    }
    let pages = doc.get_pages();
    if pages.len() > limits.max_pages as usize {
        return Err(ExtractError::TooManyPages {
            pages: pages.len() as u64,
            limit: limits.max_pages,
        });
    }
    let mut collector = Collector::default();
    for &number in pages.keys() {
        deadline.check()?;
        pdf_extract::output_doc_page(&doc, &mut collector, number)
            .map_err(|err| ExtractError::corrupt(format!("page {number}: {err}")))?;
    }
    layout(&collector.pages)
}

/// One glyph (or a short string the font maps one code to) as drawn.
#[derive(Debug, Clone)]
struct Glyph {
    /// Left edge, in points.
    x: f64,
    /// Baseline, in points from the top of the page.
    y: f64,
    /// Right edge, in points.
    end: f64,
    /// Font size on the page, in points.
    size: f64,
    text: String,
    /// Whether a text-positioning operator came between this glyph and the previous one.
    positioned: bool,
}

#[derive(Debug, Default)]
struct PageGlyphs {
    number: u32,
    glyphs: Vec<Glyph>,
}

/// The output device that records glyphs.
#[derive(Default)]
struct Collector {
    pages: Vec<PageGlyphs>,
    top: f64,
    positioned: bool,
}

impl OutputDev for Collector {
    fn begin_page(
        &mut self,
        page_num: u32,
        media_box: &MediaBox,
        _art_box: Option<(f64, f64, f64, f64)>,
    ) -> Result<(), OutputError> {
        self.pages.push(PageGlyphs {
            number: page_num,
            glyphs: Vec::new(),
        });
        self.top = media_box.ury;
        self.positioned = true;
        Ok(())
    }

    fn end_page(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn output_character(
        &mut self,
        trm: &Transform,
        width: f64,
        _spacing: f64,
        font_size: f64,
        text: &str,
    ) -> Result<(), OutputError> {
        let scale = (trm.m11 * trm.m22 - trm.m12 * trm.m21).abs().sqrt();
        let size = font_size * scale;
        let text = normalise_glyph_text(text);
        if text.is_empty() || !size.is_finite() || !trm.m31.is_finite() || !trm.m32.is_finite() {
            return Ok(());
        }
        let positioned = std::mem::take(&mut self.positioned);
        if let Some(page) = self.pages.last_mut() {
            page.glyphs.push(Glyph {
                x: trm.m31,
                y: self.top - trm.m32,
                end: trm.m31 + width * size,
                size,
                text,
                positioned,
            });
        }
        Ok(())
    }

    fn begin_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn end_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn end_line(&mut self) -> Result<(), OutputError> {
        self.positioned = true;
        Ok(())
    }
}

/// Glyph text with space-like characters made spaces, ligatures spelled out and control
/// characters dropped.
fn normalise_glyph_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\u{fb00}' => out.push_str("ff"),
            '\u{fb01}' => out.push_str("fi"),
            '\u{fb02}' => out.push_str("fl"),
            '\u{fb03}' => out.push_str("ffi"),
            '\u{fb04}' => out.push_str("ffl"),
            '\u{fb05}' | '\u{fb06}' => out.push_str("st"),
            '\u{ad}' => out.push(c),
            c if c.is_whitespace() => out.push(' '),
            c if c.is_control() || matches!(c, '\u{200b}'..='\u{200d}' | '\u{feff}') => {}
            c => out.push(c),
        }
    }
    out
}

/// How a segment relates to the one before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Jump {
    /// It starts a new line (or the page).
    NewLine,
    /// It starts a new table cell on the same line.
    Column,
}

/// A run of glyphs on one line, not interrupted by a column gap.
#[derive(Debug, Clone)]
struct Segment {
    x0: f64,
    y: f64,
    end: f64,
    size: f64,
    text: String,
    jump: Jump,
}

/// Splits a page's glyphs into segments. A positioned gap of [`COLUMN_GAP`] ems separates cells;
/// so does one of [`ALIGNED_COLUMN_GAP`] ems landing on an x in `columns`.
fn segments(glyphs: &[Glyph], columns: &[f64]) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::new();
    for glyph in glyphs {
        let Some(current) = out.last_mut() else {
            out.push(Segment::start(glyph, Jump::NewLine));
            continue;
        };
        let em = glyph.size.max(current.size).max(1.0);
        if (glyph.y - current.y).abs() > 0.5 * em {
            out.push(Segment::start(glyph, Jump::NewLine));
            continue;
        }
        let gap = glyph.x - current.end;
        let marker = is_list_marker(current.text.trim());
        let aligned = columns
            .iter()
            .any(|&x| (x - glyph.x).abs() <= COLUMN_TOLERANCE);
        let column = glyph.positioned
            && !marker
            && !current.text.trim().is_empty()
            && (gap >= COLUMN_GAP * em || (aligned && gap >= ALIGNED_COLUMN_GAP * em));
        if column {
            out.push(Segment::start(glyph, Jump::Column));
            continue;
        }
        if gap > SPACE_GAP * em && !current.text.ends_with(' ') && !glyph.text.starts_with(' ') {
            current.text.push(' ');
        }
        current.text.push_str(&glyph.text);
        current.end = glyph.end;
        if !glyph.text.trim().is_empty() {
            current.size = current.size.max(glyph.size);
        }
    }
    for segment in &mut out {
        segment.text = collapse_spaces(&segment.text);
    }
    out.retain(|segment| !segment.text.is_empty());
    out
}

impl Segment {
    fn start(glyph: &Glyph, jump: Jump) -> Self {
        Self {
            x0: glyph.x,
            y: glyph.y,
            end: glyph.end,
            size: if glyph.text.trim().is_empty() {
                0.0
            } else {
                glyph.size
            },
            text: glyph.text.clone(),
            jump,
        }
    }
}

/// Splits a page into segments, learning column starts from unambiguous cell gaps first.
fn page_segments(glyphs: &[Glyph]) -> Vec<Segment> {
    let first = segments(glyphs, &[]);
    let mut columns: Vec<f64> = first
        .iter()
        .filter(|segment| segment.jump == Jump::Column)
        .map(|segment| segment.x0)
        .collect();
    columns.sort_by(f64::total_cmp);
    columns.dedup_by(|a, b| (*a - *b).abs() < COLUMN_TOLERANCE / 2.0);
    if columns.is_empty() {
        first
    } else {
        segments(glyphs, &columns)
    }
}

/// A line of running text.
#[derive(Debug, Clone)]
struct Line {
    x0: f64,
    y: f64,
    size: f64,
    text: String,
}

/// A table cell: its left edge and its lines.
#[derive(Debug, Clone)]
struct Cell {
    x0: f64,
    last_y: f64,
    lines: Vec<String>,
}

/// A table row.
#[derive(Debug, Clone)]
struct Row {
    top: f64,
    bottom: f64,
    cells: Vec<Cell>,
}

impl Row {
    fn text(&self) -> String {
        self.cells
            .iter()
            .map(|cell| join_lines(&cell.lines, " "))
            .collect::<Vec<_>>()
            .join(" | ")
    }
}

/// A line or a table row, in reading order.
#[derive(Debug, Clone)]
enum Unit {
    Line(Line),
    Row(Row),
}

impl Unit {
    fn top(&self) -> f64 {
        match self {
            Self::Line(line) => line.y,
            Self::Row(row) => row.top,
        }
    }

    fn bottom(&self) -> f64 {
        match self {
            Self::Line(line) => line.y,
            Self::Row(row) => row.bottom,
        }
    }
}

/// Groups a page's segments into lines and table rows. `pitch` is the usual line pitch.
fn units(segments: &[Segment], pitch: f64, body_size: f64) -> Vec<Unit> {
    let mut out: Vec<Unit> = Vec::new();
    let mut row: Option<Row> = None;
    for segment in segments {
        if let Some(open) = row.as_mut() {
            match place_in_row(open, segment, pitch, body_size) {
                Placement::Placed => continue,
                Placement::NextRow(next) => {
                    out.push(Unit::Row(std::mem::replace(open, next)));
                    continue;
                }
                Placement::Outside => out.extend(row.take().map(Unit::Row)),
            }
        }
        if segment.jump == Jump::Column {
            let size = segment.size.max(1.0);
            // The line so far was the row's first cell.
            let same_line = |unit: &mut Unit| matches!(unit, Unit::Line(line) if (line.y - segment.y).abs() <= 0.5 * size);
            if let Some(Unit::Line(line)) = out.pop_if(same_line) {
                row = Some(Row {
                    top: line.y,
                    bottom: line.y,
                    cells: vec![
                        Cell {
                            x0: line.x0,
                            last_y: line.y,
                            lines: vec![line.text],
                        },
                        Cell::from_segment(segment),
                    ],
                });
                continue;
            }
        }
        out.push(Unit::Line(Line {
            x0: segment.x0,
            y: segment.y,
            size: segment.size,
            text: segment.text.clone(),
        }));
    }
    out.extend(row.map(Unit::Row));
    out
}

impl Cell {
    fn from_segment(segment: &Segment) -> Self {
        Self {
            x0: segment.x0,
            last_y: segment.y,
            lines: vec![segment.text.clone()],
        }
    }
}

/// Where a segment goes when a table row is open.
enum Placement {
    /// Into the open row.
    Placed,
    /// It starts the next row, which replaces the open one.
    NextRow(Row),
    /// It is not part of the table.
    Outside,
}

/// Places a segment in the open row: a new cell, a cell's next line, or the start of the next
/// row.
fn place_in_row(row: &mut Row, segment: &Segment, pitch: f64, body_size: f64) -> Placement {
    let size = segment.size.max(1.0);
    if segment.size >= body_size * HEADING_SIZE_RATIO {
        return Placement::Outside;
    }
    let Some(current) = row.cells.last() else {
        return Placement::Outside;
    };
    if segment.jump == Jump::Column {
        row.cells.push(Cell::from_segment(segment));
        return Placement::Placed;
    }
    let dy = segment.y - current.last_y;
    // Written cell by cell: the next cell of the row starts back up, within the row.
    if dy < -0.5 * size && segment.y >= row.top - 0.5 * size && segment.x0 > current.x0 {
        row.cells.push(Cell::from_segment(segment));
        return Placement::Placed;
    }
    if dy <= 0.0 || segment.y - row.bottom > pitch * PARAGRAPH_GAP {
        return Placement::Outside;
    }
    let Some(index) = row
        .cells
        .iter()
        .position(|cell| (cell.x0 - segment.x0).abs() <= size)
    else {
        return Placement::Outside;
    };
    if index == 0 && row.cells.len() > 1 {
        // Back at the first column: the next row.
        return Placement::NextRow(Row {
            top: segment.y,
            bottom: segment.y,
            cells: vec![Cell::from_segment(segment)],
        });
    }
    let cell = &mut row.cells[index];
    cell.lines.push(segment.text.clone());
    cell.last_y = segment.y;
    row.bottom = row.bottom.max(segment.y);
    Placement::Placed
}

/// Turns the pages' glyphs into blocks.
fn layout(pages: &[PageGlyphs]) -> Result<Extracted, ExtractError> {
    let segmented: Vec<(u32, Vec<Segment>)> = pages
        .iter()
        .map(|page| (page.number, page_segments(&page.glyphs)))
        .collect();
    let body_size = body_size(segmented.iter().flat_map(|(_, s)| s));
    let pitch = line_pitch(segmented.iter().map(|(_, s)| s.as_slice()), body_size);
    let mut out = TextBuilder::new("\n\n");
    for (number, segments) in &segmented {
        let mut page_units = units(segments, pitch, body_size);
        drop_page_number(&mut page_units, *number);
        page_blocks(&page_units, *number, pitch, body_size, &mut out);
    }
    out.finish(Format::Pdf)
}

/// The most common font size, weighted by characters.
fn body_size<'a>(segments: impl Iterator<Item = &'a Segment>) -> f64 {
    let mut weights: HashMap<i64, usize> = HashMap::new();
    for segment in segments {
        // Sizes in tenths of a point.
        let key = (segment.size * 10.0).round() as i64;
        *weights.entry(key).or_default() += segment.text.chars().count();
    }
    weights
        .into_iter()
        .max_by_key(|&(size, count)| (count, -size))
        .map_or(12.0, |(size, _)| size as f64 / 10.0)
}

/// The most common distance between consecutive body-text lines, to half a point, the smaller
/// on a tie (1.2 × the body size when there are no such lines).
fn line_pitch<'a>(pages: impl Iterator<Item = &'a [Segment]>, body_size: f64) -> f64 {
    let body = |s: &Segment| (s.size - body_size).abs() < 0.5;
    let mut steps: HashMap<i64, usize> = HashMap::new();
    for segments in pages {
        for pair in segments.windows(2) {
            let (a, b) = (&pair[0], &pair[1]);
            let dy = b.y - a.y;
            if b.jump == Jump::NewLine
                && body(a)
                && body(b)
                && dy > 0.5 * body_size
                && dy < 2.5 * body_size
            {
                *steps.entry((dy * 2.0).round() as i64).or_default() += 1;
            }
        }
    }
    steps
        .into_iter()
        .max_by_key(|&(step, count)| (count, -step))
        .map_or(1.2 * body_size, |(step, _)| step as f64 / 2.0)
}

/// Removes a bare page number printed as the top or bottom line of the page.
fn drop_page_number(units: &mut Vec<Unit>, number: u32) {
    let is_number =
        |unit: &Unit| matches!(unit, Unit::Line(line) if is_page_number(&line.text, number));
    for extreme in [Extreme::Bottom, Extreme::Top] {
        let position = match extreme {
            Extreme::Bottom => units
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.bottom().total_cmp(&b.1.bottom()))
                .map(|(i, _)| i),
            Extreme::Top => units
                .iter()
                .enumerate()
                .min_by(|a, b| a.1.top().total_cmp(&b.1.top()))
                .map(|(i, _)| i),
        };
        if let Some(i) = position.filter(|&i| is_number(&units[i])) {
            units.remove(i);
        }
    }
}

enum Extreme {
    Top,
    Bottom,
}

/// `3`, `- 3 -`, `Page 3`, `Page 3 of 9`, `3 / 9`, `3 of 9`.
fn is_page_number(text: &str, number: u32) -> bool {
    let text = text
        .trim()
        .trim_matches(|c: char| c == '-' || c == '–' || c.is_whitespace());
    let lower = text.to_lowercase();
    let rest = lower
        .strip_prefix("page")
        .map_or(lower.as_str(), str::trim_start);
    let n = number.to_string();
    let Some(after) = rest.strip_prefix(n.as_str()) else {
        return false;
    };
    let after = after.trim_start();
    after.is_empty()
        || ["of", "/"].iter().any(|sep| {
            after.strip_prefix(sep).is_some_and(|total| {
                !total.trim().is_empty() && total.trim().chars().all(|c| c.is_ascii_digit())
            })
        })
}

/// A block being assembled from lines.
struct OpenBlock {
    kind: BlockKind,
    lines: Vec<String>,
    x0: f64,
    last_y: f64,
    size: f64,
}

/// Appends a page's blocks.
fn page_blocks(units: &[Unit], page: u32, pitch: f64, body_size: f64, out: &mut TextBuilder) {
    let mut open: Option<OpenBlock> = None;
    let flush = |open: &mut Option<OpenBlock>, out: &mut TextBuilder| {
        if let Some(block) = open.take() {
            let separator = if block.kind == BlockKind::Heading {
                " "
            } else {
                "\n"
            };
            out.push(&join_lines(&block.lines, separator), block.kind, Some(page));
        }
    };
    for unit in units {
        let line = match unit {
            Unit::Row(row) => {
                flush(&mut open, out);
                out.push(&row.text(), BlockKind::TableRow, Some(page));
                continue;
            }
            Unit::Line(line) => line,
        };
        let heading = is_heading(line, body_size);
        let marker = starts_with_list_marker(&line.text);
        if let Some(block) = open.as_mut() {
            let dy = line.y - block.last_y;
            let continues = if heading {
                block.kind == BlockKind::Heading
                    && (block.size - line.size).abs() < 0.5
                    && dy > 0.0
                    && dy <= 1.6 * line.size
            } else {
                !marker
                    && block.kind != BlockKind::Heading
                    && dy > 0.0
                    && dy <= pitch * PARAGRAPH_GAP
                    && (block.kind != BlockKind::ListItem || line.x0 >= block.x0 - 1.0)
            };
            if continues {
                block.lines.push(line.text.clone());
                block.last_y = line.y;
                continue;
            }
        }
        flush(&mut open, out);
        let kind = if heading {
            BlockKind::Heading
        } else if marker {
            BlockKind::ListItem
        } else {
            BlockKind::Paragraph
        };
        open = Some(OpenBlock {
            kind,
            lines: vec![line.text.clone()],
            x0: line.x0,
            last_y: line.y,
            size: line.size,
        });
    }
    flush(&mut open, out);
}

fn is_heading(line: &Line, body_size: f64) -> bool {
    line.size >= body_size * HEADING_SIZE_RATIO
        && line.text.chars().count() <= MAX_HEADING_CHARS
        && line.text.chars().any(char::is_alphabetic)
}

/// `1.`, `12)`, `a)`, `•` and similar markers (the whole text).
fn is_list_marker(text: &str) -> bool {
    let bullets = ['•', '◦', '▪', '‣', '–', '-', '*', '·', '\u{f0b7}'];
    if text.chars().count() == 1 && text.starts_with(bullets) {
        return true;
    }
    let Some(body) = text.strip_suffix(['.', ')']) else {
        return false;
    };
    let digits = !body.is_empty() && body.len() <= 3 && body.chars().all(|c| c.is_ascii_digit());
    let letter = body.chars().count() == 1 && body.chars().all(|c| c.is_ascii_lowercase());
    digits || letter
}

/// Whether a line starts with a list marker followed by a space.
fn starts_with_list_marker(text: &str) -> bool {
    text.split_once(' ')
        .is_some_and(|(first, _)| is_list_marker(first))
}

/// Joins lines with `separator`, except after a soft hyphen (removed, no separator) or a hyphen
/// between word characters (kept, no separator). Soft hyphens elsewhere are removed.
fn join_lines(lines: &[String], separator: &str) -> String {
    let mut out = String::new();
    for line in lines {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if out.ends_with('\u{ad}') {
            out.pop();
        } else if hyphenated(&out) && line.starts_with(char::is_alphanumeric) {
            // Keep the hyphen: in part numbers and compounds it is part of the text.
        } else if !out.is_empty() {
            out.push_str(separator);
        }
        out.push_str(line);
    }
    out.replace('\u{ad}', "")
}

fn hyphenated(text: &str) -> bool {
    let mut tail = text.chars().rev();
    tail.next() == Some('-') && tail.next().is_some_and(char::is_alphanumeric)
}

/// Runs of spaces made one, ends trimmed.
fn collapse_spaces(text: &str) -> String {
    text.split(' ')
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Glyphs of one run of text, each half an em wide; the first one after a positioning
    /// operator when `positioned`.
    fn run(x: f64, y: f64, size: f64, text: &str, positioned: bool) -> Vec<Glyph> {
        let width = 0.5 * size;
        text.chars()
            .enumerate()
            .map(|(i, c)| {
                let x = x + width * i as f64;
                Glyph {
                    x,
                    y,
                    end: x + width,
                    size,
                    text: c.to_string(),
                    positioned: positioned && i == 0,
                }
            })
            .collect()
    }

    fn page(number: u32, runs: Vec<Vec<Glyph>>) -> PageGlyphs {
        PageGlyphs {
            number,
            glyphs: runs.into_iter().flatten().collect(),
        }
    }

    fn blocks(pages: &[PageGlyphs]) -> Vec<(BlockKind, u32, Option<String>, String)> {
        let doc = layout(pages).expect("text");
        doc.blocks
            .iter()
            .map(|b| {
                (
                    b.kind,
                    b.page.unwrap_or(0),
                    b.section.clone(),
                    doc.block_text(b).to_owned(),
                )
            })
            .collect()
    }

    fn assert_kinds_and_texts(pages: &[PageGlyphs], expected: &[(BlockKind, &str)]) {
        let got = blocks(pages);
        let got: Vec<(BlockKind, &str)> = got.iter().map(|b| (b.0, b.3.as_str())).collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn hyphenated_line_ends_join_keeping_the_hyphen_and_soft_hyphens_vanish() {
        let got = blocks(&[page(
            1,
            vec![
                run(57.0, 100.0, 12.0, "Equipment P-", true),
                run(57.0, 114.4, 12.0, "101 needs a main\u{ad}", true),
                run(57.0, 128.8, 12.0, "tenance   check. Then", true),
                run(57.0, 143.2, 12.0, "at 10-", true),
                run(57.0, 157.6, 12.0, "(daily).", true),
            ],
        )]);
        assert_eq!(got.len(), 1);
        assert_eq!(
            got[0].3,
            "Equipment P-101 needs a maintenance check. Then\nat 10-\n(daily)."
        );
    }

    #[test]
    fn larger_font_lines_are_headings_and_name_the_section_across_pages() {
        let body = |y: f64, text: &str| run(57.0, y, 12.0, text, true);
        let got = blocks(&[
            page(
                1,
                vec![
                    body(60.0, "Intro text before any heading."),
                    run(57.0, 100.0, 14.0, "Spare parts and", true),
                    run(57.0, 117.0, 14.0, "stock", true),
                    body(140.0, "Keep the parts marked with an asterisk"),
                    body(154.4, "in the store."),
                    body(180.0, "Second paragraph."),
                    body(194.4, "It has two lines."),
                ],
            ),
            page(2, vec![body(60.0, "Still about spare parts.")]),
        ]);
        let section = Some("Spare parts and stock".to_owned());
        assert_eq!(
            got[0],
            (
                BlockKind::Paragraph,
                1,
                None,
                "Intro text before any heading.".into()
            )
        );
        assert_eq!(
            got[1],
            (
                BlockKind::Heading,
                1,
                section.clone(),
                "Spare parts and stock".into()
            )
        );
        assert_eq!(
            got[2],
            (
                BlockKind::Paragraph,
                1,
                section.clone(),
                "Keep the parts marked with an asterisk\nin the store.".into()
            )
        );
        assert_eq!(got[3].3, "Second paragraph.\nIt has two lines.");
        assert_eq!(
            got[4],
            (
                BlockKind::Paragraph,
                2,
                section,
                "Still about spare parts.".into()
            )
        );
        assert_eq!(got.len(), 5);
    }

    #[test]
    fn bare_page_numbers_at_top_or_foot_are_dropped() {
        let got = blocks(&[page(
            3,
            vec![
                run(290.0, 30.0, 10.0, "Page 3 of 9", true),
                run(57.0, 100.0, 12.0, "Body text with 3 in it.", true),
                run(57.0, 114.4, 12.0, "3", true),
                run(57.0, 140.0, 12.0, "More body.", true),
                run(293.0, 780.0, 12.0, "3", true),
            ],
        )]);
        let texts: Vec<&str> = got.iter().map(|b| b.3.as_str()).collect();
        assert_eq!(texts, ["Body text with 3 in it.\n3", "More body."]);
        assert!(is_page_number("- 12 -", 12));
        assert!(is_page_number("12 / 40", 12));
        assert!(!is_page_number("12 bar", 12));
        assert!(!is_page_number("13", 12));
    }

    #[test]
    fn cells_written_cell_by_cell_are_gathered_into_rows() {
        assert_kinds_and_texts(
            &[page(
                1,
                vec![
                    run(57.0, 80.0, 12.0, "Table of symptoms:", true),
                    run(59.0, 100.0, 12.0, "Symptom", true),
                    run(220.0, 100.0, 12.0, "Cause", true),
                    run(59.0, 114.4, 12.0, "Rhythmic knocking", true),
                    run(59.0, 128.8, 12.0, "at shaft speed", true),
                    // Back up to the row's top for the next cell: written cell by cell.
                    run(220.0, 114.4, 12.0, "damaged cage", true),
                    run(59.0, 143.2, 12.0, "Whistle", true),
                    run(220.0, 143.2, 12.0, "lack of grease", true),
                    run(57.0, 170.0, 12.0, "After the table.", true),
                ],
            )],
            &[
                (BlockKind::Paragraph, "Table of symptoms:"),
                (BlockKind::TableRow, "Symptom | Cause"),
                (
                    BlockKind::TableRow,
                    "Rhythmic knocking at shaft speed | damaged cage",
                ),
                (BlockKind::TableRow, "Whistle | lack of grease"),
                (BlockKind::Paragraph, "After the table."),
            ],
        );
    }

    #[test]
    fn list_markers_open_items_and_continuations_stay_with_them() {
        let mut marker_then_text = run(75.0, 114.4, 12.0, "1.", true);
        marker_then_text.extend(run(93.0, 114.4, 12.0, "Lock out P-101 according", true));
        let mut second = run(75.0, 143.2, 12.0, "2.", true);
        second.extend(run(93.0, 143.2, 12.0, "Drain the casing.", true));
        assert_kinds_and_texts(
            &[page(
                1,
                vec![
                    run(57.0, 100.0, 12.0, "Removal:", true),
                    marker_then_text,
                    run(93.0, 128.8, 12.0, "to SOP-SAF-004.", true),
                    second,
                    run(57.0, 157.6, 12.0, "Body text again.", true),
                ],
            )],
            &[
                (BlockKind::Paragraph, "Removal:"),
                (
                    BlockKind::ListItem,
                    "1. Lock out P-101 according\nto SOP-SAF-004.",
                ),
                (BlockKind::ListItem, "2. Drain the casing."),
                (BlockKind::Paragraph, "Body text again."),
            ],
        );
    }

    #[test]
    fn glyph_text_is_normalised() {
        assert_eq!(normalise_glyph_text("\u{fb01}\u{a0}x\u{200b}\u{7}"), "fi x");
    }

    #[test]
    fn pages_without_text_are_empty() {
        assert_eq!(layout(&[page(1, vec![])]), Err(ExtractError::Empty));
    }
}
