//! Data subjects: the people whose names Airlock records, a keyed pseudonym for each, and the
//! export and erasure of everything about one of them.
//!
//! # Why names never reach an audit payload
//!
//! Every audit row's hash covers its payload as stored, and the rows are append-only (see
//! [`crate::chain`]): a name written into the log could never be removed without breaking the
//! chain. So a name is replaced before the payload is hashed and written, in the same pass that
//! redacts personal data ([`crate::Redactor`]), and erasure never has to touch an audit row.
//!
//! * **A keyed pseudonym per person.** The `subjects` table holds each person's `name`, 32
//!   random bytes `key` of their own, and `pseudonym = "subject:" + the first 20 hex digits of
//!   HMAC-SHA256(key, name)`. Because the key is random and per person, nobody who has the
//!   database file can confirm a guessed name by hashing it without that row; once the row is
//!   deleted, nothing (not even an admin with the file and the audit key) links the pseudonym
//!   back to the name; and a new person who later gets the same login name gets another
//!   pseudonym. A name is registered the first time an event records it under an identity key
//!   (or through [`Store::pseudonym_of`]).
//! * **Identity keys** (the payload's top-level keys whose string value is a person's name,
//!   replaced whole): [`IDENTITY_KEYS`] in every kind of event — `principal` (who a request,
//!   decision, document change or simulator drill is for), `requester` and `approver` (approval
//!   requests and decisions), `approved_by` (the token of an approved call), `by` (the admin
//!   behind an account, policy, model, connection, update or erasure change), `os_user` (the
//!   operating-system account that ran an admin change), `account` (a refused sign-in),
//!   `trusted_by` (the admin who vouched for a batch file's identities); and
//!   [`KIND_IDENTITY_KEYS`] in one kind only — `added` and `removed` in `accounts_changed` (the
//!   same keys name a connection in `connections_changed`). Nested objects are tool results
//!   and decisions, not the code's own record of who did what: their strings are free text.
//! * **Free text.** In every other string of a payload (request text, decision traces,
//!   comments, answers, tool results), each whole-word occurrence of a registered name is
//!   replaced by its pseudonym: case-sensitively (exactly as the name is registered), and only
//!   for names of 3 or more characters that begin and end with a letter, digit or `_` (a word
//!   boundary needs a word character; a one- or two-letter name such as `al` would replace
//!   ordinary words in every payload). Longest names first, in one pass, so `maria.lopez` is
//!   replaced whole before `maria` could be. Object keys are never changed (they are the
//!   payload's structure, not data).
//! * **Reading.** Every function that hands payloads out ([`Store::events_for`],
//!   [`Store::finished_call`], [`Store::audit_entries`] with its `principal` filter,
//!   [`Store::export_audit`], [`Store::subject_export`]) puts the names of live subjects back,
//!   so callers see names; an erased person's pseudonym stays a pseudonym. The pseudonym is
//!   stable for the life of the audit log: every row about one person carries the same one.
//!
//! # Erasure ([`Store::erase_subject`])
//!
//! One transaction deletes the person's conversations with their messages, the documents they
//! added (versions, chunks, full-text and vector index entries), their local account and their
//! standing with the injection screen; replaces their name by the pseudonym in approval
//! requests (requester, approver, and whole words in the reason, comment, arguments, decision
//! and result), in the spend ledger, in other people's messages and conversation titles (e.g.
//! "Approved by …"); deletes their `subjects` row (the key with it: irreversible); and appends
//! a `subject_erased` audit event with the pseudonym and the counts, recorded by the admin.
//! Then the full-text index is optimised (its segments still held the deleted documents'
//! terms), the file is vacuumed and the write-ahead log checkpointed and truncated, with
//! `secure_delete` on, so the deleted bytes are gone from `airlock.db` and `airlock.db-wal`.
//!
//! What erasure does **not** reach, by design or necessity:
//!
//! * audit rows written before this scheme existed (schema 11), or free text written before the
//!   person was first registered: they hold the name in clear and cannot change without
//!   breaking the chain; [`ErasureReport::legacy_rows_naming_subject`] counts them;
//! * copies made earlier: backups, audit exports, evidence packages, subject exports;
//! * the policy files (`principals.toml` may list the person: the agent warns; an admin removes
//!   them there), connection settings, and documents someone else added that mention them;
//! * a spelling that differs from the registered name (`Maria.Lopez` for `maria.lopez`);
//! * the file system's and the disk's own copies of freed blocks (use disk encryption).

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, LazyLock};

use airlock_core::{Classification, Event, EventKind, TraceId};
use hmac::{Hmac, Mac};
use regex::{NoExpand, Regex, RegexBuilder};
use rusqlite::{params, Connection, ErrorCode, OptionalExtension, Transaction};
use serde::Serialize;
use serde_json::{json, Value};
use sha2::Sha256;

use crate::documents::{classification_at, remove_document_in};
use crate::migrations::SUBJECTS_VERSION;
use crate::write::WriteError;
use crate::{
    clock, ApprovalRecord, LocalAccount, PrincipalStanding, Redactor, Store, StoreError,
    StoredEvent, StoredMessage,
};

/// The top-level payload keys whose string value is a person's name, in every kind of event.
pub const IDENTITY_KEYS: &[&str] = &[
    "principal",
    "requester",
    "approver",
    "approved_by",
    "by",
    "os_user",
    "account",
    "trusted_by",
];

/// Further identity keys of one kind of event (elsewhere the same key names something else).
pub const KIND_IDENTITY_KEYS: &[(&str, &[&str])] = &[("accounts_changed", &["added", "removed"])];

/// Every pseudonym starts with this.
pub const PSEUDONYM_PREFIX: &str = "subject:";

/// Hex digits of the HMAC in a pseudonym (80 bits).
const PSEUDONYM_HEX_DIGITS: usize = 20;

/// The shortest name replaced inside free text.
const MIN_FREE_TEXT_CHARS: usize = 3;

/// The longest value of an identity key registered as a name; a longer one is not a name.
const MAX_NAME_CHARS: usize = 256;

/// Compiled size allowed for the pattern of all names (thousands of names fit).
const NAMES_PATTERN_BYTES: usize = 64 << 20;

static PSEUDONYM: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"\b{PSEUDONYM_PREFIX}[0-9a-f]{{{PSEUDONYM_HEX_DIGITS}}}\b"
    ))
    .expect("built-in pattern")
});

