//! Schema migrations, applied in order inside a transaction; `PRAGMA user_version` records the
//! last one applied.

/// Each entry moves the schema from version `index` to `index + 1`. Never edit a shipped entry;
/// append a new one.
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: conversations, messages and the append-only event log.
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
];
