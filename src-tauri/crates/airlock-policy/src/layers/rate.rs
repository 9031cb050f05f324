//! Layer 4: token buckets per principal and per principal and tool.

use std::collections::HashMap;

use time::OffsetDateTime;

use super::Finding;
use crate::config::{BucketConfig, RateLimitsConfig};
use crate::decision::{Layer, Risk};

/// One bucket's level at a point in time.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: OffsetDateTime,
}

impl Bucket {
    /// Refills up to `config.capacity` for the time since the last call, then takes one token
    /// if there is one. Returns the seconds until the next token when empty.
    fn take(&mut self, config: BucketConfig, now: OffsetDateTime) -> Result<(), f64> {
        let per_second = f64::from(config.per_minute) / 60.0;
        let elapsed = (now - self.at).as_seconds_f64().max(0.0);
        self.tokens = (self.tokens + elapsed * per_second).min(f64::from(config.capacity));
        self.at = self.at.max(now);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else if per_second > 0.0 {
            Err((1.0 - self.tokens) / per_second)
        } else {
            Err(f64::INFINITY)
        }
    }
}

/// Every bucket, keyed by principal and optional tool.
#[derive(Debug, Default)]
pub(crate) struct Buckets {
    buckets: HashMap<(String, Option<String>), Bucket>,
}

impl Buckets {
    /// Takes one token from `principal`'s bucket and, when the tool has its own limit, from the
    /// principal's bucket for `tool`. Nothing is taken unless both have a token.
    pub fn check(
        &mut self,
        config: &RateLimitsConfig,
        principal: &str,
        tool: &str,
        now: OffsetDateTime,
    ) -> Finding {
        let mut limits = vec![(None, config.principal, "rate.principal".to_owned())];
        if let Some(tool_config) = config.tools.get(tool) {
            limits.push((
                Some(tool.to_owned()),
                *tool_config,
                format!("rate.tool.{tool}"),
            ));
        }
        let mut taken = Vec::new();
        for (tool_key, bucket_config, rule) in limits {
            let key = (principal.to_owned(), tool_key);
            let bucket = self.buckets.entry(key.clone()).or_insert(Bucket {
                tokens: f64::from(bucket_config.capacity),
                at: now,
            });
            let before = *bucket;
            if let Err(wait) = bucket.take(bucket_config, now) {
                *bucket = before;
                for (key, previous) in taken {
                    self.buckets.insert(key, previous);
                }
                let scope = match &rule[..] {
                    "rate.principal" => format!("`{principal}`"),
                    _ => format!("`{principal}` on `{tool}`"),
                };
                let wait = if wait.is_finite() {
                    format!("try again in {} s", wait.ceil())
                } else {
                    "this limit does not refill".to_owned()
                };
                return Finding::deny(
                    Layer::RateLimit,
                    rule,
                    format!(
                        "rate limit for {scope}: {} calls at once, {} per minute; {wait}",
                        bucket_config.capacity, bucket_config.per_minute
                    ),
                    Risk::Medium,
                );
            }
            taken.push((key, before));
        }
        Finding::pass(Layer::RateLimit, "within the rate limits", Risk::Low)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use time::Duration;

    use super::*;
    use crate::decision::Verdict;

    fn config() -> RateLimitsConfig {
        RateLimitsConfig {
            principal: BucketConfig {
                capacity: 3,
                per_minute: 60,
            },
            tools: BTreeMap::from([(
                "restart_service".to_owned(),
                BucketConfig {
                    capacity: 1,
                    per_minute: 1,
                },
            )]),
        }
    }

    #[test]
    fn a_burst_beyond_capacity_is_denied_then_refills() {
        let mut buckets = Buckets::default();
        let t0 = OffsetDateTime::UNIX_EPOCH;
        for _ in 0..3 {
            assert_eq!(
                buckets
                    .check(&config(), "olivia", "get_logs", t0)
                    .step
                    .verdict,
                Verdict::Pass
            );
        }
        let denied = buckets.check(&config(), "olivia", "get_logs", t0);
        assert_eq!(denied.step.rules, ["rate.principal"]);
        assert!(
            denied.step.detail.contains("try again in 1 s"),
            "{}",
            denied.step.detail
        );
        let later = t0 + Duration::seconds(1);
        assert_eq!(
            buckets
                .check(&config(), "olivia", "get_logs", later)
                .step
                .verdict,
            Verdict::Pass
        );
    }

    #[test]
    fn principals_have_separate_buckets() {
        let mut buckets = Buckets::default();
        let t0 = OffsetDateTime::UNIX_EPOCH;
        for _ in 0..3 {
            buckets.check(&config(), "olivia", "get_logs", t0);
        }
        assert_eq!(
            buckets
                .check(&config(), "victor", "get_logs", t0)
                .step
                .verdict,
            Verdict::Pass
        );
    }

    #[test]
    fn a_tool_limit_denies_without_spending_the_principal_token() {
        let mut buckets = Buckets::default();
        let t0 = OffsetDateTime::UNIX_EPOCH;
        assert_eq!(
            buckets
                .check(&config(), "olivia", "restart_service", t0)
                .step
                .verdict,
            Verdict::Pass
        );
        let denied = buckets.check(&config(), "olivia", "restart_service", t0);
        assert_eq!(denied.step.rules, ["rate.tool.restart_service"]);
        // One token went to the first restart; the denied one gave its token back.
        assert_eq!(
            buckets
                .check(&config(), "olivia", "get_logs", t0)
                .step
                .verdict,
            Verdict::Pass
        );
        assert_eq!(
            buckets
                .check(&config(), "olivia", "get_logs", t0)
                .step
                .verdict,
            Verdict::Pass
        );
        assert_eq!(
            buckets
                .check(&config(), "olivia", "get_logs", t0)
                .step
                .verdict,
            Verdict::Deny
        );
    }

    #[test]
    fn a_clock_that_goes_backwards_does_not_mint_tokens() {
        let mut buckets = Buckets::default();
        let t0 = OffsetDateTime::UNIX_EPOCH + Duration::hours(1);
        for _ in 0..3 {
            buckets.check(&config(), "olivia", "get_logs", t0);
        }
        let earlier = t0 - Duration::minutes(30);
        assert_eq!(
            buckets
                .check(&config(), "olivia", "get_logs", earlier)
                .step
                .verdict,
            Verdict::Deny
        );
    }
}
