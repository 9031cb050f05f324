//! The sandbox against the real Docker engine (`make test` starts one). Each test labels its
//! containers with its own id and checks that none is left when it ends. The commands here are
//! hostile on purpose: the governor's command guard would refuse most of them, and these tests
//! show what the sandbox contains when something gets past it anyway.

mod support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use airlock_policy::token::{generate_signing_key, TokenIssuer, TokenVerifier};
use airlock_sandbox::{
    Chunk, Ending, Job, Limits, RunReport, Sandbox, SandboxConfig, SandboxError, Stream,
    TRUNCATED_MARKER,
};
use serde_json::{json, Map, Value};
use support::{discard, job, sim_dir};

/// A sandbox whose containers carry a label unique to this test.
async fn sandbox(test: &str, limits: Limits) -> Sandbox {
    let mut config = SandboxConfig::new(sim_dir());
    config.limits = limits;
    config
        .labels
        .insert("airlock.test".to_owned(), test_label(test));
    Sandbox::connect(config).await.unwrap_or_else(|err| {
        panic!("the sandbox needs the Docker engine `make test` starts: {err}")
    })
}

fn test_label(test: &str) -> String {
    format!("{test}-{}", std::process::id())
}

/// How many containers of `test` exist, polled until zero or 15 s passed.
async fn remaining(sandbox: &Sandbox, test: &str) -> usize {
    let labels = HashMap::from([("airlock.test".to_owned(), test_label(test))]);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let left = sandbox.containers(&labels).await.unwrap().len();
        if left == 0 || Instant::now() > deadline {
            return left;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn run(sandbox: &Sandbox, command: &str) -> RunReport {
    sandbox
        .run(job(command), discard)
        .await
        .unwrap_or_else(|err| panic!("{command}: {err}"))
}

fn quick() -> Limits {
    Limits {
        timeout: Duration::from_secs(15),
        ..Limits::default()
    }
}

#[tokio::test]
async fn a_permitted_command_returns_the_fixture_and_streams_it() {
    let sandbox = sandbox("fixture", quick()).await;
    let mut streamed = Vec::new();
    let report = sandbox
        .run(job("cat /sim/logs/syslog.log"), |chunk: Chunk<'_>| {
            assert_eq!(chunk.stream, Stream::Stdout);
            streamed.extend_from_slice(chunk.bytes);
        })
        .await
        .unwrap();
    let expected = std::fs::read_to_string(sim_dir().join("logs/syslog.log")).unwrap();
    assert_eq!(report.ending, Ending::Exited);
    assert_eq!(report.exit_code, Some(0));
    assert_eq!(report.stdout, expected);
    assert_eq!(String::from_utf8(streamed).unwrap(), expected);
    assert!(!report.truncated);
    assert_eq!(report.decision_id, "decision-test");
    assert_eq!(remaining(&sandbox, "fixture").await, 0);
}

#[tokio::test]
async fn writing_anywhere_fails_and_tmp_is_not_executable() {
    let sandbox = sandbox("readonly", quick()).await;
    for target in [
        "/sim/new.txt",
        "/sim/logs/syslog.log",
        "/etc/passwd",
        "/bin/x",
        "/x",
    ] {
        let report = run(&sandbox, &format!("sh -c 'echo pwned > {target}'")).await;
        assert_ne!(report.exit_code, Some(0), "{target} was writable");
        assert!(
            report.stderr.contains("Read-only file system")
                || report.stderr.contains("Permission denied"),
            "{target}: {}",
            report.stderr
        );
    }
    let report = run(
        &sandbox,
        "sh -c 'cp /bin/busybox /tmp/bb && chmod +x /tmp/bb && /tmp/bb true'",
    )
    .await;
    assert_ne!(report.exit_code, Some(0));
    assert!(
        report.stderr.contains("Permission denied"),
        "{}",
        report.stderr
    );
    assert!(!sim_dir().join("new.txt").exists());
    assert_eq!(remaining(&sandbox, "readonly").await, 0);
}

#[tokio::test]
async fn there_is_no_network_but_loopback() {
    let listener = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let sandbox = sandbox("network", quick()).await;

    let report = run(&sandbox, "cat /proc/net/dev").await;
    let interfaces: Vec<&str> = report
        .stdout
        .lines()
        .skip(2)
        .filter_map(|line| line.split(':').next())
        .map(str::trim)
        .collect();
    assert_eq!(interfaces, ["lo"], "{}", report.stdout);

    for host in ["127.0.0.1", "172.17.0.1", "10.0.0.1", "1.1.1.1"] {
        let report = run(
            &sandbox,
            &format!("sh -c 'echo hi | nc -w 2 {host} {port} && echo CONNECTED'"),
        )
        .await;
        assert!(
            !report.stdout.contains("CONNECTED"),
            "reached {host}:{port}: {report:?}"
        );
    }
    let report = run(&sandbox, "wget -T 2 -q -O - http://1.1.1.1/").await;
    assert_ne!(report.exit_code, Some(0));
    assert_eq!(remaining(&sandbox, "network").await, 0);
}

#[tokio::test]
async fn no_capabilities_and_no_way_to_root() {
    let sandbox = sandbox("privileges", quick()).await;
    let status = run(&sandbox, "cat /proc/self/status").await.stdout;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .map(str::trim)
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(field("CapEff:"), "0000000000000000");
    assert_eq!(field("CapPrm:"), "0000000000000000");
    assert_eq!(field("CapBnd:"), "0000000000000000");
    assert_eq!(field("NoNewPrivs:"), "1");
    assert_eq!(
        field("Seccomp:"),
        "2",
        "the default seccomp profile is in force"
    );

    assert_eq!(run(&sandbox, "id -u").await.stdout.trim(), "1001");
    for attempt in ["su -c id root", "chown 0 /tmp", "chroot / id"] {
        let report = run(&sandbox, attempt).await;
        assert_ne!(report.exit_code, Some(0), "{attempt}: {report:?}");
        assert!(!report.stdout.contains("uid=0"), "{attempt}: {report:?}");
    }
    assert_eq!(remaining(&sandbox, "privileges").await, 0);
}

#[tokio::test]
async fn a_fork_bomb_hits_the_pids_limit_and_the_host_stays_responsive() {
    let limits = Limits {
        timeout: Duration::from_secs(6),
        ..Limits::default()
    };
    let sandbox = sandbox("forkbomb", limits).await;
    let bomb = tokio::spawn({
        let job = job("sh -c 'bomb() { bomb | bomb & }; bomb; sleep 30'");
        async move {
            let sandbox = sandbox;
            let report = sandbox.run(job, discard).await;
            (sandbox, report)
        }
    });
    tokio::time::sleep(Duration::from_secs(2)).await;
    let started = Instant::now();
    let host = tokio::process::Command::new("sh")
        .args(["-c", "echo host alive"])
        .output()
        .await
        .unwrap();
    let host_latency = started.elapsed();
    assert_eq!(String::from_utf8_lossy(&host.stdout), "host alive\n");
    assert!(
        host_latency < Duration::from_secs(5),
        "the host took {host_latency:?} to start a process during the bomb"
    );
    let (sandbox, report) = bomb.await.unwrap();
    let report = report.unwrap();
    assert!(
        report.stderr.contains("can't fork")
            || report.stderr.contains("Resource temporarily unavailable"),
        "the pids limit never bit: {report:?}"
    );
    // The bomb ends at the timeout, or before it when the shell itself can no longer fork
    // `sleep` and exits 2 (which ends the container and every bomb process in it): both are
    // the pids limit at work. Which comes first depends on scheduling.
    match &report.ending {
        Ending::TimedOut => {}
        Ending::Exited => assert_eq!(report.exit_code, Some(2), "{report:?}"),
        other => panic!("the bomb ended in an unexpected way ({other:?}): {report:?}"),
    }
    assert_eq!(remaining(&sandbox, "forkbomb").await, 0);
}

#[tokio::test]
async fn a_memory_bomb_is_killed_by_the_memory_limit() {
    let limits = Limits {
        memory_bytes: 64 * 1024 * 1024,
        timeout: Duration::from_secs(20),
        ..Limits::default()
    };
    let sandbox = sandbox("membomb", limits).await;
    let report = run(&sandbox, "awk 'BEGIN { s = \"x\"; while (1) s = s s }'").await;
    assert_eq!(report.ending, Ending::OutOfMemory, "{report:?}");
    assert_ne!(report.exit_code, Some(0));
    assert_eq!(remaining(&sandbox, "membomb").await, 0);
}

#[tokio::test]
async fn an_endless_loop_is_killed_at_the_timeout_and_the_container_is_gone() {
    let limits = Limits {
        timeout: Duration::from_secs(2),
        ..Limits::default()
    };
    let sandbox = sandbox("timeout", limits).await;
    let started = Instant::now();
    let report = run(&sandbox, "sh -c 'while :; do :; done'").await;
    assert_eq!(report.ending, Ending::TimedOut);
    assert_eq!(report.exit_code, None);
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(remaining(&sandbox, "timeout").await, 0);
}

#[tokio::test]
async fn a_100_mb_output_is_capped_and_marked() {
    let limits = Limits {
        max_output_bytes: 64 * 1024,
        timeout: Duration::from_secs(30),
        ..Limits::default()
    };
    let sandbox = sandbox("bigoutput", limits).await;
    let mut streamed = 0;
    let report = sandbox
        .run(job("head -c 100000000 /dev/zero"), |chunk: Chunk<'_>| {
            streamed += chunk.bytes.len();
        })
        .await
        .unwrap();
    assert_eq!(report.ending, Ending::OutputCapped);
    assert!(report.truncated);
    assert_eq!(streamed, 64 * 1024);
    assert!(report.stdout.ends_with(TRUNCATED_MARKER));
    assert_eq!(report.stdout.len(), 64 * 1024 + TRUNCATED_MARKER.len());

    let report = run(&sandbox, "seq 1 100000").await;
    assert!(report.truncated, "the line cap applies too");
    assert_eq!(
        report.stdout.lines().filter(|l| !l.is_empty()).count(),
        Limits::default().max_output_lines + 1
    );
    assert_eq!(remaining(&sandbox, "bigoutput").await, 0);
}

