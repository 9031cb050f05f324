//! The engine dies in the middle of a run: the run ends with a clear error instead of hanging.
//! The "engine" here is a socket proxy in front of the real one, killed mid-run, so the rest of
//! the suite keeps its daemon.

mod support;

use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use airlock_sandbox::{Limits, Sandbox, SandboxConfig, SandboxError};
use support::{discard, job, sim_dir};
use tokio::net::{UnixListener, UnixStream};
use tokio::task::JoinHandle;

const REAL_SOCKET: &str = "/var/run/docker.sock";

/// Forwards every connection on `path` to the real engine until killed.
struct Proxy {
    tasks: Arc<Mutex<Vec<JoinHandle<()>>>>,
    accept: JoinHandle<()>,
}

impl Proxy {
    fn start(path: &Path) -> Self {
        let listener = UnixListener::bind(path).unwrap();
        let tasks: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let accept = tokio::spawn({
            let tasks = tasks.clone();
            async move {
                while let Ok((mut client, _)) = listener.accept().await {
                    let task = tokio::spawn(async move {
                        if let Ok(mut engine) = UnixStream::connect(REAL_SOCKET).await {
                            let _ = tokio::io::copy_bidirectional(&mut client, &mut engine).await;
                        }
                    });
                    tasks.lock().unwrap().push(task);
                }
            }
        });
        Self { tasks, accept }
    }

    /// The daemon "dies": no more connections, and every open one is cut.
    fn kill(self) {
        self.accept.abort();
        for task in self.tasks.lock().unwrap().drain(..) {
            task.abort();
        }
    }
}

/// Our containers with `label`, by the docker CLI against the real engine.
fn containers(label: &str) -> Vec<String> {
    let out = Command::new("docker")
        .args([
            "ps",
            "-aq",
            "--filter",
            &format!("label=airlock.test={label}"),
        ])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn the_engine_dying_mid_run_is_an_error_not_a_hang() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("docker.sock");
    let proxy = Proxy::start(&socket);
    let label = format!("daemon-dies-{}", std::process::id());
    let mut config = SandboxConfig::new(sim_dir());
    config.endpoint = Some(format!("unix://{}", socket.display()));
    config.engine_timeout = Duration::from_secs(5);
    config.limits = Limits {
        timeout: Duration::from_secs(60),
        ..Limits::default()
    };
    config
        .labels
        .insert("airlock.test".to_owned(), label.clone());
    let sandbox = Sandbox::connect(config)
        .await
        .expect("the proxy reaches the engine");

    let running = tokio::spawn(async move {
        let started = Instant::now();
        let result = sandbox.run(job("sleep 50"), discard).await;
        (result, started.elapsed())
    });
    let deadline = Instant::now() + Duration::from_secs(20);
    while containers(&label).is_empty() {
        assert!(Instant::now() < deadline, "the container never appeared");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    proxy.kill();

    let (result, elapsed) = tokio::time::timeout(Duration::from_secs(30), running)
        .await
        .expect("the run hung after the engine died")
        .unwrap();
    let err = result.expect_err("a run cannot succeed without its engine");
    assert!(
        matches!(
            err,
            SandboxError::Engine { .. } | SandboxError::EngineTimeout { .. }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("docker info"), "{err}");
    assert!(elapsed < Duration::from_secs(40), "{elapsed:?}");

    for id in containers(&label) {
        Command::new("docker")
            .args(["rm", "-f", &id])
            .output()
            .unwrap();
    }
    assert!(containers(&label).is_empty());
}
