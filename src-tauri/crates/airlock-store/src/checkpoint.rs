//! Signed checkpoints of the audit chain.
//!
//! A checkpoint is a row of the `checkpoints` table: a row's `seq` and `hash`, an Ed25519
//! signature over
//!
//! ```text
//! "airlock-audit-checkpoint-v1" || i64be(seq) || hash
//! ```
//!
//! and the public key that made it (the time it was written is stored but not signed). Because
//! every row's hash covers the whole chain before it, one valid signature vouches for every row
//! up to `seq`: rewriting any of them, even with every later hash recomputed, no longer matches
//! the signed hash, and deleting rows up to or past it shows as a truncation.
//!
//! With a signer set ([`Store::set_audit_signer`]), a checkpoint of the newest row is written in
//! the same transaction as the append that brings the unsigned rows to
//! [`crate::StoreOptions::checkpoint_every`] (default 1000), by [`Store::checkpoint`] on demand,
//! and when the [`Store`] is dropped with unsigned rows (best effort: a failure is logged).
//! Rows after the newest checkpoint are protected by the chain alone: someone who can write the
//! file can append rows there with correct hashes.

use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};

use crate::events::AppendError;
use crate::{clock, Store, StoreError};

/// The domain tag every checkpoint signature starts with.
pub(crate) const CHECKPOINT_DOMAIN: &[u8] = b"airlock-audit-checkpoint-v1";

/// The bytes a checkpoint signs.
pub(crate) fn checkpoint_message(seq: i64, hash: &[u8; 32]) -> Vec<u8> {
    let mut message = Vec::with_capacity(CHECKPOINT_DOMAIN.len() + 8 + 32);
    message.extend_from_slice(CHECKPOINT_DOMAIN);
    message.extend_from_slice(&seq.to_be_bytes());
    message.extend_from_slice(hash);
    message
}

/// Whether the rows up to `newest` include `every` or more after the newest checkpoint.
pub(crate) fn checkpoint_due(conn: &Connection, every: u64, newest: i64) -> rusqlite::Result<bool> {
    if every == 0 {
        return Ok(false);
    }
    let last: i64 = conn
        .prepare_cached("SELECT coalesce(max(seq), 0) FROM checkpoints")?
        .query_row([], |row| row.get(0))?;
    Ok(u64::try_from(newest.saturating_sub(last)).unwrap_or(0) >= every)
}

/// Signs and stores a checkpoint of row `seq` with `hash` (nothing when one exists for it).
pub(crate) fn write_checkpoint(
    conn: &Connection,
    key: &SigningKey,
    seq: i64,
    hash: &[u8; 32],
    created_at: &str,
) -> rusqlite::Result<()> {
    let signature = key.sign(&checkpoint_message(seq, hash));
    conn.prepare_cached(
        "INSERT OR IGNORE INTO checkpoints (seq, hash, signature, public_key, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        seq,
        &hash[..],
        &signature.to_bytes()[..],
        &key.verifying_key().to_bytes()[..],
        created_at
    ])?;
    tracing::debug!(seq, "audit checkpoint signed");
    Ok(())
}

impl Store {
    /// Sets the key that signs audit checkpoints from now on: every
    /// [`crate::StoreOptions::checkpoint_every`] rows, on [`Store::checkpoint`] and on drop.
    /// Keeping the key is the caller's job; give the verifier its [`VerifyingKey`].
    pub fn set_audit_signer(&mut self, key: SigningKey) {
        self.signer = Some(key);
    }

    /// The public half of the audit signer, if one is set.
    #[must_use]
    pub fn audit_public_key(&self) -> Option<VerifyingKey> {
        self.signer.as_ref().map(SigningKey::verifying_key)
    }

    /// Signs a checkpoint of the newest row now, unless it already has one, and returns that
    /// row's `seq` (`None` when the log is empty).
    ///
    /// # Errors
    /// [`StoreError::NoAuditSigner`] without a signer, [`StoreError::Locked`] or another
    /// [`StoreError`].
    pub fn checkpoint(&self) -> Result<Option<i64>, StoreError> {
        let key = self.signer.as_ref().ok_or(StoreError::NoAuditSigner)?;
        self.checkpoint_with(key)
            .map_err(|err| self.audit_error(err))
    }

