//! What the admin window manages besides the policy, on a real agent (real SQLite file, real
//! model worker, real embedder, real keychain): models with their checksums and switching,
//! the document library, connections whose secret never comes back, and the roles accounts
//! may hold. Each change needs an admin and lands in the audit log.

mod support;

use std::path::{Path, PathBuf};

use airlock_agent::{
    AddOptions, Agent, AgentConfig, Approver, AuditFilter, ChecksumStatus, IngestProgress,
    ModelLoadProgress, NewConnection,
};
use airlock_core::Classification;
use support::{airlock_bin, default_model, repo};

/// The default model's published SHA-256 (models/manifest.toml).
fn published_sha256() -> String {
    let manifest: toml::Value =
        toml::from_str(&std::fs::read_to_string(repo().join("models/manifest.toml")).unwrap())
            .unwrap();
    manifest["model"]
        .as_array()
        .unwrap()
        .iter()
        .find(|model| model["target"].as_str() == Some("SmolLM2-135M-Instruct.Q4_1.gguf"))
        .and_then(|model| model["sha256"].as_str())
        .unwrap()
        .to_owned()
}

/// A models directory with the real default model as `good` and, preferred over it, a
/// damaged copy as `damaged` (same published hash, other bytes), plus the embedder.
fn models_dir(root: &Path) -> PathBuf {
    let dir = root.join("models");
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("good.gguf");
    if std::fs::hard_link(default_model(), &good).is_err() {
        std::fs::copy(default_model(), &good).unwrap();
    }
    let mut damaged = std::fs::read(default_model()).unwrap();
    let last = damaged.len() - 1;
    damaged[last] ^= 0xff;
    std::fs::write(dir.join("damaged.gguf"), damaged).unwrap();
    let sha = published_sha256();
    let embedder = repo().join("models/all-minilm-l6-v2");
    std::fs::write(
        dir.join("manifest.toml"),
        format!(
            "[[model]]\nname = \"damaged\"\nkind = \"generator\"\npreference = 1\ntarget = \"damaged.gguf\"\nsha256 = \"{sha}\"\n\n\
             [[model]]\nname = \"good\"\nkind = \"generator\"\npreference = 2\ntarget = \"good.gguf\"\nsha256 = \"{sha}\"\n\n\
             [[model]]\nname = \"all-minilm-l6-v2\"\nkind = \"embedder\"\ntarget = \"{}\"\n",
            embedder.display()
        ),
    )
    .unwrap();
    dir
}

fn open_agent(root: &Path, models: &Path) -> Agent {
    let mut config = AgentConfig::with_current_exe(
        root.join("data"),
        models.to_owned(),
        repo().join("fixtures"),
    )
    .unwrap();
    config.worker_program = airlock_bin();
    config.policy_dir = repo().join("policy");
    config.principal = "root".to_owned();
    config.vault_service = format!("airlock-test-admin-{}", std::process::id());
    Agent::open(config).unwrap()
}

fn admin() -> Approver {
    Approver {
        name: "ada".to_owned(),
        roles: vec!["admin".to_owned()],
    }
}

fn lead() -> Approver {
    Approver {
        name: "lee".to_owned(),
        roles: vec!["maintenance-leads".to_owned()],
    }
}

fn audit_kinds(agent: &Agent) -> Vec<String> {
    agent
        .audit_events(&AuditFilter::default())
        .unwrap()
        .into_iter()
        .map(|entry| entry.kind)
        .collect()
}

