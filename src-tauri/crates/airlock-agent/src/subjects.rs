//! One person's data-protection requests: everything Airlock holds about them as one document,
//! and their erasure by an admin. The audit log holds people's names only as keyed pseudonyms,
//! so erasure deletes the person's data and the key that links the pseudonym to them, and the
//! audit chain stays intact (airlock-store's `subjects` module explains the scheme and what
//! erasure cannot reach).

use airlock_store::{ErasureReport, SubjectExport};
use serde::Serialize;

use crate::{Agent, AgentError, Approver};

/// What erasing a person did, and what is left for the admin to do by hand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubjectErasure {
    /// What the store deleted and rewrote.
    pub report: ErasureReport,
    /// Where the person is still named outside the database, each with what to do.
    pub warnings: Vec<String>,
}

impl Agent {
    /// Everything the database holds about `name`: account (never its passphrase hash),
    /// conversations with their messages, documents added, approval requests made and
    /// decided, spends, standing, and every audit event naming them (names resolved).
    ///
    /// # Errors
    /// [`AgentError::Store`], with [`airlock_store::StoreError::UnknownSubject`] when nothing
    /// is recorded about `name`.
    pub fn subject_export(&self, name: &str) -> Result<SubjectExport, AgentError> {
        Ok(self.store().subject_export(name)?)
    }

    /// Erases `name` as the signed-in admin `admin` (recorded in the audit log under the
    /// admin's pseudonym): see [`airlock_store::Store::erase_subject`]. The policy directory is
    /// outside the database: when `principals.toml` still lists the person, or requests on
    /// this machine run as them, the erasure stands and [`SubjectErasure::warnings`] says what
    /// the admin must change, or the next request records them again.
    ///
    /// # Errors
    /// [`AgentError::Admin`] when `admin` is no admin; [`AgentError::Store`] for an unknown
    /// person, an admin erasing themselves, or a database failure (then nothing changed).
    pub fn erase_subject(
        &self,
        name: &str,
        admin: &Approver,
    ) -> Result<SubjectErasure, AgentError> {
        self.require_admin(admin)?;
        let report = self.store().erase_subject(name, &admin.name)?;
        let mut warnings = Vec::new();
        let policy = &self.config.policy_dir;
        match airlock_policy::PolicyBundle::load(policy) {
            Ok(bundle) if bundle.directory.principal(name).is_some() => warnings.push(format!(
                "`{name}` is still listed in {}: remove them there (an admin's policy edit), or \
                 their next request is admitted and recorded again, under a new pseudonym",
                policy.join("principals.toml").display()
            )),
            Ok(_) => {}
            Err(err) => warnings.push(format!(
                "the policy in {} did not load ({err}), so whether principals.toml still lists \
                 `{name}` is unknown: check it by hand",
                policy.display()
            )),
        }
        if self.principal() == name {
            warnings.push(format!(
                "requests on this machine run as `{name}` (the operating-system user or \
                 AIRLOCK_PRINCIPAL): the next one records them again under a new pseudonym"
            ));
        }
        tracing::info!(pseudonym = %report.pseudonym, by = %admin.name, "data subject erased");
        Ok(SubjectErasure { report, warnings })
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use airlock_core::Mode;
    use airlock_store::{ExportFormat, StoreError, IDENTITY_KEYS, KIND_IDENTITY_KEYS};
    use serde_json::{json, Map, Value};

    use super::*;
    use crate::AgentConfig;

    /// The requester: two letters, so no name is replaced inside free text and only identity
    /// keys can hide these names.
    const REQUESTER: &str = "qz";
    const ADMIN: &str = "mx";
    const APPROVER: &str = "lq";
    const PASS: &str = "a passphrase of some length";

    fn repo() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../..")
    }

    /// An agent over a copy of the shipped policy whose directory also lists `qz`, running as
    /// `qz`.
    fn agent() -> (tempfile::TempDir, Agent) {
        let dirs = tempfile::tempdir().unwrap();
        let policy = dirs.path().join("policy");
        std::fs::create_dir_all(&policy).unwrap();
        for entry in std::fs::read_dir(repo().join("policy")).unwrap() {
            let entry = entry.unwrap();
            if entry.path().is_file() && entry.file_name() != "mcp-servers.toml" {
                std::fs::copy(entry.path(), policy.join(entry.file_name())).unwrap();
            }
        }
        let principals = policy.join("principals.toml");
        let mut directory = std::fs::read_to_string(&principals).unwrap();
        directory.push_str(&format!(
            "\n[users.{REQUESTER}]\nroles = [\"operator\"]\ngroups = [\"line-3\"]\n"
        ));
        std::fs::write(&principals, directory).unwrap();
        let mut config = AgentConfig::with_current_exe(
            dirs.path().join("data"),
            repo().join("models"),
            repo().join("fixtures"),
        )
        .unwrap();
        config.policy_dir = policy;
        config.principal = REQUESTER.to_owned();
        config.vault_service = "airlock-test-subjects".to_owned();
        let agent = Agent::open(config).unwrap();
        (dirs, agent)
    }

    fn roles(roles: &[&str]) -> Vec<String> {
        roles.iter().map(|role| (*role).to_owned()).collect()
    }

