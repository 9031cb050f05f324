//! Sentence embeddings on the CPU: all-MiniLM-L6-v2 (a 6-layer BERT) run by candle, computed
//! the way sentence-transformers computes them for this model: WordPiece tokens truncated to
//! [`MAX_TOKENS`], the transformer's last hidden states, the mean over the real (unpadded)
//! tokens, and L2 normalisation. Vectors therefore have unit length, and cosine similarity is
//! their dot product.
//!
//! The model directory holds `config.json` (the BERT configuration), `tokenizer.json` and
//! `model.safetensors`, as `make setup` fetches them (see [`crate::registry::embedder_dir`]).
//!
//! The encoder is ours ([`bert`]): candle holds the weights and the activations, OpenBLAS
//! computes the matrix products ([`blas`]; Debian's `libopenblas0`, loaded at run time), and
//! the texts of a batch are packed without padding. See ARCHITECTURE.md, "Embeddings", for
//! why not candle's own BERT and matrix products.
//!
//! Threads: each batch is split between [`Embedder::threads`] threads (by default one per
//! physical core), each running the encoder on its share with single-threaded matrix
//! products. One [`Embedder`] is `Send + Sync` and serves many threads.

mod bert;
mod blas;
mod error;
mod ops;
mod pooling;

use std::cmp::Reverse;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device};
use candle_nn::VarBuilder;
use tokenizers::{Encoding, Tokenizer, TruncationParams};

use bert::{Bert, Config};
use blas::Blas;
pub use error::EmbedError;

/// Texts computed in one forward pass (sentence-transformers' default batch size), shared
/// between the threads.
pub const DEFAULT_BATCH_SIZE: usize = 32;

/// Tokens per text, `[CLS]` and `[SEP]` included, beyond which a text is truncated: the
/// `max_seq_length` sentence-transformers uses for all-MiniLM-L6-v2 (the model itself has
/// position embeddings for 512, but was trained on at most 256).
pub const MAX_TOKENS: usize = 256;

const CONFIG_FILE: &str = "config.json";
const TOKENIZER_FILE: &str = "tokenizer.json";
const WEIGHTS_FILE: &str = "model.safetensors";

/// A loaded sentence-embedding model.
pub struct Embedder {
    model: Bert,
    blas: &'static Blas,
    /// Truncates to `max_tokens` and never pads: sequences are packed in [`Bert::forward`].
    tokenizer: Tokenizer,
    /// Neither truncates nor pads: counts what a text really takes.
    counter: Tokenizer,
    max_tokens: usize,
    dimension: usize,
    batch_size: usize,
    threads: usize,
}

impl std::fmt::Debug for Embedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedder")
            .field("dimension", &self.dimension)
            .field("max_tokens", &self.max_tokens)
            .field("batch_size", &self.batch_size)
            .field("threads", &self.threads)
            .finish_non_exhaustive()
    }
}

