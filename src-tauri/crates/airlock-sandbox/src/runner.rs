//! The runner: one throwaway, locked-down container per job — create, attach, start, stream,
//! wait, remove — with a wall-clock timeout, an output cap, a concurrency limit, and removal on
//! every path (a guard removes the container when the run is cancelled or panics).

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bollard::container::{AttachContainerResults, LogOutput};
use bollard::errors::Error as DockerError;
use bollard::models::{
    ContainerCreateBody, HostConfig, HostConfigLogConfig, Mount, MountBindOptions,
    MountBindOptionsPropagationEnum, MountTypeEnum, ResourcesUlimits,
};
use bollard::query_parameters::{
    AttachContainerOptionsBuilder, CreateContainerOptionsBuilder, CreateImageOptionsBuilder,
    KillContainerOptionsBuilder, ListContainersOptionsBuilder, RemoveContainerOptionsBuilder,
};
use bollard::{Docker, API_DEFAULT_VERSION};
use futures_util::StreamExt as _;
use serde::Serialize;
use tokio::sync::Semaphore;

use crate::image::{ImageRecipe, SandboxImage, SANDBOX_USER};
use crate::output::{Capture, Chunk, Stream};
use crate::{Job, SandboxConfig, SandboxError};

/// Every container we create carries this label.
pub const LABEL: &str = "airlock.sandbox";
/// The id of the process that created a container; the sweep removes those whose process
/// is gone.
const OWNER_LABEL: &str = "airlock.sandbox.pid";

/// What the engine is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EngineInfo {
    /// Where it answers.
    pub endpoint: String,
    /// The engine's version, e.g. `20.10.24+dfsg1`.
    pub version: String,
    /// The API version both sides speak.
    pub api_version: String,
    /// The container runtimes it has (e.g. `runc`, `runsc`).
    pub runtimes: Vec<String>,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Ending {
    /// The command exited by itself (see the exit code).
    Exited,
    /// The wall-clock timeout passed; the container was killed.
    TimedOut,
    /// The memory limit was hit; the kernel killed the command.
    OutOfMemory,
    /// The output cap was reached; the container was killed.
    OutputCapped,
}

/// The result of one run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunReport {
    /// What ran.
    pub argv: Vec<String>,
    /// How it ended.
    pub ending: Ending,
    /// The exit code, when the command exited (137 after a kill).
    pub exit_code: Option<i64>,
    /// Standard output, up to the cap, marked when cut.
    pub stdout: String,
    /// Standard error, up to the cap.
    pub stderr: String,
    /// Whether output was dropped at the cap.
    pub truncated: bool,
    /// From asking the engine to create the container to its removal, milliseconds.
    pub duration_ms: f64,
    /// The governor decision that allowed it.
    pub decision_id: String,
}

/// A connection to the engine, with the image in place. Cheap to share behind an `Arc`.
pub struct Sandbox {
    docker: Docker,
    config: SandboxConfig,
    sim_dir: PathBuf,
    image: String,
    engine: EngineInfo,
    permits: Arc<Semaphore>,
}

