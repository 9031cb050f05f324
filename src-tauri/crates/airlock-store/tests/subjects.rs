//! Data subjects on a real SQLite file: names stored as pseudonyms in the audit log and read
//! back as names, the export of one person, and their erasure, after which the audit chain
//! still verifies and the name is nowhere in the database's bytes.

use std::path::Path;

use airlock_core::{Classification, EventKind, TraceId};
use airlock_store::{
    ApprovalVerdict, AuditFilter, Clearance, ExportFormat, NewApproval, NewChunk, NewVersion,
    PrincipalStanding, SearchFilter, SpendStatus, Store, StoreError, VersionStart,
    EMBEDDING_DIMENSION, PSEUDONYM_PREFIX,
};
use serde_json::{json, Value};

const MARIA: &str = "maria.lopez";

fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    (dir, store)
}

/// Every stored payload text, in order.
fn raw_payloads(dir: &Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(dir.join(airlock_store::DATABASE_FILE)).unwrap();
    let mut statement = conn
        .prepare("SELECT payload FROM events ORDER BY seq")
        .unwrap();
    statement
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

fn one_text(dir: &Path, sql: &str) -> Vec<String> {
    let conn = rusqlite::Connection::open(dir.join(airlock_store::DATABASE_FILE)).unwrap();
    let mut statement = conn.prepare(sql).unwrap();
    statement
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// A unit vector along `axis`.
fn axis(axis: usize) -> Vec<f32> {
    let mut v = vec![0.0; EMBEDDING_DIMENSION];
    v[axis] = 1.0;
    v
}

/// Ingests a one-chunk document `source` with `text` along `vector`; returns its id.
fn add_document(store: &Store, source: &str, text: &str, vector: &[f32]) -> i64 {
    let metadata = json!({});
    let start = store
        .begin_version(
            &NewVersion {
                source,
                title: source,
                format: "md",
                classification: Classification::Internal,
                audience: "",
                metadata: &metadata,
                content_hash: source,
                byte_size: text.len() as u64,
                page_count: None,
                text,
            },
            false,
        )
        .unwrap();
    let VersionStart::Ingest {
        document_id,
        version_id,
        ..
    } = start
    else {
        panic!("a new document is ingested: {start:?}");
    };
    store
        .add_chunks(
            version_id,
            &[NewChunk {
                ordinal: 0,
                page: None,
                section: None,
                span: 0..text.len(),
                text,
                token_count: 3,
                embedding: vector,
            }],
        )
        .unwrap();
    store.activate_version(version_id).unwrap();
    document_id
}

#[test]
fn a_principal_is_stored_as_its_pseudonym_and_read_back_as_its_name() {
    let (dir, store) = open();
    let trace = TraceId::new();
    let payload = json!({
        "principal": MARIA, "tool": "get_logs",
        "decision": {"decision": "allow", "trace": [{"detail": "maria.lopez is a known user"}]}
    });
    store
        .record(&trace, EventKind::DecisionMade, payload.clone())
        .unwrap();

    let raw = raw_payloads(dir.path()).pop().unwrap();
    assert!(!raw.contains(MARIA), "{raw}");
    let pseudonym = store.pseudonym_of(MARIA).unwrap();
    assert!(pseudonym.starts_with(PSEUDONYM_PREFIX), "{pseudonym}");
    let stored: Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(stored["principal"], pseudonym.as_str());
    assert_eq!(
        stored["decision"]["trace"][0]["detail"],
        format!("{pseudonym} is a known user")
    );

    assert_eq!(store.events_for(&trace).unwrap()[0].payload, payload);
    let filter = AuditFilter {
        principal: Some(MARIA.to_owned()),
        ..AuditFilter::default()
    };
    let entries = store.audit_entries(&filter).unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].principal.as_deref(), Some(MARIA));
    assert_eq!(entries[0].payload, payload);

    let mut export = Vec::new();
    store
        .export_audit(None, ExportFormat::Json, &mut export)
        .unwrap();
    let rows: Vec<Value> = serde_json::from_slice(&export).unwrap();
    assert_eq!(rows[0]["payload"], payload);
    assert_eq!(rows[0]["stored_payload"], raw.as_str(), "the hashed text");
    assert!(store.verify_audit(&[]).unwrap().is_intact());
}

