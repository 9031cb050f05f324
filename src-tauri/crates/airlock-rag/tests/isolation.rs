//! Extraction through the worker process: bad inputs, crashes, hangs, limits.

mod common;

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use airlock_rag::{extract_file, extract_isolated, ExtractError, ExtractLimits, WorkerCommand};
use common::{fixture, pdf_file, stream, worker};

fn isolated(path: &Path) -> Result<airlock_rag::Extracted, ExtractError> {
    extract_isolated(path, &ExtractLimits::default(), &worker())
}

/// A worker that is a shell script.
fn shell(script: &str) -> WorkerCommand {
    WorkerCommand::new("/bin/sh", ["-c", script])
}

/// The detail of an [`ExtractError::WorkerFailed`]; any other outcome fails the test.
fn worker_failure(result: Result<airlock_rag::Extracted, ExtractError>) -> String {
    match result {
        Err(ExtractError::WorkerFailed { detail }) => detail,
        other => panic!("expected WorkerFailed, got {other:?}"),
    }
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    fs::write(&path, bytes).expect("write");
    path
}

#[test]
fn each_bad_input_gives_its_own_error_through_the_worker() {
    assert_eq!(
        isolated(&fixture("bad/empty.txt")),
        Err(ExtractError::Empty)
    );
    assert!(matches!(
        isolated(&fixture("bad/binary-renamed.txt")),
        Err(ExtractError::NotText { .. })
    ));
    assert!(matches!(
        isolated(&fixture("bad/corrupt.pdf")),
        Err(ExtractError::Corrupt { detail }) if detail.contains("cross reference")
    ));
    assert_eq!(
        isolated(&fixture("bad/encrypted.pdf")),
        Err(ExtractError::Encrypted)
    );
    assert_eq!(
        isolated(&fixture("metadata.toml")),
        Err(ExtractError::Unsupported {
            extension: "toml".into()
        })
    );
    assert!(matches!(
        isolated(&fixture("no-such-file.pdf")),
        Err(ExtractError::Io { .. })
    ));
}

#[test]
fn errors_tell_the_user_what_to_do_next() {
    let message = |path: &str| isolated(&fixture(path)).expect_err(path).to_string();
    assert!(message("bad/binary-renamed.txt").contains("convert it to UTF-8 text"));
    assert!(message("bad/encrypted.pdf").contains("export an unprotected copy"));
    assert!(message("bad/corrupt.pdf").contains("export it again"));
}

#[test]
fn the_worker_extracts_what_the_process_would() {
    for name in [
        "p101-pump-manual.pdf",
        "lockout-tagout-sop.docx",
        "p101-pump-manual.md",
    ] {
        let path = fixture(name);
        let in_process = extract_file(&path, &ExtractLimits::default()).expect(name);
        assert_eq!(isolated(&path).expect(name), in_process, "{name}");
    }
}

#[test]
fn a_200_mb_file_is_too_large_before_it_is_read_or_a_worker_starts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("huge.pdf");
    fs::File::create(&path)
        .and_then(|file| file.set_len(200_000_000))
        .expect("sparse file");
    // A worker that cannot start: reaching it would be a different error.
    let nowhere = WorkerCommand::new("/nonexistent/airlock-worker", Vec::<String>::new());
    let started = Instant::now();
    let limits = ExtractLimits::default();
    assert_eq!(
        extract_isolated(&path, &limits, &nowhere),
        Err(ExtractError::TooLarge {
            bytes: 200_000_000,
            limit: 64 * 1024 * 1024
        })
    );
    assert_eq!(
        extract_file(&path, &limits),
        Err(ExtractError::TooLarge {
            bytes: 200_000_000,
            limit: 64 * 1024 * 1024
        })
    );
    assert!(started.elapsed() < Duration::from_millis(500));
}

#[test]
fn a_crashing_worker_is_reported_and_the_next_file_still_extracts() {
    let crash = shell("echo 'parser exploded' >&2; kill -SEGV $$");
    let detail = worker_failure(extract_isolated(
        &fixture("p101-pump-manual.pdf"),
        &ExtractLimits::default(),
        &crash,
    ));
    assert!(detail.contains("SIGSEGV"), "{detail}");
    assert!(detail.contains("parser exploded"), "{detail}");
    assert!(isolated(&fixture("p101-pump-manual.pdf")).is_ok());
}

#[test]
fn a_worker_that_cannot_start_is_a_worker_failure() {
    let nowhere = WorkerCommand::new("/nonexistent/airlock-worker", Vec::<String>::new());
    let detail = worker_failure(extract_isolated(
        &fixture("p101-pump-manual.pdf"),
        &ExtractLimits::default(),
        &nowhere,
    ));
    assert!(detail.contains("could not start"), "{detail}");
}

