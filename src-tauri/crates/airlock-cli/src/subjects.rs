//! `airlock compliance subject-export USER [--out FILE]` and `airlock compliance subject-erase
//! USER --as ADMIN`: everything Airlock holds about one person as one JSON document, and their
//! erasure by a signed-in admin. Printing only; the work is the agent's.

use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

use airlock_agent::{Agent, SubjectErasure};
use anyhow::Context as _;

use crate::approvals::Passphrases;
use crate::paths::Paths;

/// `subject-export`: the JSON document on stdout, or in a new file only its owner may read.
pub(crate) fn export(paths: &Paths, user: &str, out: Option<&Path>) -> anyhow::Result<ExitCode> {
    let agent = Agent::open(paths.agent_config()?)?;
    let export = agent.subject_export(user)?;
    let json = serde_json::to_string_pretty(&export)?;
    match out {
        None => println!("{json}"),
        Some(path) => {
            write_private(path, json.as_bytes())?;
            eprintln!(
                "wrote everything Airlock holds about `{user}` to {} (readable by you only); it \
                 holds personal data: hand it to the person and delete it",
                path.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes `bytes` to `path`, a new file with mode 0600 on Unix.
fn write_private(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).with_context(|| {
        format!(
            "cannot create {}: it must not exist yet (choose another --out, or delete the old \
             export) and its directory must be writable",
            path.display()
        )
    })?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .with_context(|| format!("writing {}", path.display()))
}

/// `subject-erase`: signs the admin in (passphrase from a prompt or stdin), erases, and prints
/// what was done and what is left to do.
pub(crate) fn erase(paths: &Paths, user: &str, admin: &str) -> anyhow::Result<ExitCode> {
    let agent = Agent::open(paths.agent_config()?)?;
    let signed_in = Passphrases::new().sign_in(&agent, admin)?;
    let erased = agent.erase_subject(user, &signed_in)?;
    print_erasure(user, &erased);
    Ok(ExitCode::SUCCESS)
}

fn print_erasure(user: &str, erased: &SubjectErasure) {
    let report = &erased.report;
    let plural = |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    println!(
        "Erased `{user}`: the audit log and the rows below now name them only as {}, which \
         nothing links back to them.",
        report.pseudonym
    );
    let mut deleted = vec![
        format!(
            "{} ({})",
            plural(
                report.conversations_deleted,
                "conversation",
                "conversations"
            ),
            plural(report.messages_deleted, "message", "messages")
        ),
        plural(
            report.documents_deleted,
            "document they added",
            "documents they added",
        ),
    ];
    if report.account_deleted {
        deleted.push("their local account".to_owned());
    }
    if report.standing_deleted {
        deleted.push("their standing with the injection screen".to_owned());
    }
    println!("  deleted:    {}", deleted.join(", "));
    println!(
        "  rewritten:  {}, {}, {} of other people",
        plural(
            report.approvals_rewritten,
            "approval request",
            "approval requests"
        ),
        plural(report.spend_rows_rewritten, "spend", "spends"),
        plural(
            report.texts_rewritten,
            "message or conversation title",
            "messages or conversation titles"
        )
    );
    println!(
        "  recorded:   audit row {} (subject_erased)",
        report.audit_seq
    );
    match report.legacy_rows_naming_subject {
        0 => println!("  audit log:  no row names `{user}` in clear"),
        n => println!(
            "  audit log:  {} still {} `{user}` in clear: written before Airlock stored names as \
             pseudonyms (or before `{user}` was first recorded by name), they cannot change \
             without breaking the audit chain; they go only with the whole log, at the end of \
             its retention",
            plural(n, "row", "rows"),
            if n == 1 { "names" } else { "name" }
        ),
    }
    if !report.purged {
        println!(
            "  not purged: another Airlock process was using the database, so it was not \
             compacted: deleted rows were overwritten in place, but copies may remain in its \
             write-ahead log (emptied when the last Airlock process closes it) and in free index \
             pages (until the next erasure compacts the file)"
        );
    }
    for warning in &erased.warnings {
        println!("Warning: {warning}");
    }
    println!(
        "Copies made before now (backups, audit exports, evidence packages, subject exports) \
         still hold the name: delete or erase them by their own procedure."
    );
    println!("Check the audit log: airlock audit verify");
}
