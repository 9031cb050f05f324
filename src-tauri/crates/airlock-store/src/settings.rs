//! Installation settings an admin changes while the app runs (e.g. the active model), as
//! key–value text. Never a secret: those live in the OS keychain.

use rusqlite::{params, OptionalExtension};

use crate::{Store, StoreError};

impl Store {
    /// The value of setting `key`, if set.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row("SELECT value FROM settings WHERE key = ?1", [key], |row| {
                row.get(0)
            })
            .optional()
            .map_err(|err| self.error(err))
    }

    /// Sets `key` to `value`.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] when the key looks like a secret's; [`StoreError`] when SQLite
    /// fails.
    pub fn set_setting(&self, key: &str, value: &str) -> Result<(), StoreError> {
        if crate::redact::is_secret_key(key) {
            return Err(StoreError::Invalid(format!(
                "setting `{key}` looks like a secret; secrets go to the OS keychain, never to the database"
            )));
        }
        self.conn
            .execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value,
                     updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
                params![key, value],
            )
            .map(drop)
            .map_err(|err| self.error(err))
    }
}

#[cfg(test)]
mod tests {
    use crate::Store;

    #[test]
    fn a_setting_is_replaced_and_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            assert_eq!(store.setting("active_model").unwrap(), None);
            store.set_setting("active_model", "a").unwrap();
            store.set_setting("active_model", "b").unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.setting("active_model").unwrap().as_deref(), Some("b"));
    }

    #[test]
    fn a_secret_looking_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let err = store.set_setting("sap_password", "x").unwrap_err();
        assert!(err.to_string().contains("keychain"), "{err}");
        assert_eq!(store.setting("sap_password").unwrap(), None);
    }
}
