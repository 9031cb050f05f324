//! Citations: how a retrieved chunk is named in an answer (`[title, p. 2, section]`) and the
//! sentence of it quoted as evidence.

use airlock_store::ChunkRecord;
use serde::Serialize;

/// Longest quote taken from a chunk.
const MAX_QUOTE_CHARS: usize = 240;

/// A reference to one chunk, as answers show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Citation {
    /// The chunk (`airlock docs show CHUNK_ID` opens it).
    pub chunk_id: i64,
    /// `[title, p. 2, section]`, page and section when known.
    pub label: String,
    /// The chunk's sentence that best matches the question.
    pub quote: String,
}

impl Citation {
    /// The citation of `chunk` for `question`.
    #[must_use]
    pub fn new(chunk: &ChunkRecord, question: &str) -> Self {
        let mut label = format!("[{}", chunk.title);
        if let Some(page) = chunk.page {
            label.push_str(&format!(", p. {page}"));
        }
        if let Some(section) = chunk.section.as_deref().filter(|s| !s.trim().is_empty()) {
            label.push_str(&format!(", {}", section.trim()));
        }
        label.push(']');
        Self {
            chunk_id: chunk.chunk_id,
            label,
            quote: best_quote(&chunk.text, question),
        }
    }
}

/// The sentence (or line) of `text` sharing the most words with `question`, whitespace
/// collapsed and cut at [`MAX_QUOTE_CHARS`]; the first one on a tie.
#[must_use]
pub fn best_quote(text: &str, question: &str) -> String {
    let wanted: Vec<String> = words(question).filter(|word| word.len() > 2).collect();
    let mut best = ("", 0usize);
    for sentence in sentences(text) {
        let score = words(sentence).filter(|word| wanted.contains(word)).count();
        if score > best.1 || best.0.is_empty() {
            best = (sentence, score);
        }
    }
    let collapsed = best.0.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.chars().count() <= MAX_QUOTE_CHARS {
        return collapsed;
    }
    let cut: String = collapsed.chars().take(MAX_QUOTE_CHARS - 1).collect();
    format!("{}…", cut.trim_end())
}

fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(str::to_lowercase)
}

/// Sentences and lines of `text` that hold a letter or digit. A sentence ends at `.`, `!` or
/// `?` followed by whitespace (so "0.4 mm" stays whole), and at a line break unless the line
/// wraps: it ends without punctuation and the next starts with a lower-case letter, a digit
/// or an opening parenthesis (table rows and list items end or start otherwise).
fn sentences(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((index, c)) = chars.next() {
        let next = chars.peek().map(|(_, next)| *next);
        let end = match c {
            '\n' if !wraps(&text[start..index], &text[index + 1..]) => Some(index),
            '.' | '!' | '?' if next.is_none_or(char::is_whitespace) => Some(index + c.len_utf8()),
            _ => None,
        };
        if let Some(end) = end {
            out.push(&text[start..end]);
            start = index + c.len_utf8();
        }
    }
    out.push(&text[start..]);
    out.into_iter()
        .map(str::trim)
        .filter(|piece| piece.chars().any(char::is_alphanumeric))
        .collect()
}

/// Whether the sentence so far (`before`) wraps onto the line starting `rest`.
fn wraps(before: &str, rest: &str) -> bool {
    let open_end = before
        .trim_end()
        .chars()
        .last()
        .is_some_and(|last| !matches!(last, '.' | ':' | ';' | '!' | '?' | '|'));
    open_end
        && rest
            .trim_start_matches([' ', '\t'])
            .chars()
            .next()
            .is_some_and(|first| first.is_lowercase() || first.is_ascii_digit() || first == '(')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(page: Option<u32>, section: Option<&str>, text: &str) -> ChunkRecord {
        ChunkRecord {
            chunk_id: 7,
            document_id: 1,
            title: "P-101 manual".into(),
            source: "/docs/p101.pdf".into(),
            version: 1,
            ordinal: 0,
            page,
            section: section.map(str::to_owned),
            start_byte: 0,
            end_byte: text.len(),
            text: text.into(),
            classification: airlock_core::Classification::Internal,
            audience: String::new(),
            metadata: serde_json::json!({}),
        }
    }

    #[test]
    fn labels_carry_page_and_section_when_known() {
        let text = "Fit the impeller.\nImpeller bolts M10: 45 N·m\nCheck the gap.";
        let cited = Citation::new(
            &chunk(Some(2), Some("Impeller removal"), text),
            "torque for the M10 impeller bolts?",
        );
        assert_eq!(cited.label, "[P-101 manual, p. 2, Impeller removal]");
        assert_eq!(cited.quote, "Impeller bolts M10: 45 N·m");
        let plain = Citation::new(&chunk(None, None, "Short note."), "anything");
        assert_eq!(plain.label, "[P-101 manual]");
        assert_eq!(plain.quote, "Short note.");
    }

    #[test]
    fn decimals_do_not_end_a_sentence() {
        let quote = best_quote(
            "Remove the cover. Set the impeller front clearance to 0.4 to 0.5 mm. Refit it.",
            "what clearance for the impeller",
        );
        assert_eq!(quote, "Set the impeller front clearance to 0.4 to 0.5 mm.");
    }

    #[test]
    fn wrapped_lines_stay_in_their_sentence_and_rows_do_not() {
        let text = "The drive chain is lubricated every 4 weeks (order\n4000105) with H1 oil,\nbrushed on while it runs.\nInterval | 4 weeks\nOil | H1";
        assert_eq!(
            best_quote(text, "how often is the drive chain lubricated"),
            "The drive chain is lubricated every 4 weeks (order 4000105) with H1 oil, brushed on while it runs."
        );
        assert_eq!(best_quote(text, "what interval"), "Interval | 4 weeks");
    }

    #[test]
    fn long_quotes_are_cut_on_a_character() {
        let text = "é".repeat(500);
        let quote = best_quote(&text, "é");
        assert_eq!(quote.chars().count(), MAX_QUOTE_CHARS);
        assert!(quote.ends_with('…'));
    }
}
