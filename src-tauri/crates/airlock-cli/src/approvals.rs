//! `airlock approvals list|show|approve|deny` and `airlock users add|list|remove`: the human
//! side of calls that need approval. Passphrases are read from a prompt (no echo) or, when
//! stdin is not a terminal, one per line from stdin; never from the command line.

use std::io::{self, BufRead as _, IsTerminal as _};
use std::process::ExitCode;

use airlock_agent::{Agent, ApprovalRecord, ApprovalStatus, Approver};
use zeroize::Zeroizing;

use crate::ask::Printer;
use crate::paths::Paths;

/// Reads passphrases: prompts on a terminal, lines of stdin otherwise.
pub(crate) struct Passphrases {
    lines: Option<io::StdinLock<'static>>,
}

impl Passphrases {
    pub(crate) fn new() -> Self {
        Self {
            lines: (!io::stdin().is_terminal()).then(|| io::stdin().lock()),
        }
    }

    fn read(&mut self, prompt: &str) -> anyhow::Result<Zeroizing<String>> {
        let text = match &mut self.lines {
            None => Zeroizing::new(rpassword::prompt_password(prompt)?),
            Some(lines) => {
                let mut line = Zeroizing::new(String::new());
                lines.read_line(&mut line)?;
                Zeroizing::new(line.trim_end_matches(['\n', '\r']).to_owned())
            }
        };
        if text.is_empty() {
            anyhow::bail!("no passphrase given; type it at the prompt or pipe it on stdin");
        }
        Ok(text)
    }

    /// Signs `name` in with the next passphrase.
    pub(crate) fn sign_in(&mut self, agent: &Agent, name: &str) -> anyhow::Result<Approver> {
        let passphrase = self.read(&format!("passphrase for `{name}` (not shown): "))?;
        Ok(agent.sign_in(name, &passphrase)?)
    }
}

/// `approvals list`: pending requests, or all with `all`.
pub fn list(paths: &Paths, all: bool, json: bool) -> anyhow::Result<ExitCode> {
    let agent = Agent::open(paths.agent_config()?)?;
    let approvals = agent.approvals((!all).then_some(ApprovalStatus::Pending))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&approvals)?);
        return Ok(ExitCode::SUCCESS);
    }
    if approvals.is_empty() {
        println!(
            "{}",
            if all {
                "No approval requests."
            } else {
                "No pending approval requests (`--all` shows settled ones)."
            }
        );
        return Ok(ExitCode::SUCCESS);
    }
    for approval in &approvals {
        println!(
            "{}  {:<8}  {}  asked by {}  for {}  risk {}  expires {}",
            approval.id,
            approval.status.as_str(),
            approval.tool,
            approval.requester,
            approval.approver_group,
            approval.risk,
            approval.expires_at,
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `approvals show ID`: the whole request, every argument unabridged.
pub fn show(paths: &Paths, id: &str, json: bool) -> anyhow::Result<ExitCode> {
    let agent = Agent::open(paths.agent_config()?)?;
    let approval = agent.approval(id)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&approval)?);
    } else {
        print_approval(&approval);
    }
    Ok(ExitCode::SUCCESS)
}

fn print_approval(approval: &ApprovalRecord) {
    println!("Approval request {}", approval.id);
    println!("  status:     {}", approval.status.as_str());
    println!("  call:       {}", approval.tool);
    println!(
        "  arguments:  {}",
        serde_json::to_string_pretty(&approval.args).unwrap_or_default()
    );
    println!(
        "  asked by:   {} at {}",
        approval.requester, approval.created_at
    );
    println!("  approvers:  {}", approval.approver_group);
    println!("  risk:       {}", approval.risk);
    println!("  why:        {}", approval.reason);
    println!("  expires:    {}", approval.expires_at);
    println!("  trace:      {}", approval.trace_id);
    if let Some(by) = &approval.decided_by {
        println!(
            "  decided by: {by} at {}{}",
            approval.decided_at.as_deref().unwrap_or("?"),
            approval
                .comment
                .as_deref()
                .map(|comment| format!(" ({comment})"))
                .unwrap_or_default()
        );
    }
    if let Some(result) = &approval.result {
        println!("  result:     {result}");
    }
    if let Some(steps) = approval.decision["trace"].as_array() {
        println!("  governor:");
        for step in steps {
            println!(
                "    {:<15} {:<5} {}",
                step["layer"].as_str().unwrap_or("?"),
                step["verdict"].as_str().unwrap_or("?"),
                step["detail"].as_str().unwrap_or("")
            );
        }
    }
}