/// Whether `key` is an identity key of an event of `kind` (see the module docs).
#[must_use]
pub fn is_identity_key(kind: &str, key: &str) -> bool {
    IDENTITY_KEYS.contains(&key)
        || KIND_IDENTITY_KEYS
            .iter()
            .any(|(of, keys)| *of == kind && keys.contains(&key))
}

/// Whether `text` is shaped like a pseudonym.
fn is_pseudonym(text: &str) -> bool {
    text.len() == PSEUDONYM_PREFIX.len() + PSEUDONYM_HEX_DIGITS
        && PSEUDONYM
            .find(text)
            .is_some_and(|found| found.len() == text.len())
}

/// Whether `value` of an identity key is registered as a name: not blank, not too long, not
/// already a pseudonym, and not something the redactor replaces (an e-mail address stays
/// redacted).
fn registrable(value: &str, redactor: &Redactor) -> bool {
    !value.trim().is_empty()
        && value.chars().count() <= MAX_NAME_CHARS
        && !is_pseudonym(value)
        && matches!(redactor.redact_str(value), Cow::Borrowed(_))
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Whether `name` is replaced where it appears inside free text (see the module docs).
fn in_free_text(name: &str) -> bool {
    name.chars().count() >= MIN_FREE_TEXT_CHARS
        && name.starts_with(is_word_char)
        && name.ends_with(is_word_char)
}

/// One pattern matching any of `names` (those replaced in free text) as a whole word, longest
/// first; `None` when there is none.
fn word_pattern<'a>(names: impl Iterator<Item = &'a str>) -> Result<Option<Regex>, StoreError> {
    let mut eligible: Vec<&str> = names.filter(|name| in_free_text(name)).collect();
    if eligible.is_empty() {
        return Ok(None);
    }
    eligible.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
    let alternation: Vec<String> = eligible.iter().map(|name| regex::escape(name)).collect();
    RegexBuilder::new(&format!(r"\b(?:{})\b", alternation.join("|")))
        .size_limit(NAMES_PATTERN_BYTES)
        .build()
        .map(Some)
        .map_err(|err| {
            StoreError::Malformed(format!(
                "the registered names do not fit one search pattern ({err}); erase people who \
                 left, or report this"
            ))
        })
}

/// `subject:` + the first 20 hex digits of HMAC-SHA256(`key`, `name`).
fn pseudonym(key: &[u8; 32], name: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    mac.update(name.as_bytes());
    let digest = hex::encode(mac.finalize().into_bytes());
    format!("{PSEUDONYM_PREFIX}{}", &digest[..PSEUDONYM_HEX_DIGITS])
}

/// The registered subjects at one moment: each name with its pseudonym, and the pattern that
/// finds the names in free text.
#[derive(Debug, Default)]
pub(crate) struct Subjects {
    /// `(pseudonym, name)` as read, in table order: a cached copy is valid while they match.
    rows: Vec<(String, String)>,
    by_name: HashMap<String, String>,
    by_pseudonym: HashMap<String, String>,
    words: Option<Regex>,
}

impl Subjects {
    fn new(rows: Vec<(String, String)>) -> Result<Self, StoreError> {
        let words = word_pattern(rows.iter().map(|(_, name)| name.as_str()))?;
        Ok(Self {
            by_name: rows
                .iter()
                .map(|(pseudonym, name)| (name.clone(), pseudonym.clone()))
                .collect(),
            by_pseudonym: rows.iter().cloned().collect(),
            rows,
            words,
        })
    }

    /// The pseudonym of `name`, if registered.
    pub(crate) fn pseudonym_of(&self, name: &str) -> Option<&str> {
        self.by_name.get(name).map(String::as_str)
    }

    /// The name behind `pseudonym`, if its subject is live.
    pub(crate) fn name_of(&self, pseudonym: &str) -> Option<&str> {
        self.by_pseudonym.get(pseudonym).map(String::as_str)
    }

    /// `text` with every registered name in it (as a whole word) replaced by its pseudonym.
    pub(crate) fn replace_names<'a>(&self, text: &'a str) -> Cow<'a, str> {
        match &self.words {
            Some(words) => words.replace_all(text, |found: &regex::Captures<'_>| {
                self.by_name
                    .get(&found[0])
                    .cloned()
                    .unwrap_or_else(|| found[0].to_owned())
            }),
            None => Cow::Borrowed(text),
        }
    }

    /// `text` with the pseudonym of every live subject replaced by their name.
    pub(crate) fn resolve<'a>(&self, text: &'a str) -> Cow<'a, str> {
        if self.by_pseudonym.is_empty() || !text.contains(PSEUDONYM_PREFIX) {
            return Cow::Borrowed(text);
        }
        PSEUDONYM.replace_all(text, |found: &regex::Captures<'_>| {
            self.by_pseudonym
                .get(&found[0])
                .cloned()
                .unwrap_or_else(|| found[0].to_owned())
        })
    }

    /// Whether `text` holds the pseudonym of a live subject.
    pub(crate) fn mentions_live(&self, text: &str) -> bool {
        !self.by_pseudonym.is_empty()
            && text.contains(PSEUDONYM_PREFIX)
            && PSEUDONYM
                .find_iter(text)
                .any(|found| self.by_pseudonym.contains_key(found.as_str()))
    }

    /// Every string in `value` resolved.
    pub(crate) fn resolve_value(&self, value: &mut Value) {
        match value {
            Value::String(text) => {
                if let Cow::Owned(resolved) = self.resolve(text) {
                    *text = resolved;
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|item| self.resolve_value(item)),
            Value::Object(entries) => entries
                .values_mut()
                .for_each(|item| self.resolve_value(item)),
            _ => {}
        }
    }

    /// A stored payload parsed, with live subjects' names put back.
    pub(crate) fn resolve_payload(&self, text: &str) -> Result<Value, serde_json::Error> {
        let mut value = serde_json::from_str(text)?;
        if self.mentions_live(text) {
            self.resolve_value(&mut value);
        }
        Ok(value)
    }
}

/// What the write path needs to pseudonymise one event's payload.
pub(crate) struct Pseudonymiser<'a> {
    subjects: &'a Subjects,
    kind: &'a str,
}

impl<'a> Pseudonymiser<'a> {
    pub(crate) fn new(subjects: &'a Subjects, kind: &'a str) -> Self {
        Self { subjects, kind }
    }

