//! Turning a document file into normalised text plus its structure (blocks with page and
//! section).
//!
//! [`extract_file`] runs in the calling process. Markdown, plain text and CSV are safe there;
//! PDF and DOCX parsers can panic, recurse without bound or loop on malformed files, so callers
//! that read untrusted files use [`crate::extract_isolated`], which runs this same code in a
//! child process.

mod csv;
mod docx;
mod markdown;
mod pdf;
mod text;

use std::fs::File;
use std::io::Read;
use std::ops::Range;
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::ExtractError;

/// The document formats Airlock reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// Plain UTF-8 text (`.txt`).
    Text,
    /// Markdown (`.md`, `.markdown`).
    Markdown,
    /// PDF with a text layer (`.pdf`).
    Pdf,
    /// Word 2007+ document (`.docx`).
    Docx,
    /// Comma-, semicolon- or tab-separated values with a header row (`.csv`).
    Csv,
}

impl Format {
    /// The format for a path, from its extension (case-insensitive).
    ///
    /// # Errors
    /// [`ExtractError::Unsupported`] for any other extension, or none.
    pub fn from_path(path: &Path) -> Result<Self, ExtractError> {
        let extension = path
            .extension()
            .map(|ext| ext.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        match extension.as_str() {
            "txt" => Ok(Self::Text),
            "md" | "markdown" => Ok(Self::Markdown),
            "pdf" => Ok(Self::Pdf),
            "docx" => Ok(Self::Docx),
            "csv" => Ok(Self::Csv),
            _ => Err(ExtractError::Unsupported { extension }),
        }
    }

    /// Its short name, as stored with a document (`txt`, `md`, `pdf`, `docx`, `csv`).
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Text => "txt",
            Self::Markdown => "md",
            Self::Pdf => "pdf",
            Self::Docx => "docx",
            Self::Csv => "csv",
        }
    }

    /// Whether the parser for this format may crash or hang on malformed input and therefore
    /// belongs in an isolated worker.
    #[must_use]
    pub fn needs_isolation(self) -> bool {
        matches!(self, Self::Pdf | Self::Docx)
    }
}

/// What a block of text is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockKind {
    /// A heading; it opens the section named by its text.
    Heading,
    /// A paragraph of running text.
    Paragraph,
    /// One item of a bulleted or numbered list (with its marker, when the format has one).
    ListItem,
    /// One table row (DOCX/PDF cells joined with `" | "`; CSV rows as `header: value` pairs).
    TableRow,
    /// A fenced code block (Markdown).
    Code,
}

/// A structural unit of a document: a byte range of [`Extracted::text`] and where it sits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Block {
    /// Byte range into [`Extracted::text`], on `char` boundaries, never empty.
    pub range: Range<usize>,
    /// 1-based page number (PDF only).
    pub page: Option<u32>,
    /// Text of the nearest heading at or before this block, markup stripped; `None` before the
    /// first heading and for formats without headings.
    pub section: Option<String>,
    /// What the block is.
    pub kind: BlockKind,
}

/// A document's text and structure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extracted {
    /// The format the text came from.
    pub format: Format,
    /// The normalised text: what is stored, chunked and cited. For Markdown and plain text it
    /// is the file's text unchanged, so offsets map to the file.
    pub text: String,
    /// The blocks, in document order, not overlapping. Text between blocks (blank lines, table
    /// rules) belongs to none.
    pub blocks: Vec<Block>,
}

impl Extracted {
    /// The text of one block.
    ///
    /// # Panics
    /// If `block` does not belong to this document (its range is outside the text).
    #[must_use]
    pub fn block_text(&self, block: &Block) -> &str {
        &self.text[block.range.clone()]
    }

    /// Number of pages (highest page number of any block), `None` for formats without pages.
    #[must_use]
    pub fn pages(&self) -> Option<u32> {
        self.blocks.iter().filter_map(|block| block.page).max()
    }
}

/// Bounds on what one extraction may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ExtractLimits {
    /// Largest file accepted, checked from the file's metadata before reading (default 64 MiB).
    /// A DOCX part may expand to at most four times this.
    pub max_file_bytes: u64,
    /// Most pages a PDF may have (default 2 000).
    pub max_pages: u32,
    /// Longest an extraction may take (default 60 s). The isolated worker is killed when it
    /// runs over; in-process extraction checks it between PDF pages.
    pub timeout: Duration,
    /// Address-space limit of the isolated worker process (default 2 GiB).
    pub max_memory_bytes: u64,
}

