//! Named SAP and MES connections: settings in the store, the secret in the OS keychain, and
//! never shown again. The CLI (`airlock vault`) and the admin window share these rules; the
//! admin window's changes need an admin and are recorded.

use std::collections::BTreeMap;

use airlock_core::{EventKind, TraceId};
use airlock_store::{ConnectionRecord, Store};
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::{Agent, AgentError, Approver};

/// The settings each kind takes: (name, required).
const SAP_SETTINGS: &[(&str, bool)] = &[
    ("url", true),
    ("user", true),
    ("client", false),
    ("ca_file", false),
];
const MES_SETTINGS: &[(&str, bool)] = &[("dsn", true), ("user", true)];

/// Longest setting value.
const MAX_SETTING_CHARS: usize = 2_048;

/// A connection to add: its settings; the secret travels separately.
#[derive(Debug, Clone)]
pub struct NewConnection {
    /// Its name, e.g. `sap-prd` or `mes-line3`.
    pub name: String,
    /// `sap` or `mes`.
    pub kind: String,
    /// SAP: `url`, `user`, `client`, `ca_file`; MES: `dsn`, `user`. Empty values are left out.
    pub settings: BTreeMap<String, String>,
}

impl NewConnection {
    /// The record to store, once every setting is known for the kind, the required ones are
    /// there and none is oversized.
    ///
    /// # Errors
    /// [`AgentError::Admin`] saying which setting is wrong.
    pub fn validated(&self) -> Result<ConnectionRecord, AgentError> {
        let known = match self.kind.as_str() {
            "sap" => SAP_SETTINGS,
            "mes" => MES_SETTINGS,
            other => {
                return Err(AgentError::Admin(format!(
                    "the kind must be `sap` or `mes`, not `{other}`"
                )))
            }
        };
        let mut settings = Map::new();
        for (key, value) in &self.settings {
            let value = value.trim();
            if value.is_empty() {
                continue;
            }
            if !known.iter().any(|(name, _)| name == key) {
                let names: Vec<&str> = known.iter().map(|(name, _)| *name).collect();
                return Err(AgentError::Admin(format!(
                    "a {} connection has no setting `{key}`; it takes {}",
                    self.kind,
                    names.join(", ")
                )));
            }
            if value.chars().count() > MAX_SETTING_CHARS {
                return Err(AgentError::Admin(format!(
                    "setting `{key}` is longer than {MAX_SETTING_CHARS} characters"
                )));
            }
            settings.insert(key.clone(), Value::String(value.to_owned()));
        }
        if let Some((missing, _)) = known
            .iter()
            .find(|(name, required)| *required && !settings.contains_key(*name))
        {
            return Err(AgentError::Admin(format!(
                "a {} connection needs `{missing}`",
                self.kind
            )));
        }
        Ok(ConnectionRecord {
            name: self.name.clone(),
            kind: self.kind.clone(),
            settings,
        })
    }
}

/// A connection as listed: settings and whether its secret is there, never the secret.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectionView {
    /// Its name.
    pub name: String,
    /// `sap` or `mes`.
    pub kind: String,
    /// Its settings (no secret is ever among them).
    pub settings: Map<String, Value>,
    /// Whether the keychain holds its secret.
    pub secret_stored: bool,
    /// Where the secret is, or why it cannot be read and what to do.
    pub secret_detail: String,
}

/// What testing a connection found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnectionTest {
    /// Whether the system answered with the stored secret.
    pub ok: bool,
    /// What was done and what came back.
    pub detail: String,
}

/// Every stored connection with the state of its secret.
///
/// # Errors
/// [`AgentError::Store`].
pub fn list_connections(
    store: &Store,
    vault_service: &str,
) -> Result<Vec<ConnectionView>, AgentError> {
    Ok(views(vault_service, store.connections()?))
}

fn views(vault_service: &str, records: Vec<ConnectionRecord>) -> Vec<ConnectionView> {
    records
        .into_iter()
        .map(|record| {
            let (secret_stored, secret_detail) =
                platform::secret_state(vault_service, &record.name);
            ConnectionView {
                name: record.name,
                kind: record.kind,
                settings: record.settings,
                secret_stored,
                secret_detail,
            }
        })
        .collect()
}

