//! The MES over ODBC: the unixODBC driver manager and a driver (for the demo plant, Debian's
//! SQLite ODBC driver over a database built from `fixtures/mes/*.sql`). Typed reads with bound
//! parameters, a read-only guarded query with a row cap, and a status write that returns its
//! compensation (the before-image) so a completed write can be rolled back.

mod database;
mod error;
mod tools;

pub use database::{Compensation, Mes, Rows, WORK_ORDER_STATUSES};
pub use error::MesError;
pub use tools::{specs, tools, MesSource};
