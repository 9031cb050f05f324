//! `airlock docs`: the searchable document library (add, list, remove, reindex, search,
//! show a cited chunk). Printing only; the work is the agent's `DocumentLibrary`.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use airlock_agent::{AddOptions, DocumentLibrary, FileResult};
use airlock_core::Classification;
use airlock_rag::{Citation, IngestOutcome, Progress, RetrievalMode};

use crate::paths::Paths;

/// `docs add`.
pub fn add(
    paths: &Paths,
    files: &[PathBuf],
    options: &AddOptions,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let library = DocumentLibrary::open(&paths.agent_config()?)?;
    let results = library.add(files, options, &mut print_progress)?;
    report(&results, json)
}

/// `docs reindex`.
pub fn reindex(paths: &Paths, json: bool) -> anyhow::Result<ExitCode> {
    let library = DocumentLibrary::open(&paths.agent_config()?)?;
    let results = library.reindex(&mut print_progress)?;
    report(&results, json)
}

/// `docs list`.
pub fn list(paths: &Paths, json: bool) -> anyhow::Result<ExitCode> {
    let library = DocumentLibrary::open(&paths.agent_config()?)?;
    let documents = library.list()?;
    if json {
        println!("{}", serde_json::to_string_pretty(&documents)?);
        return Ok(ExitCode::SUCCESS);
    }
    if documents.is_empty() {
        println!("No documents yet: add some with `airlock docs add PATH…`.");
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{:>4}  {:<13} {:>3} {:>6} {:>5}  title (source)",
        "id", "classification", "ver", "chunks", "pages"
    );
    for document in documents {
        let mut level = document.classification.as_str().to_uppercase();
        if !document.audience.is_empty() {
            level = format!("{level}/{}", document.audience);
        }
        let version = document
            .version
            .map_or_else(|| "-".to_owned(), |v| v.to_string());
        let pages = document
            .pages
            .map_or_else(|| "-".to_owned(), |p| p.to_string());
        let state = if document.ingesting {
            "  [interrupted ingest: run `airlock docs add` on it again to resume]"
        } else {
            ""
        };
        println!(
            "{:>4}  {level:<13} {version:>3} {:>6} {pages:>5}  {} ({}){state}",
            document.id, document.chunks, document.title, document.source
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `docs remove`.
pub fn remove(paths: &Paths, id: i64) -> anyhow::Result<ExitCode> {
    let library = DocumentLibrary::open(&paths.agent_config()?)?;
    if library.remove(id)? {
        println!("Removed document {id}.");
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("error: there is no document {id}; `airlock docs list` shows the ids");
        Ok(ExitCode::FAILURE)
    }
}

/// `docs search`.
pub fn search(
    paths: &Paths,
    query: &str,
    mode: RetrievalMode,
    top_k: usize,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let library = DocumentLibrary::open(&paths.agent_config()?)?;
    let found = library.search(query, mode, top_k)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&found)?);
        return Ok(ExitCode::SUCCESS);
    }
    if found.is_empty() {
        println!(
            "Nothing found that you may read (clearance: {}).",
            library.clearance().level.as_str()
        );
    }
    for (rank, retrieved) in found.iter().enumerate() {
        let citation = Citation::new(&retrieved.chunk, query);
        println!(
            "{}. {} (chunk {}, score {:.4})\n   \u{201c}{}\u{201d}",
            rank + 1,
            citation.label,
            retrieved.chunk.chunk_id,
            retrieved.score,
            citation.quote
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `docs show`.
pub fn show(paths: &Paths, chunk_id: i64, context: usize, json: bool) -> anyhow::Result<ExitCode> {
    let library = DocumentLibrary::open(&paths.agent_config()?)?;
    let Some(opened) = library.open_chunk(chunk_id, context)? else {
        eprintln!(
            "error: chunk {chunk_id} does not exist or is above your clearance ({})",
            library.clearance().level.as_str()
        );
        return Ok(ExitCode::FAILURE);
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&opened)?);
        return Ok(ExitCode::SUCCESS);
    }
    let citation = Citation::new(&opened.chunk, "");
    println!(
        "{} version {}, bytes {}..{} of {}\n",
        citation.label,
        opened.chunk.version,
        opened.chunk.start_byte,
        opened.chunk.end_byte,
        opened.chunk.source
    );
    println!(
        "{}>>>{}<<<{}",
        opened.before, opened.chunk.text, opened.after
    );
    Ok(ExitCode::SUCCESS)
}

/// Parses a classification given on the command line.
pub fn classification(text: &str) -> Result<Classification, String> {
    Classification::parse(text).ok_or_else(|| {
        format!(
            "`{text}` is not a classification: use public, internal, confidential or restricted"
        )
    })
}

/// Parses a retrieval mode given on the command line.
pub fn mode(text: &str) -> Result<RetrievalMode, String> {
    match text {
        "hybrid" => Ok(RetrievalMode::Hybrid),
        "vector" => Ok(RetrievalMode::Vector),
        "keyword" => Ok(RetrievalMode::Keyword),
        other => Err(format!(
            "`{other}` is not a mode: use hybrid, vector or keyword"
        )),
    }
}

fn print_progress(progress: Progress<'_>) {
    let mut err = std::io::stderr().lock();
    let _ = match progress {
        Progress::File { index, files, path } => {
            writeln!(err, "[{}/{files}] {}", index + 1, path.display())
        }
        Progress::Chunks { done, total, eta } => match eta {
            Some(eta) => writeln!(
                err,
                "      {done}/{total} chunks, about {} s left",
                eta.as_secs()
            ),
            None => writeln!(err, "      {done}/{total} chunks"),
        },
        Progress::Finished { .. } => Ok(()),
    };
}

fn report(results: &[FileResult], json: bool) -> anyhow::Result<ExitCode> {
    let failed = results.iter().filter(|r| r.result.is_err()).count();
    if json {
        let rows: Vec<serde_json::Value> = results
            .iter()
            .map(|r| match &r.result {
                Ok(outcome) => serde_json::json!({"path": r.path, "outcome": outcome}),
                Err(err) => serde_json::json!({"path": r.path, "error": err.to_string()}),
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        for r in results {
            match &r.result {
                Ok(IngestOutcome::Added {
                    document_id,
                    chunks,
                }) => println!("added      {} (document {document_id}, {chunks} chunks)", r.path.display()),
                Ok(IngestOutcome::Updated {
                    document_id,
                    version,
                    chunks,
                }) => println!(
                    "updated    {} (document {document_id} version {version}, {chunks} chunks; the old version is retired)",
                    r.path.display()
                ),
                Ok(IngestOutcome::Unchanged {
                    document_id, ..
                }) => println!("unchanged  {} (document {document_id})", r.path.display()),
                Err(err) => println!("FAILED     {}: {err}", r.path.display()),
            }
        }
        if failed > 0 {
            println!(
                "{failed} of {} file(s) failed; the others were indexed.",
                results.len()
            );
        }
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