/// Stores `new`'s settings and its secret; when the keychain refuses the secret, the settings
/// are taken back. Returns where the secret went.
///
/// # Errors
/// [`AgentError::Admin`] for bad settings, an empty secret or a keychain that refuses it;
/// [`AgentError::Store`] (e.g. a secret-like setting name).
pub fn save_connection(
    store: &Store,
    vault_service: &str,
    new: &NewConnection,
    secret: &str,
) -> Result<String, AgentError> {
    let record = new.validated()?;
    if secret.is_empty() {
        return Err(AgentError::Admin(format!(
            "the secret of `{}` is empty: type the password or token",
            new.name
        )));
    }
    store.put_connection(&record)?;
    match platform::store_secret(vault_service, &new.name, secret) {
        Ok(backend) => Ok(backend),
        Err(err) => {
            store.remove_connection(&new.name)?;
            Err(err)
        }
    }
}

/// Removes connection `name`'s settings and secret; returns whether there was anything.
///
/// # Errors
/// [`AgentError::Admin`] when the keychain cannot remove the secret; [`AgentError::Store`].
pub fn delete_connection(
    store: &Store,
    vault_service: &str,
    name: &str,
) -> Result<bool, AgentError> {
    let removed_secret = platform::remove_secret(vault_service, name)?;
    let removed_settings = store.remove_connection(name)?;
    Ok(removed_secret || removed_settings)
}

/// Logs in to connection `name` with its stored secret and reads one row.
///
/// # Errors
/// [`AgentError::Store`]; an unreachable system or a missing secret is a failed test, not an
/// error.
pub fn test_connection(
    store: &Store,
    vault_service: &str,
    name: &str,
) -> Result<ConnectionTest, AgentError> {
    Ok(test_record(vault_service, name, store.connection(name)?))
}

fn test_record(
    vault_service: &str,
    name: &str,
    record: Option<ConnectionRecord>,
) -> ConnectionTest {
    match record {
        Some(record) => platform::test(vault_service, &record),
        None => ConnectionTest {
            ok: false,
            detail: format!("no connection `{name}`: add it first"),
        },
    }
}

impl Agent {
    /// Every connection with the state of its secret.
    ///
    /// # Errors
    /// [`AgentError::Store`].
    pub fn connections(&self) -> Result<Vec<ConnectionView>, AgentError> {
        // The store is not held while the keychain answers.
        let records = self.store().connections()?;
        Ok(views(&self.config.vault_service, records))
    }

    /// Adds (or replaces) a connection as admin `by`, and records it (never the secret). The
    /// SAP and MES tools pick it up at the next start of the app.
    ///
    /// # Errors
    /// [`AgentError::Admin`] for a non-admin and as [`save_connection`].
    pub fn add_connection(
        &self,
        new: &NewConnection,
        secret: &str,
        by: &Approver,
    ) -> Result<ConnectionView, AgentError> {
        self.require_admin(by)?;
        let backend = save_connection(&self.store(), &self.config.vault_service, new, secret)?;
        let record = new.validated()?;
        self.record(
            &TraceId::new(),
            EventKind::ConnectionsChanged,
            json!({"added": record.name, "kind": record.kind, "settings": record.settings,
                   "secret_in": backend, "by": by.name, "os_user": self.principal()}),
        )?;
        Ok(ConnectionView {
            name: record.name,
            kind: record.kind,
            settings: record.settings,
            secret_stored: true,
            secret_detail: format!("secret in {backend}"),
        })
    }

    /// Removes a connection and its secret as admin `by`; returns whether it existed.
    ///
    /// # Errors
    /// [`AgentError::Admin`] for a non-admin and as [`delete_connection`].
    pub fn remove_connection(&self, name: &str, by: &Approver) -> Result<bool, AgentError> {
        self.require_admin(by)?;
        let removed = delete_connection(&self.store(), &self.config.vault_service, name)?;
        if removed {
            self.record(
                &TraceId::new(),
                EventKind::ConnectionsChanged,
                json!({"removed": name, "by": by.name, "os_user": self.principal()}),
            )?;
        }
        Ok(removed)
    }

    /// Tests connection `name` with its stored secret.
    ///
    /// # Errors
    /// [`AgentError::Store`].
    pub fn test_connection(&self, name: &str) -> Result<ConnectionTest, AgentError> {
        // The store is not held while the system is contacted.
        let record = self.store().connection(name)?;
        Ok(test_record(&self.config.vault_service, name, record))
    }
}

#[cfg(target_os = "linux")]
mod platform {
    use airlock_connectors::mes::Mes;
    use airlock_connectors::sap::{MaintenanceFilter, SapClient, SapConnection};
    use airlock_connectors::vault::{Secret, Vault, VaultError};
    use airlock_store::ConnectionRecord;
    use serde_json::Value;

    use super::ConnectionTest;
    use crate::AgentError;

    fn vault(service: &str) -> Vault {
        Vault::default().in_service(service)
    }