    /// Whether `key` (at the payload's top level) holds a name.
    pub(crate) fn is_identity_key(&self, key: &str) -> bool {
        is_identity_key(self.kind, key)
    }

    /// The pseudonym of `name`, if registered.
    pub(crate) fn pseudonym_of(&self, name: &str) -> Option<&'a str> {
        self.subjects.pseudonym_of(name)
    }

    /// Free text with the registered names replaced.
    pub(crate) fn replace_names<'t>(&self, text: &'t str) -> Cow<'t, str> {
        self.subjects.replace_names(text)
    }
}

/// The names `event` records under its identity keys that are to be registered.
pub(crate) fn identity_names<'a>(
    event: &'a Event,
    redactor: &'a Redactor,
) -> impl Iterator<Item = &'a str> + 'a {
    let kind = event.kind.as_str();
    event
        .payload
        .as_object()
        .into_iter()
        .flatten()
        .filter(move |(key, _)| is_identity_key(kind, key))
        .filter_map(|(_, value)| value.as_str())
        .filter(move |name| registrable(name, redactor))
}

/// Finds one name in stored text: as a whole word when it starts and ends with a word
/// character, else anywhere.
struct Mention<'a> {
    name: &'a str,
    word: Option<Regex>,
}

impl<'a> Mention<'a> {
    fn new(name: &'a str) -> Self {
        let word = (name.starts_with(is_word_char) && name.ends_with(is_word_char))
            .then(|| Regex::new(&format!(r"\b{}\b", regex::escape(name))).ok())
            .flatten();
        Self { name, word }
    }

    fn in_text(&self, text: &str) -> bool {
        text == self.name
            || match &self.word {
                Some(word) => word.is_match(text),
                None => text.contains(self.name),
            }
    }

    fn in_value(&self, value: &Value) -> bool {
        match value {
            Value::String(text) => self.in_text(text),
            Value::Array(items) => items.iter().any(|item| self.in_value(item)),
            Value::Object(entries) => entries.values().any(|item| self.in_value(item)),
            _ => false,
        }
    }
}

/// Replaces one erased person's name in the rows that keep it.
struct Rewrite<'a> {
    name: &'a str,
    pseudonym: &'a str,
    words: Option<Regex>,
}

impl<'a> Rewrite<'a> {
    fn new(name: &'a str, pseudonym: &'a str) -> Result<Self, StoreError> {
        Ok(Self {
            name,
            pseudonym,
            words: word_pattern(std::iter::once(name))?,
        })
    }

    /// `text` with the name replaced: the whole text when it is the name, else whole words.
    fn text<'t>(&self, text: &'t str) -> Cow<'t, str> {
        if text == self.name {
            return Cow::Owned(self.pseudonym.to_owned());
        }
        match &self.words {
            Some(words) => words.replace_all(text, NoExpand(self.pseudonym)),
            None => Cow::Borrowed(text),
        }
    }

    fn value(&self, value: &mut Value) -> bool {
        match value {
            Value::String(text) => match self.text(text) {
                Cow::Owned(changed) => {
                    *text = changed;
                    true
                }
                Cow::Borrowed(_) => false,
            },
            // Every item is rewritten: no short-circuit.
            Value::Array(items) => {
                let mut changed = false;
                for item in items {
                    changed |= self.value(item);
                }
                changed
            }
            Value::Object(entries) => {
                let mut changed = false;
                for item in entries.values_mut() {
                    changed |= self.value(item);
                }
                changed
            }
            _ => false,
        }
    }

    /// JSON text with the name replaced in its strings; `None` when nothing changed (or it is
    /// not JSON).
    fn json(&self, text: &str) -> Option<String> {
        let mut value: Value = serde_json::from_str(text).ok()?;
        self.value(&mut value).then(|| value.to_string())
    }
}

/// What [`Store::erase_subject`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErasureReport {
    /// The pseudonym that stands for the person from now on, in the audit log and the rows
    /// that were rewritten.
    pub pseudonym: String,
    /// Their conversations deleted.
    pub conversations_deleted: u64,
    /// The messages of those conversations deleted.
    pub messages_deleted: u64,
    /// Documents they added, deleted with their versions, chunks and index entries.
    pub documents_deleted: u64,
    /// Whether their local account was deleted.
    pub account_deleted: bool,
    /// Whether their standing with the injection screen was deleted.
    pub standing_deleted: bool,
    /// Approval requests they made or decided (or that name them), now naming the pseudonym.
    pub approvals_rewritten: u64,
    /// Spend-ledger rows now recorded under the pseudonym.
    pub spend_rows_rewritten: u64,
    /// Other people's messages and conversation titles that named them, rewritten.
    pub texts_rewritten: u64,
    /// Audit rows that still name them in clear: written before names were pseudonymised (or
    /// before they were first registered); they cannot change without breaking the chain.
    pub legacy_rows_naming_subject: u64,
    /// The audit row recording the erasure.
    pub audit_seq: i64,
    /// Whether the deleted bytes were purged from the file and the write-ahead log. False when
    /// another process kept the log busy or the file locked: the erasure itself stands, and
    /// SQLite folds the log into the file when the last Airlock process closes it (or call
    /// [`Store::purge_deleted`] again).
    pub purged: bool,
}

/// One of the person's conversations with its messages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubjectConversation {
    /// Its id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// When it started.
    pub created_at: String,
    /// Its messages, oldest first.
    pub messages: Vec<StoredMessage>,
}

/// One version of a document the person added (its metadata; not its chunks or vectors).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubjectDocumentVersion {
    /// Its number.
    pub version: i64,
    /// SHA-256 of the file.
    pub content_hash: String,
    /// The file's size.
    pub byte_size: i64,
    /// Pages, for paged formats.
    pub page_count: Option<u32>,
    /// `ingesting`, `active` or `retired`.
    pub state: String,
    /// When it was ingested.
    pub created_at: String,
    /// When a newer version replaced it.
    pub retired_at: Option<String>,
}

/// A document the person added.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SubjectDocument {
    /// Its id.
    pub id: i64,
    /// Its title.
    pub title: String,
    /// Its source path.
    pub source: String,
    /// Its format.
    pub format: String,
    /// Its classification.
    pub classification: Classification,
    /// The group that may read it besides cleared readers.
    pub audience: String,
    /// Its labels.
    pub metadata: Value,
    /// When it was added.
    pub created_at: String,
    /// When it last changed.
    pub updated_at: String,
    /// Its versions, oldest first.
    pub versions: Vec<SubjectDocumentVersion>,
}

