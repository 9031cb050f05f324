//! Local accounts: how an approver at a shared plant-floor machine proves who they are. The
//! store keeps each account's roles and its passphrase hash (an argon2id PHC string made by
//! the caller; never the passphrase), counts failed attempts and locks the account.

use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;

use crate::{clock, Store, StoreError};

/// A local account as listed (without its hash).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LocalAccount {
    /// The login name.
    pub name: String,
    /// Its roles and approver groups.
    pub roles: Vec<String>,
    /// Failed passphrase attempts since the last success.
    pub failed_attempts: u32,
    /// Locked until then (UTC, RFC 3339), after too many failures.
    pub locked_until: Option<String>,
    /// When it was added.
    pub created_at: String,
}

impl LocalAccount {
    /// Whether it is locked now.
    #[must_use]
    pub fn is_locked(&self) -> bool {
        self.locked_until
            .as_deref()
            .is_some_and(|until| until > clock::now().as_str())
    }
}

impl Store {
    /// Adds account `name` with `roles` and the PHC string `passphrase_hash`.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] when the account exists or the hash is not a PHC string;
    /// SQLite errors.
    pub fn add_account(
        &self,
        name: &str,
        roles: &[String],
        passphrase_hash: &str,
    ) -> Result<(), StoreError> {
        if !passphrase_hash.starts_with('$') {
            return Err(StoreError::Invalid(
                "a passphrase hash must be a PHC string; the passphrase itself is never stored"
                    .to_owned(),
            ));
        }
        let roles = serde_json::to_string(roles).unwrap_or_else(|_| "[]".to_owned());
        let inserted = self
            .conn
            .execute(
                "INSERT INTO local_accounts (name, roles, passphrase_hash) VALUES (?1, ?2, ?3)
                 ON CONFLICT (name) DO NOTHING",
                params![name, roles, passphrase_hash],
            )
            .map_err(|err| self.error(err))?;
        if inserted == 0 {
            return Err(StoreError::Invalid(format!(
                "account `{name}` exists; remove it first (`airlock users remove {name}`)"
            )));
        }
        Ok(())
    }

    /// Every account, by name.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn accounts(&self) -> Result<Vec<LocalAccount>, StoreError> {
        let mut statement = self
            .conn
            .prepare_cached(
                "SELECT name, roles, failed_attempts, locked_until, created_at
                 FROM local_accounts ORDER BY name",
            )
            .map_err(|err| self.error(err))?;
        let rows = statement
            .query_map([], account)
            .map_err(|err| self.error(err))?;
        rows.collect::<Result<_, _>>()
            .map_err(|err| self.error(err))
    }

    /// Account `name` with its passphrase hash.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn account_with_hash(
        &self,
        name: &str,
    ) -> Result<Option<(LocalAccount, String)>, StoreError> {
        self.conn
            .query_row(
                "SELECT name, roles, failed_attempts, locked_until, created_at, passphrase_hash
                 FROM local_accounts WHERE name = ?1",
                [name],
                |row| Ok((account(row)?, row.get(5)?)),
            )
            .optional()
            .map_err(|err| self.error(err))
    }

    /// Removes account `name`; returns whether it existed.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn remove_account(&self, name: &str) -> Result<bool, StoreError> {
        self.conn
            .execute("DELETE FROM local_accounts WHERE name = ?1", [name])
            .map(|removed| removed == 1)
            .map_err(|err| self.error(err))
    }

    /// Counts a failed passphrase for `name`; at `max_failures` the account is locked for
    /// `lockout_seconds` and the count starts again. Returns the account afterwards.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn record_failed_login(
        &self,
        name: &str,
        max_failures: u32,
        lockout_seconds: u64,
    ) -> Result<Option<LocalAccount>, StoreError> {
        let until = clock::later(lockout_seconds);
        self.conn
            .execute(
                "UPDATE local_accounts SET
                     failed_attempts = CASE WHEN failed_attempts + 1 >= ?2 THEN 0
                                            ELSE failed_attempts + 1 END,
                     locked_until = CASE WHEN failed_attempts + 1 >= ?2 THEN ?3
                                         ELSE locked_until END
                 WHERE name = ?1",
                params![name, max_failures.max(1), until],
            )
            .map_err(|err| self.error(err))?;
        Ok(self.account_with_hash(name)?.map(|(account, _)| account))
    }

    /// Clears `name`'s failed attempts and lock after a correct passphrase.
    ///
    /// # Errors
    /// SQLite errors.
    pub fn record_login(&self, name: &str) -> Result<(), StoreError> {
        self.conn
            .execute(
                "UPDATE local_accounts SET failed_attempts = 0, locked_until = NULL
                 WHERE name = ?1",
                [name],
            )
            .map_err(|err| self.error(err))?;
        Ok(())
    }
}

fn account(row: &Row<'_>) -> rusqlite::Result<LocalAccount> {
    let roles: String = row.get(1)?;
    Ok(LocalAccount {
        name: row.get(0)?,
        roles: serde_json::from_str(&roles).unwrap_or_default(),
        failed_attempts: row.get(2)?,
        locked_until: row.get(3)?,
        created_at: row.get(4)?,
    })
}
