//! The shell's state, in one place: the engine (opened once, at startup) and the admin who
//! signed in to the admin window.

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use airlock_agent::{Agent, Approver};

/// The engine, or why it could not open (shown by every command until the app restarts). It
/// opens on a thread of its own while the window starts; callers wait for it.
#[derive(Clone)]
pub struct Engine(Arc<OnceLock<Result<Arc<Agent>, String>>>);

impl Engine {
    /// Starts opening the engine with `open` on a thread of its own and returns at once.
    pub fn open_in_background(
        open: impl FnOnce() -> Result<Agent, String> + Send + 'static,
    ) -> Self {
        let cell = Arc::new(OnceLock::new());
        let slot = Arc::clone(&cell);
        let spawned = std::thread::Builder::new()
            .name("airlock-engine-open".to_owned())
            .spawn(move || {
                let opened =
                    std::panic::catch_unwind(AssertUnwindSafe(open)).unwrap_or_else(|_| {
                        Err(
                            "Airlock's engine stopped while opening; the log has the details"
                                .to_owned(),
                        )
                    });
                let _ = slot.set(opened.map(Arc::new));
            });
        if let Err(err) = spawned {
            let _ = cell.set(Err(format!(
                "no thread to open Airlock's engine ({err}); free some memory and restart Airlock"
            )));
        }
        Self(cell)
    }

    /// The agent once it has opened, or the message that says why it is not there and what to
    /// do. Blocks while the engine is still opening: call it off the UI thread and the async
    /// runtime.
    pub fn agent(&self) -> Result<Arc<Agent>, String> {
        self.0.wait().clone()
    }

    /// The agent when it opened (waiting for it to finish opening), for shutdown.
    pub fn opened(&self) -> Option<Arc<Agent>> {
        self.0.wait().as_ref().ok().cloned()
    }
}

/// The admin signed in to the admin window; cleared on sign-out and when that window closes.
#[derive(Default)]
pub struct AdminSession(Mutex<Option<Approver>>);

impl AdminSession {
    /// Records who signed in.
    pub fn sign_in(&self, admin: Approver) {
        *self.lock() = Some(admin);
    }

    /// Forgets them.
    pub fn sign_out(&self) {
        self.lock().take();
    }

    /// The signed-in admin, or the message that says to sign in.
    pub fn admin(&self) -> Result<Approver, String> {
        self.lock()
            .clone()
            .ok_or_else(|| "sign in as an admin in this window first".to_owned())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Approver>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
