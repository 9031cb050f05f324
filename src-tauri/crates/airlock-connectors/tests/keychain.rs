//! Signing keys in a real Secret Service keychain (GNOME Keyring), headless.
//!
//! Each test re-runs itself (this test binary, filtered to that one test) in a private,
//! throw-away session: `dbus-run-session` starts a D-Bus session bus, `gnome-keyring-daemon`
//! serves the Secret Service on it (unlocked with a test password, or locked), and HOME and
//! XDG_RUNTIME_DIR point into a temporary directory, so the tests never touch the developer's
//! own keyring and need no display. The child finds the `AIRLOCK_KEYCHAIN_TEST_SESSION`
//! variable set and runs the body. `cargo test` alone therefore exercises the real keychain;
//! it needs the `dbus`, `gnome-keyring` and `libsecret-tools` packages (scripts/setup.sh
//! installs them). Set `AIRLOCK_SKIP_KEYCHAIN_TESTS=1` to skip these tests where they cannot
//! run.
#![cfg(target_os = "linux")]

use airlock_connectors::keys::{
    load_or_create_signing_key, load_or_create_signing_key_with, KeyError, KeyOptions, KeySource,
};
use std::ffi::OsStr;
use std::fs::{self, File};
use std::io;
use std::os::unix::fs::PermissionsExt as _;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const SESSION_VAR: &str = "AIRLOCK_KEYCHAIN_TEST_SESSION";
const PASSWORD: &str = "airlock-test";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Session {
    /// A session bus with an unlocked GNOME Keyring.
    Unlocked,
    /// A session bus with GNOME Keyring started but its login keyring locked, holding an
    /// entry for the key `locked-key`.
    Locked,
    /// No session bus at all (the address points at a socket that does not exist).
    NoBus,
    /// A "bus" that accepts connections and never answers, like a hung keychain.
    Unresponsive,
}

impl Session {
    fn tag(self) -> &'static str {
        match self {
            Session::Unlocked => "unlocked",
            Session::Locked => "locked",
            Session::NoBus => "no-bus",
            Session::Unresponsive => "unresponsive",
        }
    }
}

/// True in the re-executed child, which runs the test body; in the parent, runs the test in
/// a child within `session` and returns false.
fn inside(session: Session, test: &str) -> bool {
    if std::env::var(SESSION_VAR).as_deref() == Ok(session.tag()) {
        return true;
    }
    if std::env::var_os("AIRLOCK_SKIP_KEYCHAIN_TESTS").is_some_and(|v| v == "1") {
        eprintln!("{test}: skipped (AIRLOCK_SKIP_KEYCHAIN_TESTS=1)");
        return false;
    }
    run_child(session, test);
    false
}

fn find_program(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|candidate| candidate.is_file())
    })
}

fn require_programs(names: &[&str]) {
    let missing: Vec<&str> = names
        .iter()
        .copied()
        .filter(|name| find_program(name).is_none())
        .collect();
    assert!(
        missing.is_empty(),
        "the keychain tests need {missing:?} on PATH: install the Debian packages dbus, \
         gnome-keyring and libsecret-tools (scripts/setup.sh does), or set \
         AIRLOCK_SKIP_KEYCHAIN_TESTS=1 to skip them"
    );
}

/// A private HOME and runtime directory for one child session.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        for sub in ["home", "run"] {
            let path = dir.path().join(sub);
            fs::create_dir(&path).expect("mkdir");
            fs::set_permissions(&path, fs::Permissions::from_mode(0o700)).expect("chmod");
        }
        Self { dir }
    }

    fn path(&self, sub: &str) -> PathBuf {
        self.dir.path().join(sub)
    }

    /// A command with this scratch's environment and nothing of the caller's desktop.
    fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut command = Command::new(program);
        command
            .env("HOME", self.path("home"))
            .env("XDG_RUNTIME_DIR", self.path("run"))
            .env("XDG_DATA_HOME", self.path("home/.local/share"))
            .env("XDG_CONFIG_HOME", self.path("home/.config"))
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .env_remove("DISPLAY")
            .env_remove("WAYLAND_DISPLAY")
            .env_remove("GNOME_KEYRING_CONTROL")
            .stdin(Stdio::null());
        command
    }
}

