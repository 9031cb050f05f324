//! Layer 8: business guards. The command guard for `run_command`, the SQL guard for MES
//! queries, the config guard for configuration writes, and amount sanity for anything that
//! moves money. (Environment isolation is a Cedar policy: `nothing-destructive-in-prod`.)

use serde_json::{Map, Value};

use super::Finding;
use crate::config::{AmountsConfig, GuardKind, ToolRules};
use crate::decision::{Layer, Risk};
use crate::guards::command::CommandGuard;
use crate::guards::config::ConfigGuard;
use crate::guards::sql::SqlGuard;
use crate::guards::Violation;

/// The compiled guards.
pub(crate) struct Guards {
    /// For `guard = "command"` tools.
    pub command: CommandGuard,
    /// For `guard = "sql"` tools.
    pub sql: SqlGuard,
    /// For `guard = "config"` tools.
    pub config: ConfigGuard,
}

/// Runs the tool's guard (if any) and the amount check (if the tool moves money).
pub(crate) fn check(
    guards: &Guards,
    amounts: &AmountsConfig,
    tool: &str,
    rules: &ToolRules,
    args: &Map<String, Value>,
) -> Finding {
    let mut passed = Vec::new();
    if let Some(kind) = rules.guard {
        match run_guard(guards, kind, args) {
            Ok(detail) => passed.push(detail),
            Err(violation) => {
                return Finding::deny(
                    Layer::BusinessGuards,
                    violation.rule,
                    violation.message,
                    Risk::High,
                )
            }
        }
    }
    if let Some(param) = &rules.amount_param {
        match amount(amounts, param, args.get(param)) {
            Ok(cents) => passed.push(format!(
                "amount {} within limits",
                super::budget::money(cents)
            )),
            Err(violation) => {
                return Finding::deny(
                    Layer::BusinessGuards,
                    violation.rule,
                    violation.message,
                    Risk::High,
                )
            }
        }
    }
    if passed.is_empty() {
        Finding::pass(
            Layer::BusinessGuards,
            format!("no business guard applies to `{tool}`"),
            Risk::Low,
        )
    } else {
        Finding::pass(Layer::BusinessGuards, passed.join("; "), Risk::Low)
    }
}

fn string_arg<'a>(
    args: &'a Map<String, Value>,
    name: &str,
    kind: &str,
) -> Result<&'a str, Violation> {
    args.get(name).and_then(Value::as_str).ok_or_else(|| {
        Violation::new(
            format!("{kind}.missing_argument"),
            format!("the {kind} guard needs a string argument `{name}`"),
        )
    })
}

fn run_guard(
    guards: &Guards,
    kind: GuardKind,
    args: &Map<String, Value>,
) -> Result<String, Violation> {
    match kind {
        GuardKind::Command => {
            let checked = guards
                .command
                .check(string_arg(args, "command", "command")?)?;
            Ok(format!(
                "command guard: `{}` with {} argument(s) allowed",
                checked.program,
                checked.args.len()
            ))
        }
        GuardKind::Sql => {
            let checked = guards.sql.check(string_arg(args, "sql", "sql")?)?;
            Ok(format!(
                "SQL guard: SELECT on {} allowed, runs as `{}`",
                checked.tables.join(", "),
                checked.sql
            ))
        }
        GuardKind::Config => {
            let key = string_arg(args, "key", "config")?;
            let value = args.get("value").unwrap_or(&Value::Null);
            guards.config.check(key, value)?;
            Ok(format!("config guard: key `{key}` allowed"))
        }
    }
}

/// The amount in integer cents, refused when missing, fractional, negative, zero or absurd.
pub(crate) fn amount(
    config: &AmountsConfig,
    param: &str,
    value: Option<&Value>,
) -> Result<i64, Violation> {
    let Some(value) = value else {
        return Err(Violation::new(
            "amount.missing",
            format!("`{param}` is required: the amount in integer cents"),
        ));
    };
    let Some(cents) = value.as_i64() else {
        let what = if value.is_number() {
            "not a whole number of cents"
        } else {
            "not a number"
        };
        return Err(Violation::new(
            "amount.not_integer_cents",
            format!(
                "`{param}` = {} is {what}; give the amount in integer cents (12.50 is 1250)",
                super::parameters::truncate(&value.to_string(), 40)
            ),
        ));
    };
    if cents <= 0 {
        return Err(Violation::new(
            "amount.not_positive",
            format!("`{param}` must be more than zero, not {cents}"),
        ));
    }
    if cents > config.max_cents {
        return Err(Violation::new(
            "amount.absurd",
            format!(
                "{} is above the {} limit for one request; split it or ask finance",
                super::budget::money(cents),
                super::budget::money(config.max_cents)
            ),
        ));
    }
    Ok(cents)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn amounts_must_be_positive_whole_cents_within_the_limit() {
        let config = AmountsConfig::default();
        assert_eq!(
            amount(&config, "amount_cents", Some(&json!(1250))).unwrap(),
            1250
        );
        for (value, rule) in [
            (None, "amount.missing"),
            (Some(json!(12.5)), "amount.not_integer_cents"),
            (Some(json!("1250")), "amount.not_integer_cents"),
            (Some(json!(-5)), "amount.not_positive"),
            (Some(json!(0)), "amount.not_positive"),
            (Some(json!(1e300)), "amount.not_integer_cents"),
            (Some(json!(u64::MAX)), "amount.not_integer_cents"),
            (Some(json!(10_000_001)), "amount.absurd"),
        ] {
            let err = amount(&config, "amount_cents", value.as_ref()).unwrap_err();
            assert_eq!(err.rule, rule, "{value:?}");
        }
    }
}
