//! One MES database reached through ODBC: connection per call (a driver's connection is cheap
//! next to the call, and a broken one is never reused), bound parameters for every value.

use std::path::{Path, PathBuf};

use odbc_api::buffers::TextRowSet;
use odbc_api::handles::StatementImpl;
use odbc_api::{
    Connection, ConnectionOptions, Cursor, CursorImpl, DataType, IntoParameter,
    ParameterCollectionRef, ResultSetMetadata,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use zeroize::Zeroizing;

use super::MesError;

/// The status values a production (work) order can have.
pub const WORK_ORDER_STATUSES: &[&str] = &[
    "planned",
    "released",
    "in_progress",
    "on_hold",
    "completed",
    "cancelled",
];

/// Rows fetched at once.
const BATCH: usize = 256;
/// Longest text kept per cell, bytes.
const MAX_CELL_BYTES: usize = 4096;
/// How long one statement may run, seconds.
const QUERY_TIMEOUT_SECS: usize = 10;

/// A result set: column names and rows of JSON values (numbers for numeric columns).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rows {
    /// Column names, in order.
    pub columns: Vec<String>,
    /// Each row as an object keyed by column.
    pub rows: Vec<Map<String, Value>>,
    /// Whether more rows existed than the cap allowed.
    pub truncated: bool,
}

/// What undoes a completed write: the row as it was before, and what the write set, so the
/// undo can refuse when someone changed the row since.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Compensation {
    /// The table written.
    pub table: String,
    /// The key of the row.
    pub order_id: String,
    /// The status before the write: what the undo restores.
    pub status_before: String,
    /// The status the write set: what the undo expects to find.
    pub status_after: String,
}

/// An MES database behind an ODBC connection string (which may hold a password: it is
/// zeroized on drop and never printed).
#[derive(Clone)]
pub struct Mes {
    connection_string: Zeroizing<String>,
    /// What error messages name (the DSN or the database file, never credentials).
    name: String,
}