#[test]
fn a_damaged_model_is_refused_and_a_switch_loads_checks_persists_and_is_audited() {
    let root = tempfile::tempdir().unwrap();
    let models = models_dir(root.path());
    let agent = open_agent(root.path(), &models);

    let view = agent.models();
    let names: Vec<&str> = view.models.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, ["damaged", "good"]);
    assert!(view.models[0].active, "the preferred model is active first");
    assert!(view
        .models
        .iter()
        .all(|m| m.checksum == ChecksumStatus::Unchecked));
    assert!(view.pinned_reason.is_none());

    assert!(matches!(
        agent.verify_model("good").unwrap(),
        ChecksumStatus::Valid { .. }
    ));
    match agent.verify_model("damaged").unwrap() {
        ChecksumStatus::Mismatch { expected, actual } => {
            assert_eq!(expected, published_sha256());
            assert_ne!(actual, expected);
        }
        other => panic!("a damaged file verified as {other:?}"),
    }
    assert!(matches!(
        agent.models().models[0].checksum,
        ChecksumStatus::Mismatch { .. }
    ));

    let err = agent
        .switch_model("damaged", &admin(), &mut |_| {})
        .unwrap_err();
    assert!(err.to_string().contains("damaged or replaced"), "{err}");
    let err = agent
        .switch_model("good", &lead(), &mut |_| {})
        .unwrap_err();
    assert!(err.to_string().contains("not an admin"), "{err}");
    let err = agent
        .switch_model("no-such-model", &admin(), &mut |_| {})
        .unwrap_err();
    assert!(
        err.to_string().contains("no model `no-such-model`"),
        "{err}"
    );

    let mut stages = Vec::new();
    let loaded = agent
        .switch_model("good", &admin(), &mut |stage| {
            stages.push(match stage {
                ModelLoadProgress::Verifying { .. } => "verifying",
                ModelLoadProgress::Loading { .. } => "loading",
                ModelLoadProgress::Loaded { .. } => "loaded",
            });
        })
        .unwrap();
    assert_eq!(stages, ["verifying", "loading", "loaded"]);
    assert_eq!(loaded.name, "good");
    assert!(loaded.n_ctx > 0 && loaded.load_ms > 0.0, "{loaded:?}");
    assert_eq!(agent.models().loaded.unwrap().name, "good");
    let changes: Vec<_> = agent
        .audit_events(&AuditFilter::default())
        .unwrap()
        .into_iter()
        .filter(|entry| entry.kind == "model_changed")
        .collect();
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].payload["by"], "ada");
    assert_eq!(changes[0].payload["model"], "good");
    agent.shutdown();
    drop(agent);

    let reopened = open_agent(root.path(), &models);
    let active: Vec<String> = reopened
        .models()
        .models
        .into_iter()
        .filter(|m| m.active)
        .map(|m| m.name)
        .collect();
    assert_eq!(active, ["good"], "the admin's choice survives a restart");
}

#[test]
fn documents_are_ingested_with_progress_listed_reindexed_and_removed_by_admins_only() {
    let root = tempfile::tempdir().unwrap();
    let agent = open_agent(root.path(), &repo().join("models"));
    let manual = repo().join("fixtures/docs/p101-pump-manual.md");
    let handover = repo().join("fixtures/docs/shift-handover-2026-11-20.txt");
    let options = AddOptions {
        classification: Some(Classification::Confidential),
        audience: Some("maintenance".to_owned()),
        ..AddOptions::default()
    };

    let err = agent
        .ingest_documents(
            std::slice::from_ref(&manual),
            &options,
            &lead(),
            &mut |_| {},
        )
        .unwrap_err();
    assert!(err.to_string().contains("not an admin"), "{err}");
    let err = agent
        .ingest_documents(
            &[PathBuf::from("docs/x.md")],
            &options,
            &admin(),
            &mut |_| {},
        )
        .unwrap_err();
    assert!(err.to_string().contains("not a full path"), "{err}");

    let mut files_started = 0;
    let mut chunks_seen = 0;
    let mut finished = Vec::new();
    let report = agent
        .ingest_documents(
            &[manual.clone(), handover, repo().join("fixtures/docs/bad")],
            &options,
            &admin(),
            &mut |step| match step {
                IngestProgress::File { .. } => files_started += 1,
                IngestProgress::Chunks { done, total, .. } => {
                    assert!(done <= total);
                    chunks_seen += 1;
                }
                IngestProgress::Finished { ok, .. } => finished.push(ok),
            },
        )
        .unwrap();
    assert!(
        report.len() >= 3,
        "the bad files get results too: {report:?}"
    );
    assert_eq!(files_started, report.len());
    assert_eq!(finished.len(), report.len());
    assert!(chunks_seen > 0);
    assert!(report[..2].iter().all(|file| file.ok), "{report:?}");
    assert!(
        report.iter().any(|file| !file.ok),
        "a bad fixture failed: {report:?}"
    );

    let documents = agent.library_documents(&admin()).unwrap();
    assert_eq!(documents.len(), 2, "{documents:?}");
    assert!(documents
        .iter()
        .all(|doc| doc.classification == Classification::Confidential
            && doc.audience == "maintenance"));
    assert!(agent.library_documents(&lead()).is_err());

    let reindexed = agent.reindex_documents(&admin(), &mut |_| {}).unwrap();
    assert_eq!(reindexed.len(), 2);
    assert!(reindexed.iter().all(|file| file.ok), "{reindexed:?}");

    let id = documents[0].id;
    assert!(agent.remove_document(id, &lead()).is_err());
    assert!(agent.remove_document(id, &admin()).unwrap());
    assert!(!agent.remove_document(id, &admin()).unwrap());
    assert_eq!(agent.library_documents(&admin()).unwrap().len(), 1);
    let changes = audit_kinds(&agent)
        .into_iter()
        .filter(|kind| kind == "documents_changed")
        .count();
    assert!(
        changes >= 6,
        "every file added, reindexed and removed is recorded: {changes}"
    );
}

