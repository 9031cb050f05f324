//! `policy/guards.toml`: the configuration of every guard layer. Unknown keys are errors, so a
//! typo never silently disables a guard; every value has a default.

use std::collections::BTreeMap;

use airlock_core::Confidence;
use serde::Deserialize;

use crate::guards::command::CommandGuardConfig;
use crate::guards::config::ConfigGuardConfig;
use crate::guards::injection::{InjectionScreenConfig, PatternConfig};
use crate::guards::sql::SqlGuardConfig;

/// The whole of `guards.toml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GuardsConfig {
    /// When to ask instead of guessing.
    pub clarify: ClarifyConfig,
    /// Size limits on arguments.
    pub limits: LimitsConfig,
    /// Token buckets.
    pub rate_limits: RateLimitsConfig,
    /// The prompt-injection screen and its offender tracking.
    pub injection: InjectionConfig,
    /// Tainted values in sensitive parameters.
    pub taint: TaintConfig,
    /// Money amounts.
    pub amounts: AmountsConfig,
    /// Cumulative spend.
    pub budget: BudgetConfig,
    /// Patterns over a session's recent calls.
    pub sequence: SequenceConfig,
    /// The command guard (`run_command`).
    pub command: CommandGuardConfig,
    /// The SQL guard (MES queries).
    pub sql: SqlGuardConfig,
    /// The config guard (configuration writes).
    pub config: ConfigGuardConfig,
    /// How the governor reads each tool's arguments, by tool name.
    pub tools: BTreeMap<String, ToolRules>,
    /// Approval requests and the local accounts approvers sign in with.
    pub approvals: ApprovalsConfig,
    /// How this installation may be used.
    pub deployment: DeploymentConfig,
}

/// How this installation may be used.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DeploymentConfig {
    /// Plan mode only: nothing is executed, approved or rolled back. Default `false`.
    pub read_only: bool,
}

/// Approval requests and approvers' local accounts.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApprovalsConfig {
    /// A request nobody decided expires after this many minutes and never runs. Default 240.
    pub expire_after_minutes: u64,
    /// Wrong passphrases in a row that lock an account. Default 5.
    pub max_failed_passphrases: u32,
    /// How long a locked account stays locked, in minutes. Default 15.
    pub lockout_minutes: u64,
}

impl Default for ApprovalsConfig {
    fn default() -> Self {
        Self {
            expire_after_minutes: 240,
            max_failed_passphrases: 5,
            lockout_minutes: 15,
        }
    }
}

/// When the governor asks for clarification.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClarifyConfig {
    /// Intents the planner is less sure of than this get `Clarify`. Default `medium`.
    pub min_confidence: Confidence,
}

impl Default for ClarifyConfig {
    fn default() -> Self {
        Self {
            min_confidence: Confidence::Medium,
        }
    }
}

/// Size limits every call's arguments must respect, whatever the tool's schema says.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Bytes of the canonical JSON of all arguments. Default 16 KiB.
    pub max_args_bytes: usize,
    /// Characters of any single string argument. Default 4096.
    pub max_string_chars: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            max_args_bytes: 16 * 1024,
            max_string_chars: 4096,
        }
    }
}

/// One token bucket: up to `capacity` calls at once, refilled at `per_minute`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BucketConfig {
    /// Burst size.
    pub capacity: u32,
    /// Sustained calls per minute.
    pub per_minute: u32,
}

/// Token buckets per principal and per tool.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimitsConfig {
    /// Every principal's bucket. Default 20 at once, 20 per minute.
    pub principal: BucketConfig,
    /// Per principal and tool, for the tools listed.
    pub tools: BTreeMap<String, BucketConfig>,
}

impl Default for RateLimitsConfig {
    fn default() -> Self {
        Self {
            principal: BucketConfig {
                capacity: 20,
                per_minute: 20,
            },
            tools: BTreeMap::new(),
        }
    }
}

/// The injection screen's patterns and its offender tracking.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InjectionConfig {
    /// A second offence within this many minutes of the first blacklists. Default 60.
    pub warning_window_minutes: u32,
    /// How long a blacklisting lasts. Default 24.
    pub blacklist_hours: u32,
    /// Replaces the default patterns entirely when given.
    pub patterns: Option<Vec<PatternConfig>>,
    /// Shortest base64 or hex run that is decoded and screened. Default 16.
    pub min_encoded_length: Option<usize>,
}

