//! Supervises the worker process: starts it, loads the model, relays a generation's tokens,
//! and turns a crash or a hang into an error plus a fresh worker.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Write};
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crate::protocol::{FailureKind, WorkerEvent, WorkerRequest};
use crate::{
    gguf, GenerateRequest, Generation, LlmError, LoadedModel, ScoreRequest, Scores, WORKER_ARG,
};

/// Lines of the worker's stderr kept for error messages.
const STDERR_TAIL_LINES: usize = 12;

/// How to start a worker and what it should load.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// The executable to run in worker mode.
    pub program: PathBuf,
    /// Its arguments (for Airlock binaries: [`WORKER_ARG`]).
    pub args: Vec<OsString>,
    /// The GGUF model to load.
    pub model: PathBuf,
    /// Context window in tokens.
    pub n_ctx: u32,
    /// CPU threads for llama.cpp.
    pub threads: u32,
    /// Longest wait for the worker to start and load the model.
    pub load_timeout: Duration,
    /// Longest silence from the worker while it generates.
    pub idle_timeout: Duration,
    /// Where the worker keeps the KV cache of requests' shared prompt prefixes between
    /// processes (see [`GenerateRequest::shared_messages`]); `None` keeps it in memory only.
    pub prompt_cache: Option<PathBuf>,
}

impl WorkerConfig {
    /// Runs the current executable as the worker (it must call
    /// [`crate::worker::run_if_requested`] first thing in `main`).
    ///
    /// # Errors
    /// [`LlmError::WorkerSpawn`] when the current executable cannot be determined.
    pub fn current_exe(model: PathBuf) -> Result<Self, LlmError> {
        let program = std::env::current_exe().map_err(|source| LlmError::WorkerSpawn {
            program: PathBuf::from("<current executable>"),
            source,
        })?;
        Ok(Self::new(program, vec![WORKER_ARG.into()], model))
    }

    /// Runs `program args…` as the worker, with default sizes and timeouts.
    #[must_use]
    pub fn new(program: PathBuf, args: Vec<OsString>, model: PathBuf) -> Self {
        let threads = thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            program,
            args,
            model,
            n_ctx: 4096,
            threads: u32::try_from(threads).unwrap_or(2),
            load_timeout: Duration::from_secs(120),
            idle_timeout: Duration::from_secs(120),
            prompt_cache: None,
        }
    }
}

/// A supervised model worker. One generation runs at a time; callers on other threads wait.
pub struct ModelWorker {
    config: WorkerConfig,
    state: Mutex<State>,
    loaded: Mutex<Option<LoadedModel>>,
    active: Arc<Mutex<Option<ActiveGeneration>>>,
    pid: AtomicU32,
    restarts: AtomicU32,
}

struct State {
    process: Option<Process>,
    next_id: u64,
}

struct ActiveGeneration {
    stdin: Arc<Mutex<ChildStdin>>,
    id: u64,
}

/// Cancels the generation in progress from any thread.
#[derive(Clone)]
pub struct CancelHandle {
    active: Arc<Mutex<Option<ActiveGeneration>>>,
}

impl CancelHandle {
    /// Asks the running generation, if any, to stop; it then ends with
    /// [`crate::StopReason::Cancelled`] and the text so far.
    pub fn cancel(&self) {
        if let Some(active) = lock(&self.active).as_ref() {
            // A worker that is gone cannot be cancelled; the generation fails on its own.
            let _ = send(&active.stdin, &WorkerRequest::Cancel { id: active.id });
        }
    }
}

impl ModelWorker {
    /// Starts a worker and loads the model.
    ///
    /// # Errors
    /// [`LlmError::ModelNotFound`] or [`LlmError::NotGguf`] before anything starts;
    /// [`LlmError::WorkerSpawn`], [`LlmError::LoadFailed`] or [`LlmError::WorkerTimeout`].
    pub fn start(config: WorkerConfig) -> Result<Self, LlmError> {
        gguf::check_header(&config.model)?;
        let worker = Self {
            config,
            state: Mutex::new(State {
                process: None,
                next_id: 0,
            }),
            loaded: Mutex::new(None),
            active: Arc::new(Mutex::new(None)),
            pid: AtomicU32::new(0),
            restarts: AtomicU32::new(0),
        };
        worker.spawn_and_load(&mut lock(&worker.state))?;
        Ok(worker)
    }

