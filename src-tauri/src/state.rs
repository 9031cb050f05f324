//! The shell's state, in one place: the engine (opened once at startup) and the admin who
//! signed in to the admin window.

use std::sync::{Arc, Mutex, PoisonError};

use airlock_agent::{Agent, Approver};

/// The engine, or why it could not open (shown by every command until the app restarts).
pub struct Engine(Result<Arc<Agent>, String>);

impl Engine {
    /// Wraps the result of opening the agent.
    pub fn new(opened: Result<Agent, String>) -> Self {
        Self(opened.map(Arc::new))
    }

    /// The agent, or the message that says why it is not there and what to do.
    pub fn agent(&self) -> Result<Arc<Agent>, String> {
        self.0.clone()
    }

    /// The agent when it opened, for shutdown.
    pub fn opened(&self) -> Option<&Arc<Agent>> {
        self.0.as_ref().ok()
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