#[test]
fn a_connection_secret_goes_to_the_keychain_and_never_comes_back() {
    const SECRET: &str = "Adm1n-Window-Secret-9931";
    let root = tempfile::tempdir().unwrap();
    let agent = open_agent(root.path(), &repo().join("models"));
    let new = NewConnection {
        name: "mes-admin-test".to_owned(),
        kind: "mes".to_owned(),
        settings: [("dsn", "NO-SUCH-DSN"), ("user", "airlock")]
            .into_iter()
            .map(|(key, value)| (key.to_owned(), value.to_owned()))
            .collect(),
    };

    let err = agent.add_connection(&new, SECRET, &lead()).unwrap_err();
    assert!(err.to_string().contains("not an admin"), "{err}");
    assert!(agent.connections().unwrap().is_empty());

    let added = agent.add_connection(&new, SECRET, &admin()).unwrap();
    assert!(added.secret_stored, "{added:?}");
    let listed = agent.connections().unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].secret_stored, "{:?}", listed[0]);

    let tested = agent.test_connection("mes-admin-test").unwrap();
    assert!(!tested.ok, "no such DSN: {tested:?}");
    assert!(tested.detail.contains("mes-admin-test"), "{tested:?}");
    let unknown = agent.test_connection("nothing-here").unwrap();
    assert!(!unknown.ok && unknown.detail.contains("add it first"));

    assert!(agent.remove_connection("mes-admin-test", &admin()).unwrap());
    assert!(agent.connections().unwrap().is_empty());
    let gone = agent.test_connection("mes-admin-test").unwrap();
    assert!(!gone.ok);

    let seen = format!(
        "{}{}{}{:?}",
        serde_json::to_string(&added).unwrap(),
        serde_json::to_string(&listed).unwrap(),
        serde_json::to_string(&tested).unwrap(),
        agent.audit_events(&AuditFilter::default()).unwrap()
    );
    assert!(!seen.contains(SECRET), "the secret came back");
    let kinds = audit_kinds(&agent);
    assert_eq!(
        kinds
            .iter()
            .filter(|kind| *kind == "connections_changed")
            .count(),
        2
    );
    drop(agent);
    for file in std::fs::read_dir(root.path().join("data")).unwrap() {
        let path = file.unwrap().path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            assert!(
                !bytes
                    .windows(SECRET.len())
                    .any(|window| window == SECRET.as_bytes()),
                "the secret reached {}",
                path.display()
            );
        }
    }
}

