//! Why the sandbox could not run something.

/// What went wrong, with the next step for the user.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// No Docker engine answers at the endpoint.
    #[error(
        "Docker engine not reachable at {endpoint} ({reason}); start it with \
         `sudo scripts/ensure_dockerd.sh` (or `sudo dockerd &`) and check `docker info`. \
         Plan mode works without it."
    )]
    EngineUnreachable {
        /// Where we looked.
        endpoint: String,
        /// What the connection attempt said.
        reason: String,
    },
    /// The engine answered a request with an error, or the connection broke mid-run.
    #[error("the Docker engine at {endpoint} failed while {doing}: {reason}; check `docker info` and the daemon's log")]
    Engine {
        /// The engine's endpoint.
        endpoint: String,
        /// What we were doing.
        doing: &'static str,
        /// The engine's or the transport's message.
        reason: String,
    },
    /// The engine did not answer within the time allowed.
    #[error("the Docker engine at {endpoint} did not answer within {seconds} s while {doing}; it may be overloaded or hung: check `docker info`")]
    EngineTimeout {
        /// The engine's endpoint.
        endpoint: String,
        /// What we were doing.
        doing: &'static str,
        /// How long we waited.
        seconds: u64,
    },
    /// The configured container runtime (e.g. `runsc`) is not installed in the engine.
    #[error("the Docker engine has no runtime `{runtime}` (it has: {available}); install it (gVisor: `runsc install`) or remove `runtime` from the sandbox settings")]
    RuntimeMissing {
        /// The runtime asked for.
        runtime: String,
        /// The runtimes the engine has.
        available: String,
    },
    /// The sandbox image could not be assembled from its inputs on this machine.
    #[error("cannot build the sandbox image: {0}")]
    Image(String),
    /// The call is not covered by its intent token.
    #[error("refused: {0}")]
    NotAuthorized(String),
    /// The settings are unusable.
    #[error("invalid sandbox settings: {0}")]
    Config(String),
}
