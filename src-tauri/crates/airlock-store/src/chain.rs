//! The audit hash chain over the `events` table.
//!
//! Every row stores `prev_hash` (the `hash` of the row before it; 32 zero bytes for the first
//! row) and its own `hash`:
//!
//! ```text
//! hash = SHA-256( "airlock-audit-v1"
//!                 || prev_hash                        (32 bytes)
//!                 || u64be(8)            || i64be(seq)
//!                 || u64be(len created_at) || created_at   (UTF-8 text as stored)
//!                 || u64be(len trace_id)   || trace_id
//!                 || u64be(len kind)       || kind
//!                 || u64be(len payload)    || payload )     (the JSON text as stored)
//! ```
//!
//! Every field is length-prefixed, so no two different rows hash the same bytes. Editing any
//! column of any row, deleting, inserting or reordering rows breaks the chain at that row; the
//! verifier ([`crate::Store::verify_audit`]) finds the first such row.
//!
//! A chain on its own only proves the rows are consistent with each other: whoever can write the
//! file can also recompute every hash after the row they changed. Signed checkpoints
//! (`checkpoints` table) pin the hash of a row with a key the attacker does not have, so rows up
//! to the newest checkpoint cannot be rewritten, and rows after it cannot be dropped unnoticed.

use sha2::{Digest, Sha256};

/// The domain tag every row hash starts with.
pub(crate) const AUDIT_DOMAIN: &[u8] = b"airlock-audit-v1";

/// `prev_hash` of the first row.
pub(crate) const GENESIS: [u8; 32] = [0; 32];

/// The text columns a row hash covers, as stored.
#[derive(Clone, Copy)]
pub(crate) struct RowFields<'a> {
    pub(crate) created_at: &'a [u8],
    pub(crate) trace_id: &'a [u8],
    pub(crate) kind: &'a [u8],
    pub(crate) payload: &'a [u8],
}

/// The hash of row `seq` with `fields`, chained to `prev`.
pub(crate) fn row_hash(prev: &[u8; 32], seq: i64, fields: RowFields<'_>) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(AUDIT_DOMAIN);
    hasher.update(prev);
    hasher.update(8u64.to_be_bytes());
    hasher.update(seq.to_be_bytes());
    for field in [
        fields.created_at,
        fields.trace_id,
        fields.kind,
        fields.payload,
    ] {
        hasher.update((field.len() as u64).to_be_bytes());
        hasher.update(field);
    }
    hasher.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields<'a>(payload: &'a [u8]) -> RowFields<'a> {
        RowFields {
            created_at: b"2024-05-01T09:30:00.000Z",
            trace_id: b"t",
            kind: b"request_received",
            payload,
        }
    }

    #[test]
    fn every_input_changes_the_hash() {
        let base = row_hash(&GENESIS, 1, fields(b"{}"));
        assert_ne!(base, row_hash(&[1; 32], 1, fields(b"{}")));
        assert_ne!(base, row_hash(&GENESIS, 2, fields(b"{}")));
        assert_ne!(base, row_hash(&GENESIS, 1, fields(b"{ }")));
        assert_eq!(base, row_hash(&GENESIS, 1, fields(b"{}")));
    }

    #[test]
    fn moving_bytes_between_fields_changes_the_hash() {
        let a = RowFields {
            created_at: b"x",
            trace_id: b"ab",
            kind: b"c",
            payload: b"{}",
        };
        let b = RowFields {
            trace_id: b"a",
            kind: b"bc",
            ..a
        };
        assert_ne!(row_hash(&GENESIS, 1, a), row_hash(&GENESIS, 1, b));
    }
}
