//! Business guards: deterministic checks for what Cedar does not express.
//!
//! Each guard has one job, is built once from its section of `policy/guards.toml`, and answers
//! with a [`Violation`] (a stable rule id and a message saying what would be accepted):
//!
//! * [`command`]: a `run_command` command line, jailed under `/sim`;
//! * [`sql`]: one read-only `SELECT` for the MES, with a bounded `LIMIT`;
//! * [`injection`]: prompt-injection findings in text (plain and encoded);
//! * [`config`]: the key (and nested keys) of a `set_config`-style write.

pub mod command;
pub mod config;
pub mod injection;
pub mod sql;

pub use command::{CheckedCommand, CommandGuard, CommandGuardConfig};
pub use config::{ConfigGuard, ConfigGuardConfig};
pub use injection::{
    Finding, InjectionConfigError, InjectionScreen, InjectionScreenConfig, PatternConfig,
};
pub use sql::{CheckedSql, SqlGuard, SqlGuardConfig};

use serde::Serialize;

/// Why a guard refused a value: the rule that matched and a message that says what would be
/// accepted instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{rule}: {message}")]
pub struct Violation {
    /// Stable rule id, e.g. `command.metacharacter` or `sql.table_not_allowed`.
    pub rule: String,
    /// What is wrong and what to do instead.
    pub message: String,
}

impl Violation {
    /// A violation of `rule` explained by `message`.
    #[must_use]
    pub fn new(rule: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            rule: rule.into(),
            message: message.into(),
        }
    }
}
