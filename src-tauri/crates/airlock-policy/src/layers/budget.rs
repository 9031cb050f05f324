//! Layer 9: cumulative spend per principal over a rolling window (pending and approved
//! requests count), read from the spend ledger. Fails closed when the ledger cannot be read.

use time::{Duration, OffsetDateTime};

use super::Finding;
use crate::config::BudgetConfig;
use crate::decision::{Layer, Risk};
use crate::ledger::Ledger;

/// Checks that `amount_cents` fits in what is left of `principal`'s budget at `now`.
pub(crate) fn check(
    config: &BudgetConfig,
    ledger: &dyn Ledger,
    principal: &str,
    amount_cents: i64,
    now: OffsetDateTime,
) -> Finding {
    let since = now - Duration::days(i64::from(config.window_days));
    let spent = match ledger.spent_cents(principal, since) {
        Ok(spent) => spent,
        Err(err) => {
            return Finding::deny(
                Layer::Budget,
                "budget.ledger_unavailable",
                format!("{err}; no spending is allowed until it can be read"),
                Risk::High,
            )
        }
    };
    let limit = config.limit_for(principal);
    let total = spent.saturating_add(amount_cents);
    let summary = format!(
        "{} spent or pending in the last {} days + {} requested = {} of a {} budget",
        money(spent),
        config.window_days,
        money(amount_cents),
        money(total),
        money(limit)
    );
    if total > limit {
        Finding::deny(
            Layer::Budget,
            "budget.window_exceeded",
            format!("over budget: {summary}; ask a plant manager to raise the budget or wait until earlier spending leaves the window"),
            Risk::High,
        )
    } else {
        Finding::pass(Layer::Budget, summary, Risk::Low)
    }
}

/// Cents as `1,234.56`.
pub(crate) fn money(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let cents = cents.unsigned_abs();
    let whole = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    format!("{sign}{grouped}.{:02}", cents % 100)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decision::Verdict;
    use crate::ledger::{LedgerError, MemoryLedger, Standing};

    fn config() -> BudgetConfig {
        BudgetConfig {
            window_days: 90,
            default_cents: 100_000,
            ..BudgetConfig::default()
        }
    }

    #[test]
    fn requests_that_pass_alone_fail_together() {
        let ledger = MemoryLedger::default();
        let now = OffsetDateTime::UNIX_EPOCH + Duration::days(365);
        assert_eq!(
            check(&config(), &ledger, "olivia", 60_000, now)
                .step
                .verdict,
            Verdict::Pass
        );
        ledger.record("olivia", now - Duration::days(10), 60_000);
        let finding = check(&config(), &ledger, "olivia", 60_000, now);
        assert_eq!(finding.step.rules, ["budget.window_exceeded"]);
        assert!(
            finding.step.detail.contains("600.00"),
            "{}",
            finding.step.detail
        );
    }

    #[test]
    fn spending_older_than_the_window_no_longer_counts() {
        let ledger = MemoryLedger::default();
        let now = OffsetDateTime::UNIX_EPOCH + Duration::days(365);
        ledger.record("olivia", now - Duration::days(91), 90_000);
        assert_eq!(
            check(&config(), &ledger, "olivia", 60_000, now)
                .step
                .verdict,
            Verdict::Pass
        );
        ledger.record("olivia", now - Duration::days(90), 90_000);
        assert_eq!(
            check(&config(), &ledger, "olivia", 60_000, now)
                .step
                .verdict,
            Verdict::Deny
        );
    }

    #[test]
    fn an_unreadable_ledger_denies() {
        struct Broken;
        impl Ledger for Broken {
            fn spent_cents(&self, _: &str, _: OffsetDateTime) -> Result<i64, LedgerError> {
                Err(LedgerError("database is locked".to_owned()))
            }
            fn standing(&self, _: &str) -> Result<Standing, LedgerError> {
                Err(LedgerError("database is locked".to_owned()))
            }
            fn set_standing(&self, _: &str, _: &Standing) -> Result<(), LedgerError> {
                Err(LedgerError("database is locked".to_owned()))
            }
        }
        let finding = check(&config(), &Broken, "olivia", 1, OffsetDateTime::UNIX_EPOCH);
        assert_eq!(finding.step.rules, ["budget.ledger_unavailable"]);
    }

    #[test]
    fn money_is_grouped_with_two_decimals() {
        assert_eq!(money(123_456_789), "1,234,567.89");
        assert_eq!(money(5), "0.05");
        assert_eq!(money(-100), "-1.00");
    }
}