/// A spend the person made or asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SubjectSpend {
    /// The amount.
    pub amount_cents: i64,
    /// `pending`, `approved` or `rejected`.
    pub status: String,
    /// The governor's decision.
    pub decision_id: String,
    /// The tool.
    pub tool: String,
    /// When.
    pub created_at: String,
}

/// Everything the database holds about one person ([`Store::subject_export`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SubjectExport {
    /// The name asked for.
    pub name: String,
    /// Their pseudonym in the audit log (`None` when no event ever recorded them by name).
    pub pseudonym: Option<String>,
    /// When this export was made (UTC, RFC 3339).
    pub exported_at: String,
    /// Their local account (never the passphrase hash).
    pub account: Option<LocalAccount>,
    /// The conversations they started, with every message.
    pub conversations: Vec<SubjectConversation>,
    /// The documents they added.
    pub documents: Vec<SubjectDocument>,
    /// The approval requests they made.
    pub approvals_requested: Vec<ApprovalRecord>,
    /// The approval requests they approved or denied.
    pub approvals_decided: Vec<ApprovalRecord>,
    /// Their spends.
    pub spending: Vec<SubjectSpend>,
    /// Their standing with the injection screen.
    pub standing: Option<PrincipalStanding>,
    /// Every audit event that names them, oldest first, names resolved.
    pub audit_events: Vec<StoredEvent>,
}

impl Store {
    /// The registered subjects, read anew (a cached copy is reused while the table is
    /// unchanged). Empty for a file opened read-only from before subjects existed.
    pub(crate) fn subjects(&self) -> Result<Arc<Subjects>, StoreError> {
        if self.read_only && self.schema_version()? < SUBJECTS_VERSION {
            return Ok(Arc::default());
        }
        let rows: Vec<(String, String)> = self
            .conn
            .prepare_cached("SELECT pseudonym, name FROM subjects ORDER BY rowid")
            .and_then(|mut statement| {
                statement
                    .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
                    .collect()
            })
            .map_err(|err| self.error(err))?;
        let mut cache = self.subjects_cache.borrow_mut();
        if let Some(cached) = cache.as_ref().filter(|cached| cached.rows == rows) {
            return Ok(Arc::clone(cached));
        }
        let subjects = Arc::new(Subjects::new(rows)?);
        *cache = Some(Arc::clone(&subjects));
        Ok(subjects)
    }

    /// Registers each of `names` that is not a subject yet, inside the caller's write
    /// transaction, and returns the subjects afterwards.
    pub(crate) fn register_subjects(&self, names: &[&str]) -> Result<Arc<Subjects>, StoreError> {
        let subjects = self.subjects()?;
        let mut added = false;
        for name in names {
            if subjects.pseudonym_of(name).is_none() {
                self.insert_subject(name)?;
                added = true;
            }
        }
        if added {
            self.subjects()
        } else {
            Ok(subjects)
        }
    }

    /// Inserts `name` with a fresh key (a name already there is left as it is).
    fn insert_subject(&self, name: &str) -> Result<(), StoreError> {
        // Another pseudonym with the same 80 bits is all but impossible; a fresh key fixes it.
        for _ in 0..3 {
            let mut key = [0u8; 32];
            getrandom::fill(&mut key).map_err(|err| StoreError::NoRandomness {
                reason: err.to_string(),
            })?;
            let inserted = self.conn.execute(
                "INSERT INTO subjects (pseudonym, name, key) VALUES (?1, ?2, ?3)
                 ON CONFLICT (name) DO NOTHING",
                params![pseudonym(&key, name), name, &key[..]],
            );
            match inserted {
                Ok(_) => return Ok(()),
                Err(err) if err.sqlite_error_code() == Some(ErrorCode::ConstraintViolation) => {}
                Err(err) => return Err(self.error(err)),
            }
        }
        Err(StoreError::Malformed(format!(
            "no unique pseudonym could be made for `{name}`: check the subjects table with \
             `airlock audit verify` and report this"
        )))
    }

    /// The pseudonym that stands for `name` in the audit log, registering the name when it is
    /// new (e.g. for telemetry, which must carry pseudonyms, never names).
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for a blank, over-long or pseudonym-shaped name, or one the
    /// redactor replaces (an e-mail address); SQLite errors.
    pub fn pseudonym_of(&self, name: &str) -> Result<String, StoreError> {
        if !registrable(name, &self.redactor) {
            return Err(StoreError::Invalid(format!(
                "`{name}` cannot be registered as a person's name: give a login or account name \
                 (not blank, at most {MAX_NAME_CHARS} characters, not a pseudonym or an e-mail \
                 address)"
            )));
        }
        if let Some(known) = self.subjects()?.pseudonym_of(name) {
            return Ok(known.to_owned());
        }
        self.write(|_| {
            let subjects = self.register_subjects(&[name])?;
            Ok(subjects
                .pseudonym_of(name)
                .map(str::to_owned)
                .ok_or_else(|| StoreError::Malformed(format!("`{name}` was not registered")))?)
        })
    }

    /// A stored payload as callers see it: parsed, live subjects' names put back.
    pub(crate) fn resolved_payload(
        &self,
        subjects: &Subjects,
        seq: i64,
        text: &str,
    ) -> Result<Value, StoreError> {
        subjects.resolve_payload(text).map_err(|err| {
            StoreError::Malformed(format!(
                "audit row {seq}: the payload is not JSON ({err}); run the audit verification"
            ))
        })
    }

