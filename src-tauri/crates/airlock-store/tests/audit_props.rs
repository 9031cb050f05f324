//! Property tests: the verifier finds every single tampering of a small signed log at the row
//! it happened to (or the first row it affected), and never flags an untouched log.
//!
//! Tampering goes around the append-only triggers the way someone with the file and a SQLite
//! shell would: through a second connection that drops the triggers (and ignores CHECK
//! constraints) first.

use std::path::Path;

use airlock_core::{Event, EventKind, TraceId};
use airlock_store::{AuditProblemKind, AuditReport, Store, StoreOptions, DATABASE_FILE};
use ed25519_dalek::SigningKey;
use proptest::prelude::*;
use rusqlite::{params, Connection};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

fn key() -> SigningKey {
    SigningKey::from_bytes(&[3; 32])
}

const KINDS: [EventKind; 4] = [
    EventKind::RequestReceived,
    EventKind::PlanProposed,
    EventKind::ToolFinished,
    EventKind::AnswerGenerated,
];

fn payload() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        any::<i64>().prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        "[ -~]{0,24}".prop_map(Value::from),
        "\\PC{0,8}".prop_map(Value::from),
    ];
    prop::collection::vec(("[a-z_]{1,10}", leaf), 0..5)
        .prop_map(|entries| Value::Object(entries.into_iter().collect::<Map<_, _>>()))
}

/// A log: the events, how they were split into append calls, and the checkpoint interval.
#[derive(Debug, Clone)]
struct Log {
    events: Vec<(usize, Value)>,
    batch_sizes: Vec<usize>,
    checkpoint_every: u64,
}

fn log() -> impl Strategy<Value = Log> {
    (
        prop::collection::vec((0..KINDS.len(), payload()), 1..=40),
        prop::collection::vec(1..=6usize, 1..=40),
        0..=8u64,
    )
        .prop_map(|(events, batch_sizes, checkpoint_every)| Log {
            events,
            batch_sizes,
            checkpoint_every,
        })
}

/// Writes `log` and closes the store (which signs a checkpoint of the last row).
fn write(dir: &Path, log: &Log) {
    let options = StoreOptions {
        checkpoint_every: log.checkpoint_every,
        ..StoreOptions::default()
    };
    let mut store = Store::open_with(dir, &options).unwrap();
    store.set_audit_signer(key());
    let trace = TraceId::new();
    let events: Vec<Event> = log
        .events
        .iter()
        .map(|(kind, payload)| Event::new(&trace, KINDS[*kind], payload.clone()))
        .collect();
    let mut rest = events.as_slice();
    let mut sizes = log.batch_sizes.iter().cycle();
    while !rest.is_empty() {
        let size = (*sizes.next().unwrap()).min(rest.len());
        let (batch, tail) = rest.split_at(size);
        if size == 1 {
            store.append_event(&batch[0]).unwrap();
        } else {
            store.append_events(batch).unwrap();
        }
        rest = tail;
    }
}

fn verify(dir: &Path) -> AuditReport {
    Store::open_read_only(dir)
        .unwrap()
        .verify_audit(&[key().verifying_key()])
        .unwrap()
}

/// The hash of a row, written from the documented format rather than the crate's code.
fn row_hash(prev: &[u8], seq: i64, fields: [&[u8]; 4]) -> Vec<u8> {
    let mut hasher = Sha256::new();
    hasher.update(b"airlock-audit-v1");
    hasher.update(prev);
    hasher.update(8u64.to_be_bytes());
    hasher.update(seq.to_be_bytes());
    for field in fields {
        hasher.update((field.len() as u64).to_be_bytes());
        hasher.update(field);
    }
    hasher.finalize().to_vec()
}

/// A connection that can do what the triggers and constraints forbid.
fn tamperer(dir: &Path) -> Connection {
    let conn = Connection::open(dir.join(DATABASE_FILE)).unwrap();
    conn.execute_batch(
        "PRAGMA ignore_check_constraints = ON;
         DROP TRIGGER events_are_append_only_update;
         DROP TRIGGER events_are_append_only_delete;",
    )
    .unwrap();
    conn
}

const COLUMNS: [&str; 6] = [
    "created_at",
    "trace_id",
    "kind",
    "payload",
    "prev_hash",
    "hash",
];

#[derive(Debug, Clone)]
enum Mutation {
    /// XOR one byte of one column of one row with a non-zero mask.
    FlipByte {
        row: usize,
        column: usize,
        byte: usize,
        mask: u8,
    },
    /// Renumber a row past the end.
    MoveSeq {
        row: usize,
    },
    Delete {
        row: usize,
    },
    /// Shift the rows from `at` up by one and put a correctly hashed forged row there. (At the
    /// very end such a row is indistinguishable from a real append: the documented limit.)
    Insert {
        at: usize,
    },
    /// Swap everything but `seq` between two rows.
    Swap {
        a: usize,
        b: usize,
    },
    /// Delete every row after the first `keep` and reset sqlite_sequence to match.
    Truncate {
        keep: usize,
    },
}

fn mutation(rows: usize) -> impl Strategy<Value = Mutation> {
    let row = 0..rows;
    prop_oneof![
        (row.clone(), 0..COLUMNS.len(), any::<usize>(), 1..=255u8).prop_map(
            |(row, column, byte, mask)| Mutation::FlipByte {
                row,
                column,
                byte,
                mask
            }
        ),
        row.clone().prop_map(|row| Mutation::MoveSeq { row }),
        row.clone().prop_map(|row| Mutation::Delete { row }),
        row.clone().prop_map(|at| Mutation::Insert { at }),
        (row.clone(), row.clone()).prop_map(move |(a, b)| {
            let b = if a == b { (a + 1) % rows } else { b };
            if a == b {
                // A one-row log has nothing to swap with.
                Mutation::Delete { row: a }
            } else {
                Mutation::Swap {
                    a: a.min(b),
                    b: a.max(b),
                }
            }
        }),
        row.prop_map(|keep| Mutation::Truncate { keep }),
    ]
}

