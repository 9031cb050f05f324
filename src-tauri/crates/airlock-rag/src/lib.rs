//! Document text extraction and chunking for Airlock's offline retrieval.
//!
//! - [`extract`]: a file (Markdown, plain text, PDF, DOCX, CSV) becomes [`Extracted`]: the
//!   normalised text that is stored and cited, and its [`Block`]s with page and section.
//!   [`extract_isolated`] runs the PDF and DOCX parsers in a worker process with a timeout and
//!   a memory limit, so a malformed file costs one [`ExtractError`], never the caller.
//! - [`chunk`](mod@chunk): an [`Extracted`] becomes [`ChunkDraft`]s that fit the embedder's
//!   window, respecting page and section boundaries, each an exact span of the text.
//!
//! This crate reads documents as data. It never executes, follows or interprets anything it
//! reads (links, macros, embedded files, instructions in the text), and it stores nothing:
//! storage and embeddings belong to other crates.

pub mod chunk;
mod error;
pub mod extract;
pub mod worker;

pub use chunk::{chunk, ChunkConfig, ChunkConfigError, ChunkDraft, TokenCounter};
pub use error::ExtractError;
pub use extract::{
    extract_bytes, extract_file, Block, BlockKind, ExtractLimits, Extracted, Format,
};
pub use worker::{extract_isolated, serve_if_requested, WorkerCommand, WORKER_ARG};
