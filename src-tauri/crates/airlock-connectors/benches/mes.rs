//! MES round trips through the real ODBC path (unixODBC + the SQLite3 driver, a fresh
//! connection per call as the tools make): the typed downtime read and a guarded query.
//! Prints p50/p99/mean over `MES_BENCH_RUNS` calls each (default 500).

#[path = "support/timing.rs"]
mod timing;

use std::path::Path;

use airlock_connectors::mes::Mes;
use timing::{header, summary, time};

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let runs: usize = std::env::var("MES_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let dir = tempfile::tempdir().expect("temp dir");
    let sql = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../fixtures/mes");
    let mes = Mes::build_fixture(&sql, &dir.path().join("mes.db"))
        .expect("the SQLite ODBC driver is installed (make setup)");

    println!("\nMES through ODBC (connect + query + fetch), {runs} calls each:");
    header();
    summary(
        "mes_downtime(3, week) typed, bound",
        time(runs, || {
            let rows = mes.downtime(3, "2026-11-16", "2026-11-23").expect("query");
            assert_eq!(rows.rows.len(), 7);
        }),
    );
    summary(
        "mes_query (read-only connection)",
        time(runs, || {
            let rows = mes
                .query(
                    "SELECT line, reason, minutes FROM downtime WHERE line = 3",
                    500,
                )
                .expect("query");
            assert_eq!(rows.rows.len(), 8);
        }),
    );
}
