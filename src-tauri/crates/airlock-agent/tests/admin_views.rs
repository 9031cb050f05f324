//! The admin window's engine calls on a real agent (real policy directory copy, real SQLite
//! file, real governor): policy review and save, the playground, the test tables, the audit
//! viewer's queries and verification, conversations and approval targets. No model is needed.

use std::path::{Path, PathBuf};

use airlock_agent::{Agent, AgentConfig, AgentError, Approver, AuditFilter, PolicyEditError};
use serde_json::{json, Map, Value};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../..")
}

struct Fixture {
    _dirs: tempfile::TempDir,
    policy: PathBuf,
    agent: Agent,
}

/// An agent over a copy of the shipped policy (without attached MCP servers), as `principal`.
fn agent_as(principal: &str) -> Fixture {
    let dirs = tempfile::tempdir().unwrap();
    let policy = dirs.path().join("policy");
    std::fs::create_dir_all(policy.join("tests")).unwrap();
    for entry in std::fs::read_dir(repo().join("policy")).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if entry.path().is_file() && name != "mcp-servers.toml" {
            std::fs::copy(entry.path(), policy.join(&name)).unwrap();
        }
    }
    for entry in std::fs::read_dir(repo().join("policy/tests")).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), policy.join("tests").join(entry.file_name())).unwrap();
    }
    let mut config = AgentConfig::with_current_exe(
        dirs.path().join("data"),
        repo().join("models"),
        repo().join("fixtures"),
    )
    .unwrap();
    config.policy_dir.clone_from(&policy);
    config.principal = principal.to_owned();
    config.vault_service = "airlock-test-admin-views".to_owned();
    let agent = Agent::open(config).unwrap();
    Fixture {
        _dirs: dirs,
        policy,
        agent,
    }
}

fn admin() -> Approver {
    Approver {
        name: "ada".to_owned(),
        roles: vec!["admin".to_owned()],
    }
}

fn args(value: Value) -> Map<String, Value> {
    value.as_object().unwrap().clone()
}

fn syslog() -> Map<String, Value> {
    args(json!({"source": "syslog", "tail": 20}))
}

const FORBID_LOGS: &str = "\n@id(\"no-logs-for-viewers\")\n@reason(\"logs are off limits to viewers\")\nforbid (principal in Airlock::Role::\"viewer\", action == Airlock::Action::\"get_logs\", resource);\n";

#[test]
fn a_policy_edit_with_a_syntax_error_is_refused_with_its_line_and_nothing_changes() {
    let fixture = agent_as("root");
    let before = std::fs::read_to_string(fixture.policy.join("plant.cedar")).unwrap();
    let broken = format!("{before}\npermit (principal, action, resource) when {{ context. }};\n");
    let line = broken.lines().count();

    let review = fixture.agent.review_policy("plant.cedar", &broken).unwrap();
    assert!(
        review
            .problems
            .iter()
            .any(|p| p.file == "plant.cedar" && p.line == Some(line)),
        "the problem names the broken line {line}: {:?}",
        review.problems
    );
    assert!(review
        .diff
        .contains("+permit (principal, action, resource)"));

    let err = fixture
        .agent
        .save_policy("plant.cedar", &broken, &admin())
        .unwrap_err();
    assert!(
        matches!(&err, AgentError::PolicyEdit(inner) if matches!(**inner, PolicyEditError::Invalid(_))),
        "{err}"
    );
    assert!(
        err.to_string().contains(&format!("plant.cedar:{line}")),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(fixture.policy.join("plant.cedar")).unwrap(),
        before
    );
    let kinds: Vec<String> = fixture
        .agent
        .audit_events(&AuditFilter::default())
        .unwrap()
        .into_iter()
        .map(|row| row.kind)
        .collect();
    assert!(!kinds.contains(&"policy_changed".to_owned()));
}

#[test]
fn an_admin_saves_a_valid_edit_the_governor_uses_it_and_the_audit_log_records_who_and_what() {
    let fixture = agent_as("root");
    let before = fixture
        .agent
        .playground("victor", "get_logs", &syslog())
        .unwrap();
    assert!(before.is_allow(), "{before:?}");

    let text = std::fs::read_to_string(fixture.policy.join("plant.cedar")).unwrap() + FORBID_LOGS;
    let review = fixture.agent.review_policy("plant.cedar", &text).unwrap();
    assert!(review.problems.is_empty(), "{:?}", review.problems);

    let saved = fixture
        .agent
        .save_policy("plant.cedar", &text, &admin())
        .unwrap();
    assert!(saved.diff.contains("+@id(\"no-logs-for-viewers\")"));
    assert_eq!(
        std::fs::read_to_string(fixture.policy.join("plant.cedar")).unwrap(),
        text
    );
    let after = fixture
        .agent
        .playground("victor", "get_logs", &syslog())
        .unwrap();
    assert_eq!(after.outcome.name(), "deny");
    assert_eq!(after.deciding_rule.as_deref(), Some("no-logs-for-viewers"));

    let changes = fixture
        .agent
        .audit_events(&AuditFilter {
            principal: Some("ada".to_owned()),
            ..AuditFilter::default()
        })
        .unwrap();
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0].kind, "policy_changed");
    assert_eq!(changes[0].payload["file"], "plant.cedar");
    assert_eq!(changes[0].payload["sha256"], saved.sha256.as_str());
    let report = fixture.agent.verify_audit().unwrap();
    assert!(report.first_problem.is_none(), "{report:?}");
    assert!(report.rows_checked >= 1);
}