impl Default for ExtractLimits {
    fn default() -> Self {
        Self {
            max_file_bytes: 64 * 1024 * 1024,
            max_pages: 2_000,
            timeout: Duration::from_secs(60),
            max_memory_bytes: 2 * 1024 * 1024 * 1024,
        }
    }
}

/// Extracts a document's text and structure in this process, choosing the format by extension.
///
/// The size is checked from the file's metadata before anything is read. PDF and DOCX parser
/// panics become [`ExtractError::Corrupt`], but a parser that overflows its stack or loops
/// still takes this process with it: use [`crate::extract_isolated`] for files you did not
/// write yourself.
///
/// # Errors
/// Any [`ExtractError`] but `WorkerFailed`.
pub fn extract_file(path: &Path, limits: &ExtractLimits) -> Result<Extracted, ExtractError> {
    let format = Format::from_path(path)?;
    let bytes = read_limited(path, limits)?;
    extract_bytes(format, &bytes, limits)
}

/// Extracts a document that is already in memory.
///
/// # Errors
/// As [`extract_file`], without the I/O errors.
pub fn extract_bytes(
    format: Format,
    bytes: &[u8],
    limits: &ExtractLimits,
) -> Result<Extracted, ExtractError> {
    let deadline = Deadline::after(limits.timeout);
    if bytes.len() as u64 > limits.max_file_bytes {
        return Err(ExtractError::TooLarge {
            bytes: bytes.len() as u64,
            limit: limits.max_file_bytes,
        });
    }
    if bytes.is_empty() {
        return Err(ExtractError::Empty);
    }
    match format {
        Format::Text => text::extract(bytes),
        Format::Markdown => markdown::extract(bytes),
        Format::Csv => csv::extract(bytes),
        Format::Pdf => guarded("PDF", || pdf::extract(bytes, limits, &deadline)),
        Format::Docx => guarded("DOCX", || docx::extract(bytes, limits)),
    }
}

/// Reads a file after checking its size from metadata; never reads more than the limit.
pub(crate) fn read_limited(path: &Path, limits: &ExtractLimits) -> Result<Vec<u8>, ExtractError> {
    let file = File::open(path).map_err(|err| ExtractError::io(&err))?;
    let metadata = file.metadata().map_err(|err| ExtractError::io(&err))?;
    if !metadata.is_file() {
        return Err(ExtractError::Io {
            detail: "not a regular file".into(),
        });
    }
    let limit = limits.max_file_bytes;
    if metadata.len() > limit {
        return Err(ExtractError::TooLarge {
            bytes: metadata.len(),
            limit,
        });
    }
    let capacity = usize::try_from(metadata.len()).unwrap_or(0);
    let mut bytes = Vec::with_capacity(capacity);
    // One byte past the limit tells a file that grew after the metadata check.
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|err| ExtractError::io(&err))?;
    if bytes.len() as u64 > limit {
        return Err(ExtractError::TooLarge {
            bytes: bytes.len() as u64,
            limit,
        });
    }
    Ok(bytes)
}

/// Runs a parser, turning its panic into [`ExtractError::Corrupt`].
fn guarded(
    what: &str,
    parse: impl FnOnce() -> Result<Extracted, ExtractError>,
) -> Result<Extracted, ExtractError> {
    panic::catch_unwind(AssertUnwindSafe(parse)).unwrap_or_else(|payload| {
        Err(ExtractError::corrupt(format!(
            "the {what} parser gave up: {}",
            panic_message(payload.as_ref())
        )))
    })
}

/// The message of a panic payload.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic without a message".into())
}

/// When an in-process extraction must give up.
pub(crate) struct Deadline {
    at: Option<Instant>,
    limit: Duration,
}

impl Deadline {
    fn after(limit: Duration) -> Self {
        Self {
            at: Instant::now().checked_add(limit),
            limit,
        }
    }

    /// [`ExtractError::TimedOut`] once the deadline has passed.
    pub(crate) fn check(&self) -> Result<(), ExtractError> {
        match self.at {
            Some(at) if Instant::now() >= at => Err(ExtractError::TimedOut { limit: self.limit }),
            _ => Ok(()),
        }
    }
}

