//! Packages written from a real store in a temporary directory, verified, then tampered with.

use std::path::{Path, PathBuf};
use std::time::Duration;

use airlock_core::{EventKind, TraceId};
use airlock_store::{ApprovalVerdict, AuditRow, NewApproval, Store, StoreOptions};
use ed25519_dalek::{Signer as _, SigningKey};
use serde_json::{json, Value};
use tempfile::TempDir;

use crate::policies::sha256_hex;
use crate::*;

const GUARDS_BEFORE: &str = "[rate]\nper_minute = 10\n";
const GUARDS_NOW: &str = "[rate]\nper_minute = 20\n";

struct Fixture {
    root: TempDir,
    store: Store,
    key: SigningKey,
}

impl Fixture {
    fn data(&self) -> PathBuf {
        self.root.path().join("data")
    }

    fn policy(&self) -> PathBuf {
        self.root.path().join("policy")
    }

    fn request(&self, out: &str) -> EvidenceRequest {
        EvidenceRequest {
            period: Period::parse("2000-01-01", "2999-12-31").unwrap(),
            policy_dir: self.policy(),
            out: self.root.path().join(out),
        }
    }

    /// Writes a package of everything to `<root>/<out>`.
    fn package(&self, out: &str) -> PathBuf {
        write_package(&self.store, &self.key, &self.request(out))
            .unwrap()
            .dir
    }

    fn record(&self, kind: EventKind, payload: Value) {
        self.store.record(&TraceId::new(), kind, payload).unwrap();
    }
}

fn audit_key() -> SigningKey {
    SigningKey::from_bytes(&[11; 32])
}