    pub(super) fn secret_state(service: &str, name: &str) -> (bool, String) {
        match vault(service).fetch(name) {
            Ok((_, backend)) => (true, format!("secret in {backend}")),
            Err(VaultError::NotFound(_)) => (
                false,
                "no secret stored: add the connection again".to_owned(),
            ),
            Err(err) => (false, format!("secret unavailable: {err}")),
        }
    }

    pub(super) fn store_secret(
        service: &str,
        name: &str,
        secret: &str,
    ) -> Result<String, AgentError> {
        vault(service)
            .store(name, &Secret::new(secret.to_owned()))
            .map(|backend| backend.to_string())
            .map_err(|err| AgentError::Admin(err.to_string()))
    }

    pub(super) fn remove_secret(service: &str, name: &str) -> Result<bool, AgentError> {
        vault(service)
            .remove(name)
            .map(|removed| !removed.is_empty())
            .map_err(|err| AgentError::Admin(err.to_string()))
    }

    pub(super) fn test(service: &str, record: &ConnectionRecord) -> ConnectionTest {
        let name = &record.name;
        let (secret, backend) = match vault(service).fetch(name) {
            Ok(found) => found,
            Err(err) => {
                return ConnectionTest {
                    ok: false,
                    detail: err.to_string(),
                }
            }
        };
        let setting = |key: &str| {
            record
                .settings
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let answer = if record.kind == "mes" {
            Mes::dsn_with_login(&setting("dsn"), &setting("user"), secret.expose())
                .query("SELECT 1 AS ok", 1)
                .map(|_| format!("MES `{name}` answers (secret from {backend})"))
                .map_err(|err| format!("MES `{name}`: {err}"))
        } else {
            SapConnection::from_settings(name, &record.settings)
                .and_then(SapClient::new)
                .and_then(|client| {
                    client.maintenance_orders(&secret, &MaintenanceFilter::default(), 1)
                })
                .map(|_| {
                    format!(
                        "SAP `{name}` answers: maintenance orders are readable (secret from {backend})"
                    )
                })
                .map_err(|err| format!("SAP `{name}`: {err}"))
        };
        match answer {
            Ok(detail) => ConnectionTest { ok: true, detail },
            Err(detail) => ConnectionTest { ok: false, detail },
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod platform {
    use airlock_store::ConnectionRecord;

    use super::ConnectionTest;
    use crate::AgentError;

    const UNSUPPORTED: &str = "connection secrets are kept in the Linux keychain; this build has no keychain backend for this OS";

    pub(super) fn secret_state(_: &str, _: &str) -> (bool, String) {
        (false, UNSUPPORTED.to_owned())
    }

    pub(super) fn store_secret(_: &str, _: &str, _: &str) -> Result<String, AgentError> {
        Err(AgentError::Admin(UNSUPPORTED.to_owned()))
    }

    pub(super) fn remove_secret(_: &str, _: &str) -> Result<bool, AgentError> {
        Ok(false)
    }

    pub(super) fn test(_: &str, _: &ConnectionRecord) -> ConnectionTest {
        ConnectionTest {
            ok: false,
            detail: UNSUPPORTED.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(kind: &str, settings: &[(&str, &str)]) -> NewConnection {
        NewConnection {
            name: "c1".to_owned(),
            kind: kind.to_owned(),
            settings: settings
                .iter()
                .map(|(key, value)| ((*key).to_owned(), (*value).to_owned()))
                .collect(),
        }
    }

    #[test]
    fn required_settings_are_checked_per_kind() {
        let err = new("sap", &[("url", "https://gw/sap")])
            .validated()
            .unwrap_err();
        assert!(err.to_string().contains("needs `user`"), "{err}");
        let err = new("mes", &[("dsn", "MES"), ("user", "")])
            .validated()
            .unwrap_err();
        assert!(err.to_string().contains("needs `user`"), "{err}");
        let record = new("mes", &[("dsn", " MES "), ("user", "reader")])
            .validated()
            .unwrap();
        assert_eq!(record.settings["dsn"], "MES");
    }

    #[test]
    fn unknown_settings_and_kinds_are_refused() {
        let err = new("mes", &[("dsn", "MES"), ("user", "u"), ("password", "x")])
            .validated()
            .unwrap_err();
        assert!(err.to_string().contains("no setting `password`"), "{err}");
        let err = new("ftp", &[]).validated().unwrap_err();
        assert!(err.to_string().contains("`sap` or `mes`"), "{err}");
    }

    #[test]
    fn an_empty_secret_stores_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let err = save_connection(
            &store,
            "airlock-test-unused",
            &new("mes", &[("dsn", "MES"), ("user", "u")]),
            "",
        )
        .unwrap_err();
        assert!(err.to_string().contains("empty"), "{err}");
        assert!(store.connections().unwrap().is_empty());
    }
}
