//! The embedder with the real all-MiniLM-L6-v2 files from `make setup`, against the vectors
//! sentence-transformers computes from the same files (fixtures/embeddings/reference.json,
//! written by scripts/reference_embeddings.py).

use std::path::{Path, PathBuf};

use airlock_llm::{registry, EmbedError, Embedder};
use serde::Deserialize;

#[derive(Deserialize)]
struct Reference {
    dimension: usize,
    sentences: Vec<Sentence>,
}

#[derive(Deserialize)]
struct Sentence {
    text: String,
    tokens: usize,
    vector: Vec<f32>,
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../..")
}

fn embedder() -> Embedder {
    let dir = registry::embedder_dir(&repo_root().join("models"))
        .expect("models/manifest.toml lists the embedder");
    assert!(
        dir.is_dir(),
        "the embedding model {} is missing: run `make setup` first",
        dir.display()
    );
    Embedder::load(&dir).expect("the embedding model loads")
}

fn reference() -> Reference {
    let path = repo_root().join("fixtures/embeddings/reference.json");
    let text = std::fs::read_to_string(&path).expect("reference.json is readable");
    serde_json::from_str(&text).expect("reference.json parses")
}

fn texts(reference: &Reference) -> Vec<&str> {
    reference
        .sentences
        .iter()
        .map(|s| s.text.as_str())
        .collect()
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    dot(a, b) / (dot(a, a).sqrt() * dot(b, b).sqrt())
}

fn max_abs_difference(a: &[Vec<f32>], b: &[Vec<f32>]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .flat_map(|(x, y)| x.iter().zip(y).map(|(p, q)| (p - q).abs()))
        .fold(0.0, f32::max)
}

#[test]
fn vectors_match_sentence_transformers() {
    let embedder = embedder();
    let reference = reference();
    assert_eq!(embedder.dimension(), reference.dimension);

    let vectors = embedder.embed(&texts(&reference)).unwrap();

    let cosines: Vec<(f32, &str)> = reference
        .sentences
        .iter()
        .zip(&vectors)
        .map(|(sentence, vector)| (cosine(vector, &sentence.vector), sentence.text.as_str()))
        .collect();
    assert!(
        cosines.iter().all(|(c, _)| *c >= 0.99999),
        "cosine to sentence-transformers below 0.99999: {cosines:?}"
    );
}

#[test]
fn token_counts_match_the_reference_tokenizer() {
    let embedder = embedder();
    for sentence in reference().sentences {
        assert_eq!(
            embedder.count_tokens(&sentence.text).unwrap(),
            sentence.tokens,
            "{:?}",
            sentence.text
        );
    }
}

#[test]
fn a_batch_gives_the_same_vectors_as_one_text_at_a_time() {
    let embedder = embedder().with_batch_size(4); // several batches of mixed lengths
    let reference = reference();
    let texts = texts(&reference);

    let batched = embedder.embed(&texts).unwrap();
    let one_by_one: Vec<Vec<f32>> = texts
        .iter()
        .map(|text| embedder.embed(&[text]).unwrap().remove(0))
        .collect();

    let difference = max_abs_difference(&batched, &one_by_one);
    assert!(difference <= 1e-5, "largest difference {difference}");
}

#[test]
fn the_number_of_threads_does_not_change_the_vectors() {
    let reference = reference();
    let texts = texts(&reference);
    let one = embedder().with_threads(1).embed(&texts).unwrap();
    let three = embedder().with_threads(3).embed(&texts).unwrap();
    let difference = max_abs_difference(&one, &three);
    assert!(difference <= 1e-5, "largest difference {difference}");
}

#[test]
fn every_vector_has_unit_length_and_the_model_dimension() {
    let embedder = embedder();
    let reference = reference();
    for (vector, text) in embedder
        .embed(&texts(&reference))
        .unwrap()
        .iter()
        .zip(texts(&reference))
    {
        assert_eq!(vector.len(), 384, "{text:?}");
        let norm = dot(vector, vector).sqrt();
        assert!((norm - 1.0).abs() < 1e-5, "norm {norm} for {text:?}");
    }
}

#[test]
fn text_beyond_max_tokens_does_not_change_the_vector() {
    let embedder = embedder();
    let long = reference()
        .sentences
        .into_iter()
        .find(|s| s.tokens > embedder.max_tokens())
        .expect("the reference has a text longer than max_tokens")
        .text;
    let longer = format!("{long} Completely unrelated words about cheese and holidays.");

    let vectors = embedder.embed(&[&long, &longer]).unwrap();

    assert_eq!(embedder.max_tokens(), 256);
    assert!(max_abs_difference(&vectors[..1], &vectors[1..]) <= 1e-6);
}

#[test]
fn empty_texts_have_vectors_and_no_texts_give_no_vectors() {
    let embedder = embedder();
    assert!(embedder.embed(&[]).unwrap().is_empty());
    let vectors = embedder.embed(&["", "   "]).unwrap();
    assert_eq!(vectors.len(), 2);
    assert!(vectors.iter().all(|v| v.len() == 384));
    assert_eq!(embedder.count_tokens("").unwrap(), 2); // [CLS] [SEP]
}

#[test]
fn one_embedder_serves_several_threads() {
    let embedder = embedder();
    let reference = reference();
    let texts = texts(&reference);
    let alone = embedder.embed(&texts).unwrap();

    let together: Vec<Vec<Vec<f32>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..3)
            .map(|_| scope.spawn(|| embedder.embed(&texts).unwrap()))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });

    for vectors in together {
        assert!(max_abs_difference(&alone, &vectors) <= 1e-6);
    }
}

#[test]
fn a_missing_model_directory_says_run_make_setup() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("all-minilm-l6-v2");

    let err = Embedder::load(&missing).unwrap_err();

    assert!(matches!(err, EmbedError::MissingFile { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains("config.json"), "{message}");
    assert!(message.contains("Run `make setup`"), "{message}");
}

#[test]
fn a_model_directory_without_weights_names_the_weights_file() {
    let source = registry::embedder_dir(&repo_root().join("models")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    for name in ["config.json", "tokenizer.json"] {
        std::fs::copy(source.join(name), dir.path().join(name)).unwrap();
    }

    let err = Embedder::load(dir.path()).unwrap_err();

    assert!(
        matches!(&err, EmbedError::MissingFile { path } if path.ends_with("model.safetensors")),
        "{err:?}"
    );
}
