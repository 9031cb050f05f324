//! Schema migrations, applied in order, each inside one `BEGIN IMMEDIATE` transaction;
//! `PRAGMA user_version` records the last one applied.
//!
//! A migration is SQL, optionally followed by Rust code and more SQL, all in the same
//! transaction: when any part fails, the file stays as it was before that migration.

use rusqlite::types::ToSqlOutput;
use rusqlite::{params, Connection};

use crate::chain::{row_hash, RowFields, GENESIS};

/// One step of the schema.
pub(crate) struct Migration {
    /// Runs first.
    pub(crate) sql: &'static str,
    /// Runs after `sql` (e.g. to fill new columns for existing rows).
    pub(crate) code: Option<fn(&Connection) -> rusqlite::Result<()>>,
    /// Runs after `code`.
    pub(crate) then: &'static str,
}

impl Migration {
    const fn sql(sql: &'static str) -> Self {
        Self {
            sql,
            code: None,
            then: "",
        }
    }
}

/// The oldest schema the audit verifier can read: the hash chain (2) and checkpoints (3).
pub(crate) const AUDIT_VERSION: i64 = 3;

/// The first schema with data subjects (pseudonyms in audit payloads, owners, adders).
pub(crate) const SUBJECTS_VERSION: i64 = 11;