#[test]
fn names_in_free_text_are_replaced_as_whole_words_only() {
    let (dir, store) = open();
    let trace = TraceId::new();
    store
        .record(
            &trace,
            EventKind::AccountsChanged,
            json!({"added": MARIA, "by": null}),
        )
        .unwrap();
    let text = "ask maria.lopez (not maria.lopez2 or xmaria.lopez) about MARIA.LOPEZ";
    store
        .record(
            &trace,
            EventKind::AnswerGenerated,
            json!({"answer": text, "note": [MARIA]}),
        )
        .unwrap();
    let pseudonym = store.pseudonym_of(MARIA).unwrap();
    let raw = raw_payloads(dir.path()).pop().unwrap();
    let stored: Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(
        stored["answer"],
        format!("ask {pseudonym} (not maria.lopez2 or xmaria.lopez) about MARIA.LOPEZ")
    );
    assert_eq!(stored["note"][0], pseudonym.as_str());
    let read = store.events_for(&trace).unwrap();
    assert_eq!(read[1].payload["answer"], text);
    assert_eq!(read[0].payload["added"], MARIA);
}

#[test]
fn a_key_is_an_identity_key_only_where_the_code_records_people_under_it() {
    let (dir, store) = open();
    store
        .record(
            &TraceId::new(),
            EventKind::ConnectionsChanged,
            json!({"added": "sap-prd", "by": "ada"}),
        )
        .unwrap();
    let names = one_text(dir.path(), "SELECT name FROM subjects ORDER BY name");
    assert_eq!(names, ["ada"], "a connection is not a person");
    let raw = raw_payloads(dir.path()).pop().unwrap();
    assert!(raw.contains("\"added\":\"sap-prd\""), "{raw}");
}

