//! `airlock sandbox doctor`: is the engine reachable, which version, is the image there, and
//! does a command run in the sandbox? `airlock sandbox export-image`: the image as a tar, for
//! the installers.

use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use airlock_policy::token::{generate_signing_key, TokenIssuer, TokenVerifier};
use airlock_sandbox::image::ImageRecipe;
use airlock_sandbox::{Ending, Job, Sandbox, RUN_COMMAND};
use serde_json::{json, Map, Value};

use crate::paths::Paths;

/// The self-test: a fixed read of the fixtures, never user input.
const SELF_TEST: &str = "cat /sim/README.txt";

pub fn export_image(paths: &Paths, out: &std::path::Path) -> anyhow::Result<ExitCode> {
    let config = paths.agent_config()?.sandbox;
    let image = ImageRecipe::from_busybox(&config.busybox)?.image()?;
    image.write_to(out)?;
    println!(
        "wrote {} ({} bytes) to {}",
        image.reference(),
        image.tar().len(),
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

pub fn doctor(paths: &Paths, as_json: bool) -> anyhow::Result<ExitCode> {
    let config = paths.agent_config()?.sandbox;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let sandbox = match runtime.block_on(Sandbox::connect(config)) {
        Ok(sandbox) => sandbox,
        Err(err) => {
            if as_json {
                println!("{}", json!({"ok": false, "error": err.to_string()}));
            } else {
                println!("✗ engine: {err}");
            }
            return Ok(ExitCode::FAILURE);
        }
    };
    let report = runtime.block_on(sandbox.run(self_test_job()?, |_| {}));
    let engine = sandbox.engine();
    let ok = matches!(&report, Ok(r) if r.ending == Ending::Exited && r.exit_code == Some(0));
    if as_json {
        let self_test = match &report {
            Ok(report) => json!(report),
            Err(err) => json!({"error": err.to_string()}),
        };
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "ok": ok, "engine": engine, "image": sandbox.image(), "self_test": self_test,
            }))?
        );
    } else {
        println!(
            "✓ engine: Docker {} (API {}) at {}",
            engine.version, engine.api_version, engine.endpoint
        );
        println!("  runtimes: {}", engine.runtimes.join(", "));
        println!(
            "✓ image: {} ({})",
            sandbox.image(),
            if sandbox.config().image_tar.is_some() {
                "shipped with Airlock"
            } else {
                "built locally from busybox-static"
            }
        );
        match &report {
            Ok(report) if ok => println!(
                "✓ self-test: `{SELF_TEST}` ran in {:.0} ms, {} bytes of output",
                report.duration_ms,
                report.stdout.len()
            ),
            Ok(report) => println!(
                "✗ self-test: `{SELF_TEST}` ended {:?} with exit code {:?}: {}",
                report.ending,
                report.exit_code,
                report.stderr.trim()
            ),
            Err(err) => println!("✗ self-test: {err}"),
        }
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The self-test under a grant from a throwaway key: the sandbox only runs verified jobs.
fn self_test_job() -> anyhow::Result<Job> {
    let args: Map<String, Value> = [("command".to_owned(), json!(SELF_TEST))]
        .into_iter()
        .collect();
    let key = generate_signing_key();
    let verifier = TokenVerifier::new(key.verifying_key());
    let issuer = TokenIssuer::new(key, Duration::from_secs(60));
    let now = SystemTime::now();
    let token = issuer.issue(RUN_COMMAND, &args, "sandbox-doctor", "self-test", now);
    let grant = verifier.verify(Some(&token), RUN_COMMAND, &args, "sandbox-doctor", now)?;
    Ok(Job::run_command(grant, &args)?)
}
