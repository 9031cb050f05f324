//! Sentence embeddings on the CPU: all-MiniLM-L6-v2 (a 6-layer BERT) run by candle, computed
//! the way sentence-transformers computes them for this model: WordPiece tokens truncated to
//! [`MAX_TOKENS`], the transformer's last hidden states, the mean over the real (unpadded)
//! tokens, and L2 normalisation. Vectors therefore have unit length, and cosine similarity is
//! their dot product.
//!
//! The model directory holds `config.json` (the BERT configuration), `tokenizer.json` and
//! `model.safetensors`, as `make setup` fetches them (see [`crate::registry::embedder_dir`]).
//!
//! Threads: candle computes on as many threads as the machine has physical cores; the
//! environment variable `RAYON_NUM_THREADS` sets another number (candle reads it once, at the
//! first embedding). One [`Embedder`] is `Send + Sync` and serves many threads.

mod error;
mod pooling;

use std::cmp::Reverse;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::{Tokenizer, TruncationParams};

pub use error::EmbedError;

/// Texts computed in one forward pass (sentence-transformers' default batch size).
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
    model: BertModel,
    /// Truncates to `max_tokens` and never pads: batches are padded in [`Embedder::embed`].
    tokenizer: Tokenizer,
    /// Neither truncates nor pads: counts what a text really takes.
    counter: Tokenizer,
    device: Device,
    pad_id: u32,
    max_tokens: usize,
    dimension: usize,
    batch_size: usize,
}

impl std::fmt::Debug for Embedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embedder")
            .field("dimension", &self.dimension)
            .field("max_tokens", &self.max_tokens)
            .field("batch_size", &self.batch_size)
            .finish_non_exhaustive()
    }
}

impl Embedder {
    /// Loads the model in `dir` (`config.json`, `tokenizer.json`, `model.safetensors`) onto
    /// the CPU. The weights are read once and kept in memory.
    ///
    /// # Errors
    /// [`EmbedError::MissingFile`] naming the first missing file (run `make setup`),
    /// [`EmbedError::BadFile`] for a file that cannot be read or parsed.
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

        let device = Device::Cpu;
        let weights = std::fs::read(&weights_path).map_err(|err| bad_file(&weights_path, err))?;
        let model = VarBuilder::from_buffered_safetensors(weights, DType::F32, &device)
            .and_then(|vb| BertModel::load(vb, &config))
            .map_err(|err| bad_file(&weights_path, err))?;

        Ok(Self {
            model,
            tokenizer,
            counter,
            device,
            pad_id: u32::try_from(config.pad_token_id)
                .map_err(|err| bad_file(&config_path, format!("pad_token_id: {err}")))?,
            max_tokens,
            dimension: config.hidden_size,
            batch_size: DEFAULT_BATCH_SIZE,
        })
    }

    /// The same embedder computing `batch_size` texts per forward pass (at least 1). Larger
    /// batches amortise overhead; texts are sorted by length first, so padding stays small.
    #[must_use]
    pub fn with_batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size.max(1);
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
        // Longest first, so that each batch holds texts of about the same length.
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| Reverse(encodings[i].len()));
        let mut vectors = vec![Vec::new(); texts.len()];
        for batch in order.chunks(self.batch_size) {
            let ids: Vec<&[u32]> = batch.iter().map(|&i| encodings[i].get_ids()).collect();
            for (&i, vector) in batch.iter().zip(self.embed_batch(&ids)?) {
                vectors[i] = vector;
            }
        }
        Ok(vectors)
    }

    /// Runs the model on one batch of token id sequences, padded on the right to the
    /// longest, and pools each sequence's real tokens.
    fn embed_batch(&self, ids: &[&[u32]]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let seq_len = ids.iter().map(|seq| seq.len()).max().unwrap_or(0);
        let mut input = Vec::with_capacity(ids.len() * seq_len);
        let mut mask = Vec::with_capacity(ids.len() * seq_len);
        for seq in ids {
            input.extend_from_slice(seq);
            input.resize(input.len() + seq_len - seq.len(), self.pad_id);
            mask.resize(mask.len() + seq.len(), 1u32);
            mask.resize(mask.len() + seq_len - seq.len(), 0);
        }
        let shape = (ids.len(), seq_len);
        let input = Tensor::from_vec(input, shape, &self.device)?;
        let mask = Tensor::from_vec(mask, shape, &self.device)?;
        let token_types = input.zeros_like()?;
        let hidden = self
            .device
            .with_context(|| self.model.forward(&input, &token_types, Some(&mask)))?;
        let hidden = hidden.flatten_all()?.to_vec1::<f32>()?;
        let lens: Vec<usize> = ids.iter().map(|seq| seq.len()).collect();
        Ok(pooling::mean_pool_normalized(
            &hidden,
            seq_len,
            self.dimension,
            &lens,
        ))
    }
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
