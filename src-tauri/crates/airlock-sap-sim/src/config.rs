//! How a simulator is set up.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;

/// Entities per response before the gateway pages (`__next`), as SAP's default.
pub const DEFAULT_PAGE_SIZE: usize = 50;

/// A simulator's seed, credentials, paging and address.
#[derive(Clone)]
pub struct SimConfig {
    /// The directory holding `maintenance_orders.json`, `notifications.json` and
    /// `production_orders.json`.
    pub seed_dir: PathBuf,
    /// The one user that may log on (not case-sensitive, as SAP user names).
    pub user: String,
    /// That user's password.
    pub password: String,
    /// Server-driven paging: at most this many entities per response (at least 1).
    pub page_size: usize,
    /// Where to listen; port 0 picks a free port.
    pub bind: SocketAddr,
    /// A file each write attempt is appended to, as one JSON line.
    pub record: Option<PathBuf>,
}

impl SimConfig {
    /// A loopback simulator on a free port, serving the seed in `seed_dir` to `user`.
    pub fn new(
        seed_dir: impl Into<PathBuf>,
        user: impl Into<String>,
        password: impl Into<String>,
    ) -> Self {
        Self {
            seed_dir: seed_dir.into(),
            user: user.into(),
            password: password.into(),
            page_size: DEFAULT_PAGE_SIZE,
            bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            record: None,
        }
    }
}

impl fmt::Debug for SimConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimConfig")
            .field("seed_dir", &self.seed_dir)
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .field("page_size", &self.page_size)
            .field("bind", &self.bind)
            .field("record", &self.record)
            .finish()
    }
}
