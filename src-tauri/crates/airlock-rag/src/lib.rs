//! Document text extraction and chunking for Airlock's offline retrieval.
//!
//! - [`extract`]: a file (Markdown, plain text, PDF, DOCX, CSV) becomes [`Extracted`]: the
//!   normalised text that is stored and cited, and its [`Block`]s with page and section.
//!   [`extract_isolated`] runs the PDF and DOCX parsers in a worker process with a timeout and
//!   a memory limit, so a malformed file costs one [`ExtractError`], never the caller.
//! - [`chunk`](mod@chunk): an [`Extracted`] becomes [`ChunkDraft`]s that fit the embedder's
//!   window, respecting page and section boundaries, each an exact span of the text.
//!
//! - [`ingest`]: files → extracted text → chunks → embeddings → the store's document index,
//!   resumable, one error per bad file.
//! - [`retrieve`](mod@retrieve): hybrid search (vector KNN and BM25 in the store, merged by
//!   reciprocal rank fusion) for a reader's clearance; [`cite`] names each chunk
//!   `[title, p. N, section]` and picks the sentence to quote.
//!
//! This crate reads documents as data. It never executes, follows or interprets anything it
//! reads (links, macros, embedded files, instructions in the text): retrieved text reaches the
//! model fenced and labelled as untrusted, and the agent marks values taken from it as tainted
//! for the governor. Storage is the store's; the embedding model is behind [`TextEmbedder`].

pub mod chunk;
pub mod cite;
mod embedder;
mod error;
pub mod extract;
pub mod ingest;
pub mod labels;
pub mod retrieve;
pub mod worker;

pub use chunk::{chunk, ChunkConfig, ChunkConfigError, ChunkDraft, TokenCounter};
pub use cite::Citation;
pub use embedder::TextEmbedder;
pub use error::{ExtractError, IngestError, RagError};
pub use extract::{
    extract_bytes, extract_file, Block, BlockKind, ExtractLimits, Extracted, Format,
};
pub use ingest::{DocumentLabels, IngestOutcome, Ingestor, Progress};
pub use labels::{read_corpus, LabelsCatalog, LabelsError};
pub use retrieve::{fuse, retrieve, Fused, Passage, RetrievalConfig, RetrievalMode, Retrieved};
pub use worker::{extract_isolated, serve_if_requested, WorkerCommand, WORKER_ARG};
