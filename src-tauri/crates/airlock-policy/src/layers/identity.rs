//! Layer 1: the principal exists in the directory, is not blocked and is not blacklisted.

use time::OffsetDateTime;

use super::Finding;
use crate::decision::{Layer, Risk};
use crate::directory::{Directory, Member, PrincipalKind};

/// Looks `principal` up; `blacklisted_until` is the end of an active blacklisting, if any.
pub(crate) fn check<'d>(
    directory: &'d Directory,
    principal: &str,
    blacklisted_until: Option<OffsetDateTime>,
) -> Result<(PrincipalKind, &'d Member, Finding), Finding> {
    let Some((kind, member)) = directory.principal(principal) else {
        return Err(Finding::deny(
            Layer::Identity,
            "identity.unknown_principal",
            format!("`{principal}` is not a known user or agent profile; ask an admin to add it to principals.toml"),
            Risk::Medium,
        ));
    };
    if member.blocked {
        return Err(Finding::deny(
            Layer::Identity,
            "identity.blocked",
            format!("`{principal}` is blocked in principals.toml; ask an admin"),
            Risk::High,
        ));
    }
    if let Some(until) = blacklisted_until {
        return Err(Finding::deny(
            Layer::Identity,
            "identity.blacklisted",
            format!("`{principal}` is blacklisted until {until} after repeated prompt-injection attempts; ask an admin to review the audit log"),
            Risk::Critical,
        ));
    }
    let what = match kind {
        PrincipalKind::User => "user",
        PrincipalKind::Agent => "agent profile",
    };
    let roles = if member.roles.is_empty() {
        "no roles".to_owned()
    } else {
        format!("roles {}", member.roles.join(", "))
    };
    Ok((
        kind,
        member,
        Finding::pass(
            Layer::Identity,
            format!("{what} `{principal}` with {roles}"),
            Risk::Low,
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decision::Verdict;

    fn directory() -> Directory {
        toml::from_str(
            "[users.olivia]\nroles = [\"operator\"]\n[users.eve]\nblocked = true\n[agents.bot]\n",
        )
        .unwrap()
    }

    #[test]
    fn known_user_passes_and_is_described() {
        let (kind, _, finding) = check(&directory(), "olivia", None).unwrap();
        assert_eq!(kind, PrincipalKind::User);
        assert_eq!(finding.step.verdict, Verdict::Pass);
        assert!(finding.step.detail.contains("operator"));
    }

    #[test]
    fn unknown_principal_is_denied_with_the_next_step() {
        let err = check(&directory(), "mallory", None).unwrap_err();
        assert_eq!(err.step.rules, ["identity.unknown_principal"]);
        assert!(err.step.detail.contains("ask an admin"));
    }

    #[test]
    fn blocked_and_blacklisted_principals_are_denied() {
        let err = check(&directory(), "eve", None).unwrap_err();
        assert_eq!(err.step.rules, ["identity.blocked"]);
        let until = OffsetDateTime::UNIX_EPOCH;
        let err = check(&directory(), "bot", Some(until)).unwrap_err();
        assert_eq!(err.step.rules, ["identity.blacklisted"]);
        assert_eq!(err.step.risk, Risk::Critical);
    }
}