    /// Everything the database holds about `name`, as one document (see [`SubjectExport`]).
    /// Nothing is registered or written.
    ///
    /// # Errors
    /// [`StoreError::UnknownSubject`] when nothing is recorded about `name`; SQLite errors.
    pub fn subject_export(&self, name: &str) -> Result<SubjectExport, StoreError> {
        let subjects = self.subjects()?;
        let pseudonym = subjects.pseudonym_of(name).map(str::to_owned);
        let account = self.account_with_hash(name)?.map(|(account, _)| account);
        let conversations = self.subject_conversations(name)?;
        let documents = self.subject_documents(name)?;
        let approvals = self.approvals(None)?;
        let (mut requested, mut decided) = (Vec::new(), Vec::new());
        for approval in approvals {
            if approval.decided_by.as_deref() == Some(name) {
                decided.push(approval.clone());
            }
            if approval.requester == name {
                requested.push(approval);
            }
        }
        let spending = self.subject_spending(name)?;
        let standing = self.principal_standing(name)?;
        let audit_events = self.audit_events_naming(&subjects, name, pseudonym.as_deref())?;
        let export = SubjectExport {
            name: name.to_owned(),
            pseudonym,
            exported_at: clock::now(),
            account,
            conversations,
            documents,
            approvals_requested: requested,
            approvals_decided: decided,
            spending,
            standing,
            audit_events,
        };
        let nothing = export.pseudonym.is_none()
            && export.account.is_none()
            && export.conversations.is_empty()
            && export.documents.is_empty()
            && export.approvals_requested.is_empty()
            && export.approvals_decided.is_empty()
            && export.spending.is_empty()
            && export.standing.is_none()
            && export.audit_events.is_empty();
        if nothing {
            return Err(StoreError::UnknownSubject {
                name: name.to_owned(),
            });
        }
        Ok(export)
    }

    fn subject_conversations(&self, name: &str) -> Result<Vec<SubjectConversation>, StoreError> {
        let sql = |err| self.error(err);
        let mut conversations: Vec<SubjectConversation> = self
            .conn
            .prepare(
                "SELECT id, title, created_at FROM conversations WHERE owner = ?1 ORDER BY rowid",
            )
            .and_then(|mut statement| {
                statement
                    .query_map([name], |row| {
                        Ok(SubjectConversation {
                            id: row.get(0)?,
                            title: row.get(1)?,
                            created_at: row.get(2)?,
                            messages: Vec::new(),
                        })
                    })?
                    .collect()
            })
            .map_err(sql)?;
        let mut messages = self
            .conn
            .prepare(
                "SELECT role, content, trace_id, created_at FROM messages
                 WHERE conversation_id = ?1 ORDER BY id",
            )
            .map_err(sql)?;
        for conversation in &mut conversations {
            conversation.messages = messages
                .query_map([&conversation.id], |row| {
                    Ok(StoredMessage {
                        role: row.get(0)?,
                        content: row.get(1)?,
                        trace_id: row.get(2)?,
                        created_at: row.get(3)?,
                    })
                })
                .and_then(Iterator::collect)
                .map_err(sql)?;
        }
        Ok(conversations)
    }

    fn subject_documents(&self, name: &str) -> Result<Vec<SubjectDocument>, StoreError> {
        let sql = |err| self.error(err);
        let mut documents: Vec<SubjectDocument> = self
            .conn
            .prepare(
                "SELECT id, title, source, format, classification, audience, metadata,
                        created_at, updated_at
                 FROM documents WHERE added_by = ?1 ORDER BY id",
            )
            .and_then(|mut statement| {
                statement
                    .query_map([name], |row| {
                        let metadata: String = row.get(6)?;
                        Ok(SubjectDocument {
                            id: row.get(0)?,
                            title: row.get(1)?,
                            source: row.get(2)?,
                            format: row.get(3)?,
                            classification: classification_at(row, 4)?,
                            audience: row.get(5)?,
                            metadata: serde_json::from_str(&metadata).unwrap_or_default(),
                            created_at: row.get(7)?,
                            updated_at: row.get(8)?,
                            versions: Vec::new(),
                        })
                    })?
                    .collect()
            })
            .map_err(sql)?;
        let mut versions = self
            .conn
            .prepare(
                "SELECT version, content_hash, byte_size, page_count, state, created_at, retired_at
                 FROM document_versions WHERE document_id = ?1 ORDER BY version",
            )
            .map_err(sql)?;
        for document in &mut documents {
            document.versions = versions
                .query_map([document.id], |row| {
                    Ok(SubjectDocumentVersion {
                        version: row.get(0)?,
                        content_hash: row.get(1)?,
                        byte_size: row.get(2)?,
                        page_count: row.get(3)?,
                        state: row.get(4)?,
                        created_at: row.get(5)?,
                        retired_at: row.get(6)?,
                    })
                })
                .and_then(Iterator::collect)
                .map_err(sql)?;
        }
        Ok(documents)
    }

    fn subject_spending(&self, name: &str) -> Result<Vec<SubjectSpend>, StoreError> {
        self.conn
            .prepare(
                "SELECT amount_cents, status, decision_id, tool, created_at FROM spend_ledger
                 WHERE principal = ?1 ORDER BY id",
            )
            .and_then(|mut statement| {
                statement
                    .query_map([name], |row| {
                        Ok(SubjectSpend {
                            amount_cents: row.get(0)?,
                            status: row.get(1)?,
                            decision_id: row.get(2)?,
                            tool: row.get(3)?,
                            created_at: row.get(4)?,
                        })
                    })?
                    .collect()
            })
            .map_err(|err| self.error(err))
    }

