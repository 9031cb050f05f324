//! Why a document could not be extracted, ingested or searched, worded so a batch can skip it
//! and tell the user the next step.

use std::path::PathBuf;
use std::time::Duration;

use airlock_store::StoreError;
use serde::{Deserialize, Serialize};

/// The extensions [`crate::extract_file`] accepts, for messages.
pub(crate) const SUPPORTED_EXTENSIONS: &str = ".txt, .md, .markdown, .pdf, .docx, .csv";

/// A document that could not be turned into text. Every variant concerns one file only: a batch
/// records it and goes on with the next file.
///
/// The type is serialisable because the isolated worker sends it back to its caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "error", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ExtractError {
    /// The file has no text: zero bytes, only whitespace, or a PDF without a text layer.
    #[error(
        "the document has no text: it is empty, or a scan without a text layer \
         (run OCR and export a PDF with text, then add that)"
    )]
    Empty,
    /// A `.txt`, `.md` or `.csv` file that is not UTF-8 text.
    #[error(
        "the file looks binary ({reason}); convert it to UTF-8 text or give it the right extension"
    )]
    NotText {
        /// What gave it away (NUL bytes, invalid UTF-8 at some offset).
        reason: String,
    },
    /// The file (or a part inside it) is larger than the configured limit; nothing was read
    /// beyond the point where that became clear.
    #[error(
        "the document is {bytes} bytes, over the limit of {limit} bytes; \
         split it into smaller files or raise the limit"
    )]
    TooLarge {
        /// The size found.
        bytes: u64,
        /// The limit in force.
        limit: u64,
    },
    /// A PDF with more pages than the configured limit.
    #[error(
        "the document has {pages} pages, over the limit of {limit}; \
         split it into smaller files or raise the limit"
    )]
    TooManyPages {
        /// Pages in the document.
        pages: u64,
        /// The limit in force.
        limit: u32,
    },
    /// A password-protected document.
    #[error(
        "the document is password-protected; export an unprotected copy \
         (e.g. print to PDF, or save without a password) and add that instead"
    )]
    Encrypted,
    /// The file does not parse as what its extension says.
    #[error(
        "the document is damaged or not what its extension says ({detail}); \
         open it in the application that made it, export it again and add the new file"
    )]
    Corrupt {
        /// What the parser reported.
        detail: String,
    },
    /// The extension is not one Airlock can read.
    #[error(
        "files ending in {extension:?} are not supported; supported are {SUPPORTED_EXTENSIONS} \
         (export the document to one of them)"
    )]
    Unsupported {
        /// The extension found, without the dot (empty when there is none).
        extension: String,
    },
    /// The file could not be read.
    #[error("could not read the file: {detail}")]
    Io {
        /// The operating system's message.
        detail: String,
    },
    /// The isolated parser process crashed, was killed, or could not be started.
    #[error(
        "the document parser process failed ({detail}); the file is probably malformed: \
         skip it, or export it again and add the new file"
    )]
    WorkerFailed {
        /// How it ended (exit code or signal) and the last lines it wrote to stderr.
        detail: String,
    },
    /// Extraction did not finish in time and was stopped.
    #[error(
        "extracting the document took longer than {limit:?} and was stopped; \
         split it into smaller files or raise the timeout"
    )]
    TimedOut {
        /// The timeout in force.
        limit: Duration,
    },
}

impl ExtractError {
    /// An [`ExtractError::Io`] from an I/O error.
    pub(crate) fn io(err: &std::io::Error) -> Self {
        Self::Io {
            detail: err.to_string(),
        }
    }

    /// An [`ExtractError::Corrupt`] with the given detail.
    pub(crate) fn corrupt(detail: impl Into<String>) -> Self {
        Self::Corrupt {
            detail: detail.into(),
        }
    }
}

/// Why one file was not ingested (the rest of its batch goes on).
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The file could not be turned into text.
    #[error(transparent)]
    Extract(ExtractError),
    /// The file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The embedding model failed on the file's text.
    #[error("embedding failed: {0}")]
    Embed(String),
    /// The store refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why retrieval, or a whole ingest, failed.
#[derive(Debug, thiserror::Error)]
pub enum RagError {
    /// The store refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The embedding model failed or is missing.
    #[error("{0}")]
    Embed(String),
    /// The index was built with another embedding model: its vectors are not comparable.
    #[error(
        "the documents were indexed with the embedding model {indexed}, but {current} is \
         loaded; run `airlock docs reindex` to index them again with {current}"
    )]
    ModelMismatch {
        /// The model the index was built with.
        indexed: String,
        /// The model loaded now.
        current: String,
    },
    /// Something that should not happen did (a bug): the message says what.
    #[error("{0}")]
    Invalid(String),
}
