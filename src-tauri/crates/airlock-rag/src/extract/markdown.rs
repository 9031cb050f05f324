//! Markdown: the file's text unchanged; ATX headings (`#` … `######`) open sections; blocks are
//! headings, paragraphs, list items, table rows and fenced code.

use std::ops::Range;

use super::text::{lines, trim_range};
use super::{decode_text, Block, BlockKind, Extracted, Format};
use crate::ExtractError;

/// Extracts a `.md` file.
pub(super) fn extract(bytes: &[u8]) -> Result<Extracted, ExtractError> {
    let text = decode_text(bytes)?;
    let mut out = Blocks::default();
    let mut open: Option<(Range<usize>, BlockKind)> = None;
    let mut fence: Option<Fence> = None;
    for line in lines(text) {
        let line_indent = indent(&text[line.clone()]);
        let trimmed = trim_range(text, line);
        let content = &text[trimmed.clone()];
        if let Some(open_fence) = fence.as_mut() {
            if open_fence.is_closed_by(content, line_indent) {
                out.push(open_fence.start..trimmed.end, BlockKind::Code);
                fence = None;
            } else if !content.is_empty() {
                open_fence.end = trimmed.end;
            }
            continue;
        }
        if content.is_empty() {
            out.flush(&mut open);
            continue;
        }
        if line_indent <= 3 {
            if let Some(title) = atx_heading(content) {
                out.flush(&mut open);
                out.heading(trimmed, &title);
                continue;
            }
            if let Some((marker, len)) = fence_opener(content) {
                out.flush(&mut open);
                fence = Some(Fence {
                    start: trimmed.start,
                    end: trimmed.end,
                    marker,
                    len,
                });
                continue;
            }
            if is_thematic_break(content) {
                out.flush(&mut open);
                continue;
            }
        }
        if content.starts_with('|') {
            out.flush(&mut open);
            if !is_table_rule(content) {
                out.push(trimmed, BlockKind::TableRow);
            }
            continue;
        }
        let in_list = matches!(open, Some((_, BlockKind::ListItem)));
        if starts_list_item(content, in_list || open.is_none()) {
            out.flush(&mut open);
            open = Some((trimmed, BlockKind::ListItem));
            continue;
        }
        match open.as_mut() {
            Some((range, _)) => range.end = trimmed.end,
            None => open = Some((trimmed, BlockKind::Paragraph)),
        }
    }
    out.flush(&mut open);
    if let Some(open_fence) = fence {
        out.push(open_fence.start..open_fence.end, BlockKind::Code);
    }
    if out.blocks.is_empty() {
        return Err(ExtractError::Empty);
    }
    Ok(Extracted {
        format: Format::Markdown,
        text: text.to_owned(),
        blocks: out.blocks,
    })
}

#[derive(Default)]
struct Blocks {
    blocks: Vec<Block>,
    section: Option<String>,
}

impl Blocks {
    fn push(&mut self, range: Range<usize>, kind: BlockKind) {
        self.blocks.push(Block {
            range,
            page: None,
            section: self.section.clone(),
            kind,
        });
    }

    fn flush(&mut self, open: &mut Option<(Range<usize>, BlockKind)>) {
        if let Some((range, kind)) = open.take() {
            self.push(range, kind);
        }
    }

    fn heading(&mut self, range: Range<usize>, title: &str) {
        self.section = (!title.is_empty()).then(|| title.to_owned());
        self.push(range, BlockKind::Heading);
    }
}

/// An open fenced code block.
struct Fence {
    start: usize,
    end: usize,
    marker: char,
    len: usize,
}

impl Fence {
    fn is_closed_by(&self, content: &str, indent: usize) -> bool {
        let run = content.chars().take_while(|&c| c == self.marker).count();
        indent <= 3 && run >= self.len && content[run * self.marker.len_utf8()..].trim().is_empty()
    }
}

/// Leading indentation in columns (a tab counts as four).
fn indent(line: &str) -> usize {
    line.chars()
        .take_while(|c| matches!(c, ' ' | '\t'))
        .map(|c| if c == '\t' { 4 } else { 1 })
        .sum()
}

/// The title of an ATX heading line (already trimmed), markup stripped.
fn atx_heading(content: &str) -> Option<String> {
    let level = content.chars().take_while(|&c| c == '#').count();
    if !(1..=6).contains(&level) {
        return None;
    }
    let rest = &content[level..];
    if !(rest.is_empty() || rest.starts_with([' ', '\t'])) {
        return None;
    }
    let rest = rest.trim();
    // An optional closing sequence of #s, preceded by a space (or making up the whole rest).
    let without_closing = rest.trim_end_matches('#');
    let rest = if without_closing.is_empty() || without_closing.ends_with([' ', '\t']) {
        without_closing.trim_end()
    } else {
        rest
    };
    Some(strip_inline_markup(rest))
}

/// The fence character and length of a code fence opener.
fn fence_opener(content: &str) -> Option<(char, usize)> {
    let marker = content.chars().next().filter(|c| matches!(c, '`' | '~'))?;
    let len = content.chars().take_while(|&c| c == marker).count();
    let info = &content[len..];
    (len >= 3 && !(marker == '`' && info.contains('`'))).then_some((marker, len))
}

fn is_thematic_break(content: &str) -> bool {
    let mut marks = content.chars().filter(|c| !matches!(c, ' ' | '\t'));
    let Some(first) = marks.next().filter(|c| matches!(c, '-' | '*' | '_')) else {
        return false;
    };
    let rest: Vec<char> = marks.collect();
    rest.len() >= 2 && rest.iter().all(|&c| c == first)
}

