//! `run_command` through the Docker sandbox: connected on first use (plan mode never needs an
//! engine), on a runtime of its own so the synchronous agent can drive the async runner.

use std::sync::{Arc, Mutex, PoisonError};

use airlock_policy::token::VerifiedIntent;
use airlock_sandbox::{Chunk, Job, RunReport, Sandbox, SandboxConfig, SandboxError};
use serde_json::{Map, Value};

/// The sandbox, connected lazily; a failed connection is retried on the next call.
pub(crate) struct SandboxRunner {
    config: SandboxConfig,
    runtime: tokio::runtime::Runtime,
    connected: Mutex<Option<Arc<Sandbox>>>,
}

impl SandboxRunner {
    /// A runner for `config`; nothing is contacted yet.
    pub fn new(config: SandboxConfig) -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("airlock-sandbox")
            .enable_all()
            .build()?;
        Ok(Self {
            config,
            runtime,
            connected: Mutex::new(None),
        })
    }

    /// Runs the `run_command` call `args` allowed by `grant`, streaming its output.
    pub fn run(
        &self,
        grant: VerifiedIntent,
        args: &Map<String, Value>,
        on_output: impl FnMut(Chunk<'_>),
    ) -> Result<RunReport, SandboxError> {
        let job = Job::run_command(grant, args)?;
        self.runtime.block_on(async {
            let sandbox = self.sandbox().await?;
            sandbox.run(job, on_output).await
        })
    }

    /// The engine, when it answers: connects on first call (building the image if needed),
    /// then pings. An engine that stopped answering is dropped, so the next call reconnects.
    pub fn engine(&self) -> Result<airlock_sandbox::EngineInfo, SandboxError> {
        self.runtime.block_on(async {
            let sandbox = self.sandbox().await?;
            if let Err(err) = sandbox.ping().await {
                *self.slot() = None;
                return Err(err);
            }
            Ok(sandbox.engine().clone())
        })
    }

    /// The sandbox image's reference once the engine was reached (connecting loads or builds
    /// it), and whether it is the image shipped with Airlock rather than one built here.
    pub fn image(&self) -> Option<(String, bool)> {
        self.slot()
            .as_ref()
            .map(|sandbox| (sandbox.image().to_owned(), self.config.image_tar.is_some()))
    }

    /// Removes this process's containers, if the engine was ever connected; returns how many.
    pub fn remove_own(&self) -> Result<usize, SandboxError> {
        let Some(sandbox) = self.slot().clone() else {
            return Ok(0);
        };
        self.runtime.block_on(sandbox.remove_own())
    }

    async fn sandbox(&self) -> Result<Arc<Sandbox>, SandboxError> {
        if let Some(sandbox) = self.slot().as_ref() {
            return Ok(Arc::clone(sandbox));
        }
        let sandbox = Arc::new(Sandbox::connect(self.config.clone()).await?);
        *self.slot() = Some(Arc::clone(&sandbox));
        Ok(sandbox)
    }

    fn slot(&self) -> std::sync::MutexGuard<'_, Option<Arc<Sandbox>>> {
        self.connected
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}