impl std::fmt::Debug for Mes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mes")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Mes {
    /// The MES in the SQLite file `database`, through the `SQLite3` ODBC driver.
    #[must_use]
    pub fn sqlite_file(database: &Path) -> Self {
        Self {
            connection_string: Zeroizing::new(format!(
                "Driver=SQLite3;Database={};Timeout=5000;",
                database.display()
            )),
            name: database.display().to_string(),
        }
    }

    /// A data source configured in `odbc.ini` by name.
    #[must_use]
    pub fn dsn(dsn: &str) -> Self {
        Self {
            connection_string: Zeroizing::new(format!("DSN={};", escape(dsn))),
            name: format!("DSN {dsn}"),
        }
    }

    /// A data source by name, logging in as `user` with `password` (from the vault; it stays
    /// in this value's zeroized connection string only).
    #[must_use]
    pub fn dsn_with_login(dsn: &str, user: &str, password: &str) -> Self {
        Self {
            connection_string: Zeroizing::new(format!(
                "DSN={};UID={};PWD={};",
                escape(dsn),
                escape(user),
                escape(password)
            )),
            name: format!("DSN {dsn} as {user}"),
        }
    }

    /// Builds the fixture MES: executes every `*.sql` file of `sql_dir` (in name order) through
    /// ODBC into a new SQLite file `database`, replacing it atomically.
    ///
    /// # Errors
    /// [`MesError`] when a file cannot be read, a statement fails, or the file cannot be moved
    /// into place.
    pub fn build_fixture(sql_dir: &Path, database: &Path) -> Result<Self, MesError> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(sql_dir)
            .map_err(|err| MesError::Fixture(format!("{}: {err}", sql_dir.display())))?
            .filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "sql"))
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(MesError::Fixture(format!(
                "{} has no .sql files",
                sql_dir.display()
            )));
        }
        let partial = database.with_extension("building");
        let _ = std::fs::remove_file(&partial);
        let building = Self::sqlite_file(&partial);
        {
            let connection = building.connect()?;
            for file in &files {
                let text = std::fs::read_to_string(file)
                    .map_err(|err| MesError::Fixture(format!("{}: {err}", file.display())))?;
                for statement in statements(&text) {
                    connection.execute(statement, (), None).map_err(|err| {
                        MesError::Fixture(format!("{}: `{statement}`: {err}", file.display()))
                    })?;
                }
            }
        }
        std::fs::rename(&partial, database)
            .map_err(|err| MesError::Fixture(format!("{}: {err}", database.display())))?;
        Ok(Self::sqlite_file(database))
    }

    /// Downtime events of `line` that started in `[since, until)` (ISO dates or times), oldest
    /// first, with the total minutes.
    ///
    /// # Errors
    /// [`MesError`] when the database cannot be reached or the query fails.
    pub fn downtime(&self, line: i64, since: &str, until: &str) -> Result<Rows, MesError> {
        let connection = self.connect()?;
        self.fetch(
            &connection,
            "SELECT event_id, line, machine_id, reason, minutes, started_at, ended_at \
             FROM downtime WHERE line = ? AND started_at >= ? AND started_at < ? \
             ORDER BY started_at",
            (&line, &since.into_parameter(), &until.into_parameter()),
            usize::MAX,
        )
    }

    /// Production (work) orders with `status`, optionally only on `line`, by due date.
    ///
    /// # Errors
    /// [`MesError`] when the database cannot be reached or the query fails.
    pub fn work_orders(&self, status: &str, line: Option<i64>) -> Result<Rows, MesError> {
        let connection = self.connect()?;
        let sql = "SELECT order_id, material, quantity, status, line, due FROM production_orders \
                   WHERE status = ? AND (? IS NULL OR line = ?) ORDER BY due, order_id";
        let line = line.into_parameter();
        self.fetch(
            &connection,
            sql,
            (&status.into_parameter(), &line, &line),
            usize::MAX,
        )
    }

    /// Runs one query read-only (the connection refuses writes) and returns at most `max_rows`
    /// rows. The SQL must already have passed the governor's SQL guard; this is the second wall.
    ///
    /// # Errors
    /// [`MesError::Query`] when the statement fails or is not a query.
    pub fn query(&self, sql: &str, max_rows: usize) -> Result<Rows, MesError> {
        let connection = self.connect()?;
        connection
            .execute("PRAGMA query_only = ON", (), None)
            .map_err(|err| self.failed("making the connection read-only", &err))?;
        self.fetch(&connection, sql, (), max_rows)
    }

    /// Sets a production order's status in one transaction and returns what undoes it.
    ///
    /// # Errors
    /// [`MesError::NotFound`] for an unknown order, [`MesError::Invalid`] for an unknown
    /// status; nothing is written then.
    pub fn set_work_order_status(
        &self,
        order_id: &str,
        status: &str,
    ) -> Result<Compensation, MesError> {
        check_status(status)?;
        self.in_transaction(|connection| {
            let before = self.current_status(connection, order_id)?;
            self.update_status(connection, order_id, status)?;
            Ok(Compensation {
                table: "production_orders".to_owned(),
                order_id: order_id.to_owned(),
                status_before: before,
                status_after: status.to_owned(),
            })
        })
    }

    /// Undoes a status write from its compensation record, if the row still shows what the
    /// write set.
    ///
    /// # Errors
    /// [`MesError::Conflict`] when the order changed since; [`MesError::NotFound`] when it is
    /// gone. Nothing is written then.
    pub fn compensate(&self, record: &Compensation) -> Result<(), MesError> {
        check_status(&record.status_before)?;
        self.in_transaction(|connection| {
            let current = self.current_status(connection, &record.order_id)?;
            if current != record.status_after {
                return Err(MesError::Conflict {
                    order_id: record.order_id.clone(),
                    expected: record.status_after.clone(),
                    found: current,
                });
            }
            self.update_status(connection, &record.order_id, &record.status_before)
        })
    }

    fn current_status(
        &self,
        connection: &Connection<'_>,
        order_id: &str,
    ) -> Result<String, MesError> {
        let rows = self.fetch(
            connection,
            "SELECT status FROM production_orders WHERE order_id = ?",
            &order_id.into_parameter(),
            1,
        )?;
        rows.rows
            .first()
            .and_then(|row| row.get("status"))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| MesError::NotFound(order_id.to_owned()))
    }

    fn update_status(
        &self,
        connection: &Connection<'_>,
        order_id: &str,
        status: &str,
    ) -> Result<(), MesError> {
        connection
            .execute(
                "UPDATE production_orders SET status = ? WHERE order_id = ?",
                (&status.into_parameter(), &order_id.into_parameter()),
                Some(QUERY_TIMEOUT_SECS),
            )
            .map_err(|err| self.failed("updating the order", &err))?;
        Ok(())
    }

    /// Runs `work` in a transaction: committed when it succeeds, rolled back otherwise.
    fn in_transaction<T>(
        &self,
        work: impl FnOnce(&Connection<'_>) -> Result<T, MesError>,
    ) -> Result<T, MesError> {
        let connection = self.connect()?;
        connection
            .set_autocommit(false)
            .map_err(|err| self.failed("starting a transaction", &err))?;
        match work(&connection) {
            Ok(value) => {
                connection
                    .commit()
                    .map_err(|err| self.failed("committing", &err))?;
                Ok(value)
            }
            Err(err) => {
                if let Err(rollback) = connection.rollback() {
                    tracing::error!(%rollback, "rolling back an MES transaction failed");
                }
                Err(err)
            }
        }
    }

    fn connect(&self) -> Result<Connection<'static>, MesError> {
        let environment = odbc_api::environment().map_err(|err| MesError::Driver {
            reason: err.to_string(),
        })?;
        let options = ConnectionOptions {
            login_timeout_sec: Some(5),
            ..ConnectionOptions::default()
        };
        environment
            .connect_with_connection_string(&self.connection_string, options)
            .map_err(|err| MesError::Unreachable {
                name: self.name.clone(),
                reason: without_password(&err.to_string()),
            })
    }

    /// Executes `sql` and collects up to `max_rows` rows.
    fn fetch(
        &self,
        connection: &Connection<'_>,
        sql: &str,
        params: impl ParameterCollectionRef,
        max_rows: usize,
    ) -> Result<Rows, MesError> {
        let cursor = connection
            .execute(sql, params, Some(QUERY_TIMEOUT_SECS))
            .map_err(|err| self.failed("running the query", &err))?
            .ok_or_else(|| {
                MesError::Query(
                    "the statement returned no rows; only queries are allowed here".to_owned(),
                )
            })?;
        self.collect(cursor, max_rows)
    }

    fn collect(
        &self,
        mut cursor: CursorImpl<StatementImpl<'_>>,
        max_rows: usize,
    ) -> Result<Rows, MesError> {
        let failed = |err: odbc_api::Error| self.failed("reading the result", &err);
        let columns: Vec<String> = cursor
            .column_names()
            .map_err(failed)?
            .collect::<Result<_, _>>()
            .map_err(failed)?;
        let numeric: Vec<Option<Numeric>> = (1..=columns.len())
            .map(|n| {
                u16::try_from(n)
                    .map_err(|_| MesError::Query("too many columns".to_owned()))
                    .and_then(|n| cursor.col_data_type(n).map_err(failed))
                    .map(Numeric::of)
            })
            .collect::<Result<_, _>>()?;
        let buffer =
            TextRowSet::for_cursor(BATCH, &mut cursor, Some(MAX_CELL_BYTES)).map_err(failed)?;
        let mut block = cursor.bind_buffer(buffer).map_err(failed)?;
        let mut rows = Vec::new();
        let mut truncated = false;
        'fetch: while let Some(batch) = block.fetch().map_err(failed)? {
            for row in 0..batch.num_rows() {
                if rows.len() == max_rows {
                    truncated = true;
                    break 'fetch;
                }
                let mut object = Map::new();
                for (col, name) in columns.iter().enumerate() {
                    let text = batch.at_as_str(col, row).map_err(|err| {
                        MesError::Query(format!("column `{name}` is not UTF-8: {err}"))
                    })?;
                    object.insert(name.clone(), cell(text, numeric[col]));
                }
                rows.push(object);
            }
        }
        Ok(Rows {
            columns,
            rows,
            truncated,
        })
    }

    fn failed(&self, doing: &str, err: &odbc_api::Error) -> MesError {
        MesError::Odbc {
            name: self.name.clone(),
            doing: doing.to_owned(),
            reason: err.to_string(),
        }
    }
}