#[tokio::test]
async fn a_cancelled_run_leaves_no_container() {
    let sandbox = std::sync::Arc::new(sandbox("cancelled", quick()).await);
    let running = tokio::spawn({
        let sandbox = sandbox.clone();
        async move { sandbox.run(job("sleep 30"), discard).await }
    });
    let labels = HashMap::from([("airlock.test".to_owned(), test_label("cancelled"))]);
    let deadline = Instant::now() + Duration::from_secs(15);
    while sandbox.containers(&labels).await.unwrap().is_empty() {
        assert!(Instant::now() < deadline, "the container never appeared");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    running.abort();
    assert!(running.await.unwrap_err().is_cancelled());
    assert_eq!(remaining(&sandbox, "cancelled").await, 0);
}

#[tokio::test]
async fn a_panicking_output_consumer_leaves_no_container() {
    let sandbox = std::sync::Arc::new(sandbox("panicked", quick()).await);
    let running = tokio::spawn({
        let sandbox = sandbox.clone();
        async move {
            sandbox
                .run(job("cat /sim/README.txt"), |_: Chunk<'_>| {
                    panic!("the consumer broke")
                })
                .await
        }
    });
    assert!(running.await.unwrap_err().is_panic());
    assert_eq!(remaining(&sandbox, "panicked").await, 0);
}

