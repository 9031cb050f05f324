//! Named connections to SAP and MES systems: kind and non-secret settings (URL, DSN, user,
//! client). Their secrets are never here: they live in the OS keychain. Settings whose keys
//! look like secrets are refused, so a mistake cannot put one in the database.

use rusqlite::{params, OptionalExtension};
use serde_json::{Map, Value};

use crate::{Store, StoreError};

/// A connection's stored settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionRecord {
    /// Its name, e.g. `mes-line3`.
    pub name: String,
    /// `sap` or `mes`.
    pub kind: String,
    /// URL, DSN, user, client… never a secret.
    pub settings: Map<String, Value>,
}

impl Store {
    /// Adds or replaces the connection `record.name`.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] when a setting's name looks like a secret (password, token,
    /// secret, key…) or the kind is not `sap`/`mes`; [`StoreError`] when SQLite fails.
    pub fn put_connection(&self, record: &ConnectionRecord) -> Result<(), StoreError> {
        if let Some(key) = record
            .settings
            .keys()
            .find(|key| crate::redact::is_secret_key(key))
        {
            return Err(StoreError::Invalid(format!(
                "setting `{key}` of connection `{}` looks like a secret; secrets go to the OS keychain (`airlock vault add` reads it from a prompt), never to the database",
                record.name
            )));
        }
        if !["sap", "mes"].contains(&record.kind.as_str()) {
            return Err(StoreError::Invalid(format!(
                "connection kind `{}` is not `sap` or `mes`",
                record.kind
            )));
        }
        self.conn
            .execute(
                "INSERT INTO connections (name, kind, settings) VALUES (?1, ?2, ?3)
                 ON CONFLICT (name) DO UPDATE SET kind = excluded.kind,
                     settings = excluded.settings,
                     updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
                params![
                    record.name,
                    record.kind,
                    Value::Object(record.settings.clone()).to_string()
                ],
            )
            .map_err(|err| self.error(err))?;
        Ok(())
    }

    /// The connection named `name`.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn connection(&self, name: &str) -> Result<Option<ConnectionRecord>, StoreError> {
        self.conn
            .query_row(
                "SELECT name, kind, settings FROM connections WHERE name = ?1",
                [name],
                record,
            )
            .optional()
            .map_err(|err| self.error(err))
    }

    /// Every connection, by name.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn connections(&self) -> Result<Vec<ConnectionRecord>, StoreError> {
        self.conn
            .prepare("SELECT name, kind, settings FROM connections ORDER BY name")
            .and_then(|mut stmt| stmt.query_map([], record)?.collect())
            .map_err(|err| self.error(err))
    }

    /// Deletes the connection `name`; returns whether it existed.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn remove_connection(&self, name: &str) -> Result<bool, StoreError> {
        self.conn
            .execute("DELETE FROM connections WHERE name = ?1", [name])
            .map(|n| n > 0)
            .map_err(|err| self.error(err))
    }
}

fn record(row: &rusqlite::Row<'_>) -> rusqlite::Result<ConnectionRecord> {
    let settings: String = row.get(2)?;
    let settings = serde_json::from_str::<Map<String, Value>>(&settings).map_err(|err| {
        rusqlite::Error::FromSqlConversionFailure(2, rusqlite::types::Type::Text, Box::new(err))
    })?;
    Ok(ConnectionRecord {
        name: row.get(0)?,
        kind: row.get(1)?,
        settings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn mes(settings: Value) -> ConnectionRecord {
        ConnectionRecord {
            name: "mes-line3".into(),
            kind: "mes".into(),
            settings: settings.as_object().unwrap().clone(),
        }
    }

    #[test]
    fn connections_round_trip_and_are_replaced_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store
            .put_connection(&mes(json!({"dsn": "MES3", "user": "airlock"})))
            .unwrap();
        store
            .put_connection(&mes(json!({"dsn": "MES3B", "user": "airlock"})))
            .unwrap();
        let all = store.connections().unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].settings["dsn"], "MES3B");
        assert!(store.remove_connection("mes-line3").unwrap());
        assert_eq!(store.connection("mes-line3").unwrap(), None);
    }

    #[test]
    fn a_setting_named_like_a_secret_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        for key in ["password", "api_key", "token", "client_secret"] {
            let err = store.put_connection(&mes(json!({ key: "x" }))).unwrap_err();
            assert!(err.to_string().contains("OS keychain"), "{key}: {err}");
        }
        assert!(store.connections().unwrap().is_empty());
    }
}