impl Default for InjectionConfig {
    fn default() -> Self {
        Self {
            warning_window_minutes: 60,
            blacklist_hours: 24,
            patterns: None,
            min_encoded_length: None,
        }
    }
}

impl InjectionConfig {
    /// The screen's own configuration.
    #[must_use]
    pub fn screen(&self) -> InjectionScreenConfig {
        let defaults = InjectionScreenConfig::default();
        InjectionScreenConfig {
            patterns: self.patterns.clone().unwrap_or(defaults.patterns),
            min_encoded_length: self
                .min_encoded_length
                .unwrap_or(defaults.min_encoded_length),
        }
    }
}

/// What tainted values in sensitive parameters get.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaintAction {
    /// A human must approve.
    Approval,
    /// Refused.
    Deny,
}

/// Taint handling.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TaintConfig {
    /// Default `approval`.
    pub on_sensitive: TaintAction,
    /// Who approves tainted calls. Default `maintenance-leads`.
    pub approver: String,
}

impl Default for TaintConfig {
    fn default() -> Self {
        Self {
            on_sensitive: TaintAction::Approval,
            approver: "maintenance-leads".to_owned(),
        }
    }
}

/// Money amounts (integer cents).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AmountsConfig {
    /// Larger amounts are refused as absurd. Default 10,000,000 (100,000.00).
    pub max_cents: i64,
}

impl Default for AmountsConfig {
    fn default() -> Self {
        Self {
            max_cents: 10_000_000,
        }
    }
}

/// Cumulative spend per principal over a rolling window.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BudgetConfig {
    /// The rolling window. Default 90 days.
    pub window_days: u32,
    /// Budget of principals not listed. Default 300,000 (3,000.00).
    pub default_cents: i64,
    /// Budgets by principal.
    pub principals: BTreeMap<String, i64>,
}

impl Default for BudgetConfig {
    fn default() -> Self {
        Self {
            window_days: 90,
            default_cents: 300_000,
            principals: BTreeMap::new(),
        }
    }
}

impl BudgetConfig {
    /// The budget of `principal` in cents.
    #[must_use]
    pub fn limit_for(&self, principal: &str) -> i64 {
        self.principals
            .get(principal)
            .copied()
            .unwrap_or(self.default_cents)
    }
}

/// What a sequence rule does when it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SequenceAction {
    /// Refuse the call.
    Deny,
    /// Let the other layers decide, at critical risk.
    RaiseRisk,
}

/// Sequence rules.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SequenceConfig {
    /// How many recent calls per session are remembered. Default 20.
    pub history: usize,
    /// After this many denials in a row, the session's next call is denied. Default 3.
    pub max_consecutive_denials: usize,
    /// A write after a read from a restricted resource in the same session. Default `deny`.
    pub restricted_read_then_write: SequenceAction,
}

impl Default for SequenceConfig {
    fn default() -> Self {
        Self {
            history: 20,
            max_consecutive_denials: 3,
            restricted_read_then_write: SequenceAction::Deny,
        }
    }
}

/// Which guard checks a tool's arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GuardKind {
    /// The command guard, on the `command` argument.
    Command,
    /// The SQL guard, on the `sql` argument.
    Sql,
    /// The config guard, on the `key` and `value` arguments.
    Config,
}

/// What kind of entity a tool's resource is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceKind {
    /// A system from `principals.toml`'s `[systems]`.
    #[default]
    System,
    /// A document from `[documents]`.
    Document,
}

/// How the governor reads one tool's arguments.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ToolRules {
    /// The argument that names the target resource, if the tool has one.
    pub resource_param: Option<String>,
    /// The resource when the argument is absent.
    pub default_resource: Option<String>,
    /// What the resource is.
    pub resource_kind: ResourceKind,
    /// The argument that carries a money amount in integer cents.
    pub amount_param: Option<String>,
    /// Arguments a tainted value must not flow into without approval.
    pub sensitive: Vec<String>,
    /// The business guard that checks the arguments.
    pub guard: Option<GuardKind>,
}
