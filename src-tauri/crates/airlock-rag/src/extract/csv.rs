//! CSV: the first record is the header; every data row becomes one self-describing line,
//! `header1: value1; header2: value2`, so a chunk of rows still says what each value is.

use super::{decode_text, BlockKind, Extracted, Format, TextBuilder};
use crate::ExtractError;

/// Columns beyond this are ignored.
pub(crate) const MAX_COLUMNS: usize = 64;
/// Longest cell kept, in characters; longer ones are cut and end in `…`.
pub(crate) const MAX_CELL_CHARS: usize = 512;
/// Longest rendered row, in characters; longer ones are cut and end in `…`.
pub(crate) const MAX_ROW_CHARS: usize = 4_096;

/// Extracts a `.csv` file.
pub(super) fn extract(bytes: &[u8]) -> Result<Extracted, ExtractError> {
    let text = decode_text(bytes)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(sniff_delimiter(text))
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let header = match records.next() {
        Some(record) => record.map_err(|err| ExtractError::corrupt(err.to_string()))?,
        None => return Err(ExtractError::Empty),
    };
    if header.len() > MAX_COLUMNS {
        tracing::warn!(
            columns = header.len(),
            kept = MAX_COLUMNS,
            "CSV has more columns than are kept"
        );
    }
    let names: Vec<String> = header
        .iter()
        .take(MAX_COLUMNS)
        .enumerate()
        .map(|(i, name)| match one_line(name) {
            name if name.is_empty() => format!("column {}", i + 1),
            name => truncate(&name, MAX_CELL_CHARS),
        })
        .collect();
    let mut out = TextBuilder::new("\n");
    for record in records {
        let record = record.map_err(|err| ExtractError::corrupt(err.to_string()))?;
        let pairs: Vec<String> = record
            .iter()
            .take(MAX_COLUMNS)
            .enumerate()
            .filter_map(|(i, value)| {
                let value = one_line(value);
                if value.is_empty() {
                    return None;
                }
                let name = names
                    .get(i)
                    .cloned()
                    .unwrap_or_else(|| format!("column {}", i + 1));
                Some(format!("{name}: {}", truncate(&value, MAX_CELL_CHARS)))
            })
            .collect();
        out.push(
            &truncate(&pairs.join("; "), MAX_ROW_CHARS),
            BlockKind::TableRow,
            None,
        );
    }
    out.finish(Format::Csv)
}

/// The delimiter used in the first line: the most frequent of `,` `;` tab `|` outside quotes.
fn sniff_delimiter(text: &str) -> u8 {
    let first_line = text.lines().next().unwrap_or_default();
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0), (b'|', 0)];
    let mut quoted = false;
    for byte in first_line.bytes() {
        if byte == b'"' {
            quoted = !quoted;
        } else if !quoted {
            if let Some(entry) = counts.iter_mut().find(|(d, _)| *d == byte) {
                entry.1 += 1;
            }
        }
    }
    // The first of the maxima wins, so a tie keeps the comma.
    counts
        .iter()
        .fold(
            (b',', 0),
            |best, &(d, n)| if n > best.1 { (d, n) } else { best },
        )
        .0
}

/// A cell on one line, whitespace collapsed.
fn one_line(value: &str) -> String {
    value.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// At most `max` characters, ending in `…` when cut.
fn truncate(value: &str, max: usize) -> String {
    match value.char_indices().nth(max.saturating_sub(1)) {
        Some((cut, _)) if value[cut..].chars().count() > 1 => format!("{}…", &value[..cut]),
        _ => value.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(source: &str) -> Vec<String> {
        let doc = extract(source.as_bytes()).expect("csv");
        doc.blocks
            .iter()
            .map(|b| doc.block_text(b).to_owned())
            .collect()
    }

    #[test]
    fn rows_name_their_columns() {
        assert_eq!(
            rows("part,stock\nPC-GK-160,4\n\"Seal kit, EPDM\",\n"),
            ["part: PC-GK-160; stock: 4", "part: Seal kit, EPDM"]
        );
    }

    #[test]
    fn semicolons_and_tabs_are_recognised() {
        assert_eq!(rows("a;b\n1;2\n"), ["a: 1; b: 2"]);
        assert_eq!(rows("a\tb\n1\t2\n"), ["a: 1; b: 2"]);
    }

    #[test]
    fn missing_headers_extra_cells_and_long_values_are_bounded() {
        let long = "x".repeat(MAX_CELL_CHARS + 10);
        let got = rows(&format!(",b\n1,2,3\n{long}\n"));
        assert_eq!(got[0], "column 1: 1; b: 2; column 3: 3");
        assert_eq!(got[1].chars().count(), "column 1: ".len() + MAX_CELL_CHARS);
        assert!(got[1].ends_with('…'));
    }

    #[test]
    fn header_only_is_empty() {
        assert_eq!(extract(b"a,b\n"), Err(ExtractError::Empty));
    }

    #[test]
    fn truncate_counts_characters() {
        assert_eq!(truncate("N·m", 3), "N·m");
        assert_eq!(truncate("N·mm", 3), "N·…");
    }
}
