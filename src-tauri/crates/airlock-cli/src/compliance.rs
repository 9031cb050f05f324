//! `airlock compliance`: evidence packages for auditors, and one person's data export and
//! erasure.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

use crate::paths::Paths;
use crate::{evidence, subjects};

/// The `compliance` subcommands.
#[derive(Subcommand)]
pub(crate) enum ComplianceCommand {
    /// Write a signed evidence package for a period: the audit rows with the chain's
    /// verification and checkpoints, the policy versions in force, the approvals with their
    /// approvers, and a summary report (Markdown and printable HTML).
    Evidence {
        /// First day or instant included (RFC 3339, or YYYY-MM-DD from 00:00 UTC).
        #[arg(long)]
        from: String,
        /// Last day or instant included (RFC 3339, or YYYY-MM-DD through 23:59:59.999 UTC).
        #[arg(long)]
        to: String,
        /// The directory to create (must not exist, or be empty).
        #[arg(long)]
        out: PathBuf,
    },
    /// Check an evidence package: its signature, every file's SHA-256, and the audit chain of
    /// the rows it holds. Exit 1 when anything does not match.
    Verify {
        /// The package directory.
        dir: PathBuf,
        /// Print the result as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Everything Airlock holds about one person, as one JSON document.
    SubjectExport {
        /// The person's login or account name.
        user: String,
        /// Write to this file instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Erase one person: their conversations, documents, account and standing are deleted,
    /// and their name in the audit log is replaced by a keyed pseudonym (the chain stays
    /// intact). An admin signs in with --as.
    SubjectErase {
        /// The person's login or account name.
        user: String,
        /// The admin account that authorises this.
        #[arg(long = "as", value_name = "ADMIN")]
        admin: String,
    },
}

/// Serves one `compliance` subcommand.
pub(crate) fn run(paths: &Paths, command: ComplianceCommand) -> anyhow::Result<ExitCode> {
    match command {
        ComplianceCommand::Evidence { from, to, out } => evidence::write(paths, &from, &to, &out),
        ComplianceCommand::Verify { dir, json } => evidence::verify(paths, &dir, json),
        ComplianceCommand::SubjectExport { user, out } => {
            subjects::export(paths, &user, out.as_deref())
        }
        ComplianceCommand::SubjectErase { user, admin } => subjects::erase(paths, &user, &admin),
    }
}
