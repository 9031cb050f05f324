//! `airlock compliance evidence` writes a signed evidence package for a period;
//! `airlock compliance verify` checks one offline (see `airlock-compliance`).

use std::path::Path;
use std::process::ExitCode;

use airlock_agent::AUDIT_KEY;
use airlock_compliance::{
    fingerprint, verify_package, write_package, EvidenceRequest, PackageSummary, Period,
    VerifyReport,
};
use airlock_connectors::keys;
use airlock_store::{Store, DATABASE_FILE};
use serde_json::json;

use crate::paths::Paths;

/// `airlock compliance evidence --from … --to … --out DIR`: signs a checkpoint of the newest
/// audit row, then writes the package with the installation's audit key.
pub(crate) fn write(paths: &Paths, from: &str, to: &str, out: &Path) -> anyhow::Result<ExitCode> {
    let period = Period::parse(from, to)?;
    let data_dir = &paths.data_dir;
    if !data_dir.join(DATABASE_FILE).is_file() {
        anyhow::bail!(
            "there is no Airlock database in {}: pass the installation's data directory with \
             --data-dir (or AIRLOCK_DATA_DIR)",
            data_dir.display()
        );
    }
    let key = keys::load_or_create_signing_key(AUDIT_KEY, data_dir)?.key;
    let mut store = Store::open(data_dir)?;
    store.set_audit_signer(key.clone());
    store.checkpoint()?;
    let summary = write_package(
        &store,
        &key,
        &EvidenceRequest {
            period,
            policy_dir: paths.policy_dir.clone(),
            out: out.to_owned(),
        },
    )?;
    print_written(&summary);
    Ok(ExitCode::SUCCESS)
}

fn print_written(summary: &PackageSummary) {
    let audit = &summary.audit;
    println!("evidence package written to {}", summary.dir.display());
    println!(
        "  period (UTC): {} to {}",
        summary.period.from, summary.period.to
    );
    match (audit.first_seq, audit.last_seq) {
        (Some(first), Some(last)) => println!(
            "  audit rows: {} (rows {first} to {last}); signed checkpoints: {}",
            audit.rows, summary.checkpoints
        ),
        _ => println!("  audit rows: none in the period"),
    }
    println!(
        "  approvals: {}, policy changes in the period: {}",
        summary.approvals, summary.policy_changes
    );
    let live = &summary.live_chain;
    match &live.first_problem {
        None => println!(
            "  live audit chain: intact ({} rows, {} checkpoints)",
            live.rows_checked, live.checkpoints_checked
        ),
        Some(problem) => {
            println!("  live audit chain: NOT intact: {}", problem.message);
            eprintln!(
                "WARNING: the audit log is not intact (first bad row {}); the package records \
                 this, and its verification fails if the damaged rows are in the period",
                problem.seq
            );
        }
    }
    println!("  signed with the audit key {}", summary.key_fingerprint);
    println!(
        "check it with: airlock compliance verify {}",
        summary.dir.display()
    );
}

/// How the package's key compares with this installation's audit key.
enum Installation {
    Matches(InstallationKey),
    Differs(InstallationKey),
    Unknown(String),
}

/// The installation's audit public key, as hex and fingerprint.
struct InstallationKey {
    hex: String,
    fingerprint: String,
}

/// This installation's audit key, read from the public key of its newest signed checkpoint in
/// the default data directory (`AIRLOCK_DATA_DIR`): no keychain, nothing created or written.
fn installation(data_dir: &Path, report: &VerifyReport) -> (std::path::PathBuf, Installation) {
    let data_dir = data_dir.to_path_buf();
    if !data_dir.join(DATABASE_FILE).is_file() {
        let reason = format!("no Airlock database in {}", data_dir.display());
        return (data_dir, Installation::Unknown(reason));
    }
    let found = Store::open_read_only(&data_dir).and_then(|store| store.newest_checkpoint_key());
    let status = match found {
        Ok(Some(key)) => {
            let known = InstallationKey {
                hex: keys::public_key_hex(&key),
                fingerprint: fingerprint(&key),
            };
            if report.signed_by(&key) {
                Installation::Matches(known)
            } else {
                Installation::Differs(known)
            }
        }
        Ok(None) => Installation::Unknown(format!(
            "the audit log in {} has no signed checkpoint yet",
            data_dir.display()
        )),
        Err(err) => Installation::Unknown(err.to_string()),
    };
    (data_dir, status)
}