/// Catalog, page tree and a page with `page_extra` in its dictionary.
fn one_page_pdf(page_extra: &str, more: &[&str]) -> Vec<u8> {
    let page = format!("<< /Type /Page /Parent 2 0 R {page_extra} /Contents 4 0 R >>");
    let mut objects = vec![
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        page.as_str(),
    ];
    objects.extend_from_slice(more);
    pdf_file(&objects)
}

#[test]
fn a_pdf_that_overflows_the_parsers_stack_kills_only_the_worker() {
    // A form XObject that draws itself: pdf-extract recurses until the stack is gone, which no
    // catch_unwind can stop. In-process this would end the caller.
    let content = stream("/X1 Do", "");
    let form = stream(
        "/X1 Do",
        "/Type /XObject /Subtype /Form /BBox [0 0 10 10] /Resources << /XObject << /X1 5 0 R >> >>",
    );
    let bytes = one_page_pdf(
        "/MediaBox [0 0 612 792] /Resources << /XObject << /X1 5 0 R >> >>",
        &[&content, &form],
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "recursive.pdf", &bytes);
    let detail = worker_failure(isolated(&path));
    assert!(detail.contains("signal"), "{detail}");
    assert!(detail.contains("overflow"), "{detail}");
    assert!(isolated(&fixture("lockout-tagout-sop.docx")).is_ok());
}

#[test]
fn a_parser_panic_becomes_a_corrupt_document() {
    // No MediaBox anywhere: pdf-extract panics (`expect("MediaBox")`).
    let content = stream("BT /F1 12 Tf 72 700 Td (Hello) Tj ET", "");
    let bytes = one_page_pdf("", &[&content]);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "no-media-box.pdf", &bytes);
    for result in [
        isolated(&path),
        extract_file(&path, &ExtractLimits::default()),
    ] {
        assert!(
            matches!(&result, Err(ExtractError::Corrupt { detail }) if detail.contains("MediaBox")),
            "{result:?}"
        );
    }
}

#[test]
fn a_small_generated_pdf_extracts() {
    let content = stream("BT /F1 12 Tf 72 700 Td (Hello from a PDF) Tj ET", "");
    let bytes = one_page_pdf(
        "/MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >>",
        &[
            &content,
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ],
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "hello.PDF", &bytes);
    let doc = isolated(&path).expect("pdf");
    assert_eq!(doc.text, "Hello from a PDF");
    assert_eq!(doc.blocks[0].page, Some(1));
}

#[test]
fn a_worker_past_its_timeout_is_killed() {
    let limits = ExtractLimits {
        timeout: Duration::from_millis(1),
        ..ExtractLimits::default()
    };
    assert_eq!(
        extract_isolated(&fixture("p101-pump-manual.pdf"), &limits, &worker()),
        Err(ExtractError::TimedOut {
            limit: Duration::from_millis(1)
        })
    );
    // A hung worker with a child of its own: the whole process group goes, so the pipes close
    // and the call returns at the timeout, not when the grandchild would have finished.
    let limits = ExtractLimits {
        timeout: Duration::from_millis(300),
        ..ExtractLimits::default()
    };
    let started = Instant::now();
    assert_eq!(
        extract_isolated(
            &fixture("p101-pump-manual.pdf"),
            &limits,
            &shell("sleep 30; echo never")
        ),
        Err(ExtractError::TimedOut {
            limit: Duration::from_millis(300)
        })
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(isolated(&fixture("p101-pump-manual.pdf")).is_ok());
}

#[test]
fn the_worker_runs_with_memory_cpu_and_core_limits_and_no_environment() {
    let limits = ExtractLimits {
        max_memory_bytes: 512 * 1024 * 1024,
        timeout: Duration::from_secs(7),
        ..ExtractLimits::default()
    };
    let probe = shell(
        "echo \"as=$(ulimit -v) cpu=$(ulimit -t) core=$(ulimit -c) home=${HOME:-unset}\" >&2; exit 7",
    );
    let detail = worker_failure(extract_isolated(
        &fixture("p101-pump-manual.pdf"),
        &limits,
        &probe,
    ));
    assert!(
        detail.contains("as=524288 cpu=9 core=0 home=unset"),
        "{detail}"
    );
    assert!(detail.contains("exit status: 7"), "{detail}");
}

#[test]
fn a_worker_that_answers_nonsense_is_a_worker_failure() {
    let detail = worker_failure(extract_isolated(
        &fixture("p101-pump-manual.pdf"),
        &ExtractLimits::default(),
        &shell("cat >/dev/null; echo '{\"not\": \"a reply\"}'"),
    ));
    assert!(detail.contains("unreadable reply"), "{detail}");
}

#[test]
fn a_pdf_over_the_page_limit_is_refused() {
    let limits = ExtractLimits {
        max_pages: 4,
        ..ExtractLimits::default()
    };
    assert_eq!(
        extract_isolated(&fixture("p101-pump-manual.pdf"), &limits, &worker()),
        Err(ExtractError::TooManyPages { pages: 5, limit: 4 })
    );
}
