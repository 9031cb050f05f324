//! The clauses of a request: "Show CPU and memory usage and the last 20 lines of syslog" asks
//! for three things ("Show CPU", "memory usage", "the last 20 lines of syslog"), and a plan
//! that answers only one of them has missed the others.
//!
//! A clause ends at a sentence end (`.`, `?`, `!` or `;` before a space or the end) or before
//! a joining word (`and`, `then`, `also`, `plus`). A comma alone does not end one: after it
//! usually comes a detail of the same request ("Create a maintenance order for pump P-101,
//! seal leaking"), not another request. Splitting is still coarse: "CPU and memory usage"
//! becomes two clauses that both read like the status call, which costs nothing, since a
//! clause only matters through the tool it reads most like.

/// Words that join two requests in one sentence.
const JOINING_WORDS: &[&str] = &["and", "then", "also", "plus"];

/// The fewest words a clause holds; a lone word ("please", "too") asks for nothing.
const MIN_WORDS: usize = 2;

/// The most clauses taken from one request. Each costs the planner two scorings, and a plan
/// holds at most `planner::MAX_INTENTS` calls, so a long text full of "and" must not cost
/// minutes.
pub(crate) const MAX_CLAUSES: usize = 8;

/// The first [`MAX_CLAUSES`] clauses of `request`, in order, trimmed of spaces and commas;
/// fragments of fewer than two words are left out.
pub(crate) fn clauses(request: &str) -> Vec<&str> {
    let mut clauses = Vec::new();
    let mut start = 0;
    let mut push = |from: usize, to: usize| {
        let clause = request[from..to].trim_matches(|c: char| c.is_whitespace() || c == ',');
        if clause.split_whitespace().count() >= MIN_WORDS {
            clauses.push(clause);
        }
    };
    let mut chars = request.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let next = chars.peek().map(|&(_, next)| next);
        let sentence_end =
            matches!(c, '.' | '?' | '!' | ';') && next.is_none_or(char::is_whitespace);
        if sentence_end {
            push(start, at);
            start = at + c.len_utf8();
        } else if c.is_whitespace() {
            if let Some(word_len) = joining_word_at(&request[at + c.len_utf8()..]) {
                push(start, at);
                start = at + c.len_utf8() + word_len;
            }
        }
    }
    push(start, request.len());
    clauses.truncate(MAX_CLAUSES);
    clauses
}

/// The length of the joining word `rest` starts with, when it is a whole word (followed by
/// a space or the end).
fn joining_word_at(rest: &str) -> Option<usize> {
    let word_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
    let word = &rest[..word_end];
    JOINING_WORDS
        .iter()
        .any(|joining| word.eq_ignore_ascii_case(joining))
        .then_some(word_end)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joining_words_and_sentence_ends_split_a_request_but_a_comma_alone_does_not() {
        assert_eq!(
            clauses("Show CPU and memory usage and the last 20 lines of syslog."),
            ["Show CPU", "memory usage", "the last 20 lines of syslog"]
        );
        assert_eq!(
            clauses("What errors happened overnight? Check the error log."),
            ["What errors happened overnight", "Check the error log"]
        );
        assert_eq!(
            clauses("Which orders are on hold, and which are open; then list the files"),
            [
                "Which orders are on hold",
                "which are open",
                "list the files"
            ]
        );
    }

    #[test]
    fn joining_words_inside_other_words_and_dots_inside_tokens_do_not_split() {
        assert_eq!(
            clauses("Run grep -c error /sim/logs/syslog.log on the Andover server for 1850.00"),
            ["Run grep -c error /sim/logs/syslog.log on the Andover server for 1850.00"]
        );
        assert_eq!(
            clauses("Check the brand plus-minus readings"),
            ["Check the brand plus-minus readings"]
        );
    }

    #[test]
    fn one_word_fragments_and_empty_requests_hold_no_clause() {
        assert_eq!(clauses("Restart it. Please."), ["Restart it"]);
        assert!(clauses("").is_empty());
        assert!(clauses(" , . and").is_empty());
        assert_eq!(
            clauses("Prüfe den Zähler; dann gut"),
            ["Prüfe den Zähler", "dann gut"]
        );
    }

    #[test]
    fn a_long_text_gives_only_the_first_clauses() {
        let request = "read the logs and ".repeat(500);
        let found = clauses(&request);
        assert_eq!(found.len(), MAX_CLAUSES);
        assert!(found.iter().all(|clause| *clause == "read the logs"));
    }
}