#[test]
fn only_admins_save_and_only_policy_files_can_be_edited() {
    let fixture = agent_as("root");
    let text = std::fs::read_to_string(fixture.policy.join("plant.cedar")).unwrap() + FORBID_LOGS;
    let operator = Approver {
        name: "olivia".to_owned(),
        roles: vec!["operator".to_owned()],
    };
    let err = fixture
        .agent
        .save_policy("plant.cedar", &text, &operator)
        .unwrap_err();
    assert!(err.to_string().contains("not an admin"), "{err}");

    for name in [
        "../plant.cedar",
        "mcp-servers.toml",
        "tests/01-roles-and-reads.toml",
        ".hidden.cedar",
    ] {
        let err = fixture.agent.review_policy(name, "x").unwrap_err();
        assert!(
            err.to_string().contains("not an editable policy file"),
            "{name}: {err}"
        );
    }
    let huge = "/".repeat(airlock_agent::MAX_POLICY_FILE_BYTES + 1);
    let err = fixture
        .agent
        .review_policy("plant.cedar", &huge)
        .unwrap_err();
    assert!(err.to_string().contains("split it"), "{err}");

    let names: Vec<String> = fixture
        .agent
        .policy_files()
        .unwrap()
        .into_iter()
        .map(|file| file.name)
        .collect();
    assert_eq!(
        names,
        [
            "airlock.cedarschema",
            "guards.toml",
            "plant.cedar",
            "principals.toml"
        ]
    );
}

#[test]
fn the_playground_leaves_the_live_governor_alone_and_the_test_tables_run() {
    let fixture = agent_as("root");
    for _ in 0..50 {
        let decision = fixture
            .agent
            .playground("olivia", "get_logs", &syslog())
            .unwrap();
        assert!(decision.is_allow(), "{decision:?}");
    }
    let results = fixture.agent.run_policy_tests().unwrap();
    assert!(results.len() > 20, "{}", results.len());
    let failed: Vec<_> = results.iter().filter(|case| !case.passed).collect();
    assert!(failed.is_empty(), "{failed:?}");
}

#[test]
fn an_approval_card_names_the_system_and_environment_the_call_lands_on() {
    let fixture = agent_as("root");
    let outcome = fixture
        .agent
        .call(
            "restart_service",
            args(json!({"service": "labelprintd", "system": "ops-dev"})),
            airlock_core::Mode::Execute,
            &mut |_| {},
        )
        .unwrap();
    let id = outcome.plan[0]
        .approval_id
        .clone()
        .expect("waits for approval");
    let pending = fixture.agent.pending_approvals().unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].approval.id, id);
    let target = pending[0].target.as_ref().unwrap();
    assert_eq!(target.system.as_deref(), Some("ops-dev"));
    assert_eq!(target.environment.as_deref(), Some("dev"));

    let conversations = fixture.agent.conversations().unwrap();
    assert_eq!(conversations.len(), 1);
    let messages = fixture
        .agent
        .conversation_messages(&conversations[0].id)
        .unwrap();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(fixture.agent.conversation_messages("nope").is_err());

    // The approver's decision comes back to the requester's conversation.
    let approver = |group: &str| Approver {
        name: "lee".to_owned(),
        roles: vec![group.to_owned()],
    };
    fixture
        .agent
        .deny(
            &id,
            &approver(&pending[0].approval.approver_group),
            Some("not during the shift"),
        )
        .unwrap();
    let messages = fixture
        .agent
        .conversation_messages(&conversations[0].id)
        .unwrap();
    assert_eq!(messages.len(), 3, "{messages:?}");
    assert_eq!(
        messages[2].content,
        "Denied by lee (\"not during the shift\"): `restart_service` will not run."
    );

    // A typed call can continue the conversation; an approved call's result is told there.
    let again = fixture
        .agent
        .call_in(
            Some(&conversations[0].id),
            "restart_service",
            args(json!({"service": "labelprintd", "system": "pkg-line3"})),
            airlock_core::Mode::Execute,
            &mut |_| {},
        )
        .unwrap();
    assert_eq!(again.audit.conversation_id, conversations[0].id);
    let second = again.plan[0]
        .approval_id
        .clone()
        .expect("waits for approval");
    let group = fixture.agent.approval(&second).unwrap().approver_group;
    fixture
        .agent
        .approve(
            &second,
            &approver(&group),
            Some("line is stopped"),
            &mut |_| {},
        )
        .unwrap();
    let messages = fixture
        .agent
        .conversation_messages(&conversations[0].id)
        .unwrap();
    assert_eq!(messages.len(), 6, "{messages:?}");
    let told = &messages[5].content;
    assert!(
        told.starts_with("Approved by lee (\"line is stopped\"): `restart_service` ran. Result: "),
        "{told}"
    );
    let unknown = fixture.agent.call_in(
        Some("no-such-conversation"),
        "get_logs",
        syslog(),
        airlock_core::Mode::Plan,
        &mut |_| {},
    );
    assert!(matches!(unknown, Err(AgentError::UnknownConversation(_))));
}