impl Embedder {
    /// Loads the model in `dir` (`config.json`, `tokenizer.json`, `model.safetensors`) onto
    /// the CPU, and OpenBLAS if this is the process's first embedder. The weights are read
    /// once and kept in memory.
    ///
    /// # Errors
    /// [`EmbedError::MissingFile`] naming the first missing file (run `make setup`),
    /// [`EmbedError::BadFile`] for a file that cannot be read or parsed or describes a model
    /// this encoder does not run, [`EmbedError::Blas`] when OpenBLAS cannot be loaded.
    pub fn load(dir: &Path) -> Result<Self, EmbedError> {
        let [config_path, tokenizer_path, weights_path] =
            [CONFIG_FILE, TOKENIZER_FILE, WEIGHTS_FILE].map(|name| dir.join(name));
        for path in [&config_path, &tokenizer_path, &weights_path] {
            if !path.is_file() {
                return Err(EmbedError::MissingFile { path: path.clone() });
            }
        }

        let config: Config = std::fs::read_to_string(&config_path)
            .map_err(|err| bad_file(&config_path, err))
            .and_then(|text| {
                serde_json::from_str(&text)
                    .map_err(|err| bad_file(&config_path, format!("not a BERT config: {err}")))
            })?;
        if let Some(reason) = config.unsupported() {
            return Err(bad_file(
                &config_path,
                format!("unsupported model: {reason}"),
            ));
        }
        let max_tokens = MAX_TOKENS.min(config.max_position_embeddings);

        let mut counter =
            Tokenizer::from_file(&tokenizer_path).map_err(|err| bad_file(&tokenizer_path, err))?;
        // tokenizer.json carries the settings of its training run (pad and cut at 128).
        counter.with_padding(None);
        counter
            .with_truncation(None)
            .map_err(|err| bad_file(&tokenizer_path, err))?;
        let mut tokenizer = counter.clone();
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: max_tokens,
                ..TruncationParams::default()
            }))
            .map_err(|err| bad_file(&tokenizer_path, err))?;

        let weights = std::fs::read(&weights_path).map_err(|err| bad_file(&weights_path, err))?;
        let model = VarBuilder::from_buffered_safetensors(weights, DType::F32, &Device::Cpu)
            .and_then(|vb| Bert::load(&vb, &config))
            .map_err(|err| bad_file(&weights_path, err))?;
        let blas = Blas::get().map_err(|reason| EmbedError::Blas {
            library: blas::LIBRARY,
            reason,
        })?;

        let threads = default_threads();
        tracing::debug!(
            dimension = config.hidden_size,
            layers = config.num_hidden_layers,
            threads,
            blas_kernels = blas.kernels(),
            "embedding model loaded from {}",
            dir.display()
        );
        Ok(Self {
            model,
            blas,
            tokenizer,
            counter,
            max_tokens,
            dimension: config.hidden_size,
            batch_size: DEFAULT_BATCH_SIZE,
            threads,
        })
    }

    /// The same embedder computing `batch_size` texts per forward pass (at least 1). Larger
    /// batches amortise overhead; texts are sorted by length first, so that the threads
    /// sharing a batch get about the same work.
    #[must_use]
    pub fn with_batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size.max(1);
        self
    }

    /// The same embedder sharing each batch between `threads` threads (at least 1).
    #[must_use]
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// The length of every vector: 384 for all-MiniLM-L6-v2.
    #[must_use]
    pub fn dimension(&self) -> usize {
        self.dimension
    }

    /// Tokens per text beyond which [`Embedder::embed`] truncates, `[CLS]` and `[SEP]`
    /// included: a text embeds whole when `count_tokens(text)? <= max_tokens()`.
    #[must_use]
    pub fn max_tokens(&self) -> usize {
        self.max_tokens
    }

    /// How many threads compute a batch: the machine's physical cores (at most the CPUs this
    /// process may use) unless [`Embedder::with_threads`] said otherwise.
    #[must_use]
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// How many tokens `text` takes, `[CLS]` and `[SEP]` included, without truncation.
    ///
    /// # Errors
    /// [`EmbedError::Tokenize`] when the tokenizer refuses the text.
    pub fn count_tokens(&self, text: &str) -> Result<usize, EmbedError> {
        self.counter
            .encode_fast(text, true)
            .map(|encoding| encoding.len())
            .map_err(|err| EmbedError::Tokenize(err.to_string()))
    }

    /// One unit vector of [`Embedder::dimension`] values per text, in the order given. Texts
    /// longer than [`Embedder::max_tokens`] are truncated; an empty text has a vector too.
    ///
    /// # Errors
    /// [`EmbedError::Tokenize`] or [`EmbedError::Inference`].
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let encodings = self
            .tokenizer
            .encode_batch_fast(texts.to_vec(), true)
            .map_err(|err| EmbedError::Tokenize(err.to_string()))?;
        // Longest first: the threads sharing a batch get texts of about the same length.
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| Reverse(encodings[i].len()));
        let batches: Vec<&[usize]> = order.chunks(self.batch_size).collect();
        let threads = self.threads.min(self.batch_size).min(texts.len()).max(1);

        // This thread computes share 0; the others run beside it and end with the scope.
        let shares = std::thread::scope(|scope| {
            let workers: Vec<_> = (1..threads)
                .map(|share| {
                    let (encodings, batches) = (&encodings, &batches);
                    scope.spawn(move || self.embed_share(encodings, batches, share, threads))
                })
                .collect();
            let mine = self.embed_share(&encodings, &batches, 0, threads);
            let theirs = workers.into_iter().map(|worker| {
                worker
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            });
            std::iter::once(mine)
                .chain(theirs)
                .collect::<Result<Vec<_>, EmbedError>>()
        })?;
        let mut vectors = vec![Vec::new(); texts.len()];
        for (i, vector) in shares.into_iter().flatten() {
            vectors[i] = vector;
        }
        Ok(vectors)
    }

    /// Share `share` of `shares` of every batch: texts `share`, `share + shares`, … of each,
    /// as `(index, vector)`.
    fn embed_share(
        &self,
        encodings: &[Encoding],
        batches: &[&[usize]],
        share: usize,
        shares: usize,
    ) -> Result<Vec<(usize, Vec<f32>)>, EmbedError> {
        let mut vectors = Vec::new();
        for batch in batches {
            let texts: Vec<usize> = batch.iter().copied().skip(share).step_by(shares).collect();
            if texts.is_empty() {
                continue;
            }
            let ids: Vec<&[u32]> = texts.iter().map(|&i| encodings[i].get_ids()).collect();
            let hidden = self.model.forward(self.blas, &ids)?;
            let hidden = hidden.flatten_all()?.to_vec1::<f32>()?;
            let lens: Vec<usize> = ids.iter().map(|ids| ids.len()).collect();
            let pooled = pooling::mean_pool_normalized(&hidden, self.dimension, &lens);
            vectors.extend(texts.into_iter().zip(pooled));
        }
        Ok(vectors)
    }
}

/// One thread per physical core, but no more than the CPUs this process may run on.
fn default_threads() -> usize {
    let allowed = std::thread::available_parallelism().map_or(1, usize::from);
    num_cpus::get_physical().clamp(1, allowed)
}

fn bad_file(path: &Path, reason: impl ToString) -> EmbedError {
    EmbedError::BadFile {
        path: PathBuf::from(path),
        reason: reason.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_embedder_can_be_shared_between_threads() {
        fn shareable<T: Send + Sync>() {}
        shareable::<Embedder>();
    }

    #[test]
    fn a_missing_directory_names_the_first_file_and_make_setup() {
        let err = Embedder::load(Path::new("/no/such/model")).unwrap_err();
        assert!(matches!(err, EmbedError::MissingFile { .. }));
        let message = err.to_string();
        assert!(message.contains("/no/such/model/config.json"), "{message}");
        assert!(message.contains("make setup"), "{message}");
    }

    #[test]
    fn a_broken_config_is_a_bad_file_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        for name in [CONFIG_FILE, TOKENIZER_FILE, WEIGHTS_FILE] {
            std::fs::write(dir.path().join(name), b"{").unwrap();
        }
        let err = Embedder::load(dir.path()).unwrap_err();
        assert!(matches!(err, EmbedError::BadFile { ref path, .. } if path.ends_with(CONFIG_FILE)));
        assert!(err.to_string().contains("make setup"));
    }
}