/// Runs `command` to completion within `limit`, its output going to files in `scratch`;
/// returns (success, stdout, stderr).
fn run_bounded(scratch: &Scratch, mut command: Command, limit: Duration) -> (bool, String, String) {
    let out_path = scratch.path("stdout.txt");
    let err_path = scratch.path("stderr.txt");
    command
        .stdout(File::create(&out_path).expect("stdout file"))
        .stderr(File::create(&err_path).expect("stderr file"));
    let mut child = command.spawn().expect("start child");
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stdout = fs::read_to_string(&out_path).unwrap_or_default();
    let mut stderr = fs::read_to_string(&err_path).unwrap_or_default();
    if status.is_none() {
        stderr.push_str(&format!("\n(killed after {limit:?})"));
    }
    (status.is_some_and(|s| s.success()), stdout, stderr)
}

fn run_child(session: Session, test: &str) {
    let scratch = Scratch::new();
    let exe = std::env::current_exe().expect("test binary path");
    let test_args = [test, "--exact", "--nocapture", "--test-threads=1"];
    // Bound (never accepted: connections wait in the backlog) until the child is done.
    let mut _silent_bus = None;
    let mut command = match session {
        Session::Unresponsive => {
            let socket = scratch.path("silent-bus");
            _silent_bus = Some(UnixListener::bind(&socket).expect("bind silent bus socket"));
            let mut command = scratch.command(&exe);
            command.env(
                "DBUS_SESSION_BUS_ADDRESS",
                format!("unix:path={}", socket.display()),
            );
            command
        }
        Session::NoBus => {
            let mut command = scratch.command(&exe);
            command.env(
                "DBUS_SESSION_BUS_ADDRESS",
                format!("unix:path={}", scratch.path("no-such-bus").display()),
            );
            command
        }
        Session::Unlocked | Session::Locked => {
            require_programs(&["dbus-run-session", "gnome-keyring-daemon", "secret-tool"]);
            let start_keyring = if session == Session::Locked {
                prepare_locked_keyring(&scratch);
                "gnome-keyring-daemon --start --components=secrets >/dev/null"
            } else {
                "printf %s \"$AIRLOCK_KEYRING_PASSWORD\" | \
                 gnome-keyring-daemon --unlock --components=secrets >/dev/null"
            };
            let mut command = scratch.command("dbus-run-session");
            command
                .args(["--", "sh", "-c"])
                .arg(format!("{start_keyring} && exec \"$0\" \"$@\""))
                .arg(&exe)
                .env("AIRLOCK_KEYRING_PASSWORD", PASSWORD);
            command
        }
    };
    command.args(test_args).env(SESSION_VAR, session.tag());
    let (ok, stdout, stderr) = run_bounded(&scratch, command, Duration::from_secs(120));
    assert!(
        ok && stdout.contains("1 passed"),
        "{test} failed in a {} keychain session\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        session.tag()
    );
}

/// Creates a login keyring protected by the test password, holding an Airlock entry for
/// `locked-key`, in the scratch HOME; the locked session then starts without unlocking it.
fn prepare_locked_keyring(scratch: &Scratch) {
    let mut command = scratch.command("dbus-run-session");
    command
        .args(["--", "sh", "-c"])
        .arg(
            "printf %s \"$AIRLOCK_KEYRING_PASSWORD\" | \
             gnome-keyring-daemon --unlock --components=secrets >/dev/null && \
             printf %s \"$SEED\" | secret-tool store --label=locked-key \
             service airlock username locked-key",
        )
        .env("AIRLOCK_KEYRING_PASSWORD", PASSWORD)
        .env("SEED", "11".repeat(32));
    let (ok, stdout, stderr) = run_bounded(scratch, command, Duration::from_secs(60));
    assert!(ok, "could not prepare a locked keyring\n{stdout}\n{stderr}");
}