#[tokio::test]
async fn runs_beyond_the_concurrency_limit_wait_their_turn() {
    let mut config = SandboxConfig::new(sim_dir());
    config.max_concurrent = 1;
    config
        .labels
        .insert("airlock.test".to_owned(), test_label("queue"));
    let sandbox = std::sync::Arc::new(Sandbox::connect(config).await.unwrap());
    let started = Instant::now();
    let runs: Vec<_> = (0..2)
        .map(|_| {
            let sandbox = sandbox.clone();
            tokio::spawn(async move { sandbox.run(job("sleep 1"), discard).await })
        })
        .collect();
    for run in runs {
        assert_eq!(run.await.unwrap().unwrap().exit_code, Some(0));
    }
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "two one-second runs overlapped with max_concurrent = 1: {:?}",
        started.elapsed()
    );
    assert_eq!(remaining(&sandbox, "queue").await, 0);
}

#[tokio::test]
async fn a_wrong_socket_is_a_clear_error_not_a_hang() {
    let mut config = SandboxConfig::new(sim_dir());
    config.endpoint = Some("unix:///nonexistent/docker.sock".to_owned());
    let started = Instant::now();
    let err = Sandbox::connect(config)
        .await
        .err()
        .expect("no engine there");
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(
        matches!(err, SandboxError::EngineUnreachable { .. }),
        "{err}"
    );
    let message = err.to_string();
    assert!(
        message.contains("not reachable at unix:///nonexistent/docker.sock"),
        "{message}"
    );
    assert!(message.contains("ensure_dockerd.sh"), "{message}");
}

#[tokio::test]
async fn an_unknown_runtime_is_refused_with_the_fix() {
    let mut config = SandboxConfig::new(sim_dir());
    config.runtime = Some("no-such-runtime".to_owned());
    let err = Sandbox::connect(config)
        .await
        .err()
        .expect("unknown runtime");
    let message = err.to_string();
    assert!(
        message.contains("no runtime `no-such-runtime`") && message.contains("runc"),
        "{message}"
    );
}

#[tokio::test]
async fn a_grant_for_other_arguments_is_refused() {
    let args: Map<String, Value> = json!({"command": "cat /sim/README.txt"})
        .as_object()
        .unwrap()
        .clone();
    let key = generate_signing_key();
    let verifier = TokenVerifier::new(key.verifying_key());
    let issuer = TokenIssuer::new(key, Duration::from_secs(60));
    let now = std::time::SystemTime::now();
    let token = issuer.issue("run_command", &args, "olivia", "d", now);
    let grant = verifier
        .verify(Some(&token), "run_command", &args, "olivia", now)
        .unwrap();
    let other: Map<String, Value> = json!({"command": "cat /sim/etc/airlock-sim.conf"})
        .as_object()
        .unwrap()
        .clone();
    let err = Job::run_command(grant, &other).unwrap_err();
    assert!(matches!(err, SandboxError::NotAuthorized(_)), "{err}");
}
