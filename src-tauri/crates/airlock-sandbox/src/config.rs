//! The sandbox's settings: where the engine is, what the container may use, how long it may run.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::SandboxError;

/// Resource limits of one container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Memory, bytes; swap is not granted on top.
    pub memory_bytes: i64,
    /// CPU, in billionths of a CPU (1e9 = one CPU).
    pub nano_cpus: i64,
    /// Processes and threads.
    pub pids: i64,
    /// Size of the `noexec` tmpfs at /tmp, bytes.
    pub tmpfs_bytes: u64,
    /// Wall-clock time before the container is killed.
    pub timeout: Duration,
    /// Output kept per run (stdout and stderr together), bytes.
    pub max_output_bytes: usize,
    /// Output kept per run, lines.
    pub max_output_lines: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            memory_bytes: 128 * 1024 * 1024,
            nano_cpus: 1_000_000_000,
            pids: 64,
            tmpfs_bytes: 16 * 1024 * 1024,
            timeout: Duration::from_secs(20),
            max_output_bytes: 256 * 1024,
            max_output_lines: 5_000,
        }
    }
}

/// How to reach the engine and what every container gets.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// The engine's Unix socket (`unix:///var/run/docker.sock` when `None`, or `DOCKER_HOST`
    /// when that names a Unix socket).
    pub endpoint: Option<String>,
    /// The host directory mounted read-only at `/sim` (the plant's simulated files).
    pub sim_dir: PathBuf,
    /// The statically linked busybox that becomes the image (Debian's `busybox-static`).
    pub busybox: PathBuf,
    /// A ready-made image tar shipped with the installer, used instead of building one from
    /// `busybox` (`airlock sandbox export-image` writes it).
    pub image_tar: Option<PathBuf>,
    /// Resource limits.
    pub limits: Limits,
    /// Containers running at once; more calls wait their turn.
    pub max_concurrent: usize,
    /// A container runtime other than the engine's default, e.g. gVisor's `runsc`.
    pub runtime: Option<String>,
    /// Extra labels on every container (tests use them to count their own).
    pub labels: BTreeMap<String, String>,
    /// How long to wait for the engine to answer a request (not the command's timeout).
    pub engine_timeout: Duration,
}

impl SandboxConfig {
    /// Defaults for `sim_dir`: the local engine, Debian's busybox, the default limits.
    #[must_use]
    pub fn new(sim_dir: impl Into<PathBuf>) -> Self {
        Self {
            endpoint: None,
            sim_dir: sim_dir.into(),
            busybox: PathBuf::from("/bin/busybox"),
            image_tar: None,
            limits: Limits::default(),
            max_concurrent: 2,
            runtime: None,
            labels: BTreeMap::new(),
            engine_timeout: Duration::from_secs(30),
        }
    }

    /// The socket path to connect to.
    pub(crate) fn socket(&self) -> String {
        let from_env = std::env::var("DOCKER_HOST")
            .ok()
            .filter(|host| host.starts_with("unix://"));
        let endpoint = self
            .endpoint
            .clone()
            .or(from_env)
            .unwrap_or_else(|| "unix:///var/run/docker.sock".to_owned());
        if endpoint.starts_with("unix://") {
            endpoint
        } else {
            format!("unix://{endpoint}")
        }
    }

    /// Checks what can be checked without the engine.
    pub(crate) fn validate(&self) -> Result<(), SandboxError> {
        let limits = &self.limits;
        if !self.sim_dir.is_dir() {
            return Err(SandboxError::Config(format!(
                "the directory to mount at /sim, {}, does not exist; pass the fixtures' sim directory",
                self.sim_dir.display()
            )));
        }
        if limits.memory_bytes < 8 * 1024 * 1024 || limits.pids < 4 || limits.nano_cpus <= 0 {
            return Err(SandboxError::Config(
                "limits too small to start a shell: memory ≥ 8 MiB, pids ≥ 4, CPU > 0".to_owned(),
            ));
        }
        if limits.timeout.is_zero() || limits.max_output_bytes == 0 || self.max_concurrent == 0 {
            return Err(SandboxError::Config(
                "timeout, output cap and concurrency must be above zero".to_owned(),
            ));
        }
        Ok(())
    }
}
