//! Audit log throughput: durable appends through the hash chain (batched and one per commit)
//! and verification of a 1M-row log, on a real file in a temporary directory.
//!
//! `cargo bench -p airlock-store`; criterion prints rows/s as `thrpt` (elements per second).

use std::time::Instant;

use airlock_core::{Event, EventKind, TraceId};
use airlock_store::Store;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ed25519_dalek::SigningKey;
use serde_json::json;

/// A tool-call event of about 300 bytes of JSON, like the agent writes.
fn event(trace: &TraceId, i: usize) -> Event {
    Event::new(
        trace,
        EventKind::ToolFinished,
        json!({
            "tool": "production_line_status",
            "intent": i,
            "args": {"plant": "HAM-2", "line": format!("L{}", i % 12), "window_minutes": 60},
            "result": {
                "status": "running",
                "oee": 0.871,
                "units_good": 12_345 + i,
                "units_scrap": 17,
                "open_orders": ["4500001234", "4500001235"],
                "note": "Changeover finished at 09:40; next maintenance window Thursday 06:00."
            },
            "duration_ms": 12
        }),
    )
}

fn batch(n: usize) -> Vec<Event> {
    let trace = TraceId::new();
    (0..n).map(|i| event(&trace, i)).collect()
}

fn signer() -> SigningKey {
    SigningKey::from_bytes(&[7; 32])
}

fn append(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(dir.path()).expect("open");
    store.set_audit_signer(signer());
    let events = batch(1000);
    let size = serde_json::to_string(&events[0].payload).map_or(0, |p| p.len());
    eprintln!("payload size: {size} bytes");
    let mut group = c.benchmark_group("audit_append");
    group.throughput(Throughput::Elements(1000));
    group.bench_function("batched_1000_rows_per_commit", |b| {
        b.iter(|| store.append_events(&events).expect("append"));
    });
    group.throughput(Throughput::Elements(1));
    group.bench_function("one_row_per_commit", |b| {
        b.iter(|| store.append_event(&events[0]).expect("append"));
    });
    group.finish();
}

/// A durable, signed log of `rows` rows, written through the batched API.
fn build(rows: usize, key: &SigningKey) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(dir.path()).expect("open");
    store.set_audit_signer(key.clone());
    let events = batch(1000);
    let started = Instant::now();
    for _ in 0..rows / events.len() {
        store.append_events(&events).expect("append");
    }
    let built = started.elapsed();
    eprintln!(
        "built a {rows}-row log in {built:.2?} ({:.0} rows/s)",
        rows as f64 / built.as_secs_f64()
    );
    // Opening runs PRAGMA quick_check over the whole file: worth knowing at this size.
    drop(store);
    let started = Instant::now();
    let mut store = Store::open(dir.path()).expect("reopen");
    eprintln!("reopened the {rows}-row log in {:.2?}", started.elapsed());
    store.set_audit_signer(key.clone());
    (dir, store)
}

fn verify(c: &mut Criterion) {
    const ROWS: usize = 1_000_000;
    let key = signer();
    let trusted = [key.verifying_key()];
    // Built on first use, so that filtering this benchmark out skips it.
    let mut log: Option<(tempfile::TempDir, Store)> = None;
    let mut group = c.benchmark_group("audit_verify");
    group.sample_size(10);
    group.throughput(Throughput::Elements(ROWS as u64));
    group.bench_function("verify_1m_rows", |b| {
        let (_, store) = log.get_or_insert_with(|| {
            let (dir, store) = build(ROWS, &key);
            let report = store.verify_audit(&trusted).expect("verify");
            assert!(report.is_intact(), "{report:?}");
            assert_eq!(report.rows_checked, ROWS as u64);
            (dir, store)
        });
        b.iter(|| store.verify_audit(&trusted).expect("verify"));
    });
    group.finish();
}

criterion_group!(benches, append, verify);
criterion_main!(benches);
