//! The desktop app end to end: the real `airlock-desktop` window (WebKitGTK) under Xvfb, driven
//! through `tauri-driver` and WebKitWebDriver, on the real default model, governor, SQLite file
//! and Docker engine, in a network namespace with only a loopback interface. One app run walks
//! the operator's and the admin's paths; a screenshot of every step is saved under the target
//! directory (the path is printed).

mod support;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use support::display::{start_xvfb, Reaped};
use support::{add_approver_accounts, default_model, repo, run_with_stdin, BOSS_PASS, LEAD_PASS};

/// True once every request on screen has finished.
const IDLE: &str = "[...document.querySelectorAll('[data-testid=request]')]
    .every((request) => request.getAttribute('aria-busy') === 'false')";

/// How long a step may take: the first request loads the model and the sandbox image.
const STEP: Duration = Duration::from_secs(240);

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free loopback port")
}

fn tool(name: &str) -> PathBuf {
    let candidates = [
        std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo/bin").join(name)),
        Some(PathBuf::from("/usr/bin").join(name)),
        Some(PathBuf::from("/usr/local/bin").join(name)),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|path| path.is_file())
        .unwrap_or_else(|| {
            panic!("{name} is missing: `make setup` installs it (webkit2gtk-driver, cargo install tauri-driver)")
        })
}

/// A data directory with the demo corpus indexed and the approvers' accounts, and a copy of
/// the shipped policy (the policy editor test must not touch the repository's).
fn prepare(dir: &Path) -> PathBuf {
    let data = dir.join("data");
    let policy = dir.join("policy");
    std::fs::create_dir_all(&policy).unwrap();
    for entry in std::fs::read_dir(repo().join("policy")).unwrap() {
        let entry = entry.unwrap();
        if entry.path().is_file() && entry.file_name() != "mcp-servers.toml" {
            std::fs::copy(entry.path(), policy.join(entry.file_name())).unwrap();
        }
    }
    let cli = |args: &[&str], stdin: Option<&str>| {
        run_with_stdin(
            support::airlock_with_policy(&data, &policy).args(args),
            stdin,
        )
    };
    add_approver_accounts(cli);
    let docs = repo().join("fixtures/docs");
    let mut add = support::airlock_with_policy(&data, &policy);
    add.args(["docs", "add", "--labels"])
        .arg(docs.join("metadata.toml"))
        .args(airlock_rag::read_corpus(&docs.join("corpus.txt")).unwrap());
    let added = add.output().unwrap();
    assert!(added.status.success(), "{added:?}");
    policy
}

struct Session {
    client: Client,
    display: String,
    shots: PathBuf,
    step: usize,
}

impl Session {
    /// Saves the X display as a PNG (ImageMagick's `import`: WebKitWebDriver's own
    /// screenshot command hangs under Xvfb without a GPU).
    async fn shot(&mut self, name: &str) {
        self.step += 1;
        let path = self.shots.join(format!("{:02}-{name}.png", self.step));
        let status = Command::new("import")
            .args(["-display", &self.display, "-window", "root"])
            .arg(&path)
            .status()
            .expect("ImageMagick's import runs (apt-get install imagemagick)");
        assert!(status.success(), "no screenshot of {name}");
        eprintln!("screenshot: {}", path.display());
    }