    /// Accounts added and removed, a restart requested, refused to its requester and approved
    /// by the approver, a failed sign-in and a drill: most of what records people.
    fn history(agent: &Agent) -> Approver {
        agent
            .add_account(ADMIN, &roles(&["admin"]), PASS, None)
            .unwrap();
        let admin = agent.sign_in(ADMIN, PASS).unwrap();
        agent
            .add_account(APPROVER, &roles(&["maintenance-leads"]), PASS, Some(&admin))
            .unwrap();
        agent
            .add_account("tq", &roles(&["viewer"]), PASS, Some(&admin))
            .unwrap();
        assert!(agent.remove_account("tq", &admin).unwrap());
        assert!(agent.sign_in("zq", PASS).is_err());

        let args: Map<String, Value> = json!({"service": "labelprintd", "system": "pkg-line3"})
            .as_object()
            .unwrap()
            .clone();
        let outcome = agent
            .call("restart_service", args, Mode::Execute, &mut |_| {})
            .unwrap();
        let id = outcome.plan[0].approval_id.clone().expect("an approval");
        let own = Approver {
            name: REQUESTER.to_owned(),
            roles: roles(&["maintenance-leads"]),
        };
        assert!(agent.approve(&id, &own, None, &mut |_| {}).is_err());
        let approver = agent.sign_in(APPROVER, PASS).unwrap();
        agent
            .approve(&id, &approver, Some("fine"), &mut |_| {})
            .unwrap();
        agent.inject_fault("labelprintd", "down", "drill").unwrap();
        admin
    }

    /// `(kind, key path)` of every stored string that is exactly one of `names`.
    fn stored_names(agent: &Agent, names: &[&str]) -> Vec<String> {
        let mut export = Vec::new();
        agent
            .store()
            .export_audit(None, ExportFormat::Json, &mut export)
            .unwrap();
        let rows: Vec<Value> = serde_json::from_slice(&export).unwrap();
        let mut found = Vec::new();
        for row in rows {
            let stored: Value = match row.get("stored_payload") {
                Some(text) => serde_json::from_str(text.as_str().unwrap()).unwrap(),
                None => row["payload"].clone(),
            };
            let kind = row["kind"].as_str().unwrap().to_owned();
            walk(&stored, &kind, &mut |path, text| {
                if names.contains(&text) {
                    found.push(format!("{path} = {text:?}"));
                }
            });
        }
        found
    }

    fn walk(value: &Value, path: &str, found: &mut dyn FnMut(&str, &str)) {
        match value {
            Value::String(text) => found(path, text),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .for_each(|(i, item)| walk(item, &format!("{path}[{i}]"), found)),
            Value::Object(entries) => entries
                .iter()
                .for_each(|(key, item)| walk(item, &format!("{path}.{key}"), found)),
            _ => {}
        }
    }

    #[test]
    fn every_name_the_agent_records_is_stored_under_an_identity_key() {
        let (_dirs, agent) = agent();
        history(&agent);
        let names = [REQUESTER, ADMIN, APPROVER, "tq", "zq"];
        let found = stored_names(&agent, &names);
        assert!(
            found.is_empty(),
            "these audit fields hold a person's name in clear; add their keys to \
             airlock-store's IDENTITY_KEYS {IDENTITY_KEYS:?} or KIND_IDENTITY_KEYS \
             {KIND_IDENTITY_KEYS:?}: {found:#?}"
        );
        let kinds: Vec<String> = agent
            .audit_events(&airlock_store::AuditFilter::default())
            .unwrap()
            .into_iter()
            .map(|entry| entry.kind)
            .collect();
        for kind in [
            "accounts_changed",
            "approver_refused",
            "decision_made",
            "approval_requested",
            "approval_granted",
            "token_issued",
            "simulator_changed",
        ] {
            assert!(kinds.iter().any(|k| k == kind), "{kind} was recorded");
        }
    }

    #[test]
    fn an_admin_erases_an_approver_and_the_export_shows_what_there_was() {
        let (_dirs, agent) = agent();
        let admin = history(&agent);
        let export = agent.subject_export(APPROVER).unwrap();
        assert_eq!(export.approvals_decided.len(), 1);
        assert!(
            export
                .audit_events
                .iter()
                .any(|event| event.kind == "approval_granted"
                    && event.payload["approver"] == APPROVER)
        );

        let approver = agent.sign_in(APPROVER, PASS).unwrap();
        let refused = agent.erase_subject(REQUESTER, &approver).unwrap_err();
        assert!(matches!(refused, AgentError::Admin(_)), "{refused}");

        let erased = agent.erase_subject(APPROVER, &admin).unwrap();
        assert!(erased.report.account_deleted);
        assert!(erased.warnings.is_empty(), "{:?}", erased.warnings);
        let approvals = agent.approvals(None).unwrap();
        assert_eq!(
            approvals[0].decided_by.as_deref(),
            Some(erased.report.pseudonym.as_str())
        );
        assert!(agent.store().verify_audit(&[]).unwrap().is_intact());
        assert!(matches!(
            agent.subject_export(APPROVER),
            Err(AgentError::Store(StoreError::UnknownSubject { .. }))
        ));

        let listed = agent.erase_subject(REQUESTER, &admin).unwrap();
        assert_eq!(listed.warnings.len(), 2, "{:?}", listed.warnings);
        assert!(listed.warnings[0].contains("principals.toml"));
        assert!(listed.warnings[1].contains("run as `qz`"));
    }
}
