//! Bad input gets a clear error that says what to do, and nothing is lost.

mod support;

use std::io::Write;
use std::path::Path;
use std::process::{Output, Stdio};

use support::{airlock, airlock_with_model, assert_refused, default_model, event_kinds};

/// Exit code of a refused request.
const REFUSED: i32 = 2;
/// Exit code of any other error.
const FAILED: i32 = 1;

fn ask_with_stdin(data: &Path, input: &[u8]) -> Output {
    let mut child = airlock(data)
        .args(["ask", "--mode", "plan"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // The CLI may stop reading at the size limit and exit; a broken pipe here is expected.
    let _ = stdin.write_all(input);
    drop(stdin);
    child.wait_with_output().unwrap()
}

fn ask_with_model(data: &Path, model: &Path) -> Output {
    airlock_with_model(data, model)
        .args(["ask", "status?"])
        .output()
        .unwrap()
}

#[test]
fn an_empty_or_blank_request_is_refused_with_a_hint() {
    let data = tempfile::tempdir().unwrap();
    for text in ["", "   \n\t  "] {
        let output = airlock(data.path()).args(["ask", text]).output().unwrap();
        assert_refused(&output, REFUSED, &["the request is empty"]);
    }
    // The refusals are on record.
    assert_eq!(
        event_kinds(data.path()),
        ["request_rejected", "request_rejected"]
    );
}

#[test]
fn a_one_megabyte_request_on_stdin_is_refused_with_the_limit() {
    let data = tempfile::tempdir().unwrap();
    let output = ask_with_stdin(data.path(), &vec![b'a'; 1024 * 1024]);
    assert_refused(&output, REFUSED, &["the limit is 8192 bytes"]);
}

#[test]
fn an_oversized_request_as_an_argument_is_refused_with_the_limit() {
    let data = tempfile::tempdir().unwrap();
    // Linux caps one argv string at 128 KiB, so a megabyte can only come on stdin; the
    // argument path gets the largest request it can carry.
    let text = "b".repeat(100 * 1024);
    let output = airlock(data.path()).args(["ask", &text]).output().unwrap();
    assert_refused(
        &output,
        REFUSED,
        &["the request is 102400 bytes", "the limit is 8192 bytes"],
    );
}

#[test]
fn non_utf8_bytes_on_stdin_are_refused_with_the_offset() {
    let data = tempfile::tempdir().unwrap();
    let output = ask_with_stdin(data.path(), b"show status \xc3\x28 now");
    assert_refused(&output, REFUSED, &["not valid UTF-8", "offset 12"]);
}

#[test]
fn a_missing_model_file_says_how_to_get_one() {
    let data = tempfile::tempdir().unwrap();
    let output = ask_with_model(data.path(), Path::new("/nonexistent/model.gguf"));
    assert_refused(
        &output,
        FAILED,
        &[
            "model file not found: /nonexistent/model.gguf",
            "make setup",
        ],
    );
    // The request was recorded and admitted before the model was needed, and its failure too.
    assert_eq!(
        event_kinds(data.path()),
        ["request_received", "decision_made", "plan_failed"]
    );
}

#[test]
fn a_file_that_is_not_gguf_is_refused_before_llama_cpp_sees_it() {
    let data = tempfile::tempdir().unwrap();
    let fake = data.path().join("fake.gguf");
    std::fs::write(&fake, b"<html>404 Not Found</html>").unwrap();
    let output = ask_with_model(data.path(), &fake);
    assert_refused(&output, FAILED, &["is not a GGUF model"]);
}

#[test]
fn a_truncated_gguf_is_a_load_error_not_a_crash() {
    let data = tempfile::tempdir().unwrap();
    let truncated = data.path().join("truncated.gguf");
    let real = std::fs::read(default_model()).unwrap();
    std::fs::write(&truncated, &real[..real.len() / 3]).unwrap();
    let output = ask_with_model(data.path(), &truncated);
    assert_refused(&output, FAILED, &["could not load", "truncated or corrupt"]);
}

#[test]
fn an_unusable_data_dir_says_to_choose_another() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    // Tests may run as root, which ignores permission bits: use places no one can write,
    // a path below a regular file and (on Linux) sysfs, which refuses mkdir even to root.
    let mut unusable = vec![file.join("data")];
    if cfg!(target_os = "linux") {
        unusable.push("/sys/airlock-data".into());
    }
    for data_dir in unusable {
        let output = airlock(&data_dir)
            .args(["ask", "status?"])
            .output()
            .unwrap();
        assert_refused(
            &output,
            FAILED,
            &["cannot use data directory", "--data-dir"],
        );
    }
}

#[test]
fn a_locked_database_is_reported_and_nothing_is_half_written() {
    let data = tempfile::tempdir().unwrap();
    // Create the database, then hold its write lock from another connection.
    let created = airlock(data.path()).args(["ask", ""]).output().unwrap();
    assert_refused(&created, REFUSED, &["the request is empty"]);
    let holder = rusqlite::Connection::open(data.path().join("airlock.db")).unwrap();
    holder.execute_batch("BEGIN EXCLUSIVE").unwrap();
    let output = airlock(data.path())
        .args(["ask", "status?"])
        .output()
        .unwrap();
    holder.execute_batch("ROLLBACK").unwrap();
    assert_refused(&output, FAILED, &["is locked by another process"]);
    assert_eq!(event_kinds(data.path()), ["request_rejected"]);
}

#[test]
fn a_damaged_database_is_reported_and_left_for_recovery() {
    let data = tempfile::tempdir().unwrap();
    let db = data.path().join("airlock.db");
    let garbage = b"not a database".repeat(1000);
    std::fs::write(&db, &garbage).unwrap();
    let output = airlock(data.path())
        .args(["ask", "status?"])
        .output()
        .unwrap();
    assert_refused(&output, FAILED, &["is damaged"]);
    assert_eq!(std::fs::read(&db).unwrap(), garbage);
}
