//! Business guards: deterministic checks for what Cedar does not express.

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
