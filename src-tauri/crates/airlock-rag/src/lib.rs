//! Document text extraction for Airlock's offline retrieval.
//!
//! [`extract`]: a file (Markdown, plain text, PDF, DOCX, CSV) becomes [`Extracted`]: the
//! normalised text that is stored and cited, and its [`Block`]s with page and section.
//!
//! This crate reads documents as data. It never executes, follows or interprets anything it
//! reads (links, macros, embedded files, instructions in the text), and it stores nothing:
//! storage and embeddings belong to other crates.

mod error;
pub mod extract;

pub use error::ExtractError;
pub use extract::{
    extract_bytes, extract_file, Block, BlockKind, ExtractLimits, Extracted, Format,
};