/// `airlock compliance verify DIR [--json]`: exit 0 when everything holds, 1 otherwise.
pub(crate) fn verify(paths: &Paths, dir: &Path, as_json: bool) -> anyhow::Result<ExitCode> {
    let report = verify_package(dir);
    let (data_dir, installation) = installation(&paths.data_dir, &report);
    if as_json {
        let (status, key, detail) = match &installation {
            Installation::Matches(key) => ("matches", Some(key), None),
            Installation::Differs(key) => ("differs", Some(key), None),
            Installation::Unknown(reason) => ("unknown", None, Some(reason.as_str())),
        };
        let mut value = serde_json::to_value(&report)?;
        value["installation_key"] = json!({
            "data_dir": data_dir,
            "status": status,
            "public_key": key.map(|k| &k.hex),
            "fingerprint": key.map(|k| &k.fingerprint),
            "detail": detail,
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        print_verified(dir, &report, &installation);
    }
    Ok(if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn print_verified(dir: &Path, report: &VerifyReport, installation: &Installation) {
    let or_dash = |value: &Option<String>| value.clone().unwrap_or_else(|| "-".to_owned());
    println!("evidence package {}", dir.display());
    if let Some(period) = &report.period {
        println!(
            "  written by Airlock {} at {}, period (UTC) {} to {}",
            or_dash(&report.airlock_version),
            or_dash(&report.created_at),
            period.from,
            period.to
        );
    }
    if report.public_key.is_some() {
        println!(
            "  signed by key {} ({}): {}",
            or_dash(&report.key_fingerprint),
            or_dash(&report.public_key),
            if report.signature_valid {
                "signature valid"
            } else {
                "signature INVALID"
            }
        );
        match installation {
            Installation::Matches(_) => println!("  this installation's audit key: the same key"),
            Installation::Differs(key) => println!(
                "  WARNING: this installation's audit key is {}, not the package's: expected \
                 on an auditor's machine; otherwise compare the fingerprint with the one the \
                 installation that wrote the package shows",
                key.fingerprint
            ),
            Installation::Unknown(reason) => println!(
                "  this installation's audit key: not compared ({reason}); compare the \
                 fingerprint with the one the installation shows"
            ),
        }
    }
    if report.period.is_some() {
        print_checks(report);
    }
    if report.ok {
        println!(
            "OK: the signature holds, every file matches the signed manifest, and every audit \
             row and checkpoint verifies"
        );
    } else {
        let more = report.problems_not_listed;
        println!(
            "FAILED: {} problem{}:",
            report.problems.len() + more,
            if report.problems.len() + more == 1 {
                ""
            } else {
                "s"
            }
        );
        for problem in &report.problems {
            println!("  - {problem}");
        }
        if more > 0 {
            println!("  … and {more} more");
        }
    }
}

/// What was checked inside a package whose manifest could be read.
fn print_checks(report: &VerifyReport) {
    let or_dash = |value: &Option<String>| value.clone().unwrap_or_else(|| "-".to_owned());
    println!("  files matching the manifest: {}", report.files_matching);
    let audit = &report.audit;
    match (audit.first_seq, audit.last_seq) {
        (Some(first), Some(last)) => println!(
            "  audit rows intact: {} of {} (rows {first} to {last}), anchored on {}",
            report.audit_rows_intact,
            audit.rows,
            or_dash(&audit.anchor)
        ),
        _ => println!("  audit rows: none in the period"),
    }
    println!(
        "  checkpoints verified: {}; newest row signed in the package: {}{}",
        report.checkpoints_verified,
        report
            .last_signed_seq
            .map_or_else(|| "-".to_owned(), |seq| seq.to_string()),
        report
            .checkpoint_after_period
            .map_or_else(String::new, |seq| format!(
                "; checkpoint of row {seq} after the period"
            ))
    );
    if let Some(live) = &report.live_chain {
        match &live.first_problem {
            None => println!(
                "  live audit chain when written: intact ({} rows)",
                live.rows_checked
            ),
            Some(problem) => println!(
                "  WARNING: the live audit chain was NOT intact when written: {}",
                problem.message
            ),
        }
    }
}