#[test]
fn an_e_mail_address_as_a_principal_stays_redacted_and_is_no_subject() {
    let (dir, store) = open();
    store
        .record(
            &TraceId::new(),
            EventKind::DecisionMade,
            json!({"principal": "jane@example.com"}),
        )
        .unwrap();
    assert!(one_text(dir.path(), "SELECT name FROM subjects").is_empty());
    assert_eq!(
        raw_payloads(dir.path()),
        [r#"{"principal":"[redacted:email]"}"#]
    );
    assert!(store.pseudonym_of("jane@example.com").is_err());
}

#[test]
fn a_pseudonym_is_registered_once_per_person_and_a_new_person_gets_a_new_one() {
    let (_dir, store) = open();
    let first = store.pseudonym_of("bob").unwrap();
    assert_eq!(store.pseudonym_of("bob").unwrap(), first);
    assert_ne!(store.pseudonym_of("carol").unwrap(), first);
    store
        .add_account("bob", &[], "$argon2id$v=19$fake")
        .unwrap();
    store.erase_subject("bob", "carol").unwrap();
    let again = store.pseudonym_of("bob").unwrap();
    assert_ne!(again, first, "the key went with the erased person");
    assert!(matches!(
        store.pseudonym_of(&first),
        Err(StoreError::Invalid(_))
    ));
}

/// Maria (an approver, who also asked and added a document) and Bob (an operator), with
/// everything the store keeps about people.
struct Plant {
    dir: tempfile::TempDir,
    store: Store,
    bob_conversation: String,
    approval: String,
}

fn plant() -> Plant {
    let (dir, store) = open();
    let hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA";
    store
        .add_account(MARIA, &["maintenance-leads".to_owned()], hash)
        .unwrap();
    store.add_account("bob", &[], hash).unwrap();
    store
        .record(
            &TraceId::new(),
            EventKind::AccountsChanged,
            json!({"added": MARIA, "roles": ["maintenance-leads"], "by": "boss", "os_user": "root"}),
        )
        .unwrap();

    let hers = store
        .create_conversation("Pump P-101 pressure", MARIA)
        .unwrap();
    store
        .add_message(&hers, "user", "why is P-101 losing pressure?", Some("t-m"))
        .unwrap();
    let trace = TraceId::from("t-m".to_owned());
    store
        .record(
            &trace,
            EventKind::RequestReceived,
            json!({"conversation_id": hers.as_str(), "text": "why is P-101 losing pressure?"}),
        )
        .unwrap();
    store
        .record(
            &trace,
            EventKind::DecisionMade,
            json!({"stage": "admission", "principal": MARIA,
                   "decision": {"trace": [{"detail": "maria.lopez is a known user"}]}}),
        )
        .unwrap();

    let bobs = store
        .create_conversation("Restart labelprintd", "bob")
        .unwrap();
    store
        .add_message(&bobs, "user", "restart labelprintd on ops-dev", Some("t-b"))
        .unwrap();
    let decision = json!({"id": "d-1", "decision": "require_approval",
                          "trace": [{"detail": "bob is a known user"}]});
    store
        .create_approval(&NewApproval {
            id: "d-1",
            trace_id: "t-b",
            conversation_id: bobs.as_str(),
            requester: "bob",
            tool: "restart_service",
            args: &json!({"service": "labelprintd", "system": "ops-dev"}),
            decision: &decision,
            approver_group: "maintenance-leads",
            risk: "high",
            reason: "a maintenance lead approves restarts",
            expires_at: "2999-01-01T00:00:00Z",
        })
        .unwrap();
    store
        .settle_approval(
            "d-1",
            ApprovalVerdict::Approve,
            MARIA,
            Some("checked by maria.lopez on the floor"),
        )
        .unwrap();
    store
        .add_message(
            &bobs,
            "assistant",
            "Approved by maria.lopez: `restart_service` ran.",
            Some("t-b"),
        )
        .unwrap();
    store
        .record(
            &TraceId::from("t-b".to_owned()),
            EventKind::ApprovalGranted,
            json!({"approval_id": "d-1", "requester": "bob", "approver": MARIA,
                   "comment": "checked by maria.lopez on the floor"}),
        )
        .unwrap();

    store
        .record_spend(
            MARIA,
            12_500,
            SpendStatus::Pending,
            "d-2",
            "sap_create_order",
        )
        .unwrap();
    store
        .set_principal_standing(
            MARIA,
            &PrincipalStanding {
                warned_at: Some("2024-05-01T09:00:00Z".to_owned()),
                warned_for: Some("t-m".to_owned()),
                blacklisted_until: None,
            },
        )
        .unwrap();

    let her_document = add_document(
        &store,
        "/docs/her-notes.md",
        "Seal kit notes for the P-101 pump",
        &axis(3),
    );
    assert!(store.set_document_added_by(her_document, MARIA).unwrap());
    assert!(!store.set_document_added_by(her_document, "bob").unwrap());
    let bobs_document = add_document(
        &store,
        "/docs/labelprintd.md",
        "Restart labelprintd after a jam",
        &axis(5),
    );
    store.set_document_added_by(bobs_document, "bob").unwrap();

    Plant {
        dir,
        store,
        bob_conversation: bobs.as_str().to_owned(),
        approval: "d-1".to_owned(),
    }
}

#[test]
fn a_subject_export_holds_everything_about_one_person_and_nothing_about_others() {
    let plant = plant();
    let export = plant.store.subject_export(MARIA).unwrap();
    assert_eq!(export.name, MARIA);
    assert!(export
        .pseudonym
        .as_deref()
        .unwrap()
        .starts_with(PSEUDONYM_PREFIX));
    assert_eq!(export.account.as_ref().unwrap().name, MARIA);
    let json = serde_json::to_string(&export).unwrap();
    assert!(!json.contains("argon2"), "never the passphrase hash");
    assert_eq!(export.conversations.len(), 1);
    assert_eq!(export.conversations[0].messages.len(), 1);
    assert_eq!(export.documents.len(), 1);
    assert_eq!(export.documents[0].source, "/docs/her-notes.md");
    assert_eq!(export.documents[0].versions.len(), 1);
    assert!(export.approvals_requested.is_empty());
    assert_eq!(export.approvals_decided.len(), 1);
    assert_eq!(export.approvals_decided[0].id, plant.approval);
    assert_eq!(export.spending.len(), 1);
    assert_eq!(export.spending[0].amount_cents, 12_500);
    assert!(export.standing.is_some());
    let kinds: Vec<&str> = export
        .audit_events
        .iter()
        .map(|event| event.kind.as_str())
        .collect();
    assert_eq!(
        kinds,
        ["accounts_changed", "decision_made", "approval_granted"]
    );
    assert_eq!(export.audit_events[2].payload["approver"], MARIA);
    assert!(!json.contains("labelprintd.md"), "Bob's document is his");

    let err = plant.store.subject_export("nobody").unwrap_err();
    assert!(matches!(err, StoreError::UnknownSubject { .. }), "{err}");
    assert!(err.to_string().contains("users list"), "{err}");
}

/// Every file of the database (the file and its -wal), each read whole.
fn database_bytes(dir: &Path) -> Vec<(String, Vec<u8>)> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with(airlock_store::DATABASE_FILE)
        })
        .map(|path| (path.display().to_string(), std::fs::read(&path).unwrap()))
        .collect()
}

fn holds(bytes: &[u8], needle: &[u8]) -> bool {
    bytes.windows(needle.len()).any(|window| window == needle)
}

