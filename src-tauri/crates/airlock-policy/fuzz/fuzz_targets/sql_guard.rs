//! Fuzzes `SqlGuard::check` and asserts what an accepted query guarantees: it re-parses as
//! exactly one SELECT with an integer LIMIT of at most `max_rows`, reads only allowlisted
//! tables, and checking it again gives the same result.

#![no_main]

use std::sync::OnceLock;

use airlock_policy::guards::sql::{SqlGuard, SqlGuardConfig};
use libfuzzer_sys::fuzz_target;
use sqlparser::ast::{Expr, LimitClause, SetExpr, Statement, Value};
use sqlparser::dialect::SQLiteDialect;
use sqlparser::parser::Parser;

const MAX_ROWS: u64 = 500;

fn guard() -> &'static SqlGuard {
    static GUARD: OnceLock<SqlGuard> = OnceLock::new();
    GUARD.get_or_init(|| {
        let mut config = SqlGuardConfig {
            max_rows: MAX_ROWS,
            ..SqlGuardConfig::default()
        };
        let columns = |names: &[&str]| names.iter().map(|n| (*n).to_owned()).collect();
        config.tables.insert(
            "work_orders".to_owned(),
            columns(&["id", "line", "status", "due", "machine_id"]),
        );
        config
            .tables
            .insert("machines".to_owned(), columns(&["id", "name", "line"]));
        config.tables.insert("alarms".to_owned(), columns(&["*"]));
        SqlGuard::new(config)
    })
}

fuzz_target!(|data: &[u8]| {
    let guard = guard();
    let Ok(checked) = guard.check_bytes(data) else {
        return;
    };
    for table in &checked.tables {
        assert!(
            ["work_orders", "machines", "alarms"].contains(&table.as_str()),
            "{table}"
        );
    }
    assert!(
        !checked.sql.contains("--") && !checked.sql.contains("/*"),
        "{}",
        checked.sql
    );

    let statements = Parser::new(&SQLiteDialect {})
        .try_with_sql(&checked.sql)
        .and_then(|mut parser| parser.parse_statements())
        .unwrap_or_else(|e| panic!("accepted SQL does not re-parse: {e}\n{}", checked.sql));
    assert_eq!(statements.len(), 1, "{}", checked.sql);
    let Statement::Query(query) = &statements[0] else {
        panic!("accepted SQL is not a query: {}", checked.sql);
    };
    assert!(
        matches!(query.body.as_ref(), SetExpr::Select(_) | SetExpr::Query(_)),
        "{}",
        checked.sql
    );
    let Some(LimitClause::LimitOffset {
        limit: Some(Expr::Value(limit)),
        ..
    }) = &query.limit_clause
    else {
        panic!("accepted SQL has no plain LIMIT: {}", checked.sql);
    };
    let Value::Number(rows, _) = &limit.value else {
        panic!("LIMIT is not a number: {}", checked.sql);
    };
    let rows: u64 = rows.parse().expect("LIMIT is an integer");
    assert!(rows <= MAX_ROWS, "{}", checked.sql);

    let again = guard
        .check(&checked.sql)
        .unwrap_or_else(|v| panic!("re-check refused {}: {v}", checked.sql));
    assert_eq!(again, checked);
});