    async fn find(&self, css: &str) -> Element {
        eprintln!("desktop e2e: waiting for {css}");
        self.client
            .wait()
            .at_most(STEP)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|err| panic!("no `{css}` on screen: {err}"))
    }

    /// Waits until `script` (a JS expression) is truthy; returns its value.
    async fn until(&self, what: &str, script: &str) -> Value {
        eprintln!("desktop e2e: waiting for {what}");
        let started = Instant::now();
        loop {
            let value = self
                .client
                .execute(&format!("return ({script});"), vec![])
                .await
                .unwrap_or(Value::Null);
            if !matches!(value, Value::Null | Value::Bool(false))
                && value != json!("")
                && value != json!(0)
            {
                return value;
            }
            assert!(started.elapsed() < STEP, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    async fn click(&self, css: &str) {
        self.find(css)
            .await
            .click()
            .await
            .unwrap_or_else(|err| panic!("cannot click `{css}`: {err}"));
    }

    async fn type_into(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    /// Calls a shell command from the current window through Tauri's IPC; the rejection
    /// message, or `None` when it was allowed.
    async fn invoke_rejection(&self, command: &str) -> Option<String> {
        eprintln!("desktop e2e: invoking {command}");
        let script = format!(
            "const done = arguments[arguments.length - 1];
             window.__TAURI_INTERNALS__.invoke('{command}', {{}})
               .then(() => done(null), (err) => done(String(err)));"
        );
        match self.client.execute_async(&script, vec![]).await.unwrap() {
            Value::String(message) => Some(message),
            _ => None,
        }
    }
}

/// Set in this test's second run, inside its network namespace.
const IN_NETNS: &str = "AIRLOCK_E2E_IN_NETNS";

/// The walk-through runs in a network namespace of its own with nothing but a loopback
/// interface (`unshare --net`): the app, its WebKit processes, its model worker and the
/// WebDriver all start there, so the app is shown to work with no network at all. (The Docker
/// engine is reached through its Unix socket, which no network namespace hides.)
#[test]
fn an_operator_asks_requests_a_write_an_admin_approves_it_and_edits_policy_safely() {
    in_loopback_namespace(
        "an_operator_asks_requests_a_write_an_admin_approves_it_and_edits_policy_safely",
        walk_through(),
    );
}

/// A new installation: no account yet. The window opens on the check-up of every part, then
/// creates the admin account and goes on to the chat.
#[test]
fn a_new_installation_opens_on_the_check_up_and_creates_the_admin_account() {
    in_loopback_namespace(
        "a_new_installation_opens_on_the_check_up_and_creates_the_admin_account",
        first_run(),
    );
}

/// Runs `walk` in a network namespace of its own with nothing but a loopback interface
/// (`unshare --net`): the test binary runs itself again there, for the test `name` only.
fn in_loopback_namespace(name: &str, walk: impl std::future::Future<Output = ()>) {
    if std::env::var_os(IN_NETNS).is_some() {
        assert_only_loopback();
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
            .block_on(walk);
        return;
    }
    let mut unshare = Command::new("unshare");
    unshare.arg("--net");
    if !is_root() {
        unshare.arg("--map-root-user");
    }
    let status = unshare
        .args(["--", "sh", "-c", "ip link set lo up && exec \"$0\" \"$@\""])
        .arg(std::env::current_exe().unwrap())
        .args(["--exact", name, "--nocapture"])
        .env(IN_NETNS, "1")
        .status()
        .expect("unshare (util-linux) runs");
    assert!(
        status.success(),
        "the desktop test {name} failed inside its network namespace (its output is above)"
    );
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

/// Fails unless the only network interface is the loopback one.
fn assert_only_loopback() {
    let links = Command::new("ip")
        .args(["-o", "link", "show"])
        .output()
        .expect("ip (iproute2) runs");
    let text = String::from_utf8_lossy(&links.stdout);
    let names: Vec<&str> = text
        .lines()
        .filter_map(|line| line.split(':').nth(1))
        .map(str::trim)
        .collect();
    assert_eq!(names, ["lo"], "the namespace has other interfaces: {text}");
}

/// The shell keeps its bundled SQLite to itself: exported, it would capture half the calls of
/// the system's SQLite users (libsoup, the SQLite ODBC driver) and the optimised app crashed
/// on its first MES connection (see `src-tauri/build.rs`).
#[test]
fn the_desktop_binary_exports_no_sqlite_symbols() {
    let desktop = support::airlock_bin().with_file_name("airlock-desktop");
    let out = Command::new("nm")
        .args(["--dynamic", "--defined-only"])
        .arg(&desktop)
        .output()
        .expect("nm (binutils) runs");
    assert!(out.status.success(), "nm failed on {}", desktop.display());
    let exported: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|line| line.contains(" sqlite3"))
        .map(str::to_owned)
        .collect();
    assert!(
        exported.is_empty(),
        "{} exports SQLite symbols: {exported:?}",
        desktop.display()
    );
}

/// The app under Xvfb and tauri-driver, with a WebDriver session on its main window.
struct Running {
    app: Session,
    _driver: Reaped,
    _xvfb: Reaped,
}

/// Starts the app on the data directory `data` with the policy directory `policy`; its
/// screenshots go to `shots` under the target directory.
async fn launch(data: &Path, policy: &Path, downloads: &Path, shots: &str) -> Running {
    let (xvfb, display) = start_xvfb(90);
    let (port, native_port) = (free_port(), free_port());
    let desktop = support::airlock_bin().with_file_name("airlock-desktop");
    assert!(desktop.is_file(), "{} is not built", desktop.display());
    let driver = Reaped::spawn(
        Command::new(tool("tauri-driver"))
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native_port.to_string(),
            ])
            .arg("--native-driver")
            .arg(tool("WebKitWebDriver"))
            .env("DISPLAY", &display)
            .env("AIRLOCK_DATA_DIR", data)
            .env("AIRLOCK_POLICY_DIR", policy)
            .env("AIRLOCK_FIXTURES_DIR", repo().join("fixtures"))
            .env("AIRLOCK_MODELS_DIR", repo().join("models"))
            .env("AIRLOCK_MODEL", default_model())
            .env("XDG_DOWNLOAD_DIR", downloads)
            .stdout(Stdio::null()),
    );
    let mut capabilities = serde_json::Map::new();
    capabilities.insert("tauri:options".to_owned(), json!({"application": desktop}));
    capabilities.insert("browserName".to_owned(), json!("wry"));
    let started = Instant::now();
    let client = loop {
        match ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(client) => break client,
            Err(err) => {
                assert!(
                    started.elapsed() < Duration::from_secs(60),
                    "no WebDriver session: {err}"
                );
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    };
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join(shots);
    std::fs::create_dir_all(&shots).unwrap();
    Running {
        app: Session {
            client,
            display,
            shots,
            step: 0,
        },
        _driver: driver,
        _xvfb: xvfb,
    }
}

async fn first_run() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let Running {
        mut app,
        _driver,
        _xvfb,
    } = launch(
        &data,
        &repo().join("policy"),
        &dir.path().join("downloads"),
        "desktop-e2e-first-run",
    )
    .await;
    let statuses = app
        .until(
            "the check-up",
            "[...document.querySelectorAll('[data-testid=check]')].map((c) => c.dataset.status).join(',')",
        )
        .await;
    let statuses: Vec<&str> = statuses.as_str().unwrap().split(',').collect();
    // Models, Docker, sandbox image, keychain (a warning where no Secret Service runs),
    // policy, audit log, admin account (a warning: none yet).
    assert_eq!(statuses.len(), 8, "{statuses:?}");
    assert!(["ok", "warn"].contains(&statuses[4]), "{statuses:?}");
    assert_eq!(
        [&statuses[..4], &statuses[5..]].concat(),
        ["ok", "ok", "ok", "ok", "ok", "ok", "warn"]
    );
    app.shot("first-run-check-up").await;
    app.type_into("[data-testid=first-admin-name]", "admin.maria")
        .await;
    app.type_into("[data-testid=first-admin-passphrase]", BOSS_PASS)
        .await;
    app.type_into("[data-testid=first-admin-confirmation]", "not the same")
        .await;
    app.click("[data-testid=first-admin-create]").await;
    app.until(
        "the confirmation error",
        "document.body.innerText.includes('The two passphrases differ')",
    )
    .await;
    app.type_into("[data-testid=first-admin-passphrase]", BOSS_PASS)
        .await;
    app.type_into("[data-testid=first-admin-confirmation]", BOSS_PASS)
        .await;
    app.shot("first-run-admin").await;
    app.click("[data-testid=first-admin-create]").await;
    app.find("[data-testid=composer-input]").await;
    app.shot("first-run-ready").await;
    app.client.close().await.unwrap();

    let listed = support::airlock(&data)
        .args(["users", "list", "--json"])
        .output()
        .unwrap();
    let accounts: Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(accounts[0]["name"], "admin.maria", "{accounts:#}");
    assert_eq!(accounts[0]["roles"], json!(["admin"]));
}

async fn walk_through() {
    let dir = tempfile::tempdir().unwrap();
    let policy = prepare(dir.path());
    let Running {
        mut app,
        _driver,
        _xvfb,
    } = launch(
        &dir.path().join("data"),
        &policy,
        &dir.path().join("downloads"),
        "desktop-e2e",
    )
    .await;
    let main_window = app.client.window().await.unwrap();

    // The chat window may not call an admin command, and may not reach a remote origin.
    app.find("[data-testid=composer-input]").await;
    let denied = app.invoke_rejection("verify_audit").await;
    assert!(
        denied.as_deref().is_some_and(|m| m.contains("not allowed")),
        "the chat window's capability must refuse admin commands: {denied:?}"
    );
    let fetched = app
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             let directive = null;
             document.addEventListener('securitypolicyviolation', (e) => { directive = e.violatedDirective; });
             fetch('http://192.0.2.1/').then(() => done('fetched'),
               () => setTimeout(() => done('blocked:' + directive), 200));",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        fetched,
        json!("blocked:connect-src"),
        "the CSP must block remote origins"
    );
    app.shot("chat-empty").await;
    let docker = app
        .until(
            "the Docker status",
            "document.querySelector('[data-testid=status-docker]')?.textContent",
        )
        .await;
    assert_eq!(
        docker,
        json!("Docker ok"),
        "make test starts the Docker engine"
    );

    // A read request streams an answer with a timeline and a citation that opens its passage.
    app.click("[data-testid=mode-execute]").await;
    app.type_into(
        "[data-testid=composer-input]",
        "What is the torque spec for the P-101 impeller bolts?",
    )
    .await;
    app.click("[data-testid=send-button]").await;
    app.until(
        "a streamed answer",
        "document.querySelector('[data-testid=request] [data-testid=answer-text]')?.textContent.trim().length > 20",
    )
    .await;
    app.until("the finished request", IDLE).await;
    app.find("[data-testid=timeline-intent]").await;
    let citation = app.find("[data-testid=citation]").await;
    app.shot("read-answer-timeline").await;
    citation.click().await.unwrap();
    let sheet = app.find("[data-testid=citation-sheet]").await;
    // The sheet opens at once and shows the passage when it has loaded.
    app.find("[data-testid=citation-sheet] .passage").await;
    let passage = sheet.text().await.unwrap();
    assert!(
        passage.contains("P-101") || passage.contains("N·m"),
        "{passage}"
    );
    app.shot("citation-opened").await;
    app.click("[data-testid=citation-sheet] button[aria-label='Close the source']")
        .await;

    // A write request waits for approval.
    app.type_into(
        "[data-testid=composer-input]",
        r#"/call restart_service {"service": "labelprintd", "system": "pkg-line3"}"#,
    )
    .await;
    app.click("[data-testid=send-button]").await;
    app.until(
        "the restart waiting for approval",
        "document.querySelector('[data-testid=timeline-intent][data-tool=restart_service][data-outcome=require_approval]')",
    )
    .await;
    app.until(
        "the approvals badge",
        "document.querySelector('[data-testid=approvals-badge]')?.textContent.trim() === '1'",
    )
    .await;
    app.shot("write-waits-for-approval").await;

    // The admin window: an admin signs in; a maintenance lead approves the restart there.
    app.click("[data-testid=open-admin]").await;
    let started = Instant::now();
    let admin_window = loop {
        let windows = app.client.windows().await.unwrap();
        if let Some(window) = windows.into_iter().find(|w| *w != main_window) {
            break window;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the admin window did not open"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    app.client.switch_to_window(admin_window).await.unwrap();
    app.type_into("[data-testid=admin-account]", "boss").await;
    app.type_into("[data-testid=admin-passphrase]", BOSS_PASS)
        .await;
    app.click("[data-testid=admin-sign-in]").await;
    app.find("[data-testid=admin-user]").await;
    app.click("[data-testid=tab-approvals]").await;
    app.find("[data-testid=approval-card]").await;
    app.click("[data-testid=approval-approve]").await;
    app.type_into("[data-testid=approval-account]", "lead")
        .await;
    app.type_into("[data-testid=approval-passphrase]", LEAD_PASS)
        .await;
    app.shot("admin-approves").await;
    app.click("[data-testid=approval-submit]").await;
    let result = app
        .until(
            "the approved call's result",
            "document.querySelector('[data-testid=approval-result]')?.textContent",
        )
        .await;
    assert!(
        result
            .as_str()
            .is_some_and(|text| text.to_lowercase().contains("executed")),
        "{result}"
    );
    app.shot("approved-and-run").await;

    // The audit viewer verifies the chain.
    app.click("[data-testid=tab-audit]").await;
    app.find("[data-testid=audit-row]").await;
    app.click("[data-testid=audit-verify]").await;
    let intact = app
        .until(
            "the chain verification",
            "document.querySelector('[data-testid=audit-verify-result]')?.getAttribute('data-intact')",
        )
        .await;
    assert_eq!(intact, json!("true"));
    app.shot("audit-verified").await;

    // A policy edit with a syntax error is refused with its line; the old policy stays.
    let before = std::fs::read_to_string(policy.join("plant.cedar")).unwrap();
    app.click("[data-testid=tab-policy]").await;
    app.click("[data-testid=policy-file][data-file='plant.cedar']")
        .await;
    app.find("[data-testid=policy-editor]").await;
    app.until(
        "the editor hook",
        "window.__airlockEditor && window.__airlockEditor.getText().length > 0",
    )
    .await;
    let broken_line = before.lines().count() + 2;
    app.client
        .execute(
            "window.__airlockEditor.setText(window.__airlockEditor.getText() + '\\npermit (principal, action, resource) when { context. };\\n');",
            vec![],
        )
        .await
        .unwrap();
    let problem = app
        .until(
            "the syntax error",
            "[...document.querySelectorAll('[data-testid=policy-problem]')].map((p) => p.textContent).join('\\n')",
        )
        .await;
    assert!(
        problem
            .as_str()
            .is_some_and(|text| text.contains(&format!("plant.cedar:{broken_line}"))),
        "the problem names plant.cedar:{broken_line}: {problem}"
    );
    assert!(!app
        .find("[data-testid=policy-save]")
        .await
        .is_enabled()
        .await
        .unwrap());
    app.shot("policy-syntax-error-refused").await;
    assert_eq!(
        std::fs::read_to_string(policy.join("plant.cedar")).unwrap(),
        before
    );

    // The other tabs read the engine through the admin window's own commands.
    app.click("[data-testid=tab-documents]").await;
    let documents = app
        .until(
            "the document list",
            "document.querySelectorAll('[data-testid=document-row]').length",
        )
        .await;
    assert_eq!(documents, json!(6), "the six corpus documents are listed");
    app.shot("admin-documents").await;
    app.click("[data-testid=tab-models]").await;
    app.find("[data-testid=models-pinned]").await;
    app.until(
        "the model's checksum",
        "document.querySelector('[data-testid=model-checksum][data-state=valid]')",
    )
    .await;
    app.shot("admin-models").await;
    app.click("[data-testid=tab-users]").await;
    let accounts = app
        .until(
            "the accounts",
            "[...document.querySelectorAll('[data-testid=account-row]')].map((row) => row.dataset.account).sort().join(',')",
        )
        .await;
    assert_eq!(accounts, json!("boss,lead,root"));
    app.click("[data-testid=tab-credentials]").await;
    app.find("[data-testid=connections-empty]").await;

    // Offline updates: a checkout has no installed update key, so nothing verifies, and the
    // tab says why (the install test applies a signed bundle to an installed package).
    app.click("[data-testid=tab-updates]").await;
    app.type_into(
        "[data-testid=update-path]",
        "/media/usb/airlock-9.9.9-linux-deb-amd64.airlock-update",
    )
    .await;
    app.click("[data-testid=update-verify]").await;
    let refused = app
        .until(
            "the update's refusal",
            "document.querySelector('[data-testid=update-refused]')?.innerText",
        )
        .await;
    assert!(
        refused
            .as_str()
            .is_some_and(|text| text.contains("no update key")),
        "{refused}"
    );
    assert!(app
        .client
        .find(Locator::Css("[data-testid=update-install]"))
        .await
        .is_err());
    app.shot("admin-updates").await;

    app.client.close().await.unwrap();
}
