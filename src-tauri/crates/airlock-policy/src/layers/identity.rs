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
        return Err(blacklisted(principal, until));
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

/// The denial of a blacklisted principal.
fn blacklisted(principal: &str, until: OffsetDateTime) -> Finding {
    Finding::deny(
        Layer::Identity,
        "identity.blacklisted",
        format!("`{principal}` is blacklisted until {until} after repeated prompt-injection attempts; ask an admin to review the audit log"),
        Risk::Critical,
    )
}

/// Admits `principal` with the roles and groups `stated` for it by a source an admin vouched
/// for (a batch file an admin runs) instead of its directory entry. Every stated role must be
/// one the directory defines; a blacklisting still applies.
pub(crate) fn check_asserted<'m>(
    directory: &Directory,
    principal: &str,
    stated: &'m Member,
    blacklisted_until: Option<OffsetDateTime>,
) -> Result<(PrincipalKind, &'m Member, Finding), Finding> {
    if let Some(unknown) = stated
        .roles
        .iter()
        .find(|role| !directory.roles.contains_key(*role))
    {
        let known: Vec<&str> = directory.roles.keys().map(String::as_str).collect();
        return Err(Finding::deny(
            Layer::Identity,
            "identity.unknown_role",
            format!(
                "`{principal}` is stated to hold the role `{unknown}`, which principals.toml does not define; the roles are: {}",
                known.join(", ")
            ),
            Risk::Medium,
        ));
    }
    if let Some(until) = blacklisted_until {
        return Err(blacklisted(principal, until));
    }
    let groups = if stated.groups.is_empty() {
        String::new()
    } else {
        format!(", groups {}", stated.groups.join(", "))
    };
    Ok((
        PrincipalKind::User,
        stated,
        Finding::pass(
            Layer::Identity,
            format!(
                "user `{principal}` with roles {}{groups}, as stated by a source an admin vouched for",
                stated.roles.join(", ")
            ),
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

    #[test]
    fn a_stated_identity_replaces_the_directory_entry_but_not_a_blacklisting() {
        let dir: Directory = toml::from_str(
            "[roles.viewer]\n[roles.operator]\nmember_of = [\"viewer\"]\n[users.olivia]\nroles = [\"operator\"]\n",
        )
        .unwrap();
        let stated = Member {
            roles: vec!["viewer".to_owned()],
            groups: vec!["finance".to_owned()],
            ..Member::default()
        };
        let (kind, member, finding) = check_asserted(&dir, "zoe", &stated, None).unwrap();
        assert_eq!(kind, PrincipalKind::User);
        assert_eq!(member.roles, ["viewer"]);
        assert!(finding.step.detail.contains("finance"));
        let until = OffsetDateTime::UNIX_EPOCH;
        let denied = check_asserted(&dir, "zoe", &stated, Some(until)).unwrap_err();
        assert_eq!(denied.step.rules, ["identity.blacklisted"]);
        let unknown = Member {
            roles: vec!["wizard".to_owned()],
            ..Member::default()
        };
        let denied = check_asserted(&dir, "zoe", &unknown, None).unwrap_err();
        assert_eq!(denied.step.rules, ["identity.unknown_role"]);
        assert!(denied.step.detail.contains("viewer"));
    }
}