    /// Every audit event that names `name`: by its pseudonym, or in clear (rows written before
    /// it was registered), oldest first, resolved.
    fn audit_events_naming(
        &self,
        subjects: &Subjects,
        name: &str,
        pseudonym: Option<&str>,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let mention = Mention::new(name);
        let mut statement = self
            .conn
            .prepare(
                "SELECT seq, trace_id, kind, payload, created_at FROM events
                 WHERE instr(payload, ?1) > 0 OR (?2 IS NOT NULL AND instr(payload, ?2) > 0)
                 ORDER BY seq",
            )
            .map_err(|err| self.error(err))?;
        let rows = statement
            .query_map(params![name, pseudonym], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, String>(3)?,
                    row.get::<_, String>(4)?,
                ))
            })
            .map_err(|err| self.error(err))?;
        let mut events = Vec::new();
        for row in rows {
            let (seq, trace_id, kind, payload, created_at) = row.map_err(|err| self.error(err))?;
            let stored: Value = serde_json::from_str(&payload).map_err(|err| {
                StoreError::Malformed(format!(
                    "audit row {seq}: the payload is not JSON ({err}); run the audit verification"
                ))
            })?;
            let by_pseudonym =
                pseudonym.is_some_and(|pseudonym| Mention::new(pseudonym).in_value(&stored));
            if by_pseudonym || mention.in_value(&stored) {
                events.push(StoredEvent {
                    seq,
                    trace_id,
                    kind,
                    payload: self.resolved_payload(subjects, seq, &payload)?,
                    created_at,
                });
            }
        }
        Ok(events)
    }

    /// How many audit rows still hold `name` in clear (see
    /// [`ErasureReport::legacy_rows_naming_subject`]).
    fn audit_rows_naming(&self, name: &str) -> Result<u64, StoreError> {
        let mention = Mention::new(name);
        let mut statement = self
            .conn
            .prepare("SELECT payload FROM events WHERE instr(payload, ?1) > 0")
            .map_err(|err| self.error(err))?;
        let rows = statement
            .query_map([name], |row| row.get::<_, String>(0))
            .map_err(|err| self.error(err))?;
        let mut count = 0;
        for payload in rows {
            let payload = payload.map_err(|err| self.error(err))?;
            let named = serde_json::from_str::<Value>(&payload).map_or_else(
                |_| mention.in_text(&payload),
                |value| mention.in_value(&value),
            );
            if named {
                count += 1;
            }
        }
        Ok(count)
    }

    /// Erases `name` (see the module docs), recorded in the audit log as done by the admin
    /// `by`, and purges the deleted bytes from the file.
    ///
    /// # Errors
    /// [`StoreError::UnknownSubject`] when nothing is recorded about `name` (never recorded, or
    /// erased already); [`StoreError::Invalid`] when `by` is `name` (another admin records the
    /// erasure, or `name` would be registered again); SQLite errors, after which nothing was
    /// changed.
    pub fn erase_subject(&self, name: &str, by: &str) -> Result<ErasureReport, StoreError> {
        if name == by {
            return Err(StoreError::Invalid(format!(
                "`{by}` cannot erase themselves: the erasure is recorded under the admin's name, \
                 which would register `{name}` again; another admin must do it"
            )));
        }
        let secure_delete: i64 = self
            .conn
            .query_row("PRAGMA secure_delete", [], |row| row.get(0))
            .map_err(|err| self.error(err))?;
        self.conn
            .execute_batch("PRAGMA secure_delete = ON")
            .map_err(|err| self.error(err))?;
        let erased = self.write(|tx| self.erase_in(tx, name, by));
        let purged = match &erased {
            Ok(_) => self.purge_deleted().unwrap_or_else(|err| {
                tracing::warn!(%err, "the erased data could not be purged from the file");
                false
            }),
            Err(_) => false,
        };
        self.conn
            .execute_batch(&format!("PRAGMA secure_delete = {secure_delete}"))
            .map_err(|err| self.error(err))?;
        let mut report = erased?;
        report.purged = purged;
        tracing::info!(
            pseudonym = %report.pseudonym,
            audit_seq = report.audit_seq,
            purged,
            "data subject erased"
        );
        Ok(report)
    }

    /// Optimises the full-text index (deleted documents' terms leave its segments), vacuums the
    /// file and checkpoints the write-ahead log into it, truncating the log. Returns whether
    /// the log could be emptied (another process reading it keeps it).
    ///
    /// # Errors
    /// SQLite errors, e.g. [`StoreError::Locked`] while another process writes.
    pub fn purge_deleted(&self) -> Result<bool, StoreError> {
        self.conn
            .execute_batch("INSERT INTO chunk_fts (chunk_fts) VALUES ('optimize'); VACUUM;")
            .map_err(|err| self.error(err))?;
        let busy: i64 = self
            .conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |row| row.get(0))
            .map_err(|err| self.error(err))?;
        Ok(busy == 0)
    }

    fn erase_in(
        &self,
        tx: &Transaction<'_>,
        name: &str,
        by: &str,
    ) -> Result<ErasureReport, WriteError> {
        let known = self.subjects()?.pseudonym_of(name).map(str::to_owned);
        let pseudonym = match known {
            Some(pseudonym) => pseudonym,
            None if holds_data(tx, name)? => self
                .register_subjects(&[name])?
                .pseudonym_of(name)
                .map(str::to_owned)
                .ok_or_else(|| StoreError::Malformed(format!("`{name}` was not registered")))?,
            None => {
                return Err(StoreError::UnknownSubject {
                    name: name.to_owned(),
                }
                .into())
            }
        };
        let rewrite = Rewrite::new(name, &pseudonym)?;
        let messages_deleted = tx.execute(
            "DELETE FROM messages WHERE conversation_id IN
                 (SELECT id FROM conversations WHERE owner = ?1)",
            [name],
        )?;
        let conversations_deleted =
            tx.execute("DELETE FROM conversations WHERE owner = ?1", [name])?;
        let documents: Vec<i64> = tx
            .prepare("SELECT id FROM documents WHERE added_by = ?1")?
            .query_map([name], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        let mut documents_deleted = 0;
        for id in documents {
            if remove_document_in(tx, id)? {
                documents_deleted += 1;
            }
        }
        let account_deleted = tx.execute("DELETE FROM local_accounts WHERE name = ?1", [name])? > 0;
        let standing_deleted = tx.execute(
            "DELETE FROM principal_standing WHERE principal = ?1",
            [name],
        )? > 0;
        let approvals_rewritten = rewrite_approvals(tx, &rewrite)?;
        let texts_rewritten = rewrite_texts(tx, &rewrite)?;
        let spend_rows_rewritten = rewrite_spends(tx, name, &pseudonym)?;
        tx.execute("DELETE FROM subjects WHERE pseudonym = ?1", [&pseudonym])?;
        let mut report = ErasureReport {
            pseudonym,
            conversations_deleted: count(conversations_deleted),
            messages_deleted: count(messages_deleted),
            documents_deleted,
            account_deleted,
            standing_deleted,
            approvals_rewritten,
            spend_rows_rewritten,
            texts_rewritten,
            legacy_rows_naming_subject: self.audit_rows_naming(name)?,
            audit_seq: 0,
            purged: false,
        };
        let event = Event::new(
            &TraceId::new(),
            EventKind::SubjectErased,
            json!({
                "pseudonym": report.pseudonym,
                "by": by,
                "conversations_deleted": report.conversations_deleted,
                "messages_deleted": report.messages_deleted,
                "documents_deleted": report.documents_deleted,
                "account_deleted": report.account_deleted,
                "standing_deleted": report.standing_deleted,
                "approvals_rewritten": report.approvals_rewritten,
                "spend_rows_rewritten": report.spend_rows_rewritten,
                "texts_rewritten": report.texts_rewritten,
                "legacy_rows_naming_subject": report.legacy_rows_naming_subject,
            }),
        );
        let seqs = self
            .append_in(tx, std::slice::from_ref(&event))
            .map_err(|err| self.audit_error(err))?;
        report.audit_seq = seqs.first().copied().unwrap_or_default();
        Ok(report)
    }
}

