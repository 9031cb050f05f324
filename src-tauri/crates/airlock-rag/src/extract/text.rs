//! Plain text: the file's text unchanged, paragraphs split on blank lines, no sections.

use super::{decode_text, Block, BlockKind, Extracted, Format};
use crate::ExtractError;

/// Extracts a `.txt` file.
pub(super) fn extract(bytes: &[u8]) -> Result<Extracted, ExtractError> {
    let text = decode_text(bytes)?;
    let mut blocks = Vec::new();
    let mut current: Option<std::ops::Range<usize>> = None;
    for line in lines(text) {
        if text[line.clone()].trim().is_empty() {
            blocks.extend(current.take().map(paragraph));
            continue;
        }
        let trimmed = trim_range(text, line);
        current = Some(match current.take() {
            Some(open) => open.start..trimmed.end,
            None => trimmed,
        });
    }
    blocks.extend(current.map(paragraph));
    Ok(Extracted {
        format: Format::Text,
        text: text.to_owned(),
        blocks,
    })
}

fn paragraph(range: std::ops::Range<usize>) -> Block {
    Block {
        range,
        page: None,
        section: None,
        kind: BlockKind::Paragraph,
    }
}

/// Byte ranges of the lines of `text`, without their line terminators.
pub(super) fn lines(text: &str) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
    let mut start = 0;
    text.split_inclusive('\n').map(move |line| {
        let range = start..start + line.trim_end_matches(['\n', '\r']).len();
        start += line.len();
        range
    })
}

/// `range` without leading and trailing whitespace (and without a byte-order mark).
pub(super) fn trim_range(text: &str, range: std::ops::Range<usize>) -> std::ops::Range<usize> {
    let slice = &text[range.clone()];
    let leading = slice.len()
        - slice
            .trim_start_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
            .len();
    let trailing = slice.len() - slice.trim_end().len();
    let start = range.start + leading;
    start..(range.end - trailing).max(start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_split_on_blank_lines_and_keep_the_source_text() {
        let source = "\u{feff}First line\r\nsecond line  \r\n \t \r\n\r\nNext\n";
        let doc = extract(source.as_bytes()).expect("text");
        assert_eq!(doc.text, source);
        let texts: Vec<_> = doc.blocks.iter().map(|b| doc.block_text(b)).collect();
        assert_eq!(texts, ["First line\r\nsecond line", "Next"]);
        assert!(doc.blocks.iter().all(|b| b.section.is_none()));
    }
}
