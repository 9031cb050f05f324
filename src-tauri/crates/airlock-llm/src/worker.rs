//! The worker process: loads a model and generates (or scores continuations) on request, speaking JSON lines on
//! stdin/stdout. Its stdout carries nothing but protocol; diagnostics go to stderr.

use std::io::{self, BufRead, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;

use crate::engine::Engine;
use crate::protocol::{FailureKind, WorkerEvent, WorkerRequest};
use crate::LlmError;

/// The first command-line argument that makes an Airlock binary run as a model worker.
pub const WORKER_ARG: &str = "__airlock-model-worker";

/// Runs the worker loop when this process was started as a worker (first argument is
/// [`WORKER_ARG`]) and returns its exit code; returns `None` otherwise. Binaries call this first
/// thing in `main`.
#[must_use]
pub fn run_if_requested() -> Option<i32> {
    (std::env::args_os().nth(1).as_deref() == Some(WORKER_ARG.as_ref())).then(serve)
}

/// The variable whose `tracing` filter (default `warn`) applies to the worker's diagnostics.
const LOG_FILTER_ENV: &str = "AIRLOCK_LOG";

/// Serves requests from stdin until it closes or a shutdown arrives; returns the exit code.
/// Diagnostics go to stderr, which the supervisor logs.
#[must_use]
pub fn serve() -> i32 {
    let filter = tracing_subscriber::EnvFilter::try_from_env(LOG_FILTER_ENV)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_writer(io::stderr)
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init();
    let cancel = Arc::new(CancelState::default());
    let requests = spawn_reader(Arc::clone(&cancel));
    emit(&WorkerEvent::Ready {
        pid: std::process::id(),
    });
    let mut next = requests.recv().ok();
    while let Some(request) = next.take() {
        next = match request {
            WorkerRequest::Load {
                model,
                n_ctx,
                threads,
                prompt_cache,
            } => match Engine::load(&model) {
                Ok(engine) => {
                    emit(&WorkerEvent::Loaded {
                        model: engine.describe(n_ctx),
                    });
                    let context = Context {
                        n_ctx,
                        threads,
                        prompt_cache,
                    };
                    serve_model(&engine, &context, &requests, &cancel)
                }
                Err(err) => {
                    fail(None, &err);
                    requests.recv().ok()
                }
            },
            WorkerRequest::Generate { id, .. } | WorkerRequest::Score { id, .. } => {
                fail_with(Some(id), FailureKind::BadRequest, "no model loaded".into());
                requests.recv().ok()
            }
            WorkerRequest::Cancel { .. } => requests.recv().ok(),
            WorkerRequest::Shutdown => None,
        };
    }
    0
}

/// The session a load asked for.
struct Context {
    n_ctx: u32,
    threads: u32,
    prompt_cache: Option<PathBuf>,
}

/// Serves generation requests with `engine` loaded; returns the request that ends this model's
/// turn (another load), or `None` to exit.
fn serve_model(
    engine: &Engine,
    context: &Context,
    requests: &Receiver<WorkerRequest>,
    cancel: &CancelState,
) -> Option<WorkerRequest> {
    let mut session = match engine.session(context.n_ctx, context.threads) {
        Ok(session) => session,
        Err(err) => {
            fail(None, &err);
            return requests.recv().ok();
        }
    };
    if let Some(dir) = &context.prompt_cache {
        if let Err(err) = session.keep_shared_prefixes_in(dir) {
            tracing::warn!(%err, "no prompt cache; every process processes the shared prefix");
        }
    }
    loop {
        match requests.recv().ok()? {
            WorkerRequest::Generate { id, request } => {
                let flag = cancel.begin(id);
                let result = session.generate(&request, &flag, &mut |text| {
                    emit(&WorkerEvent::Token {
                        id,
                        text: text.to_owned(),
                    });
                });
                cancel.end();
                match result {
                    Ok(generation) => emit(&WorkerEvent::Done { id, generation }),
                    Err(err) => fail(Some(id), &err),
                }
            }
            WorkerRequest::Score { id, request } => match session.score(&request) {
                Ok(scores) => emit(&WorkerEvent::Scored { id, scores }),
                Err(err) => fail(Some(id), &err),
            },
            WorkerRequest::Cancel { .. } => {}
            other @ (WorkerRequest::Load { .. } | WorkerRequest::Shutdown) => return Some(other),
        }
    }
}

/// Which generation is running and which were asked to stop. A cancel may arrive before its
/// generation starts, so cancelled ids are remembered (ids only grow).
#[derive(Default)]
struct CancelState {
    ids: Mutex<CancelIds>,
    flag: Arc<AtomicBool>,
}

#[derive(Default)]
struct CancelIds {
    running: u64,
    cancelled_up_to: u64,
}

impl CancelState {
    /// Marks generation `id` as running and returns the flag it must watch.
    fn begin(&self, id: u64) -> Arc<AtomicBool> {
        let mut ids = self.ids.lock().unwrap_or_else(PoisonError::into_inner);
        ids.running = id;
        self.flag.store(ids.cancelled_up_to >= id, Ordering::SeqCst);
        Arc::clone(&self.flag)
    }

    fn end(&self) {
        self.ids
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .running = 0;
    }

    /// Cancels generation `id` (or every generation, when stdin closed).
    fn cancel(&self, id: u64) {
        let mut ids = self.ids.lock().unwrap_or_else(PoisonError::into_inner);
        ids.cancelled_up_to = ids.cancelled_up_to.max(id);
        if ids.running != 0 && ids.running <= ids.cancelled_up_to {
            self.flag.store(true, Ordering::SeqCst);
        }
    }
}

/// Reads requests on a thread of its own so a cancel is seen while a generation runs. When
/// stdin closes (the supervisor went away) the running generation is cancelled and the worker
/// exits.
fn spawn_reader(cancel: Arc<CancelState>) -> Receiver<WorkerRequest> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<WorkerRequest>(&line) {
                Ok(WorkerRequest::Cancel { id }) => cancel.cancel(id),
                Ok(request) => {
                    if tx.send(request).is_err() {
                        break;
                    }
                }
                Err(err) => fail_with(None, FailureKind::BadRequest, format!("bad request: {err}")),
            }
        }
        cancel.cancel(u64::MAX);
    });
    rx
}

