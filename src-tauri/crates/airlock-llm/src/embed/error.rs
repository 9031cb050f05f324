//! Errors of loading the embedding model and embedding text, worded for the person who has to
//! act on them.

use std::path::PathBuf;

/// What can go wrong between "use this embedding model" and "here are the vectors".
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    /// A file the embedding model needs is not there.
    #[error(
        "the embedding model file {} is missing. Run `make setup` to fetch the embedding \
         model (all-MiniLM-L6-v2) into models/",
        path.display()
    )]
    MissingFile {
        /// The missing file.
        path: PathBuf,
    },
    /// A model file is there but cannot be used (unreadable, truncated, wrong format).
    #[error(
        "the embedding model file {} cannot be used: {reason}. Delete it and run `make setup` \
         to fetch it again",
        path.display()
    )]
    BadFile {
        /// The offending file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// OpenBLAS, which computes the model's matrix products, cannot be loaded.
    #[error(
        "the embedding model needs OpenBLAS ({library}), which cannot be loaded: {reason}. \
         Install Debian's libopenblas0 package (`make setup` does)"
    )]
    Blas {
        /// The library file looked for.
        library: &'static str,
        /// What the dynamic loader said.
        reason: String,
    },
    /// The tokenizer refused a text.
    #[error("could not tokenize the text to embed: {0}")]
    Tokenize(String),
    /// The model failed while computing embeddings.
    #[error("the embedding model failed: {0}")]
    Inference(#[from] candle_core::Error),
}
