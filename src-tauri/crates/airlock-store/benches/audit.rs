//! Audit log throughput: durable appends through the hash chain (batched and one per commit)
//! and verification of a 1M-row log, on a real file in a temporary directory.
//!
//! `cargo bench -p airlock-store`; criterion prints rows/s as `thrpt` (elements per second).
//! On a shared machine the wall-clock figures include time spent waiting for a CPU, so each
//! benchmark also prints, from Linux's per-thread scheduler statistics, the CPU time per row
//! and the share of the wall time spent waiting for a CPU; the rest is the work itself and
//! waiting for the disk (fsync).

use std::cell::Cell;
use std::time::{Duration, Instant};

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

/// Seconds this thread has run on a CPU and waited for one (zeros where Linux's schedstat is
/// unavailable).
fn thread_times() -> (f64, f64) {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|stat| {
            let mut fields = stat.split_whitespace().map(|f| f.parse::<f64>().ok());
            Some((fields.next()?? / 1e9, fields.next()?? / 1e9))
        })
        .unwrap_or((0.0, 0.0))
}

/// Wall time, CPU time and CPU wait of everything measured for one benchmark.
#[derive(Default)]
struct Tally {
    rows: Cell<u64>,
    wall: Cell<f64>,
    cpu: Cell<f64>,
    waiting: Cell<f64>,
}

impl Tally {
    fn measure(&self, rows_per_iter: u64, iters: u64, mut routine: impl FnMut()) -> Duration {
        let (cpu, waiting) = thread_times();
        let started = Instant::now();
        for _ in 0..iters {
            routine();
        }
        let elapsed = started.elapsed();
        let (cpu_after, waiting_after) = thread_times();
        self.rows.set(self.rows.get() + rows_per_iter * iters);
        self.wall.set(self.wall.get() + elapsed.as_secs_f64());
        self.cpu.set(self.cpu.get() + cpu_after - cpu);
        self.waiting
            .set(self.waiting.get() + waiting_after - waiting);
        elapsed
    }

    fn report(&self, name: &str) {
        let rows = self.rows.get() as f64;
        let (wall, cpu, waiting) = (self.wall.get(), self.cpu.get(), self.waiting.get());
        if rows == 0.0 || wall == 0.0 {
            return;
        }
        eprintln!(
            "{name}: {:.0} rows/s wall; {:.2} us CPU per row; waited for a CPU {:.0}% of the \
             time; without that wait {:.0} rows/s",
            rows / wall,
            cpu * 1e6 / rows,
            100.0 * waiting / wall,
            rows / (wall - waiting).max(f64::EPSILON)
        );
    }
}

fn append(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(dir.path()).expect("open");
    store.set_audit_signer(signer());
    let events = batch(1000);
    let size = serde_json::to_string(&events[0].payload).map_or(0, |p| p.len());
    eprintln!("payload size: {size} bytes");
    let mut group = c.benchmark_group("audit_append");
    let batched = Tally::default();
    group.throughput(Throughput::Elements(1000));
    group.bench_function("batched_1000_rows_per_commit", |b| {
        b.iter_custom(|iters| {
            batched.measure(1000, iters, || {
                store.append_events(&events).expect("append");
            })
        });
    });
    let single = Tally::default();
    group.throughput(Throughput::Elements(1));
    group.bench_function("one_row_per_commit", |b| {
        b.iter_custom(|iters| {
            single.measure(1, iters, || {
                store.append_event(&events[0]).expect("append");
            })
        });
    });
    group.finish();
    batched.report("batched_1000_rows_per_commit");
    single.report("one_row_per_commit");
}

/// A durable, signed log of `rows` rows, written through the batched API.
fn build(rows: usize, key: &SigningKey) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut store = Store::open(dir.path()).expect("open");
    store.set_audit_signer(key.clone());
    let events = batch(1000);
    let tally = Tally::default();
    tally.measure(1000, (rows / events.len()) as u64, || {
        store.append_events(&events).expect("append");
    });
    tally.report(&format!("building the {rows}-row log"));
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
    let tally = Tally::default();
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
        b.iter_custom(|iters| {
            tally.measure(ROWS as u64, iters, || {
                store.verify_audit(&trusted).expect("verify");
            })
        });
    });
    group.finish();
    tally.report("verify_1m_rows");
}

criterion_group!(benches, append, verify);
criterion_main!(benches);
