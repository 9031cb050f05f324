//! Local text generation and sentence embeddings for Airlock.
//!
//! llama.cpp can `abort()` the whole process on an internal assert, so generation never runs in
//! the caller's process: [`ModelWorker`] supervises a child process (the same binary started
//! with [`WORKER_ARG`], running [`worker::serve`]) that talks JSON lines over stdin/stdout. When
//! the child dies the caller gets [`LlmError::WorkerDied`] and the worker is restarted.
//!
//! [`registry`] finds the models on disk and picks the one to use. [`engine`] is the in-process
//! llama.cpp session that the worker (and the benchmark) drive. [`embed`] turns text into
//! sentence vectors for document search, in process: candle returns errors instead of
//! aborting, and OpenBLAS is handed only products whose shapes were checked. This crate never
//! runs tools.

mod error;
mod gguf;
mod prompt_cache;
mod protocol;
mod stop;
mod supervisor;
mod text;

pub mod embed;
pub mod engine;
pub mod registry;
pub mod worker;

pub use embed::{EmbedError, Embedder};
pub use error::LlmError;
pub use protocol::{
    ChatMessage, GenerateRequest, Generation, LoadedModel, Role, ScoreRequest, Scores, StopReason,
    Usage,
};
pub use supervisor::{CancelHandle, ModelWorker, WorkerConfig};
pub use worker::WORKER_ARG;