/// Applies `mutation` and returns the seq the verifier must name and the kinds it may give.
fn apply(dir: &Path, mutation: &Mutation) -> (i64, Vec<AuditProblemKind>) {
    use AuditProblemKind as K;
    let conn = tamperer(dir);
    let seq = |row: usize| i64::try_from(row).unwrap() + 1;
    let last: i64 = conn
        .query_row("SELECT max(seq) FROM events", [], |r| r.get(0))
        .unwrap();
    match *mutation {
        Mutation::FlipByte {
            row,
            column,
            byte,
            mask,
        } => {
            let name = COLUMNS[column];
            let mut value: Vec<u8> = conn
                .query_row(
                    &format!("SELECT CAST({name} AS BLOB) FROM events WHERE seq = ?1"),
                    [seq(row)],
                    |r| r.get(0),
                )
                .unwrap();
            let at = byte % value.len();
            value[at] ^= mask;
            let set = if name.ends_with("hash") {
                "?1"
            } else {
                "CAST(?1 AS TEXT)"
            };
            conn.execute(
                &format!("UPDATE events SET {name} = {set} WHERE seq = ?2"),
                params![value, seq(row)],
            )
            .unwrap();
            (seq(row), vec![K::Edited])
        }
        Mutation::MoveSeq { row } => {
            conn.execute(
                "UPDATE events SET seq = seq + 1000 WHERE seq = ?1",
                [seq(row)],
            )
            .unwrap();
            (seq(row), vec![K::Deleted])
        }
        Mutation::Delete { row } => {
            conn.execute("DELETE FROM events WHERE seq = ?1", [seq(row)])
                .unwrap();
            let kind = if seq(row) == last {
                K::Truncated
            } else {
                K::Deleted
            };
            (seq(row), vec![kind])
        }
        Mutation::Insert { at } => {
            let at = seq(at);
            for s in (at..=last).rev() {
                conn.execute("UPDATE events SET seq = ?1 WHERE seq = ?2", [s + 1, s])
                    .unwrap();
            }
            let prev: Vec<u8> = if at == 1 {
                vec![0; 32]
            } else {
                conn.query_row("SELECT hash FROM events WHERE seq = ?1", [at - 1], |r| {
                    r.get(0)
                })
                .unwrap()
            };
            let (created_at, trace, kind, payload) = (
                "2024-05-01T09:30:00.000Z",
                "forged",
                "tool_finished",
                "{\"paid\":true}",
            );
            let hash = row_hash(
                &prev,
                at,
                [
                    created_at.as_bytes(),
                    trace.as_bytes(),
                    kind.as_bytes(),
                    payload.as_bytes(),
                ],
            );
            conn.execute(
                "INSERT INTO events (seq, trace_id, kind, payload, created_at, prev_hash, hash)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![at, trace, kind, payload, created_at, prev, hash],
            )
            .unwrap();
            // A checkpoint at `at` catches it first, as a row that differs from the signed one.
            (at, vec![K::Inserted, K::Edited])
        }
        Mutation::Swap { a, b } => {
            let (a, b) = (seq(a), seq(b));
            conn.execute_batch(&format!(
                "CREATE TEMP TABLE saved AS SELECT * FROM events WHERE seq IN ({a}, {b});
                 UPDATE events SET
                    (trace_id, kind, payload, created_at, prev_hash, hash) =
                    (SELECT trace_id, kind, payload, created_at, prev_hash, hash
                     FROM saved WHERE saved.seq = {a} + {b} - events.seq)
                 WHERE seq IN ({a}, {b});"
            ))
            .unwrap();
            (a, vec![K::Reordered])
        }
        Mutation::Truncate { keep } => {
            let keep = i64::try_from(keep).unwrap();
            conn.execute("DELETE FROM events WHERE seq > ?1", [keep])
                .unwrap();
            conn.execute(
                "UPDATE sqlite_sequence SET seq = ?1 WHERE name = 'events'",
                [keep],
            )
            .unwrap();
            (keep + 1, vec![K::Truncated])
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn an_untouched_log_always_verifies(log in log()) {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), &log);
        let report = verify(dir.path());
        prop_assert!(report.is_intact(), "{:?}", report.first_problem);
        let rows = log.events.len() as u64;
        prop_assert_eq!(report.rows_checked, rows);
        prop_assert_eq!(report.last_checkpointed_seq, Some(rows as i64));
        prop_assert_eq!(report.unsigned_rows(), 0);
    }

    #[test]
    fn every_single_tampering_is_found_at_its_row(
        (log, mutation) in log().prop_flat_map(|log| {
            let rows = log.events.len();
            (Just(log), mutation(rows))
        })
    ) {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), &log);
        let (seq, kinds) = apply(dir.path(), &mutation);
        let report = verify(dir.path());
        let problem = report.first_problem.clone();
        prop_assert!(problem.is_some(), "{:?} went unnoticed: {:?}", mutation, report);
        let problem = problem.unwrap();
        prop_assert_eq!(problem.seq, seq, "{:?}: {}", mutation, problem);
        prop_assert!(kinds.contains(&problem.kind), "{:?}: {}", mutation, problem);
    }
}