/// UTF-8 text of a `.txt`, `.md` or `.csv` file, refusing binary content.
pub(crate) fn decode_text(bytes: &[u8]) -> Result<&str, ExtractError> {
    if let Some(offset) = bytes.iter().position(|&b| b == 0) {
        return Err(ExtractError::NotText {
            reason: format!("NUL byte at offset {offset}"),
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|err| ExtractError::NotText {
        reason: format!("not valid UTF-8 at byte {}", err.valid_up_to()),
    })?;
    if text.trim().is_empty() {
        return Err(ExtractError::Empty);
    }
    Ok(text)
}

/// Builds [`Extracted`] text block by block, for formats whose text is generated (PDF, DOCX,
/// CSV) rather than kept from the source.
pub(crate) struct TextBuilder {
    text: String,
    blocks: Vec<Block>,
    section: Option<String>,
    separator: &'static str,
}

impl TextBuilder {
    /// A builder that puts `separator` between blocks.
    pub(crate) fn new(separator: &'static str) -> Self {
        Self {
            text: String::new(),
            blocks: Vec::new(),
            section: None,
            separator,
        }
    }

    /// Appends a block; blank content is skipped.
    pub(crate) fn push(&mut self, content: &str, kind: BlockKind, page: Option<u32>) {
        let content = content.trim();
        if content.is_empty() {
            return;
        }
        if kind == BlockKind::Heading {
            self.section = Some(content.split_whitespace().collect::<Vec<_>>().join(" "));
        }
        if !self.text.is_empty() {
            self.text.push_str(self.separator);
        }
        let start = self.text.len();
        self.text.push_str(content);
        self.blocks.push(Block {
            range: start..self.text.len(),
            page,
            section: self.section.clone(),
            kind,
        });
    }

    /// The finished document.
    ///
    /// # Errors
    /// [`ExtractError::Empty`] when no block had text.
    pub(crate) fn finish(self, format: Format) -> Result<Extracted, ExtractError> {
        if self.blocks.is_empty() {
            return Err(ExtractError::Empty);
        }
        Ok(Extracted {
            format,
            text: self.text,
            blocks: self.blocks,
        })
    }
}

/// Collapses runs of whitespace within each line to one space and trims each line; empty lines
/// are dropped. Line breaks are kept.
pub(crate) fn tidy_lines(text: &str) -> String {
    text.lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_is_chosen_by_extension_case_insensitively() {
        assert_eq!(Format::from_path(Path::new("a/B.PDF")), Ok(Format::Pdf));
        assert_eq!(
            Format::from_path(Path::new("x.Markdown")),
            Ok(Format::Markdown)
        );
        assert_eq!(Format::from_path(Path::new("x.DocX")), Ok(Format::Docx));
        assert_eq!(
            Format::from_path(Path::new("x.doc")),
            Err(ExtractError::Unsupported {
                extension: "doc".into()
            })
        );
        assert_eq!(
            Format::from_path(Path::new("README")),
            Err(ExtractError::Unsupported {
                extension: String::new()
            })
        );
    }

    #[test]
    fn unsupported_message_lists_the_supported_extensions() {
        let message = ExtractError::Unsupported {
            extension: "odt".into(),
        }
        .to_string();
        assert!(message.contains(".pdf") && message.contains(".docx") && message.contains("odt"));
    }

    #[test]
    fn binary_text_is_refused_with_the_reason() {
        assert!(matches!(
            decode_text(b"abc\0def"),
            Err(ExtractError::NotText { reason }) if reason.contains("NUL byte at offset 3")
        ));
        assert!(matches!(
            decode_text(b"ab\xff"),
            Err(ExtractError::NotText { reason }) if reason.contains("byte 2")
        ));
        assert_eq!(decode_text(b" \n\t "), Err(ExtractError::Empty));
    }

    #[test]
    fn builder_separates_blocks_and_tracks_sections() {
        let mut builder = TextBuilder::new("\n\n");
        builder.push("  intro ", BlockKind::Paragraph, None);
        builder.push("Setup\n  steps", BlockKind::Heading, None);
        builder.push("", BlockKind::Paragraph, None);
        builder.push("body", BlockKind::Paragraph, None);
        let doc = builder.finish(Format::Docx).expect("blocks");
        assert_eq!(doc.text, "intro\n\nSetup\n  steps\n\nbody");
        let sections: Vec<_> = doc.blocks.iter().map(|b| b.section.as_deref()).collect();
        assert_eq!(sections, [None, Some("Setup steps"), Some("Setup steps")]);
        assert_eq!(doc.block_text(&doc.blocks[2]), "body");
    }

    #[test]
    fn tidy_lines_collapses_spaces_but_keeps_line_breaks() {
        assert_eq!(tidy_lines("  a   b \n\n c\t d  "), "a b\nc d");
    }
}
