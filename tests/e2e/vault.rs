//! Connection secrets through the real `airlock` binary: the secret goes in on stdin, lands in
//! a keychain (here the kernel keyring: the test runs without a session bus, as a headless
//! server would), and never in the database, the logs, the output or the audit export.

mod support;

use std::process::Output;

use support::{airlock, run_with_stdin};

const SECRET: &str = "Sup3r-Secret-ODBC-pw-4711";

fn run(data: &std::path::Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut cmd = airlock(data);
    cmd.args(args)
        .env("AIRLOCK_LOG", "debug")
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/bus");
    run_with_stdin(&mut cmd, stdin)
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn a_secret_reaches_the_keychain_and_nowhere_else() {
    let data = tempfile::tempdir().unwrap();
    let name = format!("mes-e2e-{}", std::process::id());
    let mut seen = String::new();

    let added = run(
        data.path(),
        &[
            "vault",
            "add",
            &name,
            "--kind",
            "mes",
            "--dsn",
            "NO-SUCH-DSN",
            "--user",
            "airlock",
        ],
        Some(&format!("{SECRET}\n")),
    );
    seen.push_str(&text(&added));
    assert!(added.status.success(), "{}", text(&added));
    assert!(text(&added).contains("kernel keyring"), "{}", text(&added));

    let listed = run(data.path(), &["vault", "list"], None);
    seen.push_str(&text(&listed));
    assert!(text(&listed).contains(&name) && text(&listed).contains("NO-SUCH-DSN"));

    let tested = run(data.path(), &["vault", "test", &name], None);
    seen.push_str(&text(&tested));
    assert_eq!(
        tested.status.code(),
        Some(1),
        "the DSN does not exist: {}",
        text(&tested)
    );
    assert!(
        text(&tested).contains("DSN NO-SUCH-DSN as airlock"),
        "{}",
        text(&tested)
    );

    let called = run(
        data.path(),
        &[
            "call",
            "mes_downtime",
            "--mode",
            "execute",
            "--args",
            r#"{"line": 3, "since": "2026-11-16", "until": "2026-11-23"}"#,
        ],
        None,
    );
    seen.push_str(&text(&called));
    let exported = run(data.path(), &["audit", "export", "--format", "json"], None);
    seen.push_str(&text(&exported));

    assert!(!seen.contains(SECRET), "the secret was printed or logged");
    for entry in std::fs::read_dir(data.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            assert!(
                !bytes.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()),
                "the secret is in {}",
                path.display()
            );
        }
    }

    let removed = run(data.path(), &["vault", "remove", &name], None);
    assert!(removed.status.success(), "{}", text(&removed));
    let listed = run(data.path(), &["vault", "list"], None);
    assert!(!text(&listed).contains(&name));
}

#[test]
fn a_secret_is_never_taken_from_the_command_line_and_a_bad_setting_is_refused() {
    let data = tempfile::tempdir().unwrap();
    let output = run(
        data.path(),
        &[
            "vault",
            "add",
            "mes-x",
            "--kind",
            "mes",
            "--dsn",
            "D",
            "--user",
            "u",
            "--password",
            SECRET,
        ],
        None,
    );
    assert!(!output.status.success());
    assert!(text(&output).contains("--password"), "{}", text(&output));

    let output = run(
        data.path(),
        &["vault", "add", "mes-x", "--kind", "mes", "--user", "u"],
        Some("pw\n"),
    );
    assert!(!output.status.success());
    assert!(text(&output).contains("needs `dsn`"), "{}", text(&output));
}
