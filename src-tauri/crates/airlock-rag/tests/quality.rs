//! Retrieval quality on the fixture corpus with the real embedding model (all-MiniLM-L6-v2):
//! the corpus of `fixtures/docs` is ingested as the demo ingests it (the manual as its PDF,
//! the LOTO SOP as its DOCX, the rest as written), then every question of `questions.toml`
//! is asked in the three modes. A question is answered at 5 when one of the top 5 chunks is
//! from the expected document, contains the expected quote (whitespace-normalised) and, for
//! the PDF, is on the expected page. Prints recall@5 per mode; hybrid must beat both.

mod common;

use std::path::PathBuf;

use airlock_core::Classification;
use airlock_rag::{
    retrieve, DocumentLabels, IngestOutcome, Ingestor, LabelsCatalog, RetrievalConfig,
    RetrievalMode,
};
use airlock_store::{Clearance, SearchFilter, Store};
use serde::Deserialize;

#[derive(Deserialize)]
struct Questions {
    question: Vec<Question>,
}

#[derive(Deserialize)]
struct Question {
    text: String,
    kind: String,
    expected_document: String,
    expected_page: Option<u32>,
    expected_quote: String,
    requires_clearance: Option<String>,
}

/// The demo corpus (`fixtures/docs/corpus.txt`) with its labels.
fn corpus() -> Vec<(PathBuf, DocumentLabels)> {
    let dir = common::fixture("");
    let labels = LabelsCatalog::load(&dir.join("metadata.toml")).expect("labels");
    airlock_rag::read_corpus(&dir.join("corpus.txt"))
        .expect("corpus list")
        .into_iter()
        .map(|path| {
            let labels = labels
                .get(&path)
                .expect("every corpus file is labelled")
                .clone();
            (path, labels)
        })
        .collect()
}

fn normalised(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn hybrid_recall_at_5_beats_vector_and_keyword_alone() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let model = common::embedder();
    let corpus = corpus();
    let results = Ingestor::new(&store, &model, common::worker())
        .ingest(&corpus, false, &mut |_| {})
        .unwrap();
    for ((path, _), result) in corpus.iter().zip(&results) {
        assert!(
            matches!(result, Ok(IngestOutcome::Added { chunks, .. }) if *chunks > 0),
            "{}: {result:?}",
            path.display()
        );
    }

    let questions: Questions =
        toml::from_str(&std::fs::read_to_string(common::fixture("questions.toml")).unwrap())
            .unwrap();
    let everyone = Clearance::level(Classification::Restricted);
    let config = RetrievalConfig {
        top_k: 5,
        min_similarity: None,
        ..RetrievalConfig::default()
    };
    let mut table = Vec::new();
    for mode in [
        RetrievalMode::Hybrid,
        RetrievalMode::Vector,
        RetrievalMode::Keyword,
    ] {
        let mut found = 0;
        let mut missed = Vec::new();
        for question in &questions.question {
            let top = retrieve(
                &store,
                &model,
                &question.text,
                &everyone,
                &SearchFilter::default(),
                &config,
                mode,
            )
            .unwrap();
            let quote = normalised(&question.expected_quote);
            let hit = top.iter().any(|r| {
                r.chunk.metadata["id"] == question.expected_document.as_str()
                    && normalised(&r.chunk.text).contains(&quote)
                    && question
                        .expected_page
                        .is_none_or(|page| r.chunk.page == Some(page))
            });
            if hit {
                found += 1;
            } else {
                missed.push(format!("{} ({})", question.text, question.kind));
            }
        }
        let recall = f64::from(found) / questions.question.len() as f64;
        println!(
            "{mode:?}: recall@5 {recall:.3} ({found}/{})",
            questions.question.len()
        );
        for question in &missed {
            println!("    missed: {question}");
        }
        table.push(recall);
    }
    let (hybrid, vector, keyword) = (table[0], table[1], table[2]);
    assert!(
        hybrid > vector && hybrid > keyword,
        "hybrid {hybrid:.3} must beat vector {vector:.3} and keyword {keyword:.3}"
    );
    assert!(hybrid >= 0.85, "hybrid recall@5 {hybrid:.3} is below 0.85");
}

#[test]
fn a_reader_without_clearance_gets_nothing_from_confidential_or_restricted_documents() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let model = common::embedder();
    Ingestor::new(&store, &model, common::worker())
        .ingest(&corpus(), false, &mut |_| {})
        .unwrap();
    let questions: Questions =
        toml::from_str(&std::fs::read_to_string(common::fixture("questions.toml")).unwrap())
            .unwrap();
    let viewer = Clearance::level(Classification::Internal);
    let config = RetrievalConfig {
        top_k: 5,
        min_similarity: None,
        ..RetrievalConfig::default()
    };
    let guarded: Vec<&Question> = questions
        .question
        .iter()
        .filter(|q| q.requires_clearance.is_some())
        .collect();
    assert_eq!(guarded.len(), 2);
    for question in guarded {
        let top = retrieve(
            &store,
            &model,
            &question.text,
            &viewer,
            &SearchFilter::default(),
            &config,
            RetrievalMode::Hybrid,
        )
        .unwrap();
        assert_eq!(top.len(), 5, "top-k stays k after filtering");
        assert!(
            top.iter()
                .all(|r| r.chunk.classification <= Classification::Internal),
            "{}: {:?}",
            question.text,
            top.iter().map(|r| &r.chunk.title).collect::<Vec<_>>()
        );
    }
}
