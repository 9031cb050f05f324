//! The desktop app end to end: the real `airlock-desktop` window (WebKitGTK) under Xvfb, driven
//! through `tauri-driver` and WebKitWebDriver, on the real default model, governor, SQLite file
//! and Docker engine. One app run walks the operator's and the admin's paths; a screenshot of
//! every step is saved under the target directory (the path is printed).

mod support;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use support::{add_approver_accounts, default_model, repo, run_with_stdin, BOSS_PASS, LEAD_PASS};

/// True once every request on screen has finished.
const IDLE: &str = "[...document.querySelectorAll('[data-testid=request]')]
    .every((request) => request.getAttribute('aria-busy') === 'false')";

/// How long a step may take: the first request loads the model and the sandbox image.
const STEP: Duration = Duration::from_secs(240);

/// A process started in a process group of its own, killed with everything it started (the
/// WebDriver, the app, its model worker) when the test ends, however it ends.
struct Reaped(Child);

impl Reaped {
    fn spawn(command: &mut Command) -> Self {
        use std::os::unix::process::CommandExt as _;
        Self(
            command
                .process_group(0)
                .spawn()
                .unwrap_or_else(|err| panic!("{:?} does not start: {err}", command.get_program())),
        )
    }
}

impl Drop for Reaped {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.0.id())])
            .status();
        let _ = self.0.wait();
    }
}

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

/// A private X display for the window.
fn start_xvfb() -> (Reaped, String) {
    let number = 90 + std::process::id() % 800;
    let display = format!(":{number}");
    let child = Reaped::spawn(
        Command::new("Xvfb")
            .args([&display, "-screen", "0", "1440x900x24", "-nolisten", "tcp"])
            .stdout(Stdio::null())
            .stderr(Stdio::null()),
    );
    let socket = PathBuf::from(format!("/tmp/.X11-unix/X{number}"));
    let started = Instant::now();
    while !socket.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "Xvfb did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    (child, display)
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_asks_requests_a_write_an_admin_approves_it_and_edits_policy_safely() {
    let dir = tempfile::tempdir().unwrap();
    let policy = prepare(dir.path());
    let (_xvfb, display) = start_xvfb();
    let (port, native_port) = (free_port(), free_port());
    let desktop = support::airlock_bin().with_file_name("airlock-desktop");
    assert!(desktop.is_file(), "{} is not built", desktop.display());
    let _driver = Reaped::spawn(
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
            .env("AIRLOCK_DATA_DIR", dir.path().join("data"))
            .env("AIRLOCK_POLICY_DIR", &policy)
            .env("AIRLOCK_FIXTURES_DIR", repo().join("fixtures"))
            .env("AIRLOCK_MODELS_DIR", repo().join("models"))
            .env("AIRLOCK_MODEL", default_model())
            .env("XDG_DOWNLOAD_DIR", dir.path().join("downloads"))
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
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("desktop-e2e");
    std::fs::create_dir_all(&shots).unwrap();
    let mut app = Session {
        client,
        display: display.clone(),
        shots,
        step: 0,
    };
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

    app.client.close().await.unwrap();
}