    /// The loaded model, as the worker described it.
    #[must_use]
    pub fn loaded_model(&self) -> Option<LoadedModel> {
        lock(&self.loaded).clone()
    }

    /// The worker's process id, when one is running.
    #[must_use]
    pub fn pid(&self) -> Option<u32> {
        match self.pid.load(Ordering::SeqCst) {
            0 => None,
            pid => Some(pid),
        }
    }

    /// How many times a dead or hung worker was replaced.
    #[must_use]
    pub fn restarts(&self) -> u32 {
        self.restarts.load(Ordering::SeqCst)
    }

    /// A handle that cancels the running generation from another thread.
    #[must_use]
    pub fn cancel_handle(&self) -> CancelHandle {
        CancelHandle {
            active: Arc::clone(&self.active),
        }
    }

    /// Generates a reply, passing each piece of text to `on_text` as it arrives;
    /// `on_text` returning `Break` cancels the generation.
    ///
    /// # Errors
    /// [`LlmError::WorkerDied`] or [`LlmError::WorkerTimeout`] (a new worker is started before
    /// this returns), and the generation errors of [`crate::engine::Session::generate`].
    pub fn generate(
        &self,
        request: &GenerateRequest,
        on_text: &mut dyn FnMut(&str) -> ControlFlow<()>,
    ) -> Result<Generation, LlmError> {
        let message = |id| WorkerRequest::Generate {
            id,
            request: request.clone(),
        };
        match self.exchange(&message, on_text, "while generating")? {
            Reply::Generation(generation) => Ok(generation),
            Reply::Scores(_) => Err(LlmError::Protocol(
                "the worker answered a generation with scores".into(),
            )),
        }
    }

    /// Scores the continuations of `request` (see [`crate::engine::Session::score`]).
    ///
    /// # Errors
    /// As [`Self::generate`].
    pub fn score(&self, request: &ScoreRequest) -> Result<Scores, LlmError> {
        let message = |id| WorkerRequest::Score {
            id,
            request: request.clone(),
        };
        match self.exchange(
            &message,
            &mut |_| ControlFlow::Continue(()),
            "while scoring",
        )? {
            Reply::Scores(scores) => Ok(scores),
            Reply::Generation(_) => Err(LlmError::Protocol(
                "the worker answered a scoring request with a generation".into(),
            )),
        }
    }

    /// Sends one request (built from its id) to the worker, starting the worker if needed,
    /// and waits for its reply.
    fn exchange(
        &self,
        message: &dyn Fn(u64) -> WorkerRequest,
        on_text: &mut dyn FnMut(&str) -> ControlFlow<()>,
        during: &str,
    ) -> Result<Reply, LlmError> {
        let mut state = lock(&self.state);
        if state.process.is_none() {
            self.spawn_and_load(&mut state)?;
        }
        state.next_id += 1;
        let id = state.next_id;
        let outcome = {
            let process = state.process.as_mut().ok_or_else(|| {
                LlmError::Protocol("worker vanished between start and request".into())
            })?;
            self.run_request(process, id, &message(id), on_text)
        };
        *lock(&self.active) = None;
        match outcome {
            Outcome::Finished(result) => result,
            Outcome::Died => Err(self.replace_worker(&mut state, during, None)),
            Outcome::Silent => {
                Err(self.replace_worker(&mut state, during, Some(self.config.idle_timeout)))
            }
        }
    }