/// Each entry moves the schema from version `index` to `index + 1`. Never edit a shipped entry;
/// append a new one.
pub(crate) const MIGRATIONS: &[Migration] = &[
    // 1: conversations, messages and the append-only event log.
    Migration::sql(
        r"
    CREATE TABLE conversations (
        id          TEXT PRIMARY KEY,
        title       TEXT NOT NULL,
        created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
    );
    CREATE TABLE messages (
        id               INTEGER PRIMARY KEY,
        conversation_id  TEXT NOT NULL REFERENCES conversations(id),
        role             TEXT NOT NULL CHECK (role IN ('user', 'assistant', 'system', 'tool')),
        content          TEXT NOT NULL,
        trace_id         TEXT,
        created_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
    );
    CREATE INDEX messages_by_conversation ON messages (conversation_id, id);
    CREATE TABLE events (
        seq         INTEGER PRIMARY KEY AUTOINCREMENT,
        trace_id    TEXT NOT NULL,
        kind        TEXT NOT NULL,
        payload     TEXT NOT NULL CHECK (json_valid(payload)),
        created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
    );
    CREATE INDEX events_by_trace ON events (trace_id, seq);
    CREATE TRIGGER events_are_append_only_update BEFORE UPDATE ON events
        BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
    CREATE TRIGGER events_are_append_only_delete BEFORE DELETE ON events
        BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
    ",
    ),
    // 2: the hash chain. The table is rebuilt so that `prev_hash` and `hash` are NOT NULL; the
    // rows written under version 1 are chained in `seq` order by `chain_v1_events`.
    Migration {
        sql: r"
    DROP TRIGGER events_are_append_only_update;
    DROP TRIGGER events_are_append_only_delete;
    DROP INDEX events_by_trace;
    ALTER TABLE events RENAME TO events_v1;
    CREATE TABLE events (
        seq         INTEGER PRIMARY KEY AUTOINCREMENT,
        trace_id    TEXT NOT NULL,
        kind        TEXT NOT NULL,
        payload     TEXT NOT NULL CHECK (json_valid(payload)),
        created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        prev_hash   BLOB NOT NULL CHECK (typeof(prev_hash) = 'blob' AND length(prev_hash) = 32),
        hash        BLOB NOT NULL CHECK (typeof(hash) = 'blob' AND length(hash) = 32)
    );
    ",
        code: Some(chain_v1_events),
        then: r"
    DROP TABLE events_v1;
    CREATE INDEX events_by_trace ON events (trace_id, seq);
    CREATE TRIGGER events_are_append_only_update BEFORE UPDATE ON events
        BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
    CREATE TRIGGER events_are_append_only_delete BEFORE DELETE ON events
        BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
    ",
    },
    // 3: signed checkpoints of the audit chain (see checkpoint.rs), append-only like the log.
    Migration::sql(
        r"
    CREATE TABLE checkpoints (
        seq         INTEGER PRIMARY KEY,
        hash        BLOB NOT NULL CHECK (typeof(hash) = 'blob' AND length(hash) = 32),
        signature   BLOB NOT NULL CHECK (typeof(signature) = 'blob' AND length(signature) = 64),
        public_key  BLOB NOT NULL CHECK (typeof(public_key) = 'blob' AND length(public_key) = 32),
        created_at  TEXT NOT NULL
    );
    CREATE TRIGGER checkpoints_are_append_only_update BEFORE UPDATE ON checkpoints
        BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
    CREATE TRIGGER checkpoints_are_append_only_delete BEFORE DELETE ON checkpoints
        BEGIN SELECT RAISE(ABORT, 'checkpoints are append-only'); END;
    ",
    ),
    // 4: the spend ledger budgets are checked against (see spend.rs). Only a pending spend's
    // status can change; nothing is deleted.
    Migration::sql(
        r"
    CREATE TABLE spend_ledger (
        id            INTEGER PRIMARY KEY,
        principal     TEXT NOT NULL,
        amount_cents  INTEGER NOT NULL
                      CHECK (typeof(amount_cents) = 'integer' AND amount_cents >= 0),
        status        TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
        decision_id   TEXT NOT NULL UNIQUE,
        tool          TEXT NOT NULL,
        created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
    );
    CREATE INDEX spend_by_principal ON spend_ledger (principal, created_at);
    CREATE TRIGGER spend_ledger_only_status_changes
        BEFORE UPDATE OF id, principal, amount_cents, decision_id, tool, created_at ON spend_ledger
        BEGIN SELECT RAISE(ABORT, 'only the status of a spend can change'); END;
    CREATE TRIGGER spend_ledger_decided_spends_stay
        BEFORE UPDATE OF status ON spend_ledger
        WHEN OLD.status != 'pending' AND NEW.status != OLD.status
        BEGIN SELECT RAISE(ABORT, 'a decided spend cannot change'); END;
    CREATE TRIGGER spend_ledger_keeps_rows BEFORE DELETE ON spend_ledger
        BEGIN SELECT RAISE(ABORT, 'spends are never deleted'); END;
    ",
    ),
    // 5: each principal's standing with the injection screen (see standing.rs), so a warning or
    // a blacklisting outlives the process that issued it.
    Migration::sql(
        r"
    CREATE TABLE principal_standing (
        principal          TEXT PRIMARY KEY,
        warned_at          TEXT,
        warned_for         TEXT,
        blacklisted_until  TEXT,
        updated_at         TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
    );
    ",
    ),
    // 6: named connections to SAP and MES systems: their non-secret settings only (the secret
    // is in the OS keychain, see airlock-connectors' vault).
    Migration::sql(
        r"
    CREATE TABLE connections (
        name        TEXT PRIMARY KEY,
        kind        TEXT NOT NULL CHECK (kind IN ('sap', 'mes')),
        settings    TEXT NOT NULL CHECK (json_valid(settings)),
        created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
    );
    ",
    ),
    // 7: plant documents for retrieval. A document has versions (one per distinct content);
    // a version's chunks are searchable (in `chunk_fts` and `chunk_vectors`) only while the
    // version is the document's active one. `chunks.embedding` holds a chunk's vector only
    // while its version is being ingested, so that an interrupted ingest resumes where it
    // stopped. Classification ranks: 0 public, 1 internal, 2 confidential, 3 restricted.
    Migration::sql(
        r"
    CREATE TABLE documents (
        id              INTEGER PRIMARY KEY,
        source          TEXT NOT NULL UNIQUE,
        title           TEXT NOT NULL,
        format          TEXT NOT NULL,
        classification  INTEGER NOT NULL CHECK (classification BETWEEN 0 AND 3),
        audience        TEXT NOT NULL DEFAULT '',
        metadata        TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
        active_version  INTEGER REFERENCES document_versions(id) DEFERRABLE INITIALLY DEFERRED,
        created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        updated_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
    );
    CREATE TABLE document_versions (
        id            INTEGER PRIMARY KEY,
        document_id   INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        version       INTEGER NOT NULL,
        content_hash  TEXT NOT NULL,
        byte_size     INTEGER NOT NULL,
        page_count    INTEGER,
        text          TEXT NOT NULL,
        state         TEXT NOT NULL CHECK (state IN ('ingesting', 'active', 'retired')),
        created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        retired_at    TEXT,
        UNIQUE (document_id, version)
    );
    CREATE TABLE chunks (
        id           INTEGER PRIMARY KEY,
        version_id   INTEGER NOT NULL REFERENCES document_versions(id) ON DELETE CASCADE,
        ordinal      INTEGER NOT NULL,
        page         INTEGER,
        section      TEXT,
        start_byte   INTEGER NOT NULL,
        end_byte     INTEGER NOT NULL CHECK (end_byte >= start_byte),
        text         TEXT NOT NULL,
        token_count  INTEGER NOT NULL,
        embedding    BLOB,
        UNIQUE (version_id, ordinal)
    );
    CREATE VIRTUAL TABLE chunk_fts USING fts5(
        text, section, content = 'chunks', content_rowid = 'id',
        tokenize = 'unicode61 remove_diacritics 2'
    );
    CREATE VIRTUAL TABLE chunk_vectors USING vec0(
        chunk_id        INTEGER PRIMARY KEY,
        embedding       float[384],
        classification  INTEGER,
        audience        TEXT,
        document_id     INTEGER
    );
    CREATE TABLE embedding_model (
        id         INTEGER PRIMARY KEY CHECK (id = 1),
        name       TEXT NOT NULL,
        dimension  INTEGER NOT NULL
    );
    ",
    ),
    // 8: the vector index in shards (chunk id modulo 4, a partition key), so that a search
    // scans them on several connections at once, and in vec0 chunks of 256 vectors instead of
    // 1024: each shard reserves a whole chunk, so a small library stays small (4 × 384 KiB),
    // and at 100k vectors 256 searched as fast as 1024 (BENCHMARKS.md). A vec0 table cannot
    // be altered or renamed: its rows move through a plain table.
    Migration::sql(
        r"
    CREATE TEMP TABLE chunk_vectors_moving AS
        SELECT chunk_id, embedding, classification, audience, document_id FROM chunk_vectors;
    DROP TABLE chunk_vectors;
    CREATE VIRTUAL TABLE chunk_vectors USING vec0(
        chunk_id        INTEGER PRIMARY KEY,
        shard           INTEGER PARTITION KEY,
        embedding       float[384],
        classification  INTEGER,
        audience        TEXT,
        document_id     INTEGER,
        chunk_size = 256
    );
    INSERT INTO chunk_vectors (chunk_id, shard, embedding, classification, audience, document_id)
        SELECT chunk_id, chunk_id % 4, embedding, classification, audience, document_id
        FROM chunk_vectors_moving ORDER BY chunk_id;
    DROP TABLE chunk_vectors_moving;
    ",
    ),
    // 9: approval requests (one per call the governor sent to a human, keyed by its decision
    // id) and the local accounts approvers prove who they are with (argon2id PHC strings,
    // never the passphrase; failed attempts and lockout).
    Migration::sql(
        r"
    CREATE TABLE approvals (
        id               TEXT PRIMARY KEY,
        trace_id         TEXT NOT NULL,
        conversation_id  TEXT NOT NULL,
        requester        TEXT NOT NULL,
        tool             TEXT NOT NULL,
        args             TEXT NOT NULL CHECK (json_valid(args)),
        decision         TEXT NOT NULL CHECK (json_valid(decision)),
        approver_group   TEXT NOT NULL,
        risk             TEXT NOT NULL,
        reason           TEXT NOT NULL,
        status           TEXT NOT NULL CHECK (status IN
                             ('pending', 'approved', 'denied', 'expired', 'executed', 'failed')),
        created_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
        expires_at       TEXT NOT NULL,
        decided_by       TEXT,
        decided_at       TEXT,
        comment          TEXT,
        finished_at      TEXT,
        result           TEXT CHECK (result IS NULL OR json_valid(result))
    );
    CREATE INDEX approvals_by_status ON approvals (status, created_at);
    CREATE TABLE local_accounts (
        name             TEXT PRIMARY KEY,
        roles            TEXT NOT NULL CHECK (json_valid(roles)),
        passphrase_hash  TEXT NOT NULL,
        failed_attempts  INTEGER NOT NULL DEFAULT 0,
        locked_until     TEXT,
        created_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
    );
    ",
    ),
    // 10: installation settings an admin changes at run time (e.g. the active model).
    Migration::sql(
        r"
    CREATE TABLE settings (
        key         TEXT PRIMARY KEY,
        value       TEXT NOT NULL,
        updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
    );
    ",
    ),
    // 11: data subjects (see subjects.rs): each person's keyed pseudonym, which audit payloads
    // hold instead of their name from here on; who started each conversation and who added
    // each document. Owners of existing conversations
    // come from the audit log (a request's `request_received` names its conversation, the
    // admission `decision_made` of the same trace its principal), adders of existing documents
    // from the latest `documents_changed` event that added that id; what the log does not say
    // stays NULL.
    Migration::sql(
        r"
    CREATE TABLE subjects (
        pseudonym   TEXT PRIMARY KEY CHECK (pseudonym GLOB 'subject:*' AND length(pseudonym) = 28),
        name        TEXT NOT NULL UNIQUE,
        key         BLOB NOT NULL CHECK (typeof(key) = 'blob' AND length(key) = 32),
        created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
    );
    ALTER TABLE conversations ADD COLUMN owner TEXT;
    CREATE INDEX conversations_by_owner ON conversations (owner);
    ALTER TABLE documents ADD COLUMN added_by TEXT;
    CREATE INDEX documents_by_adder ON documents (added_by);
    CREATE TEMP TABLE conversation_owners AS
        SELECT json_extract(r.payload, '$.conversation_id') AS conversation_id,
               json_extract(d.payload, '$.principal') AS owner, r.seq AS seq
        FROM events r JOIN events d ON d.trace_id = r.trace_id
        WHERE r.kind = 'request_received' AND d.kind = 'decision_made'
          AND json_extract(d.payload, '$.stage') = 'admission'
          AND json_type(d.payload, '$.principal') = 'text';
    CREATE INDEX temp.conversation_owners_by_id ON conversation_owners (conversation_id, seq);
    UPDATE conversations SET owner = (
        SELECT o.owner FROM temp.conversation_owners o WHERE o.conversation_id = conversations.id
        ORDER BY o.seq LIMIT 1);
    DROP TABLE temp.conversation_owners;
    CREATE TEMP TABLE document_adders AS
        SELECT json_extract(payload, '$.outcome.document_id') AS document_id,
               json_extract(payload, '$.principal') AS added_by, seq
        FROM events
        WHERE kind = 'documents_changed' AND json_extract(payload, '$.outcome.status') = 'added'
          AND json_type(payload, '$.principal') = 'text';
    CREATE INDEX temp.document_adders_by_id ON document_adders (document_id, seq);
    UPDATE documents SET added_by = (
        SELECT a.added_by FROM temp.document_adders a WHERE a.document_id = documents.id
        ORDER BY a.seq DESC LIMIT 1);
    DROP TABLE temp.document_adders;
    ",
    ),
];