/// `approvals approve ID --as NAME`: signs in, approves and runs the call.
pub fn approve(
    paths: &Paths,
    id: &str,
    name: &str,
    comment: Option<&str>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let agent = Agent::open(paths.agent_config()?)?;
    let approver = Passphrases::new().sign_in(&agent, name)?;
    let mut printer = Printer::new(json);
    let outcome = agent.approve(id, &approver, comment, &mut |event| printer.show(&event))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&outcome)?);
    } else {
        print_approval(&outcome.approval);
    }
    Ok(if outcome.approval.status == ApprovalStatus::Executed {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// `approvals deny ID --as NAME --comment WHY`.
pub fn deny(
    paths: &Paths,
    id: &str,
    name: &str,
    comment: &str,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let agent = Agent::open(paths.agent_config()?)?;
    let approver = Passphrases::new().sign_in(&agent, name)?;
    let approval = agent.deny(id, &approver, Some(comment))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&approval)?);
    } else {
        print_approval(&approval);
    }
    Ok(ExitCode::SUCCESS)
}

/// `users add NAME --role R… [--as ADMIN]`: the admin's passphrase first (with `--as`), then
/// the new account's (twice at a prompt).
pub fn add_user(
    paths: &Paths,
    name: &str,
    roles: &[String],
    admin: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let agent = Agent::open(paths.agent_config()?)?;
    let mut passphrases = Passphrases::new();
    let by = admin
        .map(|admin| passphrases.sign_in(&agent, admin))
        .transpose()?;
    let passphrase = passphrases.read(&format!("new passphrase for `{name}` (not shown): "))?;
    if io::stdin().is_terminal() {
        let again = passphrases.read("the same passphrase again: ")?;
        if *again != *passphrase {
            anyhow::bail!("the two passphrases differ; nothing was added");
        }
    }
    agent.add_account(name, roles, &passphrase, by.as_ref())?;
    println!("Added local account `{name}` with roles {roles:?}.");
    Ok(ExitCode::SUCCESS)
}

/// `users list`.
pub fn list_users(paths: &Paths, json: bool) -> anyhow::Result<ExitCode> {
    let agent = Agent::open(paths.agent_config()?)?;
    let accounts = agent.accounts()?;
    if json {
        println!("{}", serde_json::to_string_pretty(&accounts)?);
        return Ok(ExitCode::SUCCESS);
    }
    if accounts.is_empty() {
        println!("No local accounts. The first one must be an admin: `airlock users add NAME --role admin`.");
    }
    for account in &accounts {
        println!(
            "{:<16} roles {:?}  added {}{}",
            account.name,
            account.roles,
            account.created_at,
            account
                .locked_until
                .as_deref()
                .filter(|_| account.is_locked())
                .map(|until| format!("  LOCKED until {until}"))
                .unwrap_or_default()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `users remove NAME --as ADMIN`.
pub fn remove_user(paths: &Paths, name: &str, admin: &str) -> anyhow::Result<ExitCode> {
    let agent = Agent::open(paths.agent_config()?)?;
    let by = Passphrases::new().sign_in(&agent, admin)?;
    if agent.remove_account(name, &by)? {
        println!("Removed local account `{name}`.");
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("No local account `{name}` (`airlock users list` shows them).");
        Ok(ExitCode::FAILURE)
    }
}