#[test]
fn erasure_deletes_and_rewrites_everything_of_one_person_and_the_audit_log_still_verifies() {
    let plant = plant();
    let store = &plant.store;
    let pseudonym = store.pseudonym_of(MARIA).unwrap();
    let files = database_bytes(plant.dir.path());
    assert!(
        files
            .iter()
            .any(|(_, bytes)| holds(bytes, MARIA.as_bytes())),
        "the name is in the file before the erasure (the test can fail)"
    );

    let report = store.erase_subject(MARIA, "boss").unwrap();
    assert_eq!(report.pseudonym, pseudonym);
    assert_eq!(
        (
            report.conversations_deleted,
            report.messages_deleted,
            report.documents_deleted
        ),
        (1, 1, 1)
    );
    assert!(report.account_deleted && report.standing_deleted);
    assert_eq!(report.approvals_rewritten, 1);
    assert_eq!(report.spend_rows_rewritten, 1);
    assert_eq!(report.texts_rewritten, 1, "Bob's 'Approved by' message");
    assert_eq!(report.legacy_rows_naming_subject, 0);
    assert!(report.purged);

    let verified = store.verify_audit(&[]).unwrap();
    assert!(verified.is_intact(), "{:?}", verified.first_problem);
    for (path, bytes) in database_bytes(plant.dir.path()) {
        assert!(!holds(&bytes, MARIA.as_bytes()), "{path} holds the name");
        assert!(
            !holds(&bytes.to_ascii_lowercase(), MARIA.as_bytes()),
            "{path} holds the name in another case"
        );
    }

    let raw = raw_payloads(plant.dir.path());
    assert!(raw.iter().filter(|p| p.contains(&pseudonym)).count() >= 3);
    let erased: Value = serde_json::from_str(raw.last().unwrap()).unwrap();
    assert_eq!(erased["pseudonym"], pseudonym.as_str());
    let last = store.audit_entries(&AuditFilter::default()).unwrap();
    assert_eq!(last[0].kind, "subject_erased");
    assert_eq!(last[0].payload["by"], "boss");
    let granted = store.events_for(&TraceId::from("t-b".to_owned())).unwrap();
    assert_eq!(granted[0].payload["approver"], pseudonym.as_str());
    assert_eq!(granted[0].payload["requester"], "bob", "Bob is live");

    let approval = store.approval(&plant.approval).unwrap().unwrap();
    assert_eq!(approval.decided_by.as_deref(), Some(pseudonym.as_str()));
    assert_eq!(
        approval.comment.as_deref(),
        Some(format!("checked by {pseudonym} on the floor").as_str())
    );
    assert_eq!(approval.requester, "bob");
    assert_eq!(
        one_text(plant.dir.path(), "SELECT principal FROM spend_ledger"),
        std::slice::from_ref(&pseudonym)
    );
    let conn = rusqlite::Connection::open(plant.dir.path().join("airlock.db")).unwrap();
    let err = conn
        .execute("UPDATE spend_ledger SET principal = 'x'", [])
        .unwrap_err();
    assert!(
        err.to_string().contains("only the status"),
        "the trigger is back: {err}"
    );

    assert!(store.accounts().unwrap().iter().all(|a| a.name == "bob"));
    assert!(store.principal_standing(MARIA).unwrap().is_none());
    let conversations = store.conversations(10).unwrap();
    assert_eq!(conversations.len(), 1);
    assert_eq!(conversations[0].id, plant.bob_conversation);
    let bob = store
        .conversation(&plant.bob_conversation)
        .unwrap()
        .unwrap();
    let told = store.messages(&bob).unwrap();
    assert_eq!(
        told[1].content,
        format!("Approved by {pseudonym}: `restart_service` ran.")
    );
    let documents = store.documents().unwrap();
    assert_eq!(documents.len(), 1);
    assert_eq!(documents[0].source, "/docs/labelprintd.md");
    let everyone = Clearance::level(Classification::Restricted);
    let near = store
        .nearest_chunks(&axis(5), 5, &everyone, &SearchFilter::default())
        .unwrap();
    assert_eq!(near.len(), 1, "Bob's vectors survive the vacuum");
    assert_eq!(
        store.chunks(&[near[0].chunk_id]).unwrap()[0].document_id,
        documents[0].id
    );
    assert!(store
        .keyword_chunks("seal kit", 5, &everyone, &SearchFilter::default())
        .unwrap()
        .is_empty());
    assert_eq!(
        store
            .keyword_chunks("labelprintd jam", 5, &everyone, &SearchFilter::default())
            .unwrap()
            .len(),
        1
    );

    let again = store.erase_subject(MARIA, "boss").unwrap_err();
    assert!(
        matches!(again, StoreError::UnknownSubject { .. }),
        "{again}"
    );
    assert!(store.subject_export("bob").is_ok(), "Bob is untouched");
}

#[test]
fn an_admin_cannot_erase_themselves_and_an_unknown_person_is_refused() {
    let plant = plant();
    let err = plant.store.erase_subject("boss", "boss").unwrap_err();
    assert!(err.to_string().contains("another admin"), "{err}");
    let err = plant.store.erase_subject("mallory", "boss").unwrap_err();
    assert!(matches!(err, StoreError::UnknownSubject { .. }), "{err}");
    assert!(plant.store.verify_audit(&[]).unwrap().is_intact());
    assert!(!raw_payloads(plant.dir.path())
        .iter()
        .any(|payload| payload.contains("subject_erased") || payload.contains("pseudonym")));
}
