//! Errors of model loading and generation, worded for the person who has to act on them.

use std::path::PathBuf;
use std::time::Duration;

/// What can go wrong between "use this model" and "here is the text".
#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    /// The model path does not exist.
    #[error(
        "model file not found: {}. Run `make setup` to fetch the default models, \
         or pass --model PATH to a GGUF file",
        path.display()
    )]
    ModelNotFound {
        /// The missing path.
        path: PathBuf,
    },
    /// The file exists but is not a GGUF model.
    #[error(
        "{} is not a GGUF model ({reason}). Fetch it again with `make setup`, \
         or pass --model PATH to a valid GGUF file",
        path.display()
    )]
    NotGguf {
        /// The offending file.
        path: PathBuf,
        /// What was found instead.
        reason: String,
    },
    /// llama.cpp refused the file (truncated, corrupt, unsupported architecture).
    #[error(
        "llama.cpp could not load {}: {detail}. The file may be truncated or corrupt, or its \
         architecture unsupported; delete it and run `make setup`, or choose another model",
        path.display()
    )]
    LoadFailed {
        /// The model file.
        path: PathBuf,
        /// What llama.cpp or the worker reported.
        detail: String,
    },
    /// No generator model is present.
    #[error(
        "no generator model in {}. Run `make setup` to fetch the default model, \
         or pass --model PATH to a GGUF file",
        dir.display()
    )]
    NoModel {
        /// The directory that was searched.
        dir: PathBuf,
    },
    /// The manifest lists no embedding model.
    #[error(
        "{} lists no embedding model (`kind = \"embedder\"`). Restore it from the repository \
         and run `make setup` to fetch the embedding model",
        manifest.display()
    )]
    NoEmbedder {
        /// The manifest that was read.
        manifest: PathBuf,
    },
    /// `models/manifest.toml` could not be read or parsed.
    #[error("invalid model manifest {}: {reason}", path.display())]
    Manifest {
        /// The manifest path.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The worker process could not be started.
    #[error("could not start the model worker {}: {source}", program.display())]
    WorkerSpawn {
        /// The program that was started.
        program: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The worker process died (llama.cpp abort, out of memory, killed).
    #[error(
        "the model worker died ({status}) {during}; {}. Its last output: {stderr_tail}",
        if *restarted { "a new worker has been started, try again" }
        else { "restarting it failed too, see the error above" }
    )]
    WorkerDied {
        /// Exit status or signal.
        status: String,
        /// What it was doing, e.g. "while generating".
        during: String,
        /// The worker's last lines on stderr.
        stderr_tail: String,
        /// Whether a replacement worker is running.
        restarted: bool,
    },
    /// The worker stopped answering.
    #[error(
        "the model worker gave no output for {0:?}; it was stopped and a new one started. \
         Try again; if it repeats, choose a smaller model"
    )]
    WorkerTimeout(Duration),
    /// The prompt does not fit the context window.
    #[error(
        "the prompt is {prompt_tokens} tokens and {max_tokens} more are reserved for the reply, \
         but the model's context holds {n_ctx}. Shorten the request"
    )]
    ContextOverflow {
        /// Tokens in the prompt.
        prompt_tokens: usize,
        /// Tokens reserved for generation.
        max_tokens: u32,
        /// Context size.
        n_ctx: u32,
    },
    /// The JSON schema could not be turned into a grammar.
    #[error("could not build a grammar from the output schema: {0}")]
    Grammar(String),
    /// llama.cpp failed during generation.
    #[error("generation failed: {0}")]
    Generation(String),
    /// The worker sent something that is not the protocol.
    #[error("the model worker broke the protocol: {0}")]
    Protocol(String),
}
