//! What the admin window manages besides the policy: the document library, the models, the
//! SAP/MES connections and the local accounts. Every change needs a signed-in admin and is
//! recorded in the audit log.

mod connections;
mod library;
mod models;

pub use connections::{
    delete_connection, list_connections, save_connection, test_connection, ConnectionTest,
    ConnectionView, NewConnection,
};
pub use library::{IngestFileReport, IngestProgress, MAX_INGEST_PATHS};
pub use models::{ChecksumStatus, LoadedModelView, ModelEntry, ModelLoadProgress, ModelsView};

pub(crate) use models::{sha256_file, ChecksumCache};

use crate::{Agent, AgentError, Approver, ADMIN_ROLE};

impl Agent {
    /// Refuses `who` unless it is an admin.
    pub(crate) fn require_admin(&self, who: &Approver) -> Result<(), AgentError> {
        if self.is_admin(who) {
            Ok(())
        } else {
            Err(AgentError::Admin(format!(
                "`{}` is not an admin: sign in as a member of `{ADMIN_ROLE}`",
                who.name
            )))
        }
    }
}
