//! Why an MES call failed, with what to do about it. Messages name the data source, never a
//! credential.

/// An MES failure.
#[derive(Debug, thiserror::Error)]
pub enum MesError {
    /// The ODBC driver manager is missing or broken.
    #[error("the ODBC driver manager is unavailable ({reason}); install unixODBC: `apt-get install unixodbc libsqliteodbc`")]
    Driver {
        /// The driver manager's message.
        reason: String,
    },
    /// The data source cannot be reached: no such DSN or driver, or the database is not there.
    #[error("cannot connect to the MES at {name}: {reason}; check the data source (odbc.ini / odbcinst.ini) and that the database is up")]
    Unreachable {
        /// The DSN or database named.
        name: String,
        /// The driver's message.
        reason: String,
    },
    /// A statement failed at the database.
    #[error("the MES at {name} failed while {doing}: {reason}")]
    Odbc {
        /// The DSN or database named.
        name: String,
        /// What we were doing.
        doing: String,
        /// The driver's message.
        reason: String,
    },
    /// The statement is not a read-only query, or its result cannot be read.
    #[error("{0}")]
    Query(String),
    /// No production order has this id.
    #[error("no production order `{0}` in the MES; list them with mes_work_orders")]
    NotFound(String),
    /// An argument is not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// A compensation found the row changed since the write it undoes.
    #[error("order `{order_id}` is now `{found}`, not `{expected}` as the write left it: someone changed it since, so it is not rolled back; check it by hand")]
    Conflict {
        /// The order.
        order_id: String,
        /// The status the write set.
        expected: String,
        /// The status found now.
        found: String,
    },
    /// The fixture database could not be built.
    #[error("cannot build the fixture MES: {0}")]
    Fixture(String),
}