impl Sandbox {
    /// Connects to the engine, checks the runtime, builds the image if its inputs changed, and
    /// removes containers left behind by processes that died.
    ///
    /// # Errors
    /// [`SandboxError::EngineUnreachable`] when no engine answers (with how to start one);
    /// [`SandboxError::RuntimeMissing`], [`SandboxError::Image`], [`SandboxError::Config`].
    pub async fn connect(config: SandboxConfig) -> Result<Self, SandboxError> {
        config.validate()?;
        let sim_dir = config
            .sim_dir
            .canonicalize()
            .map_err(|err| SandboxError::Config(format!("{}: {err}", config.sim_dir.display())))?;
        let endpoint = config.socket();
        let unreachable = |reason: String| SandboxError::EngineUnreachable {
            endpoint: endpoint.clone(),
            reason,
        };
        let docker = Docker::connect_with_unix(
            &endpoint,
            config.engine_timeout.as_secs().max(1),
            API_DEFAULT_VERSION,
        )
        .map_err(|err| unreachable(err.to_string()))?;
        let docker = tokio::time::timeout(config.engine_timeout, docker.negotiate_version())
            .await
            .map_err(|_| unreachable(format!("no answer within {:?}", config.engine_timeout)))?
            .map_err(|err| unreachable(err.to_string()))?;
        let version = docker
            .version()
            .await
            .map_err(|err| unreachable(err.to_string()))?;
        let info = docker
            .info()
            .await
            .map_err(|err| unreachable(err.to_string()))?;
        let mut runtimes: Vec<String> = info.runtimes.unwrap_or_default().into_keys().collect();
        runtimes.sort();
        if let Some(runtime) = &config.runtime {
            if !runtimes.contains(runtime) {
                return Err(SandboxError::RuntimeMissing {
                    runtime: runtime.clone(),
                    available: runtimes.join(", "),
                });
            }
        }
        let engine = EngineInfo {
            endpoint: endpoint.clone(),
            version: version.version.unwrap_or_default(),
            api_version: version.api_version.unwrap_or_default(),
            runtimes,
        };
        let (busybox, shipped) = (config.busybox.clone(), config.image_tar.clone());
        let image = tokio::task::spawn_blocking(move || match shipped {
            Some(tar) => SandboxImage::from_tar_file(&tar),
            None => ImageRecipe::from_busybox(&busybox)?.image(),
        })
        .await
        .map_err(|err| SandboxError::Image(err.to_string()))??;
        let sandbox = Self {
            docker,
            image: image.reference(),
            permits: Arc::new(Semaphore::new(config.max_concurrent)),
            sim_dir,
            engine,
            config,
        };
        sandbox.ensure_image(image).await?;
        match sandbox.sweep().await {
            Ok(0) => {}
            Ok(swept) => tracing::info!(swept, "removed sandbox containers left by dead processes"),
            Err(err) => {
                tracing::warn!(%err, "could not sweep stale sandbox containers; the next start tries again")
            }
        }
        Ok(sandbox)
    }

    /// The engine this sandbox talks to.
    #[must_use]
    pub fn engine(&self) -> &EngineInfo {
        &self.engine
    }

    /// Asks the engine whether it still answers (the status bar's Docker check).
    ///
    /// # Errors
    /// [`SandboxError::Engine`] / [`SandboxError::EngineTimeout`] when it does not.
    pub async fn ping(&self) -> Result<(), SandboxError> {
        self.engine_call("checking that the engine answers", self.docker.ping())
            .await
            .map(drop)
    }

    /// The image every container runs (`airlock-sandbox:<hash>`).
    #[must_use]
    pub fn image(&self) -> &str {
        &self.image
    }

    /// The settings in force.
    #[must_use]
    pub fn config(&self) -> &SandboxConfig {
        &self.config
    }