/// A store with a request that ran, one that waited for approval and was approved by `lead`,
/// and a policy change, checkpointed every 4 rows and at the end.
fn fixture() -> Fixture {
    let root = tempfile::tempdir().unwrap();
    let policy = root.path().join("policy");
    std::fs::create_dir_all(&policy).unwrap();
    std::fs::write(
        policy.join("plant.cedar"),
        "permit(principal, action, resource);\n",
    )
    .unwrap();
    std::fs::write(policy.join("guards.toml"), GUARDS_NOW).unwrap();
    std::fs::write(policy.join("principals.toml"), "[principals.root]\n").unwrap();
    let options = StoreOptions {
        checkpoint_every: 4,
        ..StoreOptions::default()
    };
    let mut store = Store::open_with(&root.path().join("data"), &options).unwrap();
    store.set_audit_signer(audit_key());
    let fixture = Fixture {
        root,
        store,
        key: audit_key(),
    };
    let allow = json!({"decision": "allow", "id": "d-1"});
    fixture.record(
        EventKind::RequestReceived,
        json!({"mode": "execute", "typed_call": true}),
    );
    fixture.record(
        EventKind::DecisionMade,
        json!({"stage": "admission", "decision": allow}),
    );
    fixture.record(
        EventKind::DecisionMade,
        json!({"tool": "get_system_status", "decision": allow}),
    );
    fixture.record(EventKind::ToolStarted, json!({"tool": "get_system_status"}));
    fixture.record(
        EventKind::ToolFinished,
        json!({"tool": "get_system_status"}),
    );
    fixture.record(
        EventKind::DecisionMade,
        json!({"tool": "restart_service", "decision": {"decision": "require_approval", "id": "d-2"}}),
    );
    fixture
        .store
        .create_approval(&NewApproval {
            id: "d-2",
            trace_id: "t-2",
            conversation_id: "c-2",
            requester: "root",
            tool: "restart_service",
            args: &json!({"service": "labelprintd", "system": "ops-dev", "notify": "ops@example.com"}),
            decision: &json!({"decision": "require_approval"}),
            approver_group: "maintenance-leads",
            risk: "medium",
            reason: "restarts need a lead",
            expires_at: "2999-01-01T00:00:00Z",
        })
        .unwrap();
    fixture.record(EventKind::ApprovalRequested, json!({"approval_id": "d-2"}));
    fixture
        .store
        .settle_approval(
            "d-2",
            ApprovalVerdict::Approve,
            "lead",
            Some("ok <b>now</b>"),
        )
        .unwrap();
    fixture.record(
        EventKind::ApprovalGranted,
        json!({"approval_id": "d-2", "by": "lead"}),
    );
    fixture.record(
        EventKind::PolicyChanged,
        json!({"file": "guards.toml", "by": "ada", "sha256_before": sha256_hex(GUARDS_BEFORE.as_bytes()),
               "sha256": sha256_hex(GUARDS_NOW.as_bytes()), "diff": "-10\n+20"}),
    );
    fixture.record(EventKind::AnswerGenerated, json!({"answer": "done"}));
    fixture.store.checkpoint().unwrap();
    fixture
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

fn audit_lines(package: &Path) -> Vec<Value> {
    std::fs::read_to_string(package.join(AUDIT_FILE))
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn write_audit_lines(package: &Path, lines: &[Value]) {
    let text: String = lines.iter().map(|line| format!("{line}\n")).collect();
    std::fs::write(package.join(AUDIT_FILE), text).unwrap();
}

/// `line`'s hash recomputed from its (edited) fields, as a forger would.
fn rehash(line: &mut Value) {
    let text = |key: &str| line[key].as_str().unwrap().to_owned();
    let prev = hex::decode(text("prev_hash")).unwrap();
    let (created_at, trace_id, kind, payload) = (
        text("created_at"),
        text("trace_id"),
        text("kind"),
        text("payload"),
    );
    let row = AuditRow {
        seq: line["seq"].as_i64().unwrap(),
        created_at: &created_at,
        trace_id: &trace_id,
        kind: &kind,
        payload: &payload,
        prev_hash: &prev,
        hash: &[],
    };
    line["hash"] = json!(hex::encode(row.computed_hash().unwrap()));
}

fn problems(report: &VerifyReport) -> Vec<String> {
    report.problems.iter().map(ToString::to_string).collect()
}

fn assert_problem(report: &VerifyReport, needle: &str) {
    assert!(!report.ok, "the package verified: {report:#?}");
    assert!(
        problems(report).iter().any(|p| p.contains(needle)),
        "no problem mentions {needle:?}: {:#?}",
        problems(report)
    );
}

#[test]
fn a_written_package_verifies_and_holds_the_periods_evidence() {
    let fixture = fixture();
    let package = fixture.package("evidence");
    let report = verify_package(&package);
    assert!(report.ok, "{:#?}", problems(&report));
    assert!(report.signature_valid);
    assert!(report.signed_by(&fixture.key.verifying_key()));
    assert_eq!(
        report.key_fingerprint.as_deref(),
        Some(fingerprint(&fixture.key.verifying_key()).as_str())
    );
    let rows = u64::try_from(fixture.store.event_count().unwrap()).unwrap();
    assert_eq!(report.audit_rows_intact, rows);
    assert_eq!(report.last_signed_seq, Some(i64::try_from(rows).unwrap()));
    assert_eq!(report.checkpoints_verified, 3, "rows 4, 8 and the last");
    assert!(report.live_chain.as_ref().unwrap().intact);

    let manifest = read_json(&package.join(MANIFEST_FILE));
    let paths: Vec<&str> = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "approvals.json",
            "audit.jsonl",
            "chain-verification.json",
            "checkpoints.json",
            "policies.json",
            "policies/guards.toml",
            "policies/plant.cedar",
            "policies/principals.toml",
            "report.html",
            "report.md",
        ]
    );
    assert_eq!(
        manifest["public_key"],
        hex::encode(fixture.key.verifying_key().as_bytes())
    );
    assert_eq!(manifest["audit"]["anchor"], hex::encode([0u8; 32]));

    let audit = audit_lines(&package);
    assert_eq!(audit.len() as u64, rows);
    assert_eq!(audit[0]["seq"], 1);
    assert!(audit[0]["payload"].as_str().unwrap().contains("typed_call"));

    let approvals = read_json(&package.join(APPROVALS_FILE));
    assert_eq!(approvals[0]["decided_by"], "lead");
    assert_eq!(approvals[0]["status"], "approved");
    assert_eq!(approvals[0]["requester"], "root");
    assert_eq!(approvals[0]["args"]["notify"], "[redacted:email]");

    let policies = read_json(&package.join(POLICIES_FILE));
    let guards = policies["versions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["file"] == "guards.toml")
        .unwrap();
    assert_eq!(
        guards["sha256_at_start"],
        sha256_hex(GUARDS_BEFORE.as_bytes())
    );
    assert_eq!(guards["changes"][0]["by"], "ada");
    assert_eq!(guards["copy_is_version_at_end"], true);
    assert_eq!(
        std::fs::read_to_string(package.join("policies/guards.toml")).unwrap(),
        GUARDS_NOW
    );

    let md = std::fs::read_to_string(package.join(REPORT_MD)).unwrap();
    assert!(
        md.contains(&fingerprint(&fixture.key.verifying_key())),
        "{md}"
    );
    assert!(
        md.contains("| tool call | require\\_approval | 1 |"),
        "{md}"
    );
    assert!(md.contains("| lead | approved: 1 |"), "{md}");
    assert!(md.contains("verified intact"), "{md}");
    let page = std::fs::read_to_string(package.join(REPORT_HTML)).unwrap();
    assert!(
        page.contains("ok &lt;b&gt;now&lt;/b&gt;"),
        "the comment is escaped"
    );
    assert!(!page.contains("<b>now"), "{page}");
}

#[test]
fn rows_outside_the_period_are_left_out_and_the_first_link_becomes_the_anchor() {
    let fixture = fixture();
    let pause = || std::thread::sleep(Duration::from_millis(5));
    pause();
    let start = crate::period::now();
    fixture.record(EventKind::RequestReceived, json!({"mode": "plan"}));
    pause();
    let end = crate::period::now();
    pause();
    fixture.record(EventKind::AnswerGenerated, json!({}));
    fixture.store.checkpoint().unwrap();
    let mut request = fixture.request("period");
    request.period = Period::parse(&start, &end).unwrap();
    let summary = write_package(&fixture.store, &fixture.key, &request).unwrap();
    assert_eq!(summary.audit.rows, 1);
    assert_eq!(summary.audit.first_seq, Some(11));
    let everything = audit_lines(&fixture.package("all"));
    assert_eq!(
        summary.audit.anchor.as_deref(),
        everything[9]["hash"].as_str(),
        "the anchor is row 10's hash"
    );
    assert_eq!(audit_lines(&summary.dir)[0], everything[10]);
    let report = verify_package(&summary.dir);
    assert!(report.ok, "{:#?}", problems(&report));
    assert_eq!(
        report.last_signed_seq, None,
        "no checkpoint inside the period"
    );
    assert_eq!(report.checkpoint_after_period, Some(12));
    assert_eq!(report.checkpoints_verified, 1);
    // The approval and the policy change happened before the period.
    assert_eq!(summary.approvals, 0);
    assert_eq!(summary.policy_changes, 0);
    let md = std::fs::read_to_string(summary.dir.join(REPORT_MD)).unwrap();
    assert!(
        md.contains("vouched for by the checkpoint of row 12, after the period"),
        "{md}"
    );
}

#[test]
fn a_changed_byte_of_the_report_is_named_with_what_it_means() {
    let fixture = fixture();
    let package = fixture.package("evidence");
    let path = package.join(REPORT_MD);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[10] ^= 0x20;
    std::fs::write(&path, bytes).unwrap();
    let report = verify_package(&package);
    assert_eq!(
        problems(&report),
        ["report.md: SHA-256 differs from the manifest: the file was modified after the package \
          was signed"]
    );
    assert!(report.signature_valid, "the manifest itself is intact");
}

#[test]
fn an_edited_row_with_its_hash_recomputed_breaks_the_next_link_and_its_checkpoint() {
    let fixture = fixture();
    let package = fixture.package("evidence");
    let mut audit = audit_lines(&package);
    audit[3]["payload"] = json!(r#"{"tool":"run_command"}"#);
    rehash(&mut audit[3]);
    write_audit_lines(&package, &audit);
    let report = verify_package(&package);
    assert_problem(&report, "audit.jsonl: size differs from the manifest");
    assert_problem(&report, "audit.jsonl: row 5 does not link to row 4");
    assert_problem(
        &report,
        "audit.jsonl: row 4 differs from what the signed checkpoint of row 4 vouches for",
    );
}

#[test]
fn an_edited_last_row_is_caught_by_the_checkpoint_that_signed_it() {
    let fixture = fixture();
    let package = fixture.package("evidence");
    let mut audit = audit_lines(&package);
    let last = audit.len() - 1;
    audit[last]["payload"] = json!(r#"{"answer":"nothing happened"}"#);
    rehash(&mut audit[last]);
    write_audit_lines(&package, &audit);
    let report = verify_package(&package);
    assert_problem(
        &report,
        &format!("row {} differs from what the signed checkpoint", last + 1),
    );
}

#[test]
fn a_deleted_row_shows_as_a_gap_and_a_broken_link() {
    let fixture = fixture();
    let package = fixture.package("evidence");
    let mut audit = audit_lines(&package);
    audit.remove(2);
    write_audit_lines(&package, &audit);
    let report = verify_package(&package);
    assert_problem(&report, "row 4 follows row 2: rows 3 to 3 are missing");
    assert_problem(&report, "row 4 does not link to row 2");
    assert_problem(&report, "where the manifest lists");
}

#[test]
fn a_file_added_after_signing_is_named_even_in_a_subdirectory() {
    let fixture = fixture();
    let package = fixture.package("evidence");
    std::fs::write(package.join("notes.txt"), "added").unwrap();
    std::fs::write(
        package.join("policies/extra.cedar"),
        "forbid(principal, action, resource);",
    )
    .unwrap();
    let report = verify_package(&package);
    assert_problem(&report, "notes.txt: not listed in the manifest");
    assert_problem(&report, "policies/extra.cedar: not listed in the manifest");
    assert_eq!(report.problems.len(), 2, "{:#?}", problems(&report));
}

#[test]
fn a_removed_file_is_named() {
    let fixture = fixture();
    let package = fixture.package("evidence");
    std::fs::remove_file(package.join(APPROVALS_FILE)).unwrap();
    let report = verify_package(&package);
    assert_problem(
        &report,
        "approvals.json: listed in the manifest but missing",
    );
}

#[test]
fn an_edited_manifest_fails_its_signature() {
    let fixture = fixture();
    let package = fixture.package("evidence");
    let path = package.join(MANIFEST_FILE);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replacen("\"2000-01-01", "\"2001-01-01", 1)).unwrap();
    let report = verify_package(&package);
    assert!(!report.signature_valid);
    assert_problem(&report, "manifest.sig: the signature does not verify");
}

#[test]
fn a_signature_from_another_key_does_not_verify() {
    let fixture = fixture();
    let package = fixture.package("evidence");
    let manifest = std::fs::read(package.join(MANIFEST_FILE)).unwrap();
    let other = SigningKey::from_bytes(&[99; 32]);
    let signature = hex::encode(other.sign(&manifest).to_bytes());
    std::fs::write(package.join(SIGNATURE_FILE), format!("{signature}\n")).unwrap();
    let report = verify_package(&package);
    assert!(!report.signature_valid);
    assert_problem(&report, "manifest.sig: the signature does not verify");
}

#[test]
fn a_package_forged_and_signed_again_with_another_key_keeps_the_installations_checkpoints() {
    let fixture = fixture();
    let package = fixture.package("evidence");
    // The forger edits row 2, recomputes every later hash and link, and signs a new manifest
    // with a key of their own.
    let mut audit = audit_lines(&package);
    audit[1]["payload"] = json!(r#"{"stage":"admission","decision":{"decision":"deny"}}"#);
    for i in 1..audit.len() {
        if i > 1 {
            audit[i]["prev_hash"] = audit[i - 1]["hash"].clone();
        }
        rehash(&mut audit[i]);
    }
    write_audit_lines(&package, &audit);
    let path = package.join(MANIFEST_FILE);
    let mut manifest: Manifest = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let forger = SigningKey::from_bytes(&[66; 32]);
    manifest.public_key = hex::encode(forger.verifying_key().as_bytes());
    let audit_bytes = std::fs::read(package.join(AUDIT_FILE)).unwrap();
    for entry in &mut manifest.files {
        if entry.path == AUDIT_FILE {
            entry.size = audit_bytes.len() as u64;
            entry.sha256 = sha256_hex(&audit_bytes);
        }
    }
    let bytes = serde_json::to_vec_pretty(&manifest).unwrap();
    std::fs::write(&path, &bytes).unwrap();
    std::fs::write(
        package.join(SIGNATURE_FILE),
        hex::encode(forger.sign(&bytes).to_bytes()),
    )
    .unwrap();

    let report = verify_package(&package);
    assert!(report.signature_valid, "the forger's own signature holds");
    assert!(!report.signed_by(&fixture.key.verifying_key()));
    assert_ne!(
        report.key_fingerprint.as_deref(),
        Some(fingerprint(&fixture.key.verifying_key()).as_str())
    );
    assert_problem(&report, "not by the package's key");
    assert_problem(&report, "differs from what the signed checkpoint of row 4");
}

#[test]
fn a_destination_that_holds_anything_is_refused_and_left_alone() {
    let fixture = fixture();
    let out = fixture.root.path().join("taken");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("keep.txt"), "mine").unwrap();
    let err = write_package(&fixture.store, &fixture.key, &fixture.request("taken")).unwrap_err();
    assert!(
        matches!(err, EvidenceError::DestinationNotEmpty { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("choose a new directory"), "{err}");
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 1);
    assert_eq!(
        std::fs::read_to_string(out.join("keep.txt")).unwrap(),
        "mine"
    );
    // An empty directory is fine.
    std::fs::create_dir_all(fixture.root.path().join("empty")).unwrap();
    let package = fixture.package("empty");
    assert!(verify_package(&package).ok);
}

#[test]
fn a_failure_while_writing_leaves_no_half_package() {
    let fixture = fixture();
    let mut request = fixture.request("nested/evidence");
    request.policy_dir = fixture.root.path().join("no-such-policy");
    let err = write_package(&fixture.store, &fixture.key, &request).unwrap_err();
    assert!(matches!(err, EvidenceError::Io { .. }), "{err}");
    assert!(err.to_string().contains("no-such-policy"), "{err}");
    let nested = fixture.root.path().join("nested");
    assert_eq!(
        std::fs::read_dir(&nested).unwrap().count(),
        0,
        "neither the package nor its staging directory is left"
    );
}

#[test]
fn a_broken_live_chain_is_reported_and_its_rows_fail_the_package() {
    let fixture = fixture();
    let conn =
        rusqlite::Connection::open(fixture.data().join(airlock_store::DATABASE_FILE)).unwrap();
    conn.execute_batch(
        "DROP TRIGGER events_are_append_only_update;
         UPDATE events SET payload = '{\"tool\":\"run_command\"}' WHERE seq = 4;",
    )
    .unwrap();
    drop(conn);
    let summary =
        write_package(&fixture.store, &fixture.key, &fixture.request("evidence")).unwrap();
    assert!(!summary.live_chain.intact);
    let problem = summary.live_chain.first_problem.as_ref().unwrap();
    assert_eq!((problem.seq, problem.kind.as_str()), (4, "edited"));
    let md = std::fs::read_to_string(summary.dir.join(REPORT_MD)).unwrap();
    assert!(md.contains("NOT intact"), "{md}");
    let report = verify_package(&summary.dir);
    assert_problem(
        &report,
        "audit.jsonl: row 4: its contents do not match its hash",
    );
    assert!(!report.live_chain.unwrap().intact);
}