fn is_table_rule(content: &str) -> bool {
    content.contains('-')
        && content
            .chars()
            .all(|c| matches!(c, '|' | '-' | ':' | ' ' | '\t'))
}

/// Whether a line opens a list item. An ordered item other than `1.` opens one only where a
/// list may continue (`ordered_allowed`), so a wrapped line starting with a year stays in its
/// paragraph.
fn starts_list_item(content: &str, ordered_allowed: bool) -> bool {
    let followed_by_space = |rest: &str| rest.is_empty() || rest.starts_with([' ', '\t']);
    if let Some(rest) = content.strip_prefix(['-', '*', '+']) {
        return followed_by_space(rest);
    }
    let digits = content.chars().take_while(char::is_ascii_digit).count();
    if digits == 0 || digits > 9 {
        return false;
    }
    let Some(rest) = content[digits..].strip_prefix(['.', ')']) else {
        return false;
    };
    followed_by_space(rest) && (ordered_allowed || content[..digits].parse() == Ok(1u32))
}

/// Heading text without inline Markdown: emphasis, code spans, links and images (their text
/// is kept), HTML tags and backslash escapes; whitespace collapsed.
pub(crate) fn strip_inline_markup(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\\' if chars.get(i + 1).is_some_and(char::is_ascii_punctuation) => {
                out.push(chars[i + 1]);
                i += 2;
                continue;
            }
            '*' | '`' | '~' => {}
            '_' => {
                let inside_word = i > 0
                    && chars[i - 1].is_alphanumeric()
                    && chars.get(i + 1).is_some_and(|c| c.is_alphanumeric());
                if inside_word {
                    out.push(c);
                }
            }
            '!' if chars.get(i + 1) == Some(&'[') => {}
            ']' if chars.get(i + 1) == Some(&'(') => {
                i = skip_until(&chars, i + 2, ')');
            }
            ']' if chars.get(i + 1) == Some(&'[') => {
                i = skip_until(&chars, i + 2, ']');
            }
            '[' | ']' => {}
            '<' if chars
                .get(i + 1)
                .is_some_and(|c| c.is_ascii_alphabetic() || *c == '/') =>
            {
                i = skip_until(&chars, i + 1, '>');
            }
            _ => out.push(c),
        }
        i += 1;
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Index of the next `end` at or after `from`, or of the last char.
fn skip_until(chars: &[char], from: usize, end: char) -> usize {
    chars[from.min(chars.len())..]
        .iter()
        .position(|&c| c == end)
        .map_or(chars.len(), |offset| from + offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocks(source: &str) -> Vec<(BlockKind, String, Option<String>)> {
        let doc = extract(source.as_bytes()).expect("markdown");
        doc.blocks
            .iter()
            .map(|b| (b.kind, doc.block_text(b).to_owned(), b.section.clone()))
            .collect()
    }

    #[test]
    fn headings_open_sections_and_blocks_keep_source_text() {
        let source = "# Title\n\nIntro line one\nline two\n\n## Step *one* ##\n\n- item a\n  continued\n- item b\n\n| A | B |\n|---|:-:|\n| 1 | 2 |\n";
        let got = blocks(source);
        let title = Some("Title".to_owned());
        let step = Some("Step one".to_owned());
        assert_eq!(
            got,
            [
                (BlockKind::Heading, "# Title".into(), title.clone()),
                (
                    BlockKind::Paragraph,
                    "Intro line one\nline two".into(),
                    title
                ),
                (BlockKind::Heading, "## Step *one* ##".into(), step.clone()),
                (
                    BlockKind::ListItem,
                    "- item a\n  continued".into(),
                    step.clone()
                ),
                (BlockKind::ListItem, "- item b".into(), step.clone()),
                (BlockKind::TableRow, "| A | B |".into(), step.clone()),
                (BlockKind::TableRow, "| 1 | 2 |".into(), step),
            ]
        );
    }

    #[test]
    fn fenced_code_is_one_block_and_hashes_inside_are_not_headings() {
        let got = blocks("## Run\n\n```sh\n# not a heading\n\nls\n```\nafter\n");
        assert_eq!(got[1].0, BlockKind::Code);
        assert_eq!(got[1].1, "```sh\n# not a heading\n\nls\n```");
        assert_eq!(
            got[2],
            (BlockKind::Paragraph, "after".into(), Some("Run".into()))
        );
        assert_eq!(got.len(), 3);
    }

    #[test]
    fn only_first_ordered_number_interrupts_a_paragraph() {
        let got = blocks("Delivered in\n2026. Then more.\n\n1. one\n2. two\n");
        let kinds: Vec<_> = got.iter().map(|b| b.0).collect();
        assert_eq!(
            kinds,
            [
                BlockKind::Paragraph,
                BlockKind::ListItem,
                BlockKind::ListItem
            ]
        );
    }

    #[test]
    fn heading_markup_is_stripped() {
        assert_eq!(
            atx_heading("### [Drive](x.md) `chain` __lube__ \\#2 <b>now</b> ###").as_deref(),
            Some("Drive chain lube #2 now")
        );
        assert_eq!(atx_heading("#hashtag"), None);
        assert_eq!(atx_heading("####### seven"), None);
        assert_eq!(strip_inline_markup("SOP_SAF_004 *v2*"), "SOP_SAF_004 v2");
    }

    #[test]
    fn thematic_breaks_and_blank_documents() {
        assert!(is_thematic_break("* * *"));
        assert!(!is_thematic_break("--"));
        assert_eq!(extract(b"---\n\n***\n"), Err(ExtractError::Empty));
    }
}