/// `secret-tool lookup` for an Airlock key: the stored secret, or `None`.
fn secret_tool_lookup(name: &str) -> Option<String> {
    let output = Command::new("secret-tool")
        .args(["lookup", "service", "airlock", "username", name])
        .output()
        .expect("run secret-tool");
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
        .filter(|s| !s.is_empty())
}

fn secret_tool_store(name: &str, secret: &str) {
    use std::io::Write as _;
    let mut child = Command::new("secret-tool")
        .args([
            "store",
            "--label=test",
            "service",
            "airlock",
            "username",
            name,
        ])
        .stdin(Stdio::piped())
        .spawn()
        .expect("run secret-tool");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(secret.as_bytes())
        .expect("write secret");
    assert!(
        child.wait().expect("wait").success(),
        "secret-tool store failed"
    );
}

fn key_files(dir: &Path) -> Vec<String> {
    fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".key"))
                .collect()
        })
        .unwrap_or_default()
}

/// Runs `f` and returns what it returned and the log lines it emitted on this thread (a
/// global subscriber writing into a per-thread buffer: a scoped `with_default` can miss
/// events when another thread hit the call site first).
fn capture_logs<T>(f: impl FnOnce() -> T) -> (T, String) {
    use std::cell::RefCell;
    thread_local! {
        static CAPTURED: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    }
    struct ThreadBuffer;
    impl io::Write for ThreadBuffer {
        fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
            CAPTURED.with(|c| c.borrow_mut().extend_from_slice(bytes));
            Ok(bytes.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        let _ = tracing_subscriber::fmt()
            .with_writer(|| ThreadBuffer)
            .with_ansi(false)
            .try_init();
    });
    CAPTURED.with(|c| c.borrow_mut().clear());
    let result = f();
    let bytes = CAPTURED.with(|c| std::mem::take(&mut *c.borrow_mut()));
    (result, String::from_utf8_lossy(&bytes).into_owned())
}

