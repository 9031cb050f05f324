//! What ingestion and retrieval need from an embedding model.

/// A sentence-embedding model: unit vectors for texts, and the token count that bounds chunks.
pub trait TextEmbedder: Send + Sync {
    /// The model's name, recorded with the index (vectors of different models do not mix).
    fn model_name(&self) -> &str;

    /// The length of its vectors.
    fn dimension(&self) -> usize;

    /// One unit vector per text, in order.
    ///
    /// # Errors
    /// The model's message when it fails.
    fn embed_texts(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, String>;

    /// How many tokens `text` takes in the model's window.
    fn count_tokens(&self, text: &str) -> usize;
}

/// The model's name, recorded with the index.
const MINILM: &str = "all-MiniLM-L6-v2";

impl TextEmbedder for airlock_llm::Embedder {
    fn model_name(&self) -> &str {
        MINILM
    }

    fn dimension(&self) -> usize {
        airlock_llm::Embedder::dimension(self)
    }

    fn embed_texts(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, String> {
        self.embed(texts).map_err(|err| err.to_string())
    }

    fn count_tokens(&self, text: &str) -> usize {
        // The tokenizer refuses no valid UTF-8; should it, the byte count bounds the token
        // count from above, so chunks still fit the model's window.
        airlock_llm::Embedder::count_tokens(self, text).unwrap_or(text.len() + 2)
    }
}