/// Copies the version-1 rows into the new `events` table, chaining them in `seq` order, and
/// carries `sqlite_sequence` over so that no sequence number is ever reused.
fn chain_v1_events(conn: &Connection) -> rusqlite::Result<()> {
    // Text as stored (the CASTs only matter for a hand-edited file), hashed and copied as is.
    let mut select = conn.prepare(
        "SELECT seq, CAST(trace_id AS TEXT), CAST(kind AS TEXT), CAST(payload AS TEXT),
                CAST(created_at AS TEXT)
         FROM events_v1 ORDER BY seq",
    )?;
    let mut insert = conn.prepare(
        "INSERT INTO events (seq, trace_id, kind, payload, created_at, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    let mut prev = GENESIS;
    let mut rows = select.query([])?;
    let mut copied = 0u64;
    while let Some(row) = rows.next()? {
        let seq: i64 = row.get(0)?;
        let (trace_id, kind, payload, created_at) = (
            row.get_ref(1)?,
            row.get_ref(2)?,
            row.get_ref(3)?,
            row.get_ref(4)?,
        );
        let fields = RowFields {
            trace_id: trace_id.as_bytes()?,
            kind: kind.as_bytes()?,
            payload: payload.as_bytes()?,
            created_at: created_at.as_bytes()?,
        };
        let hash = row_hash(&prev, seq, fields);
        insert.execute(params![
            seq,
            ToSqlOutput::Borrowed(trace_id),
            ToSqlOutput::Borrowed(kind),
            ToSqlOutput::Borrowed(payload),
            ToSqlOutput::Borrowed(created_at),
            &prev[..],
            &hash[..]
        ])?;
        prev = hash;
        copied += 1;
    }
    let old_sequence: Option<i64> = conn
        .query_row(
            "SELECT seq FROM sqlite_sequence WHERE name = 'events_v1'",
            [],
            |row| row.get(0),
        )
        .or_else(|err| match err {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            other => Err(other),
        })?;
    if let Some(old) = old_sequence {
        let updated = conn.execute(
            "UPDATE sqlite_sequence SET seq = max(seq, ?1) WHERE name = 'events'",
            [old],
        )?;
        if updated == 0 && old > 0 {
            conn.execute(
                "INSERT INTO sqlite_sequence (name, seq) VALUES ('events', ?1)",
                [old],
            )?;
        }
    }
    tracing::info!(rows = copied, "audit chain added to the existing event log");
    Ok(())
}
