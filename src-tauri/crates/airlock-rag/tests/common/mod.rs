//! Helpers shared by the integration tests (each test crate uses a different subset).
#![allow(dead_code)]

use std::path::PathBuf;

use airlock_rag::{Extracted, TokenCounter, WorkerCommand};
use serde::Deserialize;

/// A file in `fixtures/docs/`.
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../fixtures/docs")
        .join(name)
}

/// The crate's bare worker binary.
pub fn worker() -> WorkerCommand {
    WorkerCommand::new(
        env!("CARGO_BIN_EXE_airlock-extract-worker"),
        Vec::<String>::new(),
    )
}

/// The real embedding model, as `make setup` fetches it.
pub fn embedder() -> airlock_llm::Embedder {
    let dir = airlock_llm::registry::embedder_dir(&airlock_llm::registry::default_models_dir())
        .expect("the model manifest lists the embedder");
    airlock_llm::Embedder::load(&dir).expect("the embedding model (run `make setup`)")
}

/// Counts runs of letters and digits, and every other non-space character, as one token each:
/// close enough to WordPiece for tests, and it never shrinks when text is appended.
pub struct WordCounter;

impl TokenCounter for WordCounter {
    fn count_tokens(&self, text: &str) -> usize {
        let mut tokens = 0;
        let mut in_word = false;
        for c in text.chars() {
            if c.is_alphanumeric() {
                if !in_word {
                    tokens += 1;
                }
                in_word = true;
            } else {
                in_word = false;
                if !c.is_whitespace() {
                    tokens += 1;
                }
            }
        }
        tokens
    }
}

/// All whitespace runs made one space, as questions.toml's page checks were done.
pub fn squash(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// One evaluation question of `questions.toml`.
#[derive(Debug, Deserialize)]
pub struct Question {
    pub text: String,
    pub expected_document: String,
    pub expected_section: String,
    pub expected_page: Option<u32>,
    pub expected_quote: String,
}

#[derive(Deserialize)]
struct Questions {
    question: Vec<Question>,
}

/// The questions about one document.
pub fn questions_for(document: &str) -> Vec<Question> {
    let text = std::fs::read_to_string(fixture("questions.toml")).expect("questions.toml");
    let all: Questions = toml::from_str(&text).expect("questions parse");
    let selected: Vec<Question> = all
        .question
        .into_iter()
        .filter(|q| q.expected_document == document)
        .collect();
    assert!(!selected.is_empty(), "no questions for {document}");
    selected
}

/// The `#`/`##` heading titles of a Markdown fixture, in order.
pub fn markdown_headings(name: &str, prefixes: &[&str]) -> Vec<String> {
    std::fs::read_to_string(fixture(name))
        .expect("markdown fixture")
        .lines()
        .filter_map(|line| {
            prefixes
                .iter()
                .find_map(|prefix| line.strip_prefix(prefix))
                .map(|title| title.trim().to_owned())
        })
        .collect()
}

/// The whitespace-squashed text of the blocks on one page.
pub fn page_text(doc: &Extracted, page: u32) -> String {
    squash(
        &doc.blocks
            .iter()
            .filter(|b| b.page == Some(page))
            .map(|b| doc.block_text(b))
            .collect::<Vec<_>>()
            .join(" "),
    )
}

/// The sections of the blocks whose squashed text contains `quote`.
pub fn sections_holding(doc: &Extracted, quote: &str) -> Vec<Option<String>> {
    doc.blocks
        .iter()
        .filter(|b| squash(doc.block_text(b)).contains(quote))
        .map(|b| b.section.clone())
        .collect()
}

/// A PDF file made of the given objects (numbered from 1; object 1 must be the catalog), with
/// a correct cross-reference table.
pub fn pdf_file(objects: &[&str]) -> Vec<u8> {
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{object}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// A content stream object.
pub fn stream(content: &str, dict: &str) -> String {
    format!(
        "<< {dict} /Length {} >>\nstream\n{content}\nendstream",
        content.len()
    )
}
