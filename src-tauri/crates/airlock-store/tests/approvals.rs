//! Approval requests and local accounts as the store keeps them.

use airlock_store::{ApprovalStatus, ApprovalVerdict, NewApproval, Store};
use serde_json::json;

fn request<'a>(id: &'a str, expires_at: &'a str, args: &'a serde_json::Value) -> NewApproval<'a> {
    NewApproval {
        id,
        trace_id: "trace-1",
        conversation_id: "conversation-1",
        requester: "olivia",
        tool: "restart_service",
        args,
        decision: args,
        approver_group: "plant-managers",
        risk: "high",
        reason: "a restart in production needs a plant manager",
        expires_at,
    }
}

const FUTURE: &str = "2999-01-01T00:00:00Z";
const PAST: &str = "2000-01-01T00:00:00Z";

#[test]
fn a_pending_request_is_settled_once_and_only_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let args = json!({"service": "label-printer"});
    store
        .create_approval(&request("a1", FUTURE, &args))
        .unwrap();

    let pending = store.approvals(Some(ApprovalStatus::Pending)).unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].args, args);
    assert_eq!(pending[0].expires_at, "2999-01-01T00:00:00.000Z");

    let (first, changed) = store
        .settle_approval("a1", ApprovalVerdict::Approve, "ada", Some("go"))
        .unwrap()
        .unwrap();
    assert!(changed);
    assert_eq!(first.status, ApprovalStatus::Approved);
    assert_eq!(first.decided_by.as_deref(), Some("ada"));

    let (second, changed) = store
        .settle_approval("a1", ApprovalVerdict::Deny, "victor", None)
        .unwrap()
        .unwrap();
    assert!(!changed, "a settled request cannot be settled again");
    assert_eq!(second.status, ApprovalStatus::Approved);
    assert_eq!(second.decided_by.as_deref(), Some("ada"));

    assert!(store
        .finish_approval("a1", ApprovalStatus::Executed, &json!({"ok": true}))
        .unwrap());
    assert!(
        !store
            .finish_approval("a1", ApprovalStatus::Failed, &json!({}))
            .unwrap(),
        "an approved call finishes once"
    );
    assert!(store
        .finish_approval("a1", ApprovalStatus::Denied, &json!({}))
        .is_err());
    assert!(store
        .settle_approval("missing", ApprovalVerdict::Approve, "ada", None)
        .unwrap()
        .is_none());
}

#[test]
fn an_expired_request_cannot_be_approved_and_is_marked_expired() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let args = json!({});
    store.create_approval(&request("old", PAST, &args)).unwrap();
    store
        .create_approval(&request("new", FUTURE, &args))
        .unwrap();

    let (record, changed) = store
        .settle_approval("old", ApprovalVerdict::Approve, "ada", None)
        .unwrap()
        .unwrap();
    assert!(!changed, "past its expiry, approving changes nothing");
    assert_eq!(record.status, ApprovalStatus::Pending);

    let expired = store.expire_approvals().unwrap();
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].id, "old");
    assert_eq!(expired[0].status, ApprovalStatus::Expired);
    assert!(store.expire_approvals().unwrap().is_empty());
    assert_eq!(
        store
            .approvals(Some(ApprovalStatus::Pending))
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn pending_requests_survive_reopening_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let args = json!({"service": "label-printer"});
    {
        let store = Store::open(dir.path()).unwrap();
        store
            .create_approval(&request("a1", FUTURE, &args))
            .unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    let record = store.approval("a1").unwrap().unwrap();
    assert_eq!(record.status, ApprovalStatus::Pending);
    assert_eq!(record.requester, "olivia");
}

#[test]
fn repeated_wrong_passphrases_lock_an_account_and_a_success_clears_the_count() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g";
    store
        .add_account("ada", &["admin".to_owned()], hash)
        .unwrap();
    assert!(
        store.add_account("ada", &[], hash).is_err(),
        "no duplicates"
    );
    assert!(
        store.add_account("eve", &[], "plain passphrase").is_err(),
        "only PHC strings are stored"
    );

    for attempt in 1..=2 {
        let account = store.record_failed_login("ada", 3, 900).unwrap().unwrap();
        assert_eq!(account.failed_attempts, attempt);
        assert!(!account.is_locked());
    }
    store.record_login("ada").unwrap();
    let (account, stored) = store.account_with_hash("ada").unwrap().unwrap();
    assert_eq!(account.failed_attempts, 0);
    assert_eq!(stored, hash);

    for _ in 0..2 {
        store.record_failed_login("ada", 3, 900).unwrap();
    }
    let locked = store.record_failed_login("ada", 3, 900).unwrap().unwrap();
    assert!(locked.is_locked(), "the third failure in a row locks it");

    assert!(store.remove_account("ada").unwrap());
    assert!(!store.remove_account("ada").unwrap());
    assert!(store.accounts().unwrap().is_empty());
}