/// How a numeric column's text becomes JSON.
#[derive(Debug, Clone, Copy)]
enum Numeric {
    Integer,
    Real,
}

impl Numeric {
    fn of(data_type: DataType) -> Option<Self> {
        match data_type {
            DataType::Integer | DataType::SmallInt | DataType::BigInt | DataType::TinyInt => {
                Some(Self::Integer)
            }
            DataType::Real
            | DataType::Float { .. }
            | DataType::Double
            | DataType::Decimal { .. }
            | DataType::Numeric { .. } => Some(Self::Real),
            _ => None,
        }
    }
}

/// A cell as JSON: null, a number for numeric columns (when it parses), else text.
fn cell(text: Option<&str>, numeric: Option<Numeric>) -> Value {
    let Some(text) = text else {
        return Value::Null;
    };
    match numeric {
        Some(Numeric::Integer) => text
            .parse::<i64>()
            .map_or_else(|_| Value::from(text), Value::from),
        Some(Numeric::Real) => text
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map_or_else(|| Value::from(text), Value::Number),
        None => Value::from(text),
    }
}

/// A driver message with any `PWD=…` it echoed cut out.
fn without_password(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(at) = rest.to_ascii_uppercase().find("PWD=") {
        out.push_str(&rest[..at + 4]);
        out.push_str("***");
        rest = rest[at + 4..]
            .find(';')
            .map_or("", |end| &rest[at + 4 + end..]);
    }
    out.push_str(rest);
    out
}

