//! Each principal's standing with the governor's injection screen: the last warning and a
//! blacklisting, as RFC 3339 times. The governor reads it before deciding and writes it after
//! an offence, so a blacklisting survives a restart.

use rusqlite::{params, OptionalExtension};
use serde::Serialize;

use crate::{Store, StoreError};

/// A principal's last warning and blacklisting.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PrincipalStanding {
    /// When the principal was last warned (RFC 3339).
    pub warned_at: Option<String>,
    /// The request that warning was for.
    pub warned_for: Option<String>,
    /// Until when the principal is blacklisted (RFC 3339).
    pub blacklisted_until: Option<String>,
}

impl Store {
    /// The standing of `principal`, if one was ever recorded.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn principal_standing(
        &self,
        principal: &str,
    ) -> Result<Option<PrincipalStanding>, StoreError> {
        self.conn
            .prepare_cached(
                "SELECT warned_at, warned_for, blacklisted_until FROM principal_standing
                 WHERE principal = ?1",
            )
            .and_then(|mut stmt| {
                stmt.query_row([principal], |row| {
                    Ok(PrincipalStanding {
                        warned_at: row.get(0)?,
                        warned_for: row.get(1)?,
                        blacklisted_until: row.get(2)?,
                    })
                })
                .optional()
            })
            .map_err(|err| self.error(err))
    }

    /// Replaces the standing of `principal`.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails (e.g. [`StoreError::Locked`]).
    pub fn set_principal_standing(
        &self,
        principal: &str,
        standing: &PrincipalStanding,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO principal_standing (principal, warned_at, warned_for, blacklisted_until)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (principal) DO UPDATE SET
                     warned_at = excluded.warned_at, warned_for = excluded.warned_for,
                     blacklisted_until = excluded.blacklisted_until,
                     updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')",
                params![principal, standing.warned_at, standing.warned_for, standing.blacklisted_until],
            )
            .map_err(|err| self.error(err))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_standing_survives_reopening_and_can_be_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let blacklisted = PrincipalStanding {
            warned_at: None,
            warned_for: None,
            blacklisted_until: Some("2026-11-23T09:00:00Z".to_owned()),
        };
        {
            let store = Store::open(dir.path()).unwrap();
            assert_eq!(store.principal_standing("olivia").unwrap(), None);
            store
                .set_principal_standing("olivia", &blacklisted)
                .unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(
            store.principal_standing("olivia").unwrap(),
            Some(blacklisted)
        );
        let cleared = PrincipalStanding::default();
        store.set_principal_standing("olivia", &cleared).unwrap();
        assert_eq!(store.principal_standing("olivia").unwrap(), Some(cleared));
        assert_eq!(store.principal_standing("victor").unwrap(), None);
    }
}
