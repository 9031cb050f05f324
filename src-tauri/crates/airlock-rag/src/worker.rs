//! Extraction in a child process, so a parser that panics, overflows its stack, runs out of
//! memory or loops on a malformed file costs one file, never the caller.
//!
//! Protocol: the caller reads the file (after checking its size), starts the worker, writes one
//! JSON line (format and limits) and then the file's bytes to its stdin, and closes it. The
//! worker writes one JSON [`Reply`] to stdout and exits 0. It never opens a path itself. The
//! caller kills the worker's process group when the timeout expires, and the worker runs with
//! an address-space limit, a CPU-time limit and no core dumps. What it writes to stderr is kept
//! for the error message.

use std::ffi::OsString;
use std::io::{self, BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::extract::{extract_bytes, panic_message, read_limited};
use crate::{ExtractError, ExtractLimits, Extracted, Format};

/// The first command-line argument that makes an Airlock binary run as an extraction worker.
pub const WORKER_ARG: &str = "__airlock-extract-worker";

/// Longest request header the worker accepts.
const MAX_HEADER_BYTES: u64 = 64 * 1024;
/// Bytes of the worker's stderr kept for an error message.
const STDERR_TAIL_BYTES: usize = 4 * 1024;
/// How often the caller looks whether the worker has finished.
const POLL: Duration = Duration::from_millis(5);

/// How to start an extraction worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerCommand {
    program: PathBuf,
    args: Vec<OsString>,
}

impl WorkerCommand {
    /// Runs the current executable with [`WORKER_ARG`]; its `main` must call
    /// [`serve_if_requested`] first.
    ///
    /// # Errors
    /// [`ExtractError::Io`] when the current executable cannot be determined.
    pub fn current_exe() -> Result<Self, ExtractError> {
        let program = std::env::current_exe().map_err(|err| ExtractError::io(&err))?;
        Ok(Self::new(program, [WORKER_ARG]))
    }

    /// Runs `program args…`, which must serve the worker protocol (as [`serve`] does).
    pub fn new<I, S>(program: impl Into<PathBuf>, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        Self {
            program: program.into(),
            args: args.into_iter().map(Into::into).collect(),
        }
    }

    /// The program that is started.
    #[must_use]
    pub fn program(&self) -> &Path {
        &self.program
    }
}

/// What the caller sends before the file's bytes.
#[derive(Debug, Serialize, Deserialize)]
struct Request {
    format: Format,
    limits: ExtractLimits,
}

/// What the worker answers.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Reply {
    Extracted(Extracted),
    Failed(ExtractError),
}

/// Runs the worker when this process was started as one (first argument [`WORKER_ARG`]) and
/// returns its exit code; `None` otherwise. Binaries call this first thing in `main` and exit
/// with the code.
#[must_use]
pub fn serve_if_requested() -> Option<i32> {
    (std::env::args_os().nth(1).as_deref() == Some(WORKER_ARG.as_ref())).then(serve)
}

/// Serves one request from stdin and returns the exit code: 0 when a reply was written, 2 when
/// the request was unreadable, 3 when the reply could not be written.
#[must_use]
pub fn serve() -> i32 {
    let mut input = io::stdin().lock();
    let mut header = String::new();
    if let Err(err) = (&mut input).take(MAX_HEADER_BYTES).read_line(&mut header) {
        return refuse(&format!("could not read the request: {err}"));
    }
    let request: Request = match serde_json::from_str(&header) {
        Ok(request) => request,
        Err(err) => return refuse(&format!("unreadable request: {err}")),
    };
    let mut bytes = Vec::new();
    let limit = request.limits.max_file_bytes.saturating_add(1);
    if let Err(err) = input.take(limit).read_to_end(&mut bytes) {
        return refuse(&format!("could not read the document: {err}"));
    }
    let result =
        std::panic::catch_unwind(|| extract_bytes(request.format, &bytes, &request.limits))
            .unwrap_or_else(|payload| {
                Err(ExtractError::corrupt(format!(
                    "the parser gave up: {}",
                    panic_message(payload.as_ref())
                )))
            });
    let reply = match result {
        Ok(extracted) => Reply::Extracted(extracted),
        Err(err) => Reply::Failed(err),
    };
    let mut output = io::stdout().lock();
    let written = serde_json::to_writer(&mut output, &reply)
        .map_err(io::Error::from)
        .and_then(|()| output.flush());
    match written {
        Ok(()) => 0,
        Err(err) => {
            // The caller reads stderr into its error message.
            let _ = writeln!(io::stderr(), "could not write the reply: {err}");
            3
        }
    }
}