    fn checkpoint_with(&self, key: &SigningKey) -> Result<Option<i64>, AppendError> {
        let tx = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        let newest = tx
            .prepare_cached("SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1")?
            .query_row([], |row| {
                let hash = <[u8; 32]>::try_from(row.get_ref(1)?.as_bytes()?).ok();
                Ok((row.get::<_, i64>(0)?, hash))
            })
            .optional()?;
        let Some((seq, hash)) = newest else {
            return Ok(None);
        };
        let hash = hash.ok_or_else(|| {
            StoreError::Malformed(format!(
                "audit row {seq} has no valid hash, so it cannot be signed. Run the audit \
                 verification and restore the database from a backup"
            ))
        })?;
        if checkpoint_due(&tx, 1, seq)? {
            write_checkpoint(&tx, key, seq, &hash, &clock::now())?;
            tx.commit()?;
        }
        Ok(Some(seq))
    }
}

impl Drop for Store {
    fn drop(&mut self) {
        if self.signer.is_none() || self.read_only {
            return;
        }
        if let Err(err) = self.checkpoint() {
            tracing::warn!(
                error = %err,
                path = %self.path.display(),
                "could not sign an audit checkpoint on close; the newest rows stay unsigned \
                 until the next checkpoint"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use airlock_core::{Event, EventKind, TraceId};
    use ed25519_dalek::{Signature, Verifier};
    use serde_json::json;

    use super::*;
    use crate::StoreOptions;

    fn event() -> Event {
        Event::new(
            &TraceId::new(),
            EventKind::ToolStarted,
            json!({"tool": "x"}),
        )
    }

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[42; 32])
    }

    type Stored = (i64, Vec<u8>, Vec<u8>, Vec<u8>);

    fn checkpoints(store: &Store) -> Vec<Stored> {
        store
            .conn
            .prepare("SELECT seq, hash, signature, public_key FROM checkpoints ORDER BY seq")
            .unwrap()
            .query_map([], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
            })
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    fn open(dir: &std::path::Path, every: u64) -> Store {
        let options = StoreOptions {
            checkpoint_every: every,
            ..StoreOptions::default()
        };
        let mut store = Store::open_with(dir, &options).unwrap();
        store.set_audit_signer(key());
        store
    }

    #[test]
    fn a_checkpoint_is_signed_every_n_rows_in_the_appending_transaction() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path(), 3);
        for _ in 0..7 {
            store.append_event(&event()).unwrap();
        }
        let seqs =
            |store: &Store| -> Vec<i64> { checkpoints(store).into_iter().map(|c| c.0).collect() };
        assert_eq!(seqs(&store), [3, 6]);
        // A batch that crosses the threshold signs its newest row.
        store
            .append_events(&(0..5).map(|_| event()).collect::<Vec<_>>())
            .unwrap();
        assert_eq!(seqs(&store), [3, 6, 12]);
        assert_eq!(store.checkpoint().unwrap(), Some(12));
        assert_eq!(seqs(&store), [3, 6, 12], "nothing new to sign");
        store.append_event(&event()).unwrap();
        assert_eq!(store.checkpoint().unwrap(), Some(13));
        assert_eq!(seqs(&store), [3, 6, 12, 13]);
    }

    #[test]
    fn checkpoints_sign_the_row_hash_with_the_signer_key() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path(), 2);
        store.append_event(&event()).unwrap();
        store.append_event(&event()).unwrap();
        let (seq, hash, signature, public_key) = checkpoints(&store).remove(0);
        let row_hash: Vec<u8> = store
            .conn
            .query_row("SELECT hash FROM events WHERE seq = ?1", [seq], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(hash, row_hash);
        assert_eq!(public_key, key().verifying_key().to_bytes());
        assert_eq!(store.audit_public_key(), Some(key().verifying_key()));
        let signature = Signature::from_slice(&signature).unwrap();
        let hash: [u8; 32] = hash.try_into().unwrap();
        key()
            .verifying_key()
            .verify(&checkpoint_message(seq, &hash), &signature)
            .unwrap();
        let triggers = store.conn.execute("DELETE FROM checkpoints", []);
        assert!(triggers.unwrap_err().to_string().contains("append-only"));
    }

    #[test]
    fn dropping_a_store_signs_its_unsigned_rows() {
        let dir = tempfile::tempdir().unwrap();
        let store = open(dir.path(), 1000);
        assert_eq!(store.checkpoint().unwrap(), None, "empty log");
        for _ in 0..4 {
            store.append_event(&event()).unwrap();
        }
        assert!(checkpoints(&store).is_empty());
        drop(store);
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(checkpoints(&store).len(), 1);
        assert_eq!(checkpoints(&store)[0].0, 4);
        // Without a signer nothing is signed, and asking for a checkpoint says what to do.
        store.append_event(&event()).unwrap();
        let err = store.checkpoint().unwrap_err();
        assert!(matches!(err, StoreError::NoAuditSigner), "{err}");
        assert!(err.to_string().contains("set_audit_signer"));
        drop(store);
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(checkpoints(&store).len(), 1);
    }
}