    fn run_request(
        &self,
        process: &mut Process,
        id: u64,
        message: &WorkerRequest,
        on_text: &mut dyn FnMut(&str) -> ControlFlow<()>,
    ) -> Outcome {
        if send(&process.stdin, message).is_err() {
            return Outcome::Died;
        }
        *lock(&self.active) = Some(ActiveGeneration {
            stdin: Arc::clone(&process.stdin),
            id,
        });
        let mut cancelled = false;
        loop {
            match process.next(self.config.idle_timeout) {
                Incoming::Event(WorkerEvent::Token { id: from, text }) if from == id => {
                    if on_text(&text).is_break() && !cancelled {
                        cancelled = true;
                        self.cancel_handle().cancel();
                    }
                }
                Incoming::Event(WorkerEvent::Done {
                    id: from,
                    generation,
                }) if from == id => return Outcome::Finished(Ok(Reply::Generation(generation))),
                Incoming::Event(WorkerEvent::Scored { id: from, scores }) if from == id => {
                    return Outcome::Finished(Ok(Reply::Scores(scores)));
                }
                Incoming::Event(WorkerEvent::Failed {
                    id: Some(from),
                    kind,
                    message,
                    prompt_tokens,
                    max_tokens,
                    n_ctx,
                }) if from == id => {
                    let err = match kind {
                        FailureKind::ContextOverflow => LlmError::ContextOverflow {
                            prompt_tokens,
                            max_tokens,
                            n_ctx,
                        },
                        FailureKind::Grammar => LlmError::Grammar(message),
                        _ => LlmError::Generation(message),
                    };
                    return Outcome::Finished(Err(err));
                }
                Incoming::Event(other) => {
                    tracing::debug!(?other, "ignoring a stale worker event");
                }
                Incoming::Junk(line) => {
                    tracing::warn!(%line, "model worker wrote a non-protocol line");
                }
                Incoming::Closed => return Outcome::Died,
                Incoming::Silent => return Outcome::Silent,
            }
        }
    }

    /// Stops what is left of the current worker, records why, and starts a new one.
    fn replace_worker(
        &self,
        state: &mut State,
        during: &str,
        timed_out: Option<Duration>,
    ) -> LlmError {
        let (status, stderr_tail) = match state.process.take() {
            Some(process) => process.terminate(),
            None => ("not running".into(), String::new()),
        };
        self.pid.store(0, Ordering::SeqCst);
        self.restarts.fetch_add(1, Ordering::SeqCst);
        tracing::error!(%status, %during, stderr = %stderr_tail, "model worker lost; restarting it");
        let restarted = match self.spawn_and_load(state) {
            Ok(()) => true,
            Err(err) => {
                tracing::error!(error = %err, "could not restart the model worker");
                false
            }
        };
        match timed_out {
            Some(after) if restarted => LlmError::WorkerTimeout(after),
            _ => LlmError::WorkerDied {
                status,
                during: during.to_owned(),
                stderr_tail,
                restarted,
            },
        }
    }

    fn spawn_and_load(&self, state: &mut State) -> Result<(), LlmError> {
        let mut process = Process::spawn(&self.config)?;
        let timeout = self.config.load_timeout;
        let loaded = match process.next(timeout) {
            Incoming::Event(WorkerEvent::Ready { .. }) => {
                let load = WorkerRequest::Load {
                    model: self.config.model.clone(),
                    n_ctx: self.config.n_ctx,
                    threads: self.config.threads,
                    prompt_cache: self.config.prompt_cache.clone(),
                };
                if send(&process.stdin, &load).is_err() {
                    Incoming::Closed
                } else {
                    process.next(timeout)
                }
            }
            other => other,
        };
        let path = self.config.model.clone();
        match loaded {
            Incoming::Event(WorkerEvent::Loaded { model }) => {
                tracing::info!(model = %model.description, load_ms = model.load_ms, "model loaded");
                self.pid.store(process.child.id(), Ordering::SeqCst);
                *lock(&self.loaded) = Some(model);
                state.process = Some(process);
                Ok(())
            }
            Incoming::Event(WorkerEvent::Failed { kind, message, .. }) => Err(match kind {
                FailureKind::ModelNotFound => LlmError::ModelNotFound { path },
                FailureKind::NotGguf => LlmError::NotGguf {
                    path,
                    reason: message,
                },
                _ => LlmError::LoadFailed {
                    path,
                    detail: message,
                },
            }),
            Incoming::Silent => {
                process.terminate();
                Err(LlmError::WorkerTimeout(timeout))
            }
            Incoming::Closed | Incoming::Junk(_) | Incoming::Event(_) => {
                let (status, tail) = process.terminate();
                Err(LlmError::LoadFailed {
                    path,
                    detail: format!("the worker exited while loading ({status}): {tail}"),
                })
            }
        }
    }
}