fn emit(event: &WorkerEvent) {
    let mut out = io::stdout().lock();
    let written = serde_json::to_writer(&mut out, event)
        .map_err(io::Error::from)
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush());
    if written.is_err() {
        // The supervisor is gone; nobody is left to serve.
        std::process::exit(0);
    }
}

fn fail(id: Option<u64>, err: &LlmError) {
    let (kind, message) = match err {
        LlmError::ModelNotFound { .. } => (FailureKind::ModelNotFound, err.to_string()),
        LlmError::NotGguf { reason, .. } => (FailureKind::NotGguf, reason.clone()),
        LlmError::LoadFailed { detail, .. } => (FailureKind::LoadFailed, detail.clone()),
        LlmError::ContextOverflow { .. } => (FailureKind::ContextOverflow, err.to_string()),
        LlmError::Grammar(detail) => (FailureKind::Grammar, detail.clone()),
        LlmError::Generation(detail) => (FailureKind::Generation, detail.clone()),
        _ => (FailureKind::Generation, err.to_string()),
    };
    let (prompt_tokens, max_tokens, n_ctx) = match err {
        LlmError::ContextOverflow {
            prompt_tokens,
            max_tokens,
            n_ctx,
        } => (*prompt_tokens, *max_tokens, *n_ctx),
        _ => (0, 0, 0),
    };
    emit(&WorkerEvent::Failed {
        id,
        kind,
        message,
        prompt_tokens,
        max_tokens,
        n_ctx,
    });
}

fn fail_with(id: Option<u64>, kind: FailureKind, message: String) {
    emit(&WorkerEvent::Failed {
        id,
        kind,
        message,
        prompt_tokens: 0,
        max_tokens: 0,
        n_ctx: 0,
    });
}
