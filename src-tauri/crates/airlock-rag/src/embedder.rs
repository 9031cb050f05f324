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