enum Outcome {
    Finished(Result<Reply, LlmError>),
    Died,
    Silent,
}

/// What a finished request returned.
enum Reply {
    Generation(Generation),
    Scores(Scores),
}

/// What arrived from the worker.
enum Incoming {
    Event(WorkerEvent),
    Junk(String),
    Closed,
    Silent,
}

/// One running worker process and the threads that read its pipes.
struct Process {
    child: Child,
    stdin: Arc<Mutex<ChildStdin>>,
    events: Receiver<Incoming>,
    stderr_tail: Arc<Mutex<VecDeque<String>>>,
    stderr_reader: Option<JoinHandle<()>>,
}

impl Process {
    fn spawn(config: &WorkerConfig) -> Result<Self, LlmError> {
        let mut child = Command::new(&config.program)
            .args(&config.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| LlmError::WorkerSpawn {
                program: config.program.clone(),
                source,
            })?;
        let (Some(stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(LlmError::Protocol("worker pipes were not created".into()));
        };

        let (tx, events) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let incoming = match serde_json::from_str::<WorkerEvent>(&line) {
                    Ok(event) => Incoming::Event(event),
                    Err(_) => Incoming::Junk(line),
                };
                if tx.send(incoming).is_err() {
                    return;
                }
            }
            let _ = tx.send(Incoming::Closed);
        });

        let stderr_tail = Arc::new(Mutex::new(VecDeque::new()));
        let tail = Arc::clone(&stderr_tail);
        let stderr_reader = thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                tracing::debug!(target: "airlock_llm::worker_stderr", "{line}");
                let mut tail = lock(&tail);
                if tail.len() == STDERR_TAIL_LINES {
                    tail.pop_front();
                }
                tail.push_back(line);
            }
        });

        Ok(Self {
            child,
            stdin: Arc::new(Mutex::new(stdin)),
            events,
            stderr_tail,
            stderr_reader: Some(stderr_reader),
        })
    }

    fn next(&mut self, timeout: Duration) -> Incoming {
        match self.events.recv_timeout(timeout) {
            Ok(incoming) => incoming,
            Err(RecvTimeoutError::Timeout) => Incoming::Silent,
            Err(RecvTimeoutError::Disconnected) => Incoming::Closed,
        }
    }

    /// Kills the process if it still runs, reaps it, and returns its exit status and last
    /// lines of stderr.
    fn terminate(mut self) -> (String, String) {
        let _ = self.child.kill();
        let status = self
            .child
            .wait()
            .map_or_else(|err| format!("status unknown: {err}"), describe_exit);
        if let Some(reader) = self.stderr_reader.take() {
            let _ = reader.join();
        }
        let tail = lock(&self.stderr_tail)
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join(" | ");
        (
            status,
            if tail.is_empty() {
                "(nothing)".into()
            } else {
                tail
            },
        )
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn send(stdin: &Mutex<ChildStdin>, request: &WorkerRequest) -> std::io::Result<()> {
    let mut line = serde_json::to_vec(request)?;
    line.push(b'\n');
    let mut stdin = lock(stdin);
    stdin.write_all(&line)?;
    stdin.flush()
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(unix)]
fn describe_exit(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit code {code}"),
        (None, Some(6)) => "aborted by llama.cpp (SIGABRT)".into(),
        (None, Some(9)) => "killed (SIGKILL)".into(),
        (None, Some(11)) => "crashed (SIGSEGV)".into(),
        (None, Some(signal)) => format!("killed by signal {signal}"),
        (None, None) => "unknown status".into(),
    }
}

#[cfg(not(unix))]
fn describe_exit(status: ExitStatus) -> String {
    status.to_string()
}