    /// Runs `job` in a fresh container, passing output to `on_output` as it arrives. Waits for
    /// a free slot when `max_concurrent` runs are under way. The container is removed whatever
    /// happens, including when the returned future is dropped.
    ///
    /// # Errors
    /// [`SandboxError::Engine`] / [`SandboxError::EngineTimeout`] when the engine fails or
    /// stops answering (e.g. the daemon dies mid-run). A timeout, an out-of-memory kill or a
    /// capped output are not errors: see [`RunReport::ending`].
    pub async fn run(
        &self,
        job: Job,
        mut on_output: impl FnMut(Chunk<'_>),
    ) -> Result<RunReport, SandboxError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| SandboxError::Config("the sandbox is shutting down".to_owned()))?;
        let started = Instant::now();
        let name = format!("airlock-sbx-{}", uuid::Uuid::new_v4().simple());
        let options = CreateContainerOptionsBuilder::default().name(&name).build();
        let created = self
            .engine_call(
                "creating the container",
                self.docker
                    .create_container(Some(options), self.container_body(job.argv())),
            )
            .await?;
        let mut guard = ContainerGuard::new(self.docker.clone(), created.id);
        let report = self.attach_and_run(&guard, &job, &mut on_output).await;
        let removed = self
            .engine_call("removing the container", remove(&self.docker, guard.id()))
            .await;
        guard.disarm_if(removed.is_ok());
        let (ending, exit_code, capture) = report?;
        removed?;
        let truncated = capture.truncated();
        let (stdout, stderr) = capture.finish();
        Ok(RunReport {
            argv: job.argv().to_vec(),
            ending,
            exit_code,
            stdout,
            stderr,
            truncated,
            duration_ms: started.elapsed().as_secs_f64() * 1000.0,
            decision_id: job.grant().decision_id().to_owned(),
        })
    }

    /// Attach, start, collect output until the command ends, the timeout passes or the cap is
    /// reached, then learn the exit code.
    async fn attach_and_run(
        &self,
        guard: &ContainerGuard,
        job: &Job,
        on_output: &mut impl FnMut(Chunk<'_>),
    ) -> Result<(Ending, Option<i64>, Capture), SandboxError> {
        let id = guard.id();
        let limits = &self.config.limits;
        // Attached before start, streams only (as `docker run` does). Not `logs`: the engine
        // wires the live streams first and replays its log after, so output written in between
        // came twice (seen in CI under load). The process cannot write before the runtime has
        // started it, long after the engine wired the streams.
        let attach = AttachContainerOptionsBuilder::default()
            .stream(true)
            .stdout(true)
            .stderr(true)
            .build();
        let attached = self
            .engine_call(
                "attaching to the container",
                self.docker.attach_container(id, Some(attach)),
            )
            .await?;
        self.engine_call(
            "starting the container",
            self.docker.start_container(id, None),
        )
        .await?;
        tracing::debug!(container = id, argv = ?job.argv(), "sandbox run started");

        // Nothing is written to the command's stdin; the connection closes once both halves
        // are dropped, which unblocks the engine if the output is abandoned (cap, timeout).
        let AttachContainerResults { mut output, input } = attached;
        drop(input);
        let mut capture = Capture::new(limits.max_output_bytes, limits.max_output_lines);
        let deadline = tokio::time::sleep(limits.timeout);
        tokio::pin!(deadline);
        let ending = loop {
            tokio::select! {
                () = &mut deadline => break Some(Ending::TimedOut),
                item = output.next() => match item {
                    None => break None,
                    Some(Err(err)) => return Err(self.engine_error("reading the output", &err)),
                    Some(Ok(piece)) => {
                        let (stream, bytes) = match piece {
                            LogOutput::StdOut { message } | LogOutput::Console { message } => (Stream::Stdout, message),
                            LogOutput::StdErr { message } => (Stream::Stderr, message),
                            LogOutput::StdIn { .. } => continue,
                        };
                        let kept = capture.push(stream, &bytes);
                        if !kept.is_empty() {
                            on_output(Chunk { stream, bytes: kept });
                        }
                        if capture.truncated() {
                            break Some(Ending::OutputCapped);
                        }
                    }
                },
            }
        };
        drop(output);
        if let Some(ending) = ending {
            self.kill(id).await?;
            return Ok((ending, None, capture));
        }
        let state = self
            .engine_call(
                "reading the container's exit status",
                self.docker.inspect_container(id, None),
            )
            .await?
            .state
            .unwrap_or_default();
        let state = if state.running == Some(true) {
            // The output closed before the process ended (it closed its streams): wait for it
            // within what is left of the timeout.
            let left = deadline
                .deadline()
                .saturating_duration_since(tokio::time::Instant::now());
            match tokio::time::timeout(left, self.exit_state(id)).await {
                Ok(state) => state?,
                Err(_) => {
                    self.kill(id).await?;
                    return Ok((Ending::TimedOut, None, capture));
                }
            }
        } else {
            state
        };
        let ending = if state.oom_killed == Some(true) {
            Ending::OutOfMemory
        } else {
            Ending::Exited
        };
        Ok((ending, state.exit_code, capture))
    }

    /// Waits for the container to stop and returns its final state.
    async fn exit_state(&self, id: &str) -> Result<bollard::models::ContainerState, SandboxError> {
        let mut wait = self.docker.wait_container(id, None);
        match wait.next().await {
            Some(Ok(_) | Err(DockerError::DockerContainerWaitError { .. })) | None => {}
            Some(Err(err)) => return Err(self.engine_error("waiting for the command", &err)),
        }
        Ok(self
            .engine_call(
                "reading the container's exit status",
                self.docker.inspect_container(id, None),
            )
            .await?
            .state
            .unwrap_or_default())
    }

    /// Kills the container; one that already stopped is fine.
    async fn kill(&self, id: &str) -> Result<(), SandboxError> {
        let options = KillContainerOptionsBuilder::default()
            .signal("KILL")
            .build();
        match self
            .engine_call(
                "killing the container",
                self.docker.kill_container(id, Some(options)),
            )
            .await
        {
            Ok(()) => Ok(()),
            Err(SandboxError::Engine { reason, .. })
                if reason.contains("is not running") || reason.contains("No such container") =>
            {
                Ok(())
            }
            Err(err) => Err(err),
        }
    }

    /// Removes every container labelled ours whose creating process is gone. Returns how many.
    ///
    /// # Errors
    /// [`SandboxError::Engine`] when the engine cannot list or remove them.
    pub async fn sweep(&self) -> Result<usize, SandboxError> {
        let mut removed = 0;
        for (id, labels) in self.containers(&HashMap::new()).await? {
            let owner_alive = labels
                .get(OWNER_LABEL)
                .and_then(|pid| pid.parse::<u32>().ok())
                .is_some_and(|pid| PathBuf::from(format!("/proc/{pid}")).exists());
            if !owner_alive {
                self.engine_call("removing a stale container", remove(&self.docker, &id))
                    .await?;
                removed += 1;
            }
        }
        Ok(removed)
    }

    /// Removes the containers this process started that still exist (runs cut short when the
    /// app quits); returns how many.
    ///
    /// # Errors
    /// [`SandboxError::Engine`] when the engine cannot list or remove them.
    pub async fn remove_own(&self) -> Result<usize, SandboxError> {
        let own = HashMap::from([(OWNER_LABEL.to_owned(), std::process::id().to_string())]);
        let containers = self.containers(&own).await?;
        for (id, _) in &containers {
            self.engine_call("removing a container at shutdown", remove(&self.docker, id))
                .await?;
        }
        Ok(containers.len())
    }

    /// Our containers (running or not) that carry every one of `labels`, with all their labels.
    ///
    /// # Errors
    /// [`SandboxError::Engine`] when the engine cannot list them.
    pub async fn containers(
        &self,
        labels: &HashMap<String, String>,
    ) -> Result<Vec<(String, HashMap<String, String>)>, SandboxError> {
        let mut filters: Vec<String> = vec![LABEL.to_owned()];
        filters.extend(labels.iter().map(|(k, v)| format!("{k}={v}")));
        let filter = HashMap::from([("label", filters)]);
        let options = ListContainersOptionsBuilder::default()
            .all(true)
            .filters(&filter)
            .build();
        let listed = self
            .engine_call(
                "listing sandbox containers",
                self.docker.list_containers(Some(options)),
            )
            .await?;
        Ok(listed
            .into_iter()
            .filter_map(|c| Some((c.id?, c.labels.unwrap_or_default())))
            .collect())
    }

    /// Imports `image` unless the engine already has it.
    async fn ensure_image(&self, image: SandboxImage) -> Result<(), SandboxError> {
        match self.docker.inspect_image(&self.image).await {
            Ok(_) => return Ok(()),
            Err(DockerError::DockerResponseServerError {
                status_code: 404, ..
            }) => {}
            Err(err) => return Err(self.engine_error("looking for the sandbox image", &err)),
        }
        tracing::info!(image = %self.image, "importing the sandbox image");
        let tag = image.tag().to_owned();
        let tar = image.into_tar();
        let options = CreateImageOptionsBuilder::default()
            .from_src("-")
            .repo(crate::image::REPOSITORY)
            .tag(&tag)
            .build();
        let mut progress =
            self.docker
                .create_image(Some(options), Some(bollard::body_full(tar.into())), None);
        while let Some(step) = progress.next().await {
            step.map_err(|err| self.engine_error("importing the sandbox image", &err))?;
        }
        self.engine_call(
            "checking the imported image",
            self.docker.inspect_image(&self.image),
        )
        .await?;
        Ok(())
    }

    /// The container: the job's argv, user 1001, no network, read-only everything but a
    /// `noexec` /tmp, no capabilities, no new privileges, limits on memory, CPU and processes.
    fn container_body(&self, argv: &[String]) -> ContainerCreateBody {
        let limits = &self.config.limits;
        let mut labels: HashMap<String, String> = self
            .config
            .labels
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        labels.insert(LABEL.to_owned(), "1".to_owned());
        labels.insert(OWNER_LABEL.to_owned(), std::process::id().to_string());
        let ulimit = |name: &str, value: i64| ResourcesUlimits {
            name: Some(name.to_owned()),
            soft: Some(value),
            hard: Some(value),
        };
        ContainerCreateBody {
            image: Some(self.image.clone()),
            cmd: Some(argv.to_vec()),
            user: Some(SANDBOX_USER.to_owned()),
            env: Some(vec![
                "PATH=/bin:/sbin:/usr/bin:/usr/sbin".to_owned(),
                "HOME=/tmp".to_owned(),
            ]),
            working_dir: Some("/sim".to_owned()),
            hostname: Some("sandbox".to_owned()),
            labels: Some(labels),
            network_disabled: Some(true),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            tty: Some(false),
            host_config: Some(HostConfig {
                network_mode: Some("none".to_owned()),
                readonly_rootfs: Some(true),
                cap_drop: Some(vec!["ALL".to_owned()]),
                security_opt: Some(vec!["no-new-privileges".to_owned()]),
                pids_limit: Some(limits.pids),
                memory: Some(limits.memory_bytes),
                memory_swap: Some(limits.memory_bytes),
                nano_cpus: Some(limits.nano_cpus),
                ulimits: Some(vec![ulimit("nofile", 256), ulimit("core", 0)]),
                tmpfs: Some(HashMap::from([(
                    "/tmp".to_owned(),
                    format!("rw,noexec,nosuid,nodev,size={}", limits.tmpfs_bytes),
                )])),
                mounts: Some(vec![Mount {
                    target: Some("/sim".to_owned()),
                    source: Some(self.sim_dir.to_string_lossy().into_owned()),
                    typ: Some(MountTypeEnum::BIND),
                    read_only: Some(true),
                    bind_options: Some(MountBindOptions {
                        propagation: Some(MountBindOptionsPropagationEnum::RPRIVATE),
                        ..Default::default()
                    }),
                    ..Default::default()
                }]),
                runtime: self.config.runtime.clone(),
                // The output reaches us through the attach stream; the engine's own copy is
                // kept small (Debian's engine has no working `none` driver: it looks for a
                // plugin of that name and stalls the container).
                log_config: Some(HostConfigLogConfig {
                    typ: Some("json-file".to_owned()),
                    config: Some(HashMap::from([
                        ("max-size".to_owned(), "256k".to_owned()),
                        ("max-file".to_owned(), "1".to_owned()),
                    ])),
                }),
                init: Some(false),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    /// Runs an engine request with the engine timeout.
    async fn engine_call<T>(
        &self,
        doing: &'static str,
        request: impl Future<Output = Result<T, DockerError>>,
    ) -> Result<T, SandboxError> {
        match tokio::time::timeout(self.config.engine_timeout, request).await {
            Ok(result) => result.map_err(|err| self.engine_error(doing, &err)),
            Err(_) => Err(SandboxError::EngineTimeout {
                endpoint: self.engine.endpoint.clone(),
                doing,
                seconds: self.config.engine_timeout.as_secs(),
            }),
        }
    }

    fn engine_error(&self, doing: &'static str, err: &DockerError) -> SandboxError {
        SandboxError::Engine {
            endpoint: self.engine.endpoint.clone(),
            doing,
            reason: err.to_string(),
        }
    }
}

/// Removes a container, running or not, with its anonymous volumes.
async fn remove(docker: &Docker, id: &str) -> Result<(), DockerError> {
    let options = RemoveContainerOptionsBuilder::default()
        .force(true)
        .v(true)
        .build();
    match docker.remove_container(id, Some(options)).await {
        Err(DockerError::DockerResponseServerError {
            status_code: 404, ..
        }) => Ok(()),
        Err(DockerError::DockerResponseServerError {
            status_code: 409,
            message,
        }) if message.contains("already in progress") => Ok(()),
        other => other,
    }
}

/// Removes its container when dropped while still armed: the run was cancelled (its future
/// dropped) or panicked before it could remove the container itself.
struct ContainerGuard {
    docker: Docker,
    id: String,
    armed: bool,
}

impl ContainerGuard {
    fn new(docker: Docker, id: String) -> Self {
        Self {
            docker,
            id,
            armed: true,
        }
    }

    fn id(&self) -> &str {
        &self.id
    }

    fn disarm_if(&mut self, removed: bool) {
        if removed {
            self.armed = false;
        }
    }
}

impl Drop for ContainerGuard {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let docker = self.docker.clone();
        let id = std::mem::take(&mut self.id);
        // A thread of its own with its own runtime: the caller's runtime may be the one
        // shutting down, and a destructor must not block an async worker.
        let spawned = std::thread::Builder::new()
            .name("airlock-sandbox-cleanup".to_owned())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(err) => {
                        tracing::error!(container = %id, %err, "cannot remove a sandbox container; the next start sweeps it");
                        return;
                    }
                };
                let removal = runtime.block_on(async {
                    tokio::time::timeout(Duration::from_secs(30), remove(&docker, &id)).await
                });
                match removal {
                    Ok(Ok(())) => tracing::debug!(container = %id, "removed after a cancelled run"),
                    Ok(Err(err)) => tracing::error!(container = %id, %err, "cannot remove a sandbox container; the next start sweeps it"),
                    Err(_) => tracing::error!(container = %id, "removing a sandbox container timed out; the next start sweeps it"),
                }
            });
        if let Err(err) = spawned {
            tracing::error!(%err, "cannot start the sandbox cleanup thread; the next start sweeps the container");
        }
    }
}