#[test]
fn a_new_key_is_created_in_the_keychain_and_loaded_again_without_a_file() {
    if !inside(
        Session::Unlocked,
        "a_new_key_is_created_in_the_keychain_and_loaded_again_without_a_file",
    ) {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let (first, logs) = capture_logs(|| load_or_create_signing_key("intent-tokens", dir.path()));
    let first = first.expect("created");
    assert_eq!(first.source, KeySource::Keychain);
    assert!(first.created);
    assert_eq!(first.fallback_reason, None);
    assert!(!logs.contains("WARN"), "{logs}");

    let stored = secret_tool_lookup("intent-tokens").expect("an entry in the Secret Service");
    assert_eq!(stored, hex::encode(first.key.to_bytes()));

    let second = load_or_create_signing_key("intent-tokens", dir.path()).expect("loaded");
    assert_eq!(second.source, KeySource::Keychain);
    assert!(!second.created);
    assert_eq!(second.key.to_bytes(), first.key.to_bytes());

    let other = load_or_create_signing_key("audit-checkpoints", dir.path()).expect("created");
    assert_ne!(other.key.to_bytes(), first.key.to_bytes());
    assert_eq!(
        key_files(dir.path()),
        Vec::<String>::new(),
        "no key file written"
    );
}

#[test]
fn the_keychain_can_be_used_from_a_tokio_runtime_thread() {
    if !inside(
        Session::Unlocked,
        "the_keychain_can_be_used_from_a_tokio_runtime_thread",
    ) {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().to_owned();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (on_worker, in_block_on) = runtime.block_on(async move {
        let worker_path = path.clone();
        let on_worker = tokio::spawn(async move {
            load_or_create_signing_key("from-async", &worker_path).map(|k| (k.source, k.key))
        })
        .await
        .expect("task did not panic")
        .expect("loaded on a runtime worker");
        let in_block_on =
            load_or_create_signing_key("from-async", &path).map(|k| (k.source, k.key));
        (on_worker, in_block_on.expect("loaded inside block_on"))
    });
    assert_eq!(on_worker.0, KeySource::Keychain);
    assert_eq!(in_block_on.0, KeySource::Keychain);
    assert_eq!(on_worker.1.to_bytes(), in_block_on.1.to_bytes());
}

#[test]
fn a_corrupt_keychain_entry_is_an_error_that_says_how_to_reset_it() {
    if !inside(
        Session::Unlocked,
        "a_corrupt_keychain_entry_is_an_error_that_says_how_to_reset_it",
    ) {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    secret_tool_store("damaged", "not-a-key");
    let error = load_or_create_signing_key("damaged", dir.path()).expect_err("corrupt");
    assert!(matches!(error, KeyError::CorruptKey { .. }), "{error:?}");
    let reset = "secret-tool clear service airlock username damaged";
    assert!(error.to_string().contains(reset), "{error}");
    assert_eq!(
        secret_tool_lookup("damaged").as_deref(),
        Some("not-a-key"),
        "not replaced"
    );
    assert_eq!(
        key_files(dir.path()),
        Vec::<String>::new(),
        "no file fallback"
    );

    let status = Command::new("sh")
        .args(["-c", reset])
        .status()
        .expect("reset");
    assert!(status.success());
    let fresh = load_or_create_signing_key("damaged", dir.path()).expect("new key");
    assert!(fresh.created);
    assert_eq!(fresh.source, KeySource::Keychain);
}

#[test]
fn a_key_file_from_before_the_keychain_stays_in_use() {
    if !inside(
        Session::Unlocked,
        "a_key_file_from_before_the_keychain_stays_in_use",
    ) {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let files_only = KeyOptions {
        use_keychain: false,
        ..KeyOptions::default()
    };
    let earlier =
        load_or_create_signing_key_with("old", dir.path(), &files_only).expect("file key");
    let now = load_or_create_signing_key("old", dir.path()).expect("loaded");
    assert_eq!(now.key.to_bytes(), earlier.key.to_bytes());
    assert_eq!(now.source, KeySource::File(dir.path().join("old.key")));
    assert!(!now.created);
    assert_eq!(
        secret_tool_lookup("old"),
        None,
        "nothing added to the keychain"
    );
}

#[test]
fn a_locked_keychain_falls_back_to_a_key_file_with_a_warning() {
    if !inside(
        Session::Locked,
        "a_locked_keychain_falls_back_to_a_key_file_with_a_warning",
    ) {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let (loaded, logs) = capture_logs(|| load_or_create_signing_key("locked-key", dir.path()));
    let loaded = loaded.expect("file fallback");
    let path = dir.path().join("locked-key.key");
    assert_eq!(loaded.source, KeySource::File(path.clone()));
    assert!(loaded.created);
    assert_ne!(
        loaded.key.to_bytes(),
        [0x11; 32],
        "the locked entry was not readable"
    );
    assert_eq!(
        fs::metadata(&path).expect("key file").permissions().mode() & 0o777,
        0o600
    );
    let reason = loaded.fallback_reason.expect("a reason");
    assert!(reason.contains("locked"), "{reason}");
    assert!(logs.contains("WARN"), "{logs}");
    assert!(logs.contains("not in the OS keychain"), "{logs}");

    let strict = KeyOptions {
        fall_back_when_locked: false,
        ..KeyOptions::default()
    };
    let other = tempfile::tempdir().expect("temp dir");
    let error =
        load_or_create_signing_key_with("locked-key", other.path(), &strict).expect_err("locked");
    assert!(
        matches!(error, KeyError::KeychainLocked { .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("unlock"), "{error}");
    assert_eq!(key_files(other.path()), Vec::<String>::new());
}

#[test]
fn without_a_session_bus_the_key_goes_to_a_file_with_a_warning() {
    if !inside(
        Session::NoBus,
        "without_a_session_bus_the_key_goes_to_a_file_with_a_warning",
    ) {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let started = Instant::now();
    let (first, logs) = capture_logs(|| load_or_create_signing_key("no-bus", dir.path()));
    let first = first.expect("file fallback");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "an absent bus fails fast, not by timeout"
    );
    let path = dir.path().join("no-bus.key");
    assert_eq!(first.source, KeySource::File(path.clone()));
    assert!(first.created);
    assert!(first
        .fallback_reason
        .as_deref()
        .is_some_and(|r| r.contains("no OS keychain")));
    assert!(
        logs.contains("WARN") && logs.contains(&path.display().to_string()),
        "{logs}"
    );

    let again = load_or_create_signing_key("no-bus", dir.path()).expect("reloaded");
    assert_eq!(again.key.to_bytes(), first.key.to_bytes());
    assert!(!again.created);
}

#[test]
fn a_keychain_that_never_answers_times_out_and_falls_back_to_a_file() {
    if !inside(
        Session::Unresponsive,
        "a_keychain_that_never_answers_times_out_and_falls_back_to_a_file",
    ) {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let quick = KeyOptions {
        keychain_timeout: Duration::from_millis(500),
        ..KeyOptions::default()
    };
    let started = Instant::now();
    let loaded =
        load_or_create_signing_key_with("hung", dir.path(), &quick).expect("file fallback");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "bounded by the timeout"
    );
    assert_eq!(loaded.source, KeySource::File(dir.path().join("hung.key")));
    let reason = loaded.fallback_reason.expect("a reason");
    assert!(reason.contains("no answer within"), "{reason}");

    let strict = KeyOptions {
        fall_back_when_locked: false,
        ..quick
    };
    let other = tempfile::tempdir().expect("temp dir");
    let error = load_or_create_signing_key_with("hung", other.path(), &strict).expect_err("locked");
    assert!(
        matches!(error, KeyError::KeychainLocked { .. }),
        "{error:?}"
    );
}

#[test]
fn a_connection_secret_round_trips_through_the_secret_service() {
    use airlock_connectors::vault::{Backend, Secret, Vault, VaultError, VAULT_SERVICE};
    if !inside(
        Session::Unlocked,
        "a_connection_secret_round_trips_through_the_secret_service",
    ) {
        return;
    }
    let vault = Vault::with_backends(vec![Backend::SecretService]);
    let stored = vault
        .store("sap-prod", &Secret::new("s3cret-SAP".to_owned()))
        .expect("stored");
    assert_eq!(stored, Backend::SecretService);
    let looked_up = Command::new("secret-tool")
        .args(["lookup", "service", VAULT_SERVICE, "username", "sap-prod"])
        .output()
        .expect("secret-tool");
    assert_eq!(
        String::from_utf8_lossy(&looked_up.stdout).trim(),
        "s3cret-SAP"
    );
    let (secret, from) = vault.fetch("sap-prod").expect("fetched");
    assert_eq!(
        (secret.expose(), from),
        ("s3cret-SAP", Backend::SecretService)
    );
    assert_eq!(
        vault.remove("sap-prod").expect("removed"),
        [Backend::SecretService]
    );
    assert!(matches!(
        vault.fetch("sap-prod"),
        Err(VaultError::NotFound(_))
    ));
}

#[test]
fn a_locked_keychain_is_a_clear_error_for_connection_secrets() {
    use airlock_connectors::vault::{Backend, Secret, Vault, VaultError};
    if !inside(
        Session::Locked,
        "a_locked_keychain_is_a_clear_error_for_connection_secrets",
    ) {
        return;
    }
    let vault = Vault::with_backends(vec![Backend::SecretService]);
    let error = vault
        .store("mes-line3", &Secret::new("pw".to_owned()))
        .expect_err("locked");
    assert!(matches!(error, VaultError::Locked { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains("unlock") && message.contains("mes-line3"),
        "{message}"
    );
    assert!(!message.contains("pw\""), "{message}");
}
