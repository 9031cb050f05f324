//! What the sandbox tests share: the fixtures' path and jobs under a real verified grant.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use airlock_policy::token::{generate_signing_key, TokenIssuer, TokenVerifier};
use airlock_sandbox::{Chunk, Job, RUN_COMMAND};
use serde_json::{json, Map, Value};

/// The directory mounted at /sim.
pub fn sim_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../fixtures/sim")
}

/// Drops streamed output (the report keeps it).
pub fn discard(_: Chunk<'_>) {}

/// The `run_command` job for `command`, under a token issued and verified as the executor's
/// would be (with a throwaway key).
pub fn job(command: &str) -> Job {
    let args: Map<String, Value> = json!({ "command": command }).as_object().unwrap().clone();
    let key = generate_signing_key();
    let verifier = TokenVerifier::new(key.verifying_key());
    let issuer = TokenIssuer::new(key, Duration::from_secs(60));
    let now = SystemTime::now();
    let token = issuer.issue(RUN_COMMAND, &args, "olivia", "decision-test", now);
    let grant = verifier
        .verify(Some(&token), RUN_COMMAND, &args, "olivia", now)
        .unwrap();
    Job::run_command(grant, &args).unwrap()
}