#[test]
fn accounts_may_hold_the_policys_roles_and_approver_groups() {
    let root = tempfile::tempdir().unwrap();
    let agent = open_agent(root.path(), &repo().join("models"));
    let roles = agent.known_roles();
    for expected in [
        "admin",
        "operator",
        "viewer",
        "maintenance-leads",
        "plant-managers",
    ] {
        assert!(
            roles.iter().any(|role| role == expected),
            "{expected} missing: {roles:?}"
        );
    }
}

/// `airlock doctor --json`: its exit code and report.
fn doctor(cmd: &mut std::process::Command) -> (bool, serde_json::Value) {
    let output = cmd.args(["doctor", "--json"]).output().unwrap();
    let report = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|err| panic!("doctor printed no JSON ({err}): {output:?}"));
    (output.status.success(), report)
}

/// The status of the check named `name`, and its detail.
fn check<'a>(report: &'a serde_json::Value, name: &str) -> (&'a str, &'a str) {
    let check = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|check| check["name"] == name)
        .unwrap_or_else(|| panic!("no `{name}` check in {report:#}"));
    (
        check["status"].as_str().unwrap(),
        check["detail"].as_str().unwrap(),
    )
}

#[test]
fn doctor_checks_every_part_and_the_first_admin_ends_the_first_run_step() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("data");
    let (ok, report) = doctor(&mut support::airlock(&data));
    assert!(ok, "{report:#}");
    let names: Vec<_> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|check| check["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "generator model",
            "embedding model",
            "Docker engine",
            "sandbox image",
            "keychain",
            "policy",
            "audit log",
            "admin account"
        ]
    );
    for part in [
        "generator model",
        "embedding model",
        "Docker engine",
        "sandbox image",
    ] {
        assert_eq!(check(&report, part).0, "ok", "{report:#}");
    }
    assert!(check(&report, "generator model")
        .1
        .contains("checksum matches"));
    assert!(check(&report, "sandbox image")
        .1
        .starts_with("airlock-sandbox:"));
    assert_eq!(report["needs_admin"], true);
    assert_eq!(check(&report, "admin account").0, "warn");

    let added = support::run_with_stdin(
        support::airlock(&data).args(["users", "add", "boss", "--role", "admin"]),
        Some(&format!("{}\n", support::BOSS_PASS)),
    );
    assert!(added.status.success(), "{added:?}");
    let (ok, report) = doctor(&mut support::airlock(&data));
    assert!(ok, "{report:#}");
    assert_eq!(report["needs_admin"], false);
    assert_eq!(check(&report, "admin account"), ("ok", "boss"));
    let (status, audit) = check(&report, "audit log");
    assert_eq!(status, "ok");
    assert!(audit.contains("chain intact"), "{audit}");
}

#[test]
fn doctor_fails_on_a_damaged_model_and_says_how_to_restore_it() {
    let root = tempfile::tempdir().unwrap();
    let models = models_dir(root.path());
    let (ok, report) = doctor(
        std::process::Command::new(airlock_bin())
            .arg("--data-dir")
            .arg(root.path().join("data"))
            .arg("--models-dir")
            .arg(&models)
            .arg("--fixtures-dir")
            .arg(repo().join("fixtures"))
            .arg("--policy-dir")
            .arg(repo().join("policy"))
            .env("AIRLOCK_LOG", "warn"),
    );
    assert!(!ok, "a damaged model must fail the check-up: {report:#}");
    assert_eq!(report["ok"], false);
    let (status, detail) = check(&report, "generator model");
    assert_eq!(status, "fail");
    assert!(detail.contains("damaged or replaced"), "{detail}");
    assert!(detail.contains("reinstall Airlock"), "{detail}");
    // This manifest publishes no checksum for the embedder: stated, not hidden.
    assert_eq!(check(&report, "embedding model").0, "warn");
}

