//! Answer citations on the fixture question set: every question of `fixtures/docs/questions.toml`
//! goes through the real `airlock ask --json --mode plan` (the real model, the real store with
//! the demo corpus indexed) as the OS user, and the table says whether the answer's sources
//! name the expected chunk (the one holding the question's `expected_quote`, on its
//! `expected_page` for the PDF manual), whether the answer's text cites it inline (a `[n]` the
//! model wrote, or the attribution of an uncited sentence to the passage holding its facts),
//! and, for a question whose document the user may not read, that nothing of that document
//! was cited. The table also lists the tools the plan proposed besides the document search:
//! every question here is answered by the documents, so each is a call the operator would be
//! asked about for nothing. Every answer is kept, one JSON line per question, in
//! `target/eval-citations/answers.jsonl` for review.
//!
//! `AIRLOCK_EVAL_MODEL=path.gguf` picks the model (default: the demo model,
//! `models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf`). `make eval-citations` runs it.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use airlock_rag::LabelsCatalog;
use serde::Deserialize;
use serde_json::{json, Value};

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
}

/// What one answer showed.
struct Verdict {
    /// The answer's source list names the expected chunk (or, for an unreadable document,
    /// names nothing of it).
    right: bool,
    /// The answer's text cites the expected chunk, not only its source list.
    inline: bool,
    /// The plan's tools other than `search_documents`.
    other_tools: Vec<String>,
    seconds: f64,
    note: String,
}

/// The tools of `outcome`'s plan other than the document search.
fn other_tools(outcome: &Value) -> Vec<String> {
    outcome["plan"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|intent| intent["tool"].as_str())
        .filter(|tool| *tool != "search_documents")
        .map(str::to_owned)
        .collect()
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../..")
}

fn airlock(data_dir: &Path, model: &Path) -> Command {
    let root = repo();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_airlock"));
    cmd.arg("--data-dir")
        .arg(data_dir)
        .arg("--model")
        .arg(model)
        .arg("--fixtures-dir")
        .arg(root.join("fixtures"))
        .arg("--policy-dir")
        .arg(root.join("policy"))
        .env("AIRLOCK_LOG", "warn")
        .stdin(Stdio::null());
    cmd
}

