//! Conversations and their messages.

use std::fmt;

use rusqlite::{params, OptionalExtension};
use serde::Serialize;

use crate::{Store, StoreError};

/// Identifies a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct ConversationId(String);

impl ConversationId {
    /// The id as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ConversationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A message as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredMessage {
    /// `user`, `assistant`, `system` or `tool`.
    pub role: String,
    /// The text.
    pub content: String,
    /// The request that produced it, if any.
    pub trace_id: Option<String>,
    /// UTC time, RFC 3339.
    pub created_at: String,
}

/// A conversation as listed: its title and how far it went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConversationSummary {
    /// Its id.
    pub id: String,
    /// Its title (the first request).
    pub title: String,
    /// When it started (UTC, RFC 3339).
    pub created_at: String,
    /// When its last message was written (its start when it has none).
    pub updated_at: String,
    /// How many messages it holds.
    pub messages: u32,
}

impl Store {
    /// The `limit` most recently active conversations: those without messages yet (newest
    /// first), then by their latest message.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn conversations(&self, limit: u32) -> Result<Vec<ConversationSummary>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT c.id, c.title, c.created_at,
                        coalesce(max(m.created_at), c.created_at) AS updated_at, count(m.id)
                 FROM conversations c LEFT JOIN messages m ON m.conversation_id = c.id
                 GROUP BY c.id
                 ORDER BY max(m.id) IS NULL DESC, max(m.id) DESC, c.rowid DESC LIMIT ?1",
            )
            .map_err(|err| self.error(err))?;
        let rows = stmt
            .query_map([limit], |row| {
                Ok(ConversationSummary {
                    id: row.get(0)?,
                    title: row.get(1)?,
                    created_at: row.get(2)?,
                    updated_at: row.get(3)?,
                    messages: row.get(4)?,
                })
            })
            .map_err(|err| self.error(err))?;
        rows.collect::<Result<_, _>>()
            .map_err(|err| self.error(err))
    }

    /// Starts a conversation titled `title`, owned by `owner` (the principal who started it:
    /// a subject export lists it, an erasure deletes it).
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn create_conversation(
        &self,
        title: &str,
        owner: &str,
    ) -> Result<ConversationId, StoreError> {
        let id = ConversationId(uuid::Uuid::new_v4().to_string());
        self.conn
            .execute(
                "INSERT INTO conversations (id, title, owner) VALUES (?1, ?2, ?3)",
                params![id.as_str(), title, owner],
            )
            .map_err(|err| self.error(err))?;
        Ok(id)
    }

    /// Finds a conversation by its id text.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn conversation(&self, id: &str) -> Result<Option<ConversationId>, StoreError> {
        self.conn
            .query_row("SELECT id FROM conversations WHERE id = ?1", [id], |row| {
                row.get::<_, String>(0)
            })
            .optional()
            .map(|found| found.map(ConversationId))
            .map_err(|err| self.error(err))
    }

    /// Appends a message to a conversation.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails (including an unknown conversation or role).
    pub fn add_message(
        &self,
        conversation: &ConversationId,
        role: &str,
        content: &str,
        trace_id: Option<&str>,
    ) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO messages (conversation_id, role, content, trace_id)
                 VALUES (?1, ?2, ?3, ?4)",
                params![conversation.as_str(), role, content, trace_id],
            )
            .map_err(|err| self.error(err))?;
        Ok(())
    }

    /// A conversation's messages, oldest first.
    ///
    /// # Errors
    /// [`StoreError`] when SQLite fails.
    pub fn messages(
        &self,
        conversation: &ConversationId,
    ) -> Result<Vec<StoredMessage>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT role, content, trace_id, created_at FROM messages
                 WHERE conversation_id = ?1 ORDER BY id",
            )
            .map_err(|err| self.error(err))?;
        let rows = stmt
            .query_map([conversation.as_str()], |row| {
                Ok(StoredMessage {
                    role: row.get(0)?,
                    content: row.get(1)?,
                    trace_id: row.get(2)?,
                    created_at: row.get(3)?,
                })
            })
            .map_err(|err| self.error(err))?;
        rows.collect::<Result<_, _>>()
            .map_err(|err| self.error(err))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_kept_in_order_per_conversation() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let one = store.create_conversation("line 3", "olivia").unwrap();
        let two = store.create_conversation("payroll", "victor").unwrap();
        store
            .add_message(&one, "user", "status?", Some("t1"))
            .unwrap();
        store.add_message(&two, "user", "why abend?", None).unwrap();
        store
            .add_message(&one, "assistant", "all up", Some("t1"))
            .unwrap();
        let roles: Vec<_> = store
            .messages(&one)
            .unwrap()
            .into_iter()
            .map(|m| (m.role, m.content))
            .collect();
        assert_eq!(
            roles,
            [
                ("user".to_owned(), "status?".to_owned()),
                ("assistant".to_owned(), "all up".to_owned())
            ]
        );
        let listed = store.conversations(10).unwrap();
        assert_eq!(
            listed
                .iter()
                .map(|c| (c.title.as_str(), c.messages))
                .collect::<Vec<_>>(),
            [("line 3", 2), ("payroll", 1)],
            "the conversation with the latest message comes first"
        );
        assert_eq!(store.conversations(1).unwrap().len(), 1);
        assert_eq!(store.conversation(one.as_str()).unwrap(), Some(one));
        assert_eq!(store.conversation("nope").unwrap(), None);
    }

    #[test]
    fn unknown_roles_and_conversations_are_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let id = store.create_conversation("x", "olivia").unwrap();
        assert!(store.add_message(&id, "root", "hi", None).is_err());
        let ghost = ConversationId("ghost".into());
        assert!(store.add_message(&ghost, "user", "hi", None).is_err());
    }
}
