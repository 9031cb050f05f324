//! Layer 2: the tool is one the governor knows and on the principal's allowlist (its roles'
//! tools, narrowed by its agent profile). An attached MCP server's tool is on it when
//! `external_tool` is.

use std::collections::BTreeMap;

use airlock_core::ToolSpec;

use super::Finding;
use crate::decision::{Layer, Risk};
use crate::directory::{Directory, Member};

/// Checks that `tool` exists in `tools` and that `member` may call it.
pub(crate) fn check<'t, T: AsRef<ToolSpec>>(
    directory: &Directory,
    tools: &'t BTreeMap<String, T>,
    principal: &str,
    member: &Member,
    tool: &str,
) -> Result<(&'t T, Finding), Finding> {
    let Some(governed) = tools.get(tool) else {
        return Err(Finding::deny(
            Layer::Allowlist,
            "allowlist.unknown_tool",
            format!(
                "there is no tool `{tool}`; the tools are: {}",
                tools.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
            Risk::Medium,
        ));
    };
    let allowed = directory.allowed_tools(member);
    if !allowed.contains(crate::cedar_action(governed.as_ref())) {
        let rule = if member.tools.is_some() {
            "allowlist.agent_profile"
        } else {
            "allowlist.role"
        };
        return Err(Finding::deny(
            Layer::Allowlist,
            rule,
            format!(
                "`{principal}` may not use `{tool}`; its tools are: {}",
                if allowed.is_empty() {
                    "none".to_owned()
                } else {
                    allowed.into_iter().collect::<Vec<_>>().join(", ")
                }
            ),
            Risk::Medium,
        ));
    }
    Ok((
        governed,
        Finding::pass(
            Layer::Allowlist,
            format!("`{tool}` is on `{principal}`'s allowlist"),
            Risk::Low,
        ),
    ))
}

#[cfg(test)]
mod tests {
    use airlock_core::ToolEffect;
    use serde_json::json;

    use super::*;
    use crate::decision::Verdict;

    #[derive(Debug)]
    struct Spec(ToolSpec);
    impl AsRef<ToolSpec> for Spec {
        fn as_ref(&self) -> &ToolSpec {
            &self.0
        }
    }

    fn tools() -> BTreeMap<String, Spec> {
        ["get_logs", "run_command"]
            .into_iter()
            .map(|name| {
                let spec = ToolSpec {
                    name: name.to_owned(),
                    description: String::new(),
                    parameters: json!({"type": "object"}),
                    effect: ToolEffect::Read,
                    target: airlock_core::ToolTarget::named_by_args(
                        airlock_core::SystemKind::Ops,
                        airlock_core::Classification::Internal,
                    ),
                };
                (name.to_owned(), Spec(spec))
            })
            .collect()
    }

    fn directory() -> Directory {
        toml::from_str(
            r#"
            [roles.viewer]
            tools = ["get_logs"]
            [roles.operator]
            member_of = ["viewer"]
            tools = ["run_command"]
            [users.olivia]
            roles = ["operator"]
            [users.nemo]
            [agents.bot]
            roles = ["operator"]
            tools = ["get_logs"]
            "#,
        )
        .unwrap()
    }

    #[test]
    fn allowed_tool_passes() {
        let dir = directory();
        let (_, olivia) = dir.principal("olivia").unwrap();
        let (_, finding) = check(&dir, &tools(), "olivia", olivia, "run_command").unwrap();
        assert_eq!(finding.step.verdict, Verdict::Pass);
    }

    #[test]
    fn unknown_tool_is_denied_and_the_real_tools_are_listed() {
        let dir = directory();
        let (_, olivia) = dir.principal("olivia").unwrap();
        let err = check(&dir, &tools(), "olivia", olivia, "format_disk").unwrap_err();
        assert_eq!(err.step.rules, ["allowlist.unknown_tool"]);
        assert!(err.step.detail.contains("get_logs, run_command"));
    }

    #[test]
    fn agent_profile_outside_its_list_is_denied() {
        let dir = directory();
        let (_, bot) = dir.principal("bot").unwrap();
        let err = check(&dir, &tools(), "bot", bot, "run_command").unwrap_err();
        assert_eq!(err.step.rules, ["allowlist.agent_profile"]);
    }

    #[test]
    fn principal_without_roles_may_use_nothing() {
        let dir = directory();
        let (_, nemo) = dir.principal("nemo").unwrap();
        let err = check(&dir, &tools(), "nemo", nemo, "get_logs").unwrap_err();
        assert_eq!(err.step.rules, ["allowlist.role"]);
        assert!(err.step.detail.contains("none"));
    }
}
