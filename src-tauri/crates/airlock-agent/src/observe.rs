//! The spans a request's trace is made of (exported by `airlock-telemetry` when a trace
//! directory is configured): one root `request` span per request and a child for each step.
//! Attributes carry counts, timings, tool names and decisions; never a secret, never a person's
//! name (the principal is its audit pseudonym), never the request text.

use std::ops::ControlFlow;

use airlock_llm::{GenerateRequest, Generation, LlmError, ModelWorker, ScoreRequest, Scores};
use tracing::field::Empty;
use tracing::Span;

/// The root span of one request: `trace_id` is the request's audit trace id.
pub(crate) fn request_span(trace_id: &str, kind: &'static str, mode: airlock_core::Mode) -> Span {
    tracing::info_span!(
        "request",
        trace_id,
        kind,
        mode = mode_name(mode),
        principal = Empty,
        bytes = Empty,
        intents = Empty,
        outcome = Empty,
    )
}

fn mode_name(mode: airlock_core::Mode) -> &'static str {
    match mode {
        airlock_core::Mode::Plan => "plan",
        airlock_core::Mode::Execute => "execute",
    }
}

/// Generates with `worker` inside an `llm.generate` span recording the model, the token counts,
/// the time to the first token and the decode rate.
///
/// # Errors
/// As [`ModelWorker::generate`].
pub(crate) fn generate(
    worker: &ModelWorker,
    purpose: &'static str,
    request: &GenerateRequest,
    on_text: &mut dyn FnMut(&str) -> ControlFlow<()>,
) -> Result<Generation, LlmError> {
    let span = tracing::info_span!(
        "llm.generate",
        purpose,
        model = Empty,
        prompt_tokens = Empty,
        cached_prompt_tokens = Empty,
        completion_tokens = Empty,
        time_to_first_token_ms = Empty,
        tokens_per_s = Empty,
        stop_reason = Empty,
        error = Empty,
    );
    let _entered = span.enter();
    let generated = worker.generate(request, on_text);
    span.record("model", model_file_name(worker).as_str());
    match &generated {
        Ok(generation) => {
            let usage = &generation.usage;
            span.record("prompt_tokens", usage.prompt_tokens);
            span.record("cached_prompt_tokens", usage.cached_prompt_tokens);
            span.record("completion_tokens", usage.completion_tokens);
            span.record("time_to_first_token_ms", usage.first_token_ms);
            span.record("tokens_per_s", usage.decode_tokens_per_second());
            span.record(
                "stop_reason",
                format!("{:?}", generation.stop_reason)
                    .to_lowercase()
                    .as_str(),
            );
        }
        Err(err) => {
            span.record("error", err.to_string().as_str());
        }
    }
    generated
}

/// Scores continuations with `worker` inside an `llm.score` span recording the model, the
/// token counts and the time taken.
///
/// # Errors
/// As [`ModelWorker::score`].
pub(crate) fn score(
    worker: &ModelWorker,
    purpose: &'static str,
    request: &ScoreRequest,
) -> Result<Scores, LlmError> {
    let span = tracing::info_span!(
        "llm.score",
        purpose,
        model = Empty,
        continuations = request.continuations.len(),
        prompt_tokens = Empty,
        cached_prompt_tokens = Empty,
        continuation_tokens = Empty,
        ms = Empty,
        error = Empty,
    );
    let _entered = span.enter();
    let scored = worker.score(request);
    span.record("model", model_file_name(worker).as_str());
    match &scored {
        Ok(scores) => {
            span.record("prompt_tokens", scores.usage.prompt_tokens);
            span.record("cached_prompt_tokens", scores.usage.cached_prompt_tokens);
            span.record("continuation_tokens", scores.usage.completion_tokens);
            span.record("ms", scores.usage.prompt_ms);
        }
        Err(err) => {
            span.record("error", err.to_string().as_str());
        }
    }
    scored
}

/// The file name of the model `worker` runs (empty before it loaded one).
pub(crate) fn model_file_name(worker: &ModelWorker) -> String {
    worker
        .loaded_model()
        .and_then(|model| {
            model
                .path
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
        })
        .unwrap_or_default()
}
