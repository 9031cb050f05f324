//! Stop strings over a token stream: text is released as soon as it cannot be the start of a
//! stop string, so streaming stays live and no stop string ever leaks out.

/// Scans streamed text for stop strings.
pub(crate) struct StopScanner {
    stops: Vec<String>,
    held: String,
}

/// The result of feeding one piece of text.
pub(crate) struct Scan {
    /// Text that is safe to emit now.
    pub emit: String,
    /// Whether a stop string was found (`emit` then ends right before it).
    pub stopped: bool,
}

impl StopScanner {
    pub(crate) fn new(stops: &[String]) -> Self {
        Self {
            stops: stops.iter().filter(|s| !s.is_empty()).cloned().collect(),
            held: String::new(),
        }
    }

    /// Feeds `text` and returns what may be emitted.
    pub(crate) fn push(&mut self, text: &str) -> Scan {
        self.held.push_str(text);
        if let Some(pos) = self
            .stops
            .iter()
            .filter_map(|stop| self.held.find(stop.as_str()))
            .min()
        {
            let emit = self.held[..pos].to_owned();
            self.held.clear();
            return Scan {
                emit,
                stopped: true,
            };
        }
        let keep = self.longest_partial_suffix();
        let cut = self.held.len() - keep;
        let emit = self.held[..cut].to_owned();
        self.held.drain(..cut);
        Scan {
            emit,
            stopped: false,
        }
    }

    /// Releases whatever was held back (generation ended for another reason).
    pub(crate) fn finish(&mut self) -> String {
        std::mem::take(&mut self.held)
    }

    /// Length of the longest suffix of `held` that is a proper prefix of a stop string.
    fn longest_partial_suffix(&self) -> usize {
        let mut best = 0;
        for stop in &self.stops {
            for (len, _) in stop.char_indices().skip(1) {
                if len > best && self.held.ends_with(&stop[..len]) {
                    best = len;
                }
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(stops: &[&str], pieces: &[&str]) -> (String, bool) {
        let stops: Vec<String> = stops.iter().map(|s| (*s).to_owned()).collect();
        let mut scanner = StopScanner::new(&stops);
        let mut out = String::new();
        for piece in pieces {
            let scan = scanner.push(piece);
            out.push_str(&scan.emit);
            if scan.stopped {
                return (out, true);
            }
        }
        out.push_str(&scanner.finish());
        (out, false)
    }

    #[test]
    fn stop_string_split_across_tokens_is_not_emitted() {
        assert_eq!(
            run(
                &["</answer>"],
                &["The pump ", "is fine.</ans", "wer> trailing"]
            ),
            ("The pump is fine.".to_owned(), true)
        );
    }

    #[test]
    fn partial_match_that_does_not_complete_is_released() {
        assert_eq!(
            run(&["STOP"], &["ST", "ART now"]),
            ("START now".to_owned(), false)
        );
    }

    #[test]
    fn text_without_stop_strings_streams_through_unchanged() {
        let stops: Vec<String> = vec!["\n\n".into()];
        let mut scanner = StopScanner::new(&stops);
        assert_eq!(scanner.push("hello").emit, "hello");
        assert_eq!(scanner.push(" world\n").emit, " world");
        assert_eq!(scanner.push("\n").emit, "");
    }

    #[test]
    fn multibyte_stop_strings_are_handled() {
        assert_eq!(run(&["—end"], &["a—", "end"]), ("a".to_owned(), true));
    }
}