fn refuse(message: &str) -> i32 {
    // The caller reads stderr into its error message.
    let _ = writeln!(io::stderr(), "{message}");
    2
}

/// Extracts a document, running the PDF and DOCX parsers in a worker process started with
/// `worker`. Text, Markdown and CSV are extracted in this process (their parsers are our own and
/// bounded). The size is checked from metadata before anything is read.
///
/// # Errors
/// Any [`ExtractError`]. [`ExtractError::WorkerFailed`] when the worker could not start,
/// crashed or was killed (with its exit status and last stderr output),
/// [`ExtractError::TimedOut`] when it ran past `limits.timeout` (it is killed).
pub fn extract_isolated(
    path: &Path,
    limits: &ExtractLimits,
    worker: &WorkerCommand,
) -> Result<Extracted, ExtractError> {
    let format = Format::from_path(path)?;
    let bytes = read_limited(path, limits)?;
    if bytes.is_empty() {
        return Err(ExtractError::Empty);
    }
    if !format.needs_isolation() {
        return extract_bytes(format, &bytes, limits);
    }
    let started = Instant::now();
    let result = run_worker(worker, format, &bytes, limits);
    tracing::debug!(
        ?format,
        bytes = bytes.len(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        ok = result.is_ok(),
        "isolated extraction finished"
    );
    result
}

/// Starts the worker, feeds it, and collects its reply within the timeout.
fn run_worker(
    worker: &WorkerCommand,
    format: Format,
    bytes: &[u8],
    limits: &ExtractLimits,
) -> Result<Extracted, ExtractError> {
    let mut header = serde_json::to_vec(&Request {
        format,
        limits: *limits,
    })
    .map_err(|err| ExtractError::WorkerFailed {
        detail: format!("could not encode the request: {err}"),
    })?;
    header.push(b'\n');
    let deadline = Instant::now().checked_add(limits.timeout);
    let mut child = spawn(worker, limits)?;
    let (Some(mut stdin), Some(stdout), Some(stderr)) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        kill(&mut child);
        return Err(ExtractError::WorkerFailed {
            detail: "the worker's pipes were not created".into(),
        });
    };
    // A reply cannot be larger than the memory the worker may use.
    let reply_cap = limits.max_memory_bytes;
    thread::scope(|scope| {
        scope.spawn(move || {
            // A worker that died early closes the pipe; its exit status tells why.
            let _ = stdin
                .write_all(&header)
                .and_then(|()| stdin.write_all(bytes));
        });
        let reply = scope.spawn(move || {
            let mut out = Vec::new();
            stdout
                .take(reply_cap.saturating_add(1))
                .read_to_end(&mut out)
                .map(|_| out)
        });
        let errors = scope.spawn(move || stderr_tail(stderr));
        let status = wait_until(&mut child, deadline);
        let reply = reply.join();
        let stderr = errors.join().unwrap_or_default();
        let Some(status) = status else {
            return Err(ExtractError::TimedOut {
                limit: limits.timeout,
            });
        };
        let status = status.map_err(|err| ExtractError::WorkerFailed {
            detail: format!("could not wait for the worker: {err}"),
        })?;
        if !status.success() {
            return Err(ExtractError::WorkerFailed {
                detail: describe_failure(status, &stderr),
            });
        }
        let reply = match reply {
            Ok(Ok(reply)) if reply.len() as u64 <= reply_cap => reply,
            Ok(Ok(_)) => {
                return Err(ExtractError::WorkerFailed {
                    detail: format!("its reply was larger than {reply_cap} bytes"),
                })
            }
            Ok(Err(err)) => {
                return Err(ExtractError::WorkerFailed {
                    detail: format!("could not read its reply: {err}"),
                })
            }
            Err(_) => {
                return Err(ExtractError::WorkerFailed {
                    detail: "the reply reader failed".into(),
                })
            }
        };
        match serde_json::from_slice::<Reply>(&reply) {
            Ok(Reply::Extracted(extracted)) => Ok(extracted),
            Ok(Reply::Failed(err)) => Err(err),
            Err(err) => Err(ExtractError::WorkerFailed {
                detail: format!("unreadable reply ({err}); stderr: {}", or_nothing(&stderr)),
            }),
        }
    })
}