/// A tiny real package named `airlock` at `version`, signed into an update bundle with a
/// throwaway key by `installers/make-update`; returns the bundle and the key's directory.
fn signed_update_bundle(root: &Path, version: &str) -> (PathBuf, PathBuf) {
    let package = root.join("package");
    std::fs::create_dir_all(package.join("DEBIAN")).unwrap();
    std::fs::write(
        package.join("DEBIAN/control"),
        format!(
            "Package: airlock\nVersion: {version}\nArchitecture: amd64\n\
             Maintainer: Airlock tests <tests@localhost>\nDescription: update test package\n"
        ),
    )
    .unwrap();
    let deb = root.join(format!("airlock_{version}_amd64.deb"));
    let built = std::process::Command::new("dpkg-deb")
        .args(["--root-owner-group", "-Zgzip", "--build"])
        .arg(&package)
        .arg(&deb)
        .output()
        .expect("dpkg-deb runs");
    assert!(built.status.success(), "{built:?}");
    let keys = root.join("keys");
    let out = root.join("out");
    std::fs::create_dir_all(&out).unwrap();
    let made = std::process::Command::new("bash")
        .arg(repo().join("installers/make-update"))
        .arg(&deb)
        .arg(&out)
        .env("AIRLOCK_DEV_KEYS", &keys)
        .env_remove("AIRLOCK_SIGNING_KEY")
        .env_remove("AIRLOCK_GPG_PRIVATE_KEY")
        .output()
        .expect("bash runs");
    assert!(made.status.success(), "{made:?}");
    let key_dir = root.join("update-key");
    std::fs::create_dir_all(&key_dir).unwrap();
    std::fs::copy(
        keys.join("minisign.pub"),
        key_dir.join(airlock_update::KEY_FILE),
    )
    .unwrap();
    let bundle = std::fs::read_dir(&out)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .find(|path| path.to_string_lossy().ends_with(".airlock-update"))
        .expect("make-update wrote a bundle");
    (bundle, key_dir)
}

#[test]
fn an_update_bundle_verifies_against_the_installed_key_and_a_refused_install_is_audited() {
    let root = tempfile::tempdir().unwrap();
    let (bundle, key_dir) = signed_update_bundle(root.path(), "99.0.0");
    // Each nextest test is a process of its own: the variable reaches this test only.
    std::env::set_var(airlock_update::KEY_DIR_VAR, &key_dir);
    let agent = open_agent(root.path(), &repo().join("models"));
    let view = agent.verify_update(&bundle).unwrap();
    assert_eq!(view.manifest.version.to_string(), "99.0.0");
    assert_eq!(view.manifest.payload.name, "airlock_99.0.0_amd64.deb");
    assert_eq!(view.current_version, airlock_agent::CURRENT_VERSION);

    // A non-admin may not install, and nothing is attempted.
    let refused = agent.apply_update(&bundle, &lead()).unwrap_err();
    assert!(refused.to_string().contains("not an admin"), "{refused}");

    // One changed byte inside the package and the bundle no longer verifies; the admin's attempt is refused before dpkg and audited.
    let tampered = root.path().join("tampered.airlock-update");
    let offset = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys, tarfile; print(tarfile.open(sys.argv[1]).getmember(sys.argv[2]).offset_data)",
        ])
        .arg(&bundle)
        .arg(&view.manifest.payload.name)
        .output()
        .expect("python3 runs");
    let offset: usize = String::from_utf8_lossy(&offset.stdout)
        .trim()
        .parse()
        .unwrap();
    let mut bytes = std::fs::read(&bundle).unwrap();
    bytes[offset + 100] ^= 0x01;
    std::fs::write(&tampered, bytes).unwrap();
    let err = agent.apply_update(&tampered, &admin()).unwrap_err();
    let events: Vec<_> = agent
        .audit_events(&AuditFilter::default())
        .unwrap()
        .into_iter()
        .filter(|entry| entry.kind == "update_applied")
        .collect();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0].payload["installed"], false);
    assert_eq!(events[0].payload["error"], err.to_string());
    assert!(
        std::fs::read_dir(root.path().join("data/updates"))
            .map_or(true, |mut dir| dir.next().is_none()),
        "a refused bundle leaves nothing staged"
    );

    // Without the installed key nothing verifies.
    std::env::set_var(airlock_update::KEY_DIR_VAR, root.path().join("nowhere"));
    let err = agent.verify_update(&bundle).unwrap_err();
    assert!(err.to_string().contains("no update key"), "{err}");
}
