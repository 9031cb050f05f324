//! What the sandbox runs: an argv vector, made only from a verified intent token that covers
//! the exact call.

use airlock_policy::guards::command::tokenize;
use airlock_policy::token::VerifiedIntent;
use serde_json::{Map, Value};

use crate::SandboxError;

/// The tool whose calls run in the sandbox.
pub const RUN_COMMAND: &str = "run_command";

/// A command the sandbox may run, with the grant that allows it. The only way to make one is
/// [`Job::run_command`], which needs a [`VerifiedIntent`]; running consumes the job.
#[derive(Debug)]
pub struct Job {
    argv: Vec<String>,
    grant: VerifiedIntent,
}

impl Job {
    /// The job for a `run_command` call with `args` (`{"command": "…"}`), allowed by `grant`.
    /// The command line is split into words the way the command guard split it; no shell
    /// ever sees it.
    ///
    /// # Errors
    /// [`SandboxError::NotAuthorized`] when `grant` is for another tool or other arguments;
    /// [`SandboxError::Config`] when the arguments hold no command.
    pub fn run_command(
        grant: VerifiedIntent,
        args: &Map<String, Value>,
    ) -> Result<Self, SandboxError> {
        if !grant.covers(RUN_COMMAND, args) {
            return Err(SandboxError::NotAuthorized(format!(
                "the intent token (decision {}) was issued for `{}` with other arguments, not for this `{RUN_COMMAND}` call",
                grant.decision_id(),
                grant.tool()
            )));
        }
        let command = args.get("command").and_then(Value::as_str).ok_or_else(|| {
            SandboxError::Config("`run_command` needs a string `command`".to_owned())
        })?;
        let argv = tokenize(command).map_err(|violation| {
            SandboxError::Config(format!(
                "the command cannot be split into words: {}",
                violation.message
            ))
        })?;
        if argv.is_empty() {
            return Err(SandboxError::Config("the command is empty".to_owned()));
        }
        Ok(Self { argv, grant })
    }

    /// The words the container runs.
    #[must_use]
    pub fn argv(&self) -> &[String] {
        &self.argv
    }

    /// The grant it runs under.
    #[must_use]
    pub fn grant(&self) -> &VerifiedIntent {
        &self.grant
    }
}
