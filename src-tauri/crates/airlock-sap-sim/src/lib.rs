//! A small SAP NetWeaver Gateway simulator: three OData v2 services (maintenance orders,
//! maintenance notifications, production orders) in JSON over plain HTTP, for tests and the
//! headless demo on loopback.
//!
//! It behaves like the gateway where clients notice: HTTP Basic logon, CSRF tokens fetched with
//! a read and bound to the `SAP_SESSIONID_SIM_100` cookie, `$filter`/`$select`/`$orderby`/
//! `$top`/`$skip`/`$inlinecount` with server-driven paging (`__next`), weak ETags with
//! `If-Match` on changes, and SAP's JSON error bodies. The seed is read from one JSON file per
//! entity set (see `fixtures/sap/`); every write attempt is recorded.

mod auth;
mod config;
mod data;
mod error;
mod filter;
mod model;
mod mutate;
mod odata;
mod query;
mod record;
mod routes;

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;

use tokio::sync::oneshot;

pub use config::{SimConfig, DEFAULT_PAGE_SIZE};
pub use error::SimError;
pub use record::RecordedWrite;

use auth::{Credentials, Sessions};
use data::Store;
use record::Recorder;
use routes::{Backend, Shared};

/// A running simulator. Dropping it stops the server.
pub struct SapSimulator {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl SapSimulator {
    /// Loads the seed, binds, serves on a thread of its own (own tokio runtime); returns once
    /// listening.
    pub fn start(config: SimConfig) -> Result<SapSimulator, SimError> {
        let store = Store::load(&config.seed_dir)?;
        let recorder = Recorder::open(config.record.as_deref())?;
        let bind_error = |source| SimError::Bind {
            addr: config.bind,
            source,
        };
        let listener = std::net::TcpListener::bind(config.bind).map_err(bind_error)?;
        listener.set_nonblocking(true).map_err(bind_error)?;
        let addr = listener.local_addr().map_err(bind_error)?;

        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(SimError::Runtime)?;
        let listener = {
            let _context = runtime.enter();
            tokio::net::TcpListener::from_std(listener).map_err(bind_error)?
        };
        let shared = Arc::new(Shared::new(
            Credentials::new(config.user, config.password),
            config.page_size,
            addr,
            Backend {
                store,
                sessions: Sessions::default(),
                recorder,
            },
        ));
        let app = routes::router(Arc::clone(&shared));
        let (stop, stopped) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("airlock-sap-sim".into())
            .spawn(move || {
                let served = runtime.block_on(async {
                    axum::serve(listener, app)
                        .with_graceful_shutdown(async {
                            // A dropped sender stops the server as well.
                            let _ = stopped.await;
                        })
                        .await
                });
                if let Err(err) = served {
                    tracing::error!(%err, "the SAP simulator stopped serving");
                }
            })
            .map_err(SimError::Runtime)?;
        tracing::info!(%addr, "SAP simulator listening");
        Ok(SapSimulator {
            addr,
            shared,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT/sap/opu/odata/sap`: the root a connection's `url` setting holds.
    pub fn root_url(&self) -> String {
        format!("http://{}{}", self.addr, odata::SERVICE_ROOT)
    }

    /// Every write attempt (accepted or rejected), in order.
    pub fn writes(&self) -> Vec<RecordedWrite> {
        self.shared.lock().recorder.writes().to_vec()
    }

    /// Changes one field of one entity as another SAP user would (new ETag), e.g. to make a
    /// client's ETag stale. `entity_set` is the set's name (`MaintenanceOrder`,
    /// `MaintenanceNotification`, `A_ProductionOrder_2`); the value must have the property's
    /// JSON form (a string, a bool, `/Date(ms)/`).
    pub fn modify(
        &self,
        entity_set: &str,
        key: &str,
        field: &str,
        value: serde_json::Value,
    ) -> Result<(), SimError> {
        let now = odata::now_millis();
        self.shared
            .lock()
            .store
            .modify(entity_set, key, field, value, now)
    }

    /// Invalidates every CSRF token issued so far (as a session timeout would).
    pub fn expire_csrf_tokens(&self) {
        self.shared.lock().sessions.expire_all();
    }

    /// Stops serving and joins the thread (also done on Drop).
    pub fn shutdown(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        if let Some(stop) = self.stop.take() {
            // The server may already have stopped on its own; nothing to tell it then.
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            if thread.join().is_err() {
                tracing::error!("the SAP simulator thread panicked");
            }
        }
    }
}

impl Drop for SapSimulator {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}
