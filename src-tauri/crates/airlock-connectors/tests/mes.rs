//! The MES through the real ODBC path: unixODBC, Debian's SQLite ODBC driver, and a database
//! built from `fixtures/mes/*.sql` (`make setup` installs the driver).

use std::path::{Path, PathBuf};

use airlock_connectors::mes::{Compensation, Mes, MesError};
use serde_json::{json, Value};

fn fixture() -> (tempfile::TempDir, Mes) {
    let dir = tempfile::tempdir().unwrap();
    let sql = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../fixtures/mes");
    let mes = Mes::build_fixture(&sql, &dir.path().join("mes.db"))
        .unwrap_or_else(|err| panic!("the SQLite ODBC driver is needed (`make setup`): {err}"));
    (dir, mes)
}

/// Every production order, every column, in key order.
fn orders(mes: &Mes) -> Vec<serde_json::Map<String, Value>> {
    mes.query("SELECT * FROM production_orders ORDER BY order_id", 100)
        .unwrap()
        .rows
}

#[test]
fn downtime_for_a_line_and_week_is_typed_and_ordered() {
    let (_dir, mes) = fixture();
    let rows = mes.downtime(3, "2026-11-16", "2026-11-23").unwrap();
    let ids: Vec<i64> = rows
        .rows
        .iter()
        .map(|r| r["event_id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        ids,
        [1, 2, 4, 6, 7, 8, 10],
        "line 3 only, the week only, oldest first"
    );
    let minutes: i64 = rows
        .rows
        .iter()
        .map(|r| r["minutes"].as_i64().unwrap())
        .sum();
    assert_eq!(minutes, 176);
    assert_eq!(rows.rows[1]["reason"], "cap feeder jam");
    assert_eq!(rows.columns[0], "event_id");

    let injected = mes.downtime(3, "9999' OR '1'='1", "2026-11-23").unwrap();
    assert!(
        injected.rows.is_empty(),
        "values are bound, never pasted into SQL"
    );
}

#[test]
fn work_orders_by_status_and_line() {
    let (_dir, mes) = fixture();
    let released = mes.work_orders("released", None).unwrap();
    let ids: Vec<&str> = released
        .rows
        .iter()
        .map(|r| r["order_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["PO-4712", "PO-4716"]);
    let on_line_3 = mes.work_orders("released", Some(3)).unwrap();
    assert_eq!(on_line_3.rows.len(), 1);
    assert_eq!(on_line_3.rows[0]["quantity"], json!(12000));
}

#[test]
fn the_guarded_query_reads_and_caps_rows() {
    let (_dir, mes) = fixture();
    let rows = mes
        .query(
            "SELECT line, reason, minutes FROM downtime WHERE line = 3",
            500,
        )
        .unwrap();
    assert_eq!(rows.columns, ["line", "reason", "minutes"]);
    assert_eq!(rows.rows.len(), 8);
    assert!(!rows.truncated);
    let capped = mes.query("SELECT event_id FROM downtime", 3).unwrap();
    assert_eq!(capped.rows.len(), 3);
    assert!(capped.truncated);
}

#[test]
fn a_statement_that_writes_is_refused_and_changes_nothing() {
    let (_dir, mes) = fixture();
    let before = orders(&mes);
    for sql in [
        "UPDATE production_orders SET status = 'cancelled'",
        "DELETE FROM downtime",
        "DROP TABLE production_orders",
    ] {
        let err = mes.query(sql, 10).unwrap_err();
        assert!(
            matches!(err, MesError::Odbc { .. } | MesError::Query(_)),
            "{sql}: {err}"
        );
    }
    assert_eq!(orders(&mes), before);
    assert_eq!(
        mes.query("SELECT event_id FROM downtime", 100)
            .unwrap()
            .rows
            .len(),
        11
    );
}

#[test]
fn a_write_returns_its_compensation_and_the_undo_restores_the_before_image_exactly() {
    let (_dir, mes) = fixture();
    let before = orders(&mes);
    let record = mes.set_work_order_status("PO-4711", "on_hold").unwrap();
    assert_eq!(
        record,
        Compensation {
            table: "production_orders".into(),
            order_id: "PO-4711".into(),
            status_before: "in_progress".into(),
            status_after: "on_hold".into(),
        }
    );
    let changed = orders(&mes);
    assert_ne!(changed, before);
    assert_eq!(changed[0]["status"], "on_hold");

    mes.compensate(&record).unwrap();
    assert_eq!(orders(&mes), before, "every column of every row as it was");
}

#[test]
fn an_undo_after_someone_else_changed_the_row_is_refused() {
    let (_dir, mes) = fixture();
    let record = mes.set_work_order_status("PO-4712", "on_hold").unwrap();
    mes.set_work_order_status("PO-4712", "cancelled").unwrap();
    let err = mes.compensate(&record).unwrap_err();
    assert!(matches!(err, MesError::Conflict { .. }), "{err}");
    assert!(err.to_string().contains("is now `cancelled`"), "{err}");
    assert_eq!(mes.work_orders("cancelled", None).unwrap().rows.len(), 1);
}

#[test]
fn bad_writes_change_nothing() {
    let (_dir, mes) = fixture();
    let before = orders(&mes);
    let err = mes.set_work_order_status("PO-0000", "on_hold").unwrap_err();
    assert!(matches!(err, MesError::NotFound(_)), "{err}");
    let err = mes.set_work_order_status("PO-4711", "done").unwrap_err();
    assert!(err.to_string().contains("not a work order status"), "{err}");
    assert_eq!(orders(&mes), before);
}

#[test]
fn a_missing_data_source_is_a_clear_error() {
    let err = Mes::dsn("no-such-mes")
        .work_orders("released", None)
        .unwrap_err();
    assert!(matches!(err, MesError::Unreachable { .. }), "{err}");
    assert!(err.to_string().contains("DSN no-such-mes"), "{err}");

    let nowhere = PathBuf::from("/nonexistent/dir/mes.db");
    let err = Mes::sqlite_file(&nowhere)
        .downtime(3, "2026-11-16", "2026-11-23")
        .unwrap_err();
    assert!(err.to_string().contains("/nonexistent/dir/mes.db"), "{err}");
}