/// Starts the worker in its own process group, with resource limits, an empty environment and
/// piped standard streams.
fn spawn(worker: &WorkerCommand, limits: &ExtractLimits) -> Result<Child, ExtractError> {
    let mut command = Command::new(&worker.program);
    command
        .args(&worker.args)
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let memory = limits.max_memory_bytes;
        // The CPU limit backs up the caller's timeout should the caller itself die.
        let cpu_seconds = limits.timeout.as_secs().saturating_add(2);
        command.process_group(0);
        // SAFETY: the closure runs in the forked child before exec. It only calls getrlimit and
        // setrlimit (async-signal-safe system calls) on stack values and builds an io::Error from
        // an errno without allocating; it touches no locks or heap shared with the parent.
        unsafe {
            command.pre_exec(move || limit_resources(memory, cpu_seconds));
        }
    }
    command.spawn().map_err(|err| ExtractError::WorkerFailed {
        detail: format!("could not start {}: {err}", worker.program.display()),
    })
}

/// Applies the worker's limits to the current process (the forked child).
#[cfg(unix)]
fn limit_resources(memory: u64, cpu_seconds: u64) -> io::Result<()> {
    set_limit(libc::RLIMIT_AS, memory, memory)?;
    set_limit(libc::RLIMIT_CORE, 0, 0)?;
    set_limit(libc::RLIMIT_CPU, cpu_seconds, cpu_seconds.saturating_add(1))
}

/// The type of a resource id in `setrlimit` (glibc has its own).
#[cfg(all(unix, target_os = "linux", target_env = "gnu"))]
type Resource = libc::__rlimit_resource_t;
#[cfg(all(unix, not(all(target_os = "linux", target_env = "gnu"))))]
type Resource = libc::c_int;

/// Lowers a resource limit, never above the current hard limit (raising it needs privileges).
#[cfg(unix)]
fn set_limit(resource: Resource, soft: u64, hard: u64) -> io::Result<()> {
    let mut current = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we own and pass by pointer.
    if unsafe { libc::getrlimit(resource, &mut current) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let hard = (hard as libc::rlim_t).min(current.rlim_max);
    let limit = libc::rlimit {
        rlim_cur: (soft as libc::rlim_t).min(hard),
        rlim_max: hard,
    };
    // SAFETY: setrlimit only reads the struct we pass by pointer.
    if unsafe { libc::setrlimit(resource, &limit) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Waits for the child until `deadline`; on expiry kills it (and its process group) and returns
/// `None`.
fn wait_until(child: &mut Child, deadline: Option<Instant>) -> Option<io::Result<ExitStatus>> {
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(Ok(status)),
            Ok(None) => {}
            Err(err) => {
                kill(child);
                return Some(Err(err));
            }
        }
        let now = Instant::now();
        if deadline.is_some_and(|deadline| now >= deadline) {
            kill(child);
            return None;
        }
        let nap = deadline.map_or(POLL, |deadline| (deadline - now).min(POLL));
        thread::sleep(nap);
    }
}

/// Kills the child's process group (the child and anything it started), then reaps the child.
fn kill(child: &mut Child) {
    #[cfg(unix)]
    if let Ok(pid) = libc::pid_t::try_from(child.id()) {
        // SAFETY: kill has no memory effects. The child is not reaped yet, so its pid (which is
        // also its process group id) cannot have been reused.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
    // Already dead is fine; either way it is reaped below.
    let _ = child.kill();
    let _ = child.wait();
}

/// The last [`STDERR_TAIL_BYTES`] of the worker's stderr, as text.
fn stderr_tail(mut stderr: impl Read) -> String {
    let mut tail: Vec<u8> = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match stderr.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                tail.extend_from_slice(&buffer[..n]);
                if tail.len() > 2 * STDERR_TAIL_BYTES {
                    tail.drain(..tail.len() - STDERR_TAIL_BYTES);
                }
            }
        }
    }
    let start = tail.len().saturating_sub(STDERR_TAIL_BYTES);
    String::from_utf8_lossy(&tail[start..]).trim().to_owned()
}

fn or_nothing(stderr: &str) -> &str {
    if stderr.is_empty() {
        "(nothing)"
    } else {
        stderr
    }
}

/// "killed by signal 11 (SIGSEGV); stderr: …" or "exited with status 2; stderr: …".
fn describe_failure(status: ExitStatus, stderr: &str) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            let name = match signal {
                libc::SIGSEGV => " (SIGSEGV: invalid memory access or stack overflow)",
                libc::SIGABRT => " (SIGABRT: aborted, e.g. out of memory or stack overflow)",
                libc::SIGKILL => " (SIGKILL)",
                libc::SIGBUS => " (SIGBUS)",
                libc::SIGILL => " (SIGILL)",
                libc::SIGFPE => " (SIGFPE)",
                libc::SIGXCPU => " (SIGXCPU: CPU time limit)",
                _ => "",
            };
            return format!(
                "killed by signal {signal}{name}; stderr: {}",
                or_nothing(stderr)
            );
        }
    }
    format!("{status}; stderr: {}", or_nothing(stderr))
}