fn count(rows: usize) -> u64 {
    u64::try_from(rows).unwrap_or(u64::MAX)
}

/// Whether any table holds data of `name` (a person never registered: e.g. only in rows
/// written before subjects existed).
fn holds_data(conn: &Connection, name: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM local_accounts WHERE name = ?1)
             OR EXISTS (SELECT 1 FROM conversations WHERE owner = ?1)
             OR EXISTS (SELECT 1 FROM documents WHERE added_by = ?1)
             OR EXISTS (SELECT 1 FROM approvals WHERE requester = ?1 OR decided_by = ?1)
             OR EXISTS (SELECT 1 FROM spend_ledger WHERE principal = ?1)
             OR EXISTS (SELECT 1 FROM principal_standing WHERE principal = ?1)",
        [name],
        |row| row.get(0),
    )
}

/// Approval requests made or decided by the person, or naming them in their text: the name
/// replaced. Returns how many requests changed.
fn rewrite_approvals(conn: &Connection, rewrite: &Rewrite<'_>) -> rusqlite::Result<u64> {
    let mut changed: BTreeSet<String> = BTreeSet::new();
    for column in ["requester", "decided_by"] {
        let ids: Vec<String> = conn
            .prepare(&format!(
                "UPDATE approvals SET {column} = ?2 WHERE {column} = ?1 RETURNING id"
            ))?
            .query_map(params![rewrite.name, rewrite.pseudonym], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        changed.extend(ids);
    }
    type Texts = (
        String,
        String,
        Option<String>,
        String,
        String,
        Option<String>,
    );
    let naming: Vec<Texts> = conn
        .prepare(
            "SELECT id, reason, comment, args, decision, result FROM approvals
             WHERE instr(reason, ?1) > 0 OR instr(coalesce(comment, ''), ?1) > 0
                OR instr(args, ?1) > 0 OR instr(decision, ?1) > 0
                OR instr(coalesce(result, ''), ?1) > 0",
        )?
        .query_map([rewrite.name], |row| {
            Ok((
                row.get(0)?,
                row.get(1)?,
                row.get(2)?,
                row.get(3)?,
                row.get(4)?,
                row.get(5)?,
            ))
        })?
        .collect::<Result<_, _>>()?;
    for (id, reason, comment, args, decision, result) in naming {
        let new_reason = rewrite.text(&reason).into_owned();
        let new_comment = comment
            .as_deref()
            .map(|text| rewrite.text(text).into_owned());
        let new_args = rewrite.json(&args);
        let new_decision = rewrite.json(&decision);
        let new_result = result.as_deref().and_then(|text| rewrite.json(text));
        if new_reason == reason
            && new_comment == comment
            && new_args.is_none()
            && new_decision.is_none()
            && new_result.is_none()
        {
            continue;
        }
        conn.execute(
            "UPDATE approvals SET reason = ?2, comment = ?3, args = ?4, decision = ?5,
                 result = ?6
             WHERE id = ?1",
            params![
                id,
                new_reason,
                new_comment,
                new_args.unwrap_or(args),
                new_decision.unwrap_or(decision),
                new_result.or(result)
            ],
        )?;
        changed.insert(id);
    }
    Ok(count(changed.len()))
}

/// Other people's messages and conversation titles that name the person, rewritten.
fn rewrite_texts(conn: &Connection, rewrite: &Rewrite<'_>) -> rusqlite::Result<u64> {
    let mut changed = 0;
    for (table, key, column) in [
        ("messages", "id", "content"),
        ("conversations", "id", "title"),
    ] {
        let rows: Vec<(rusqlite::types::Value, String)> = conn
            .prepare(&format!(
                "SELECT {key}, {column} FROM {table} WHERE instr({column}, ?1) > 0"
            ))?
            .query_map([rewrite.name], |row| Ok((row.get(0)?, row.get(1)?)))?
            .collect::<Result<_, _>>()?;
        let mut update = conn.prepare(&format!(
            "UPDATE {table} SET {column} = ?2 WHERE {key} = ?1"
        ))?;
        for (id, text) in rows {
            if let Cow::Owned(new) = rewrite.text(&text) {
                update.execute(params![id, new])?;
                changed += 1;
            }
        }
    }
    Ok(changed)
}

/// The trigger that keeps a spend's principal (and everything but its status) from changing.
const SPEND_TRIGGER: &str = "spend_ledger_only_status_changes";

/// The person's spends recorded under the pseudonym instead. The ledger's trigger refuses any
/// change but a status change, so inside the erasure's transaction it is dropped, the
/// principal changed, and the trigger created again from its own stored SQL: no other
/// connection can write in between (the transaction holds the write lock), and when anything
/// fails the rollback restores the trigger with everything else.
fn rewrite_spends(conn: &Connection, name: &str, pseudonym: &str) -> rusqlite::Result<u64> {
    let spends: i64 = conn.query_row(
        "SELECT count(*) FROM spend_ledger WHERE principal = ?1",
        [name],
        |row| row.get(0),
    )?;
    if spends == 0 {
        return Ok(0);
    }
    let trigger: Option<String> = conn
        .query_row(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?1",
            [SPEND_TRIGGER],
            |row| row.get(0),
        )
        .optional()?;
    if trigger.is_some() {
        conn.execute_batch(&format!("DROP TRIGGER {SPEND_TRIGGER}"))?;
    }
    let changed = conn.execute(
        "UPDATE spend_ledger SET principal = ?2 WHERE principal = ?1",
        params![name, pseudonym],
    )?;
    if let Some(sql) = trigger {
        conn.execute_batch(&sql)?;
    }
    Ok(count(changed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn subjects(names: &[&str]) -> Subjects {
        Subjects::new(
            names
                .iter()
                .map(|name| (pseudonym(&[1; 32], name), (*name).to_owned()))
                .collect(),
        )
        .unwrap()
    }

    #[test]
    fn a_pseudonym_is_keyed_and_shaped_for_the_subjects_table() {
        let one = pseudonym(&[1; 32], "maria.lopez");
        assert!(
            one.starts_with(PSEUDONYM_PREFIX) && one.len() == 28,
            "{one}"
        );
        assert!(is_pseudonym(&one));
        assert_eq!(one, pseudonym(&[1; 32], "maria.lopez"));
        assert_ne!(one, pseudonym(&[2; 32], "maria.lopez"), "another key");
        assert_ne!(one, pseudonym(&[1; 32], "maria.lopes"), "another name");
        assert!(!is_pseudonym(&format!("{one}0")));
        assert!(!is_pseudonym("subject:nothex-nothex-nothe"));
    }

    #[test]
    fn names_are_replaced_as_whole_words_longest_first_and_resolved_back() {
        let subjects = subjects(&["maria.lopez", "maria", "al", "-x-"]);
        let maria = subjects.pseudonym_of("maria").unwrap().to_owned();
        let lopez = subjects.pseudonym_of("maria.lopez").unwrap().to_owned();
        let text = "maria.lopez asked maria; mariam, amaria and maria_2 are others; al and -x- too";
        let replaced = subjects.replace_names(text);
        assert_eq!(
            replaced,
            format!("{lopez} asked {maria}; mariam, amaria and maria_2 are others; al and -x- too")
        );
        assert_eq!(subjects.resolve(&replaced), text);
        assert!(matches!(
            subjects.replace_names("nobody here"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn only_live_pseudonyms_are_resolved() {
        let subjects = subjects(&["maria"]);
        let gone = pseudonym(&[9; 32], "erased");
        let live = subjects.pseudonym_of("maria").unwrap().to_owned();
        let text = format!("{live} and {gone}");
        assert!(subjects.mentions_live(&text));
        assert!(!subjects.mentions_live(&gone));
        assert_eq!(subjects.resolve(&text), format!("maria and {gone}"));
    }

    #[test]
    fn identity_keys_depend_on_the_kind_of_event() {
        assert!(is_identity_key("decision_made", "principal"));
        assert!(is_identity_key("accounts_changed", "added"));
        assert!(!is_identity_key("connections_changed", "added"));
        assert!(!is_identity_key("decision_made", "tool"));
    }

    #[test]
    fn a_database_from_before_pseudonyms_gets_owners_and_reports_its_legacy_rows() {
        use crate::chain::{row_hash, RowFields, GENESIS};
        use crate::migrations::MIGRATIONS;

        let dir = tempfile::tempdir().unwrap();
        crate::vec_extension::register();
        let conn = Connection::open(dir.path().join(crate::DATABASE_FILE)).unwrap();
        let before = usize::try_from(SUBJECTS_VERSION - 1).unwrap();
        for migration in &MIGRATIONS[..before] {
            conn.execute_batch(migration.sql).unwrap();
            if let Some(code) = migration.code {
                code(&conn).unwrap();
            }
            conn.execute_batch(migration.then).unwrap();
        }
        conn.execute_batch(&format!(
            "PRAGMA user_version = {before};
             INSERT INTO conversations (id, title) VALUES ('c-1', 'pump');
             INSERT INTO messages (conversation_id, role, content) VALUES ('c-1', 'user', 'P-101?');
             INSERT INTO conversations (id, title) VALUES ('c-2', 'typed before any record');
             INSERT INTO documents (id, source, title, format, classification)
                 VALUES (7, '/docs/notes.md', 'notes', 'md', 1);
             INSERT INTO local_accounts (name, roles, passphrase_hash)
                 VALUES ('maria.lopez', '[]', '$argon2id$x');"
        ))
        .unwrap();
        let legacy = [
            ("t-1", "request_received", json!({"conversation_id": "c-1"})),
            (
                "t-1",
                "decision_made",
                json!({"stage": "admission", "principal": "maria.lopez",
                       "decision": {"trace": [{"detail": "maria.lopez is a known user"}]}}),
            ),
            (
                "t-2",
                "documents_changed",
                json!({"action": "added", "principal": "maria.lopez",
                       "outcome": {"status": "added", "document_id": 7, "chunks": 0}}),
            ),
            (
                "t-3",
                "tool_finished",
                json!({"result": "maria.lopez2 is someone else"}),
            ),
        ];
        let mut prev = GENESIS;
        for (seq, (trace_id, kind, payload)) in (1..).zip(legacy) {
            let payload = payload.to_string();
            let created_at = "2024-05-01T09:00:00.000Z";
            let hash = row_hash(
                &prev,
                seq,
                RowFields {
                    created_at: created_at.as_bytes(),
                    trace_id: trace_id.as_bytes(),
                    kind: kind.as_bytes(),
                    payload: payload.as_bytes(),
                },
            );
            conn.execute(
                "INSERT INTO events (seq, trace_id, kind, payload, created_at, prev_hash, hash)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    seq,
                    trace_id,
                    kind,
                    payload,
                    created_at,
                    &prev[..],
                    &hash[..]
                ],
            )
            .unwrap();
            prev = hash;
        }
        drop(conn);

        let store = Store::open(dir.path()).unwrap();
        let owners: Vec<(String, Option<String>)> = store
            .conn
            .prepare("SELECT id, owner FROM conversations ORDER BY id")
            .unwrap()
            .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            owners,
            [
                ("c-1".to_owned(), Some("maria.lopez".to_owned())),
                ("c-2".to_owned(), None)
            ]
        );
        let adder: Option<String> = store
            .conn
            .query_row("SELECT added_by FROM documents WHERE id = 7", [], |row| {
                row.get(0)
            })
            .unwrap();
        assert_eq!(adder.as_deref(), Some("maria.lopez"));
        let legacy_events = store.subject_export("maria.lopez").unwrap().audit_events;
        assert_eq!(legacy_events.len(), 2, "{legacy_events:?}");

        let report = store.erase_subject("maria.lopez", "boss").unwrap();
        assert_eq!(report.legacy_rows_naming_subject, 2);
        assert_eq!(
            (report.conversations_deleted, report.documents_deleted),
            (1, 1)
        );
        assert!(report.account_deleted);
        assert!(store.verify_audit(&[]).unwrap().is_intact());
    }

    #[test]
    fn a_mention_is_a_whole_word_or_the_whole_value() {
        let mention = Mention::new("bob");
        assert!(mention.in_value(&json!({"a": ["x", {"b": "asked bob."}]})));
        assert!(!mention.in_value(&json!({"bob": "bobby"})));
        assert!(Mention::new("-x-").in_text("a-x-b"));
    }
}