fn normalised(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether `source` (one entry of `sources`) is the chunk `question` expects.
fn is_expected(source: &Value, question: &Question) -> bool {
    let text = normalised(source["text"].as_str().unwrap_or_default());
    let on_page = question.expected_page.is_none_or(|page| {
        source["citation"]
            .as_str()
            .unwrap_or_default()
            .contains(&format!(", p. {page},"))
    });
    text.contains(&normalised(&question.expected_quote)) && on_page
}

fn judge(outcome: &Value, question: &Question, readable: bool) -> (bool, bool, String) {
    let answer = outcome["answer"].as_str().unwrap_or_default();
    let (body, listed) = answer.split_once("\n\nSources:").unwrap_or((answer, ""));
    let (listed, _) = listed.split_once("\n\nAlso found").unwrap_or((listed, ""));
    let sources = outcome["sources"].as_array().cloned().unwrap_or_default();
    let cited = |source: &Value| {
        listed.contains(&format!(
            "airlock docs show {})",
            source["chunk_id"].as_i64().unwrap_or(-1)
        ))
    };
    let expected: Vec<&Value> = sources
        .iter()
        .filter(|s| is_expected(s, question))
        .collect();
    if !readable {
        let leaked = expected.iter().any(|source| cited(source));
        let note = if leaked {
            "cited a document the user may not read".to_owned()
        } else {
            "not readable: nothing of it cited".to_owned()
        };
        return (!leaked, false, note);
    }
    let right = expected.iter().any(|source| cited(source));
    let inline = expected.iter().any(|source| {
        source["citation"]
            .as_str()
            .is_some_and(|label| body.contains(label))
    });
    let note = if right {
        String::new()
    } else if expected.is_empty() {
        format!("not retrieved ({} sources)", sources.len())
    } else {
        "retrieved but not among the cited sources".to_owned()
    };
    (right, inline, note)
}

fn main() {
    let root = repo();
    let model = std::env::var_os("AIRLOCK_EVAL_MODEL").map_or_else(
        || root.join("models/qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"),
        PathBuf::from,
    );
    assert!(
        model.is_file(),
        "{} is missing: run `make setup models-recommended`",
        model.display()
    );
    let docs = root.join("fixtures/docs");
    let questions: Questions = toml::from_str(
        &std::fs::read_to_string(docs.join("questions.toml")).expect("questions.toml"),
    )
    .expect("questions.toml parses");
    let labels = LabelsCatalog::load(&docs.join("metadata.toml")).expect("metadata.toml");
    let corpus = airlock_rag::read_corpus(&docs.join("corpus.txt")).expect("corpus.txt");
    let bundle = airlock_policy::PolicyBundle::load(&root.join("policy")).expect("policy");
    let user = airlock_agent::os_principal();
    let (level, groups) = bundle.directory.reader(&user);
    let readable = |document: &str| {
        corpus.iter().any(|path| {
            path.file_stem().and_then(|stem| stem.to_str()) == Some(document)
                && labels.get(path).is_some_and(|label| {
                    label.classification <= level || groups.contains(&label.audience)
                })
        })
    };

    let data = tempfile::tempdir().expect("temp dir");
    let added = airlock(data.path(), &model)
        .args(["docs", "add", "--labels"])
        .arg(docs.join("metadata.toml"))
        .args(&corpus)
        .output()
        .expect("airlock docs add");
    assert!(added.status.success(), "docs add failed: {added:?}");

    println!(
        "answer citations: {} questions, model {}, user `{user}` (clearance {}, groups {groups:?})\n",
        questions.question.len(),
        model.file_name().unwrap_or_default().to_string_lossy(),
        level.as_str(),
    );
    println!("| # | kind | expected source cited | inline | other tools planned | s | note |");
    println!("|---|---|---|---|---|---|---|");
    let answers_path = root.join("target/eval-citations/answers.jsonl");
    std::fs::create_dir_all(answers_path.parent().expect("has a parent")).expect("answers dir");
    let mut answers = std::fs::File::create(&answers_path).expect("answers file");
    let mut verdicts = Vec::new();
    for (index, question) in questions.question.iter().enumerate() {
        let started = Instant::now();
        let output = airlock(data.path(), &model)
            .args(["ask", "--json", "--mode", "plan"])
            .arg(&question.text)
            .output()
            .expect("airlock ask");
        let seconds = started.elapsed().as_secs_f64();
        let verdict = match serde_json::from_slice::<Value>(&output.stdout) {
            Ok(outcome) => {
                let line = json!({"question": question.text, "answer": outcome["answer"]});
                writeln!(answers, "{line}").expect("answers file is writable");
                let (right, inline, note) =
                    judge(&outcome, question, readable(&question.expected_document));
                Verdict {
                    right,
                    inline,
                    other_tools: other_tools(&outcome),
                    seconds,
                    note,
                }
            }
            Err(err) => Verdict {
                right: false,
                inline: false,
                other_tools: Vec::new(),
                seconds,
                note: format!("no JSON outcome ({err}): {}", output.status),
            },
        };
        println!(
            "| {} | {} | {} | {} | {} | {:.1} | {} |",
            index + 1,
            question.kind,
            if verdict.right { "yes" } else { "**no**" },
            if verdict.inline { "yes" } else { "no" },
            verdict.other_tools.join(", "),
            verdict.seconds,
            verdict.note,
        );
        verdicts.push(verdict);
    }
    let right = verdicts.iter().filter(|v| v.right).count();
    let inline = verdicts.iter().filter(|v| v.inline).count();
    let with_tools = verdicts
        .iter()
        .filter(|v| !v.other_tools.is_empty())
        .count();
    let seconds: f64 = verdicts.iter().map(|v| v.seconds).sum();
    println!(
        "\nexpected source cited: {right}/{n}; cited inline: {inline}/{n}; \
         planned with other tools: {with_tools}/{n}; {:.1} s per question; answers in {}",
        seconds / verdicts.len().max(1) as f64,
        answers_path.display(),
        n = verdicts.len(),
    );
}
