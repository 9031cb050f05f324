//! The output of a run, kept up to a cap in bytes and lines, and forwarded as it arrives.

/// Which stream a piece of output came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// A piece of output as it arrives, for live display.
#[derive(Debug, Clone, Copy)]
pub struct Chunk<'a> {
    /// Its stream.
    pub stream: Stream,
    /// The bytes (may end in the middle of a line or of a UTF-8 character).
    pub bytes: &'a [u8],
}

/// The marker appended to a stream that was cut.
pub const TRUNCATED_MARKER: &str = "\n[… output truncated by the sandbox …]\n";

/// Keeps stdout and stderr until together they reach the byte or line cap.
#[derive(Debug)]
pub(crate) struct Capture {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    max_bytes: usize,
    max_lines: usize,
    bytes: usize,
    lines: usize,
    truncated: bool,
}

impl Capture {
    pub fn new(max_bytes: usize, max_lines: usize) -> Self {
        Self {
            stdout: Vec::new(),
            stderr: Vec::new(),
            max_bytes,
            max_lines,
            bytes: 0,
            lines: 0,
            truncated: false,
        }
    }

    /// Keeps what fits of `bytes` and returns it (empty once the cap is reached).
    pub fn push<'b>(&mut self, stream: Stream, bytes: &'b [u8]) -> &'b [u8] {
        if self.truncated {
            return &[];
        }
        let room = self.max_bytes - self.bytes;
        let mut keep = bytes.len().min(room);
        let lines_left = self.max_lines - self.lines;
        if lines_left == 0 {
            keep = 0;
        } else if let Some((index, _)) = bytes[..keep]
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .nth(lines_left - 1)
        {
            keep = index + 1;
        }
        let kept = &bytes[..keep];
        self.bytes += kept.len();
        self.lines += kept.iter().filter(|b| **b == b'\n').count();
        if keep < bytes.len() {
            self.truncated = true;
        }
        match stream {
            Stream::Stdout => self.stdout.extend_from_slice(kept),
            Stream::Stderr => self.stderr.extend_from_slice(kept),
        }
        kept
    }

    /// Whether the cap was reached and output was dropped.
    pub fn truncated(&self) -> bool {
        self.truncated
    }

    /// Stdout and stderr as text (invalid UTF-8 replaced), the marker on stdout when cut.
    pub fn finish(self) -> (String, String) {
        let mut stdout = String::from_utf8_lossy(&self.stdout).into_owned();
        if self.truncated {
            stdout.push_str(TRUNCATED_MARKER);
        }
        (stdout, String::from_utf8_lossy(&self.stderr).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_under_the_cap_is_kept_whole() {
        let mut capture = Capture::new(100, 10);
        assert_eq!(capture.push(Stream::Stdout, b"a\nb\n"), b"a\nb\n");
        assert_eq!(capture.push(Stream::Stderr, b"oops\n"), b"oops\n");
        assert!(!capture.truncated());
        assert_eq!(capture.finish(), ("a\nb\n".to_owned(), "oops\n".to_owned()));
    }

    #[test]
    fn the_byte_cap_cuts_and_marks_and_drops_the_rest() {
        let mut capture = Capture::new(5, 100);
        assert_eq!(capture.push(Stream::Stdout, b"abc"), b"abc");
        assert_eq!(capture.push(Stream::Stdout, b"defgh"), b"de");
        assert_eq!(capture.push(Stream::Stdout, b"more"), b"");
        assert!(capture.truncated());
        let (stdout, _) = capture.finish();
        assert_eq!(stdout, format!("abcde{TRUNCATED_MARKER}"));
    }

    #[test]
    fn the_line_cap_counts_both_streams() {
        let mut capture = Capture::new(1000, 3);
        capture.push(Stream::Stdout, b"1\n2\n");
        assert_eq!(capture.push(Stream::Stderr, b"3\n4\n5\n"), b"3\n");
        assert!(capture.truncated());
    }

    #[test]
    fn invalid_utf8_is_replaced_not_lost() {
        let mut capture = Capture::new(100, 10);
        capture.push(Stream::Stdout, b"ok \xff\xfe end");
        let (stdout, _) = capture.finish();
        assert!(
            stdout.starts_with("ok ") && stdout.ends_with(" end"),
            "{stdout}"
        );
    }
}
