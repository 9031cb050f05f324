//! `airlock audit verify | export`.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use airlock_agent::AUDIT_KEY;
use airlock_connectors::keys;
use airlock_store::{ExportFormat, Store};
use anyhow::Context as _;

use crate::paths::Paths;

/// `airlock audit verify`: walk the chain and the signed checkpoints; exit 1 at the first bad
/// row. `database` verifies a copy (read-only); `public_keys` are extra trusted keys (hex).
pub fn verify(
    paths: &Paths,
    database: Option<&Path>,
    public_keys: &[String],
) -> anyhow::Result<ExitCode> {
    let mut trusted = Vec::new();
    for hex in public_keys {
        trusted.push(keys::parse_public_key_hex(hex)?);
    }
    let store = match database {
        Some(path) => Store::open_read_only(path)?,
        None => {
            trusted.push(
                keys::load_or_create_signing_key(AUDIT_KEY, &paths.data_dir)?.verifying_key(),
            );
            Store::open_read_only(&paths.data_dir)?
        }
    };
    let report = store.verify_audit(&trusted)?;
    match &report.first_problem {
        None => {
            println!(
                "audit log intact: {} rows, {} signed checkpoints, last row {}, last signed row {}{}",
                report.rows_checked,
                report.checkpoints_checked,
                report.last_seq.map_or("-".to_owned(), |s| s.to_string()),
                report.last_checkpointed_seq.map_or("-".to_owned(), |s| s.to_string()),
                match report.unsigned_rows() {
                    0 => String::new(),
                    n => format!(" ({n} newer rows are protected by the hash chain only until the next checkpoint)"),
                }
            );
            Ok(ExitCode::SUCCESS)
        }
        Some(problem) => {
            println!(
                "audit log NOT intact: first bad row {}: {problem}",
                problem.seq
            );
            println!("{} rows before it verified", report.rows_checked);
            Ok(ExitCode::FAILURE)
        }
    }
}

/// `airlock audit export`: rows since a time, as JSON or CSV on stdout.
pub fn export(paths: &Paths, format: &str, since: Option<&str>) -> anyhow::Result<ExitCode> {
    let format = match format {
        "json" => ExportFormat::Json,
        "csv" => ExportFormat::Csv,
        other => anyhow::bail!("unknown format `{other}`: use json or csv"),
    };
    let store = Store::open_read_only(&paths.data_dir)?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let rows = store.export_audit(since, format, &mut out)?;
    out.flush().context("writing the export to stdout")?;
    eprintln!("exported {rows} rows");
    Ok(ExitCode::SUCCESS)
}