/// An ODBC connection-string value, braced when it holds characters the syntax uses.
fn escape(value: &str) -> String {
    if value.contains([';', '{', '}', '=']) || value.trim() != value {
        format!("{{{}}}", value.replace('}', "}}"))
    } else {
        value.to_owned()
    }
}

fn check_status(status: &str) -> Result<(), MesError> {
    if WORK_ORDER_STATUSES.contains(&status) {
        Ok(())
    } else {
        Err(MesError::Invalid(format!(
            "`{status}` is not a work order status; use one of {}",
            WORK_ORDER_STATUSES.join(", ")
        )))
    }
}

/// The statements of a fixture SQL file: split at `;` ending a line, `--` comments dropped.
fn statements(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    for (index, _) in text.match_indices(";\n") {
        out.push(&text[start..index]);
        start = index + 2;
    }
    out.push(&text[start..]);
    out.into_iter()
        .map(str::trim)
        .filter(|statement| {
            statement
                .lines()
                .any(|line| !line.trim().is_empty() && !line.trim_start().starts_with("--"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixture_statements_split_at_line_ends_and_skip_comments() {
        let text = "-- header\n\nCREATE TABLE a (x INTEGER);\nINSERT INTO a VALUES (1);\n-- end\n";
        assert_eq!(
            statements(text),
            [
                "-- header\n\nCREATE TABLE a (x INTEGER)",
                "INSERT INTO a VALUES (1)"
            ]
        );
    }

    #[test]
    fn numeric_cells_become_numbers_and_the_rest_stays_text() {
        assert_eq!(cell(Some("42"), Some(Numeric::Integer)), Value::from(42));
        assert_eq!(cell(Some("2.5"), Some(Numeric::Real)), Value::from(2.5));
        assert_eq!(
            cell(Some("n/a"), Some(Numeric::Integer)),
            Value::from("n/a")
        );
        assert_eq!(cell(Some("007"), None), Value::from("007"));
        assert_eq!(cell(None, None), Value::Null);
    }

    #[test]
    fn a_connection_with_a_password_never_prints_it() {
        let mes = Mes::dsn_with_login("MES3", "airlock", "s3cr;et}");
        let shown = format!("{mes:?}");
        assert!(!shown.contains("s3cr"), "{shown}");
        assert!(
            mes.connection_string.contains("PWD={s3cr;et}}};"),
            "braced and escaped"
        );
    }

    #[test]
    fn driver_messages_lose_any_password_they_echo() {
        assert_eq!(
            without_password("bad login DSN=x;UID=a;PWD=hunter2;Timeout=5"),
            "bad login DSN=x;UID=a;PWD=***;Timeout=5"
        );
        assert_eq!(without_password("pwd=abc"), "pwd=***");
        assert_eq!(without_password("no secret here"), "no secret here");
    }

    #[test]
    fn unknown_statuses_are_refused_with_the_valid_ones() {
        let err = check_status("done").unwrap_err().to_string();
        assert!(
            err.contains("in_progress") && err.contains("on_hold"),
            "{err}"
        );
        assert!(check_status("on_hold").is_ok());
    }
}
