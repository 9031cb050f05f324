//! `airlock batch --input FILE [--output FILE] [--mode plan|execute] [--as ADMIN]`: a file of
//! requests from several people decided in one run, one `MultiDecision` per request.

use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

use airlock_agent::{parse_batch, Agent, MultiDecision, SubStatus, MAX_BATCH_BYTES};
use airlock_core::Mode;

use crate::approvals::Passphrases;
use crate::paths::Paths;

/// Runs the batch in `input` and writes the decisions to `output` (stdout when `None`); a
/// line per request and the summary go to stderr. Exit 1 when an entry was invalid or could
/// not be planned (the rest of the batch still ran and is in the output).
pub fn run(
    paths: &Paths,
    input: &Path,
    output: Option<&Path>,
    mode: Mode,
    admin: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let bytes = read_input(input)?;
    let entries = parse_batch(&bytes)?;
    let agent = Agent::open(paths.agent_config()?)?;
    let trusted_by = admin
        .map(|name| Passphrases::new().sign_in(&agent, name))
        .transpose()?;
    if trusted_by.is_none() {
        eprintln!(
            "note: no admin signed in (--as): every request is decided as `{}`, whatever user the file names",
            agent.principal()
        );
    }
    let report = agent.run_batch(&entries, mode, trusted_by.as_ref(), &mut |result| {
        eprintln!("{}", line_of(result));
    })?;
    let json = serde_json::to_string_pretty(&report)?;
    match output {
        Some(path) => write_output(path, &json)?,
        None => println!("{json}"),
    }
    let summary = &report.summary;
    eprintln!(
        "{} requests ({} invalid, {} failed) in {:.1} s: {} decisions: {} approved, {} denied, {} require approval, {} need clarification",
        summary.requests,
        summary.invalid,
        summary.failed,
        report.elapsed_ms / 1000.0,
        summary.total,
        summary.approved,
        summary.denied,
        summary.requires_approval,
        summary.clarification_needed
    );
    Ok(if summary.invalid + summary.failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The batch file's bytes (`-`: stdin), refusing one too large before reading it whole.
fn read_input(input: &Path) -> anyhow::Result<Vec<u8>> {
    use std::io::Read as _;
    let limit = u64::try_from(MAX_BATCH_BYTES).unwrap_or(u64::MAX) + 1;
    let mut bytes = Vec::new();
    if input == Path::new("-") {
        std::io::stdin().take(limit).read_to_end(&mut bytes)?;
    } else {
        std::fs::File::open(input)
            .map_err(|err| {
                anyhow::anyhow!("cannot read the batch file {}: {err}", input.display())
            })?
            .take(limit)
            .read_to_end(&mut bytes)?;
    }
    Ok(bytes)
}

/// Writes `json` to `path` whole: a temporary file next to it, renamed over it.
fn write_output(path: &Path, json: &str) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|dir| !dir.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut file = tempfile::NamedTempFile::new_in(dir)
        .map_err(|err| anyhow::anyhow!("cannot write into {}: {err}", dir.display()))?;
    file.write_all(json.as_bytes())?;
    file.write_all(b"\n")?;
    file.as_file().sync_all()?;
    file.persist(path)
        .map_err(|err| anyhow::anyhow!("cannot write {}: {}", path.display(), err.error))?;
    Ok(())
}

/// One line per request for the terminal: its id, who it was decided as, and each status.
fn line_of(result: &MultiDecision) -> String {
    if !result.errors.is_empty() {
        return format!("{}: {}", result.request_id, result.errors.join("; "));
    }
    let statuses: Vec<String> = result
        .sub_decisions
        .iter()
        .map(|sub| {
            let status = match sub.status {
                SubStatus::Approved => "APPROVED",
                SubStatus::Denied => "DENIED",
                SubStatus::RequiresApproval => "REQUIRES_APPROVAL",
                SubStatus::ClarificationNeeded => "CLARIFICATION_NEEDED",
            };
            match &sub.action {
                Some(action) => format!("{action} {status}"),
                None => status.to_owned(),
            }
        })
        .collect();
    format!(
        "{} ({}): {}",
        result.request_id,
        result.decided_as.as_deref().unwrap_or("?"),
        statuses.join(", ")
    )
}
