//! The in-process llama.cpp session. Only the worker process (and the benchmark) use it: a
//! llama.cpp assert aborts whatever process runs this code.

use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::time::Instant;

use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatMessage, LlamaChatTemplate, LlamaModel};
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::data::LlamaTokenData;
use llama_cpp_2::token::data_array::LlamaTokenDataArray;
use llama_cpp_2::token::LlamaToken;
use llama_cpp_2::LlamaModelLoadError;

use crate::prompt_cache::{PromptCache, MIN_STORED_TOKENS};
use crate::stop::StopScanner;
use crate::text::Utf8Stream;
use crate::{
    gguf, ChatMessage, GenerateRequest, Generation, LlmError, LoadedModel, ScoreRequest, Scores,
    StopReason, Usage,
};

/// Prompt tokens decoded per llama.cpp batch.
const BATCH: u32 = 512;
/// Continuations scored side by side, one KV-cache sequence each (sequence 0 is the prompt's).
const SCORED_SEQUENCES: usize = 32;

/// The process-wide llama.cpp backend (it may be initialised once per process).
fn backend() -> Result<&'static LlamaBackend, LlmError> {
    static BACKEND: OnceLock<Result<LlamaBackend, String>> = OnceLock::new();
    BACKEND
        .get_or_init(|| {
            let mut backend = LlamaBackend::init().map_err(|err| err.to_string())?;
            backend.void_logs();
            Ok(backend)
        })
        .as_ref()
        .map_err(|err| LlmError::Generation(format!("llama.cpp backend: {err}")))
}

/// A loaded model.
pub struct Engine {
    model: LlamaModel,
    path: PathBuf,
    template: Option<LlamaChatTemplate>,
    load_ms: f64,
}

impl Engine {
    /// Loads the GGUF model at `path`.
    ///
    /// # Errors
    /// [`LlmError::ModelNotFound`], [`LlmError::NotGguf`] or [`LlmError::LoadFailed`].
    pub fn load(path: &Path) -> Result<Self, LlmError> {
        gguf::check_header(path)?;
        let backend = backend()?;
        let started = Instant::now();
        let model = LlamaModel::load_from_file(backend, path, &LlamaModelParams::default())
            .map_err(|err| LlmError::LoadFailed {
                path: path.to_owned(),
                detail: match err {
                    LlamaModelLoadError::NullResult => "llama.cpp rejected the file".into(),
                    other => other.to_string(),
                },
            })?;
        let load_ms = started.elapsed().as_secs_f64() * 1000.0;
        let template = model.chat_template(None).ok();
        if template.is_none() {
            tracing::warn!(path = %path.display(), "model has no chat template; using ChatML");
        }
        Ok(Self {
            model,
            path: path.to_owned(),
            template,
            load_ms,
        })
    }

    /// What the worker reports about this model for a context of `n_ctx` tokens.
    #[must_use]
    pub fn describe(&self, n_ctx: u32) -> LoadedModel {
        let name = self
            .model
            .meta_val_str("general.name")
            .unwrap_or_else(|_| "unnamed model".into());
        LoadedModel {
            path: self.path.clone(),
            description: format!(
                "{name}, {:.0}M parameters, {:.0} MiB",
                self.model.n_params() as f64 / 1e6,
                self.model.size() as f64 / (1024.0 * 1024.0)
            ),
            n_ctx,
            has_chat_template: self.template.is_some(),
            load_ms: self.load_ms,
        }
    }

    /// A session with a context of `n_ctx` tokens on `threads` CPU threads.
    ///
    /// # Errors
    /// [`LlmError::Generation`] when llama.cpp cannot allocate the context.
    pub fn session(&self, n_ctx: u32, threads: u32) -> Result<Session<'_>, LlmError> {
        let threads = i32::try_from(threads.max(1)).unwrap_or(1);
        let params = LlamaContextParams::default()
            .with_n_ctx(NonZeroU32::new(n_ctx))
            .with_n_batch(BATCH)
            .with_n_ubatch(BATCH)
            .with_n_threads(threads)
            .with_n_threads_batch(threads)
            // One cache shared by every sequence: scoring's side sequences reuse the prompt's
            // cells instead of splitting the context between sequences.
            .with_n_seq_max(u32::try_from(SCORED_SEQUENCES + 1).unwrap_or(u32::MAX))
            .with_kv_unified(true);
        let ctx = self
            .model
            .new_context(backend()?, params)
            .map_err(|err| LlmError::Generation(format!("cannot create a context: {err}")))?;
        Ok(Session {
            engine: self,
            ctx,
            cached: Vec::new(),
            n_ctx,
            prompt_cache: None,
        })
    }

    /// Renders `messages` with the model's chat template (ChatML when it has none), ending with
    /// the opening of the assistant's turn.
    ///
    /// # Errors
    /// [`LlmError::Generation`] when the template cannot be applied.
    pub fn render_prompt(&self, messages: &[ChatMessage]) -> Result<String, LlmError> {
        self.render(messages, true)
    }

    /// Renders `messages` with the chat template, opening the assistant's turn when
    /// `open_reply`; without it, the text every longer conversation starting with these
    /// messages begins with.
    fn render(&self, messages: &[ChatMessage], open_reply: bool) -> Result<String, LlmError> {
        let Some(template) = &self.template else {
            return Ok(chatml(messages, open_reply));
        };
        let chat = messages
            .iter()
            .map(|m| LlamaChatMessage::new(m.role.as_str().to_owned(), m.content.clone()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|err| LlmError::Generation(format!("message contains a NUL byte: {err}")))?;
        self.model
            .apply_chat_template(template, &chat, open_reply)
            .map_err(|err| LlmError::Generation(format!("chat template failed: {err}")))
    }

    fn tokenize(&self, prompt: &str) -> Vec<LlamaToken> {
        self.model.vocab().tokenize(prompt.as_bytes(), true, true)
    }
}

fn chatml(messages: &[ChatMessage], open_reply: bool) -> String {
    let mut out = String::new();
    for m in messages {
        out.push_str("<|im_start|>");
        out.push_str(m.role.as_str());
        out.push('\n');
        out.push_str(&m.content);
        out.push_str("<|im_end|>\n");
    }
    if open_reply {
        out.push_str("<|im_start|>assistant\n");
    }
    out
}

/// A context that keeps the KV cache of the previous prompt, so a request that shares a prefix
/// with the previous one (system prompt, tool specs, examples) only processes its new tokens.
pub struct Session<'m> {
    engine: &'m Engine,
    ctx: LlamaContext<'m>,
    cached: Vec<LlamaToken>,
    n_ctx: u32,
    prompt_cache: Option<PromptCache>,
}

impl Session<'_> {
    /// Keeps the KV cache of requests' shared prefixes (their `shared_messages`) in `dir`, so
    /// the next process loads them instead of processing them (see [`crate::prompt_cache`]).
    ///
    /// # Errors
    /// [`LlmError::Generation`] when `dir` cannot be created or the model's file read.
    pub fn keep_shared_prefixes_in(&mut self, dir: &Path) -> Result<(), LlmError> {
        let cache = PromptCache::open(dir, &self.engine.path, self.n_ctx).map_err(|err| {
            LlmError::Generation(format!("prompt cache in {}: {err}", dir.display()))
        })?;
        self.prompt_cache = Some(cache);
        Ok(())
    }

    /// Generates a reply to `request`, calling `on_text` with each piece of text as soon as it
    /// is known. Stops early when `cancel` becomes true.
    ///
    /// # Errors
    /// [`LlmError::ContextOverflow`], [`LlmError::Grammar`] or [`LlmError::Generation`].
    pub fn generate(
        &mut self,
        request: &GenerateRequest,
        cancel: &AtomicBool,
        on_text: &mut dyn FnMut(&str),
    ) -> Result<Generation, LlmError> {
        let started = Instant::now();
        let mut prompt = self.engine.render_prompt(&request.messages)?;
        prompt.push_str(&request.prefix);
        let tokens = self.engine.tokenize(&prompt);
        let budget = tokens.len() + request.max_tokens as usize;
        if tokens.is_empty() || budget > self.n_ctx as usize {
            return Err(LlmError::ContextOverflow {
                prompt_tokens: tokens.len(),
                max_tokens: request.max_tokens,
                n_ctx: self.n_ctx,
            });
        }
        let mut sampler = TokenSampler::new(self.engine, request)?;

        let reused = self.bring_prompt(&request.messages, request.shared_messages, &tokens)?;
        let prompt_ms = started.elapsed().as_secs_f64() * 1000.0;

        let vocab = self.engine.model.vocab();
        let mut utf8 = Utf8Stream::default();
        let mut stops = StopScanner::new(&request.stop);
        let mut text = String::new();
        let mut emit = |piece: &str, text: &mut String| {
            if !piece.is_empty() {
                text.push_str(piece);
                on_text(piece);
            }
        };
        let mut batch = LlamaBatch::new(1, 1);
        let mut completion_tokens = 0u32;
        let mut first_token_ms = 0.0;
        let mut decode_started = Instant::now();
        let mut stop_reason = StopReason::MaxTokens;
        while completion_tokens < request.max_tokens {
            if cancel.load(Ordering::Relaxed) {
                stop_reason = StopReason::Cancelled;
                break;
            }
            let token = sampler.next(&self.ctx)?;
            completion_tokens += 1;
            if completion_tokens == 1 {
                first_token_ms = started.elapsed().as_secs_f64() * 1000.0;
                decode_started = Instant::now();
            }
            if vocab.is_eog(token) && !request.ignore_eos {
                stop_reason = StopReason::Eos;
                break;
            }
            let piece = utf8.push(&vocab.token_to_piece(token, false, None));
            let scan = stops.push(&piece);
            emit(&scan.emit, &mut text);
            if scan.stopped {
                stop_reason = StopReason::StopString;
                break;
            }
            if completion_tokens == request.max_tokens {
                break;
            }
            batch.clear();
            let pos = i32::try_from(self.cached.len()).unwrap_or(i32::MAX);
            batch
                .add(token, pos, &[0], true)
                .map_err(|err| LlmError::Generation(err.to_string()))?;
            self.ctx
                .decode(&mut batch)
                .map_err(|err| LlmError::Generation(format!("decode failed: {err}")))?;
            self.cached.push(token);
        }
        if stop_reason != StopReason::StopString {
            let rest = stops.push(&utf8.finish());
            emit(&rest.emit, &mut text);
            if !rest.stopped {
                emit(&stops.finish(), &mut text);
            }
        }
        let prompt_tokens = u32::try_from(tokens.len()).unwrap_or(u32::MAX);
        Ok(Generation {
            text,
            stop_reason,
            usage: Usage {
                prompt_tokens,
                cached_prompt_tokens: u32::try_from(reused).unwrap_or(u32::MAX),
                completion_tokens,
                prompt_ms,
                decode_ms: decode_started.elapsed().as_secs_f64() * 1000.0,
                first_token_ms,
            },
        })
    }

    /// Scores each continuation of `request` after its prompt and prefix: the log-probability
    /// the model gives its tokens. The shared prompt is processed once (and its KV cache stays
    /// for the next request); the continuations are then decoded together, each in a sequence
    /// of its own that shares the prompt's cache, so none sees another.
    ///
    /// # Errors
    /// [`LlmError::ContextOverflow`] or [`LlmError::Generation`].
    pub fn score(&mut self, request: &ScoreRequest) -> Result<Scores, LlmError> {
        let started = Instant::now();
        let head = format!(
            "{}{}",
            self.engine.render_prompt(&request.messages)?,
            request.prefix
        );
        let head_tokens = self.engine.tokenize(&head);
        // A continuation's tokenisation can merge the head's last characters into its first
        // token. Every candidate is scored from the same point, the first head token any of
        // them retokenises: scoring one from a later point would condition it on a head token
        // the others do not have, and split the text where the model never saw it split.
        let candidates: Vec<Vec<LlamaToken>> = request
            .continuations
            .iter()
            .map(|continuation| self.engine.tokenize(&format!("{head}{continuation}")))
            .collect();
        let shared = candidates
            .iter()
            .map(|tokens| common_prefix(&head_tokens, tokens).min(tokens.len().saturating_sub(1)))
            .min()
            .unwrap_or(head_tokens.len())
            .clamp(1, head_tokens.len().max(1));
        let cells = shared
            + candidates
                .iter()
                .map(|tokens| tokens.len().saturating_sub(shared))
                .sum::<usize>();
        if head_tokens.is_empty() || cells > self.n_ctx as usize {
            return Err(LlmError::ContextOverflow {
                prompt_tokens: cells,
                max_tokens: 0,
                n_ctx: self.n_ctx,
            });
        }
        let reused = self.bring_prompt(
            &request.messages,
            request.shared_messages,
            &head_tokens[..shared],
        )?;
        let after_shared = LogSoftmax::of(self.ctx.get_logits_ith(-1));
        let mut log_probs: Vec<f64> = candidates
            .iter()
            .map(|tokens| {
                tokens
                    .get(shared)
                    .map_or(0.0, |&first| after_shared.at(first))
            })
            .collect();
        let mut group_start = 0;
        while group_start < candidates.len() {
            group_start = self.score_group(&candidates, group_start, shared, &mut log_probs)?;
        }
        Ok(Scores {
            log_probs,
            usage: Usage {
                prompt_tokens: u32::try_from(head_tokens.len()).unwrap_or(u32::MAX),
                cached_prompt_tokens: u32::try_from(reused).unwrap_or(u32::MAX),
                completion_tokens: u32::try_from(cells - shared).unwrap_or(u32::MAX),
                prompt_ms: started.elapsed().as_secs_f64() * 1000.0,
                decode_ms: 0.0,
                first_token_ms: 0.0,
            },
        })
    }

    /// Decodes, in one batch, the candidates from `start` on that fit (one sequence each, at
    /// most [`SCORED_SEQUENCES`] and [`BATCH`] tokens), adds their tokens' log-probabilities to
    /// `log_probs`, frees their sequences, and returns where the next group starts.
    fn score_group(
        &mut self,
        candidates: &[Vec<LlamaToken>],
        start: usize,
        shared: usize,
        log_probs: &mut [f64],
    ) -> Result<usize, LlmError> {
        let mut batch = LlamaBatch::new(BATCH as usize, 1);
        // (candidate, its first batch index) for each candidate in this group.
        let mut members: Vec<(usize, usize)> = Vec::new();
        let mut end = start;
        let mut used = 0usize;
        while end < candidates.len() && members.len() < SCORED_SEQUENCES {
            // Every token but the last is decoded; each one's logits score the next.
            let inputs = candidates[end].len().saturating_sub(shared + 1);
            if used + inputs > BATCH as usize && !members.is_empty() {
                break;
            }
            if inputs > BATCH as usize {
                return Err(LlmError::Generation(format!(
                    "a continuation of {inputs} tokens is longer than one batch ({BATCH})"
                )));
            }
            let seq = i32::try_from(members.len() + 1).unwrap_or(i32::MAX);
            let shared_end = u32::try_from(shared).unwrap_or(u32::MAX);
            self.ctx
                .copy_kv_cache_seq(0, seq, Some(0), Some(shared_end))
                .map_err(|err| LlmError::Generation(err.to_string()))?;
            let tokens = &candidates[end];
            let inputs_range = shared..tokens.len().saturating_sub(1);
            for (j, &token) in tokens.get(inputs_range).unwrap_or(&[]).iter().enumerate() {
                let pos = i32::try_from(shared + j).unwrap_or(i32::MAX);
                batch
                    .add(token, pos, &[seq], true)
                    .map_err(|err| LlmError::Generation(err.to_string()))?;
            }
            members.push((end, used));
            used += inputs;
            end += 1;
        }
        if used > 0 {
            self.ctx
                .decode(&mut batch)
                .map_err(|err| LlmError::Generation(format!("decode failed: {err}")))?;
        }
        for (slot, &(index, first)) in members.iter().enumerate() {
            let scored = candidates[index].get(shared + 1..).unwrap_or(&[]);
            for (j, &next) in scored.iter().enumerate() {
                let at = i32::try_from(first + j).unwrap_or(i32::MAX);
                log_probs[index] += LogSoftmax::of(self.ctx.get_logits_ith(at)).at(next);
            }
            let seq = u32::try_from(slot + 1).unwrap_or(u32::MAX);
            self.ctx
                .clear_kv_cache_seq(Some(seq), None, None)
                .map_err(|err| LlmError::Generation(err.to_string()))?;
        }
        Ok(end)
    }

    /// Brings the KV cache to the prompt `tokens` of a conversation whose first
    /// `shared_messages` are shared with other requests: their prefix comes from the prompt
    /// cache when this session does not hold it (or goes into the cache once processed), the
    /// rest is processed. Returns how many tokens were not processed (held or loaded).
    fn bring_prompt(
        &mut self,
        messages: &[ChatMessage],
        shared_messages: usize,
        tokens: &[LlamaToken],
    ) -> Result<usize, LlmError> {
        let Some(cache) = self.prompt_cache.clone() else {
            return self.process_prompt(tokens);
        };
        let shared = self.shared_prefix(messages, shared_messages, tokens)?;
        if shared <= common_prefix(&self.cached, tokens) {
            return self.process_prompt(tokens);
        }
        let prefix = &tokens[..shared];
        let entry = cache.entry_path(prefix);
        if cache.holds(&entry) {
            let started = Instant::now();
            match self.load_prefix(&entry, prefix) {
                Ok(()) => {
                    tracing::debug!(
                        tokens = shared,
                        ms = started.elapsed().as_secs_f64() * 1000.0,
                        "shared prompt prefix loaded from the prompt cache"
                    );
                    return self.process_prompt(tokens);
                }
                Err(detail) => {
                    tracing::warn!(entry = %entry.display(), %detail, "prompt cache entry unusable; it is rebuilt");
                    cache.discard(&entry);
                }
            }
        }
        let reused = self.process_prompt(prefix)?;
        let temporary = PromptCache::temporary_path(&entry);
        let stored = self
            .ctx
            .state_seq_save_file(&temporary, 0, prefix)
            .map_err(|err| std::io::Error::other(err.to_string()))
            .and_then(|_| cache.commit(&temporary, &entry));
        match stored {
            Ok(()) => {
                tracing::debug!(tokens = shared, entry = %entry.display(), "shared prompt prefix stored")
            }
            Err(err) => {
                tracing::warn!(%err, "the shared prompt prefix could not be stored; the next process processes it again")
            }
        }
        self.process_prompt(tokens)?;
        Ok(reused)
    }

    /// How many leading `tokens` are the rendering of the first `shared_messages` of
    /// `messages` (0 when that is too short to store, or is the whole prompt).
    fn shared_prefix(
        &self,
        messages: &[ChatMessage],
        shared_messages: usize,
        tokens: &[LlamaToken],
    ) -> Result<usize, LlmError> {
        if shared_messages == 0 || shared_messages >= messages.len() {
            return Ok(0);
        }
        let rendered = self.engine.render(&messages[..shared_messages], false)?;
        let shared = common_prefix(&self.engine.tokenize(&rendered), tokens);
        let worth_storing = shared >= MIN_STORED_TOKENS && shared < tokens.len();
        Ok(if worth_storing { shared } else { 0 })
    }

    /// Replaces this session's cache with the entry `entry`, which must hold `prefix`.
    fn load_prefix(&mut self, entry: &Path, prefix: &[LlamaToken]) -> Result<(), String> {
        self.ctx.clear_kv_cache();
        self.cached.clear();
        let loaded = match self.ctx.state_seq_load_file(entry, 0, prefix.len()) {
            Ok((loaded, _)) => loaded,
            Err(err) => {
                self.ctx.clear_kv_cache();
                return Err(err.to_string());
            }
        };
        if loaded != prefix {
            self.ctx.clear_kv_cache();
            return Err(format!(
                "it holds {} other tokens than the {} of this prefix",
                loaded.len(),
                prefix.len()
            ));
        }
        self.cached = loaded;
        Ok(())
    }

    /// Brings the KV cache to `tokens`, reusing the longest common prefix with what is cached,
    /// and leaves the logits of the last prompt token ready. Returns the number of reused tokens.
    fn process_prompt(&mut self, tokens: &[LlamaToken]) -> Result<usize, LlmError> {
        // At least one token must be decoded to produce logits.
        let common = common_prefix(&self.cached, tokens).min(tokens.len() - 1);
        let keep = u32::try_from(common).unwrap_or(u32::MAX);
        let cleared = self
            .ctx
            .clear_kv_cache_seq(Some(0), Some(keep), None)
            .map_err(|err| LlmError::Generation(err.to_string()))?;
        let reused = if cleared {
            common
        } else {
            self.ctx.clear_kv_cache();
            0
        };
        self.cached.truncate(reused);

        let rest = &tokens[reused..];
        let mut batch = LlamaBatch::new(BATCH as usize, 1);
        for (chunk_index, chunk) in rest.chunks(BATCH as usize).enumerate() {
            batch.clear();
            let last_chunk = (chunk_index + 1) * BATCH as usize >= rest.len();
            for (i, &token) in chunk.iter().enumerate() {
                let pos = i32::try_from(self.cached.len() + i).unwrap_or(i32::MAX);
                let wants_logits = last_chunk && i + 1 == chunk.len();
                batch
                    .add(token, pos, &[0], wants_logits)
                    .map_err(|err| LlmError::Generation(err.to_string()))?;
            }
            self.ctx.decode(&mut batch).map_err(|err| {
                self.cached.clear();
                LlmError::Generation(format!("prompt decode failed: {err}"))
            })?;
            self.cached.extend_from_slice(chunk);
        }
        Ok(reused)
    }

    /// Forgets the cached prompt (benchmarks use this to measure cold prompt processing).
    pub fn clear_cache(&mut self) {
        self.ctx.clear_kv_cache();
        self.cached.clear();
    }
}

/// Picks each next token: greedy under a grammar for structured output, greedy with a
/// repetition penalty for free text.
enum TokenSampler {
    Free(RepetitionPenalty),
    Constrained(LlamaSampler),
}

impl TokenSampler {
    fn new(engine: &Engine, request: &GenerateRequest) -> Result<Self, LlmError> {
        match &request.json_schema {
            None => Ok(Self::Free(RepetitionPenalty::default())),
            Some(schema) => {
                let grammar = compact_grammar(schema)?;
                let sampler = LlamaSampler::grammar(&engine.model, &grammar, "root")
                    .map_err(|err| LlmError::Grammar(err.to_string()))?;
                Ok(Self::Constrained(sampler))
            }
        }
    }

    /// Samples from the logits of the last decoded token.
    fn next(&mut self, ctx: &LlamaContext<'_>) -> Result<LlamaToken, LlmError> {
        let logits = ctx.get_logits_ith(-1);
        match self {
            Self::Free(penalty) => {
                let token = penalty.greedy(logits)?;
                penalty.remember(token);
                Ok(token)
            }
            Self::Constrained(grammar) => {
                let token = greedy_under_grammar(grammar, logits)?;
                grammar.accept(token);
                Ok(token)
            }
        }
    }
}

/// Greedy decoding with llama.cpp's repetition penalty over the last [`Self::WINDOW`] tokens,
/// applied to a copy of the logits: only the distinct recent tokens change. (llama.cpp's
/// sampler chain builds a candidate entry for every vocabulary token and its penalty sampler
/// scans them all at each step, which cost a tenth of a small model's decode time here.)
#[derive(Default)]
struct RepetitionPenalty {
    recent: std::collections::VecDeque<LlamaToken>,
    distinct: Vec<usize>,
    scratch: Vec<f32>,
}

impl RepetitionPenalty {
    const WINDOW: usize = 64;
    const PENALTY: f32 = 1.15;

    fn greedy(&mut self, logits: &[f32]) -> Result<LlamaToken, LlmError> {
        self.scratch.clear();
        self.scratch.extend_from_slice(logits);
        self.distinct.clear();
        self.distinct
            .extend(self.recent.iter().filter_map(|t| usize::try_from(t.0).ok()));
        self.distinct.sort_unstable();
        self.distinct.dedup();
        for &index in &self.distinct {
            if let Some(logit) = self.scratch.get_mut(index) {
                *logit = if *logit > 0.0 {
                    *logit / Self::PENALTY
                } else {
                    *logit * Self::PENALTY
                };
            }
        }
        argmax(self.scratch.iter().copied().enumerate())
            .map(token_id)
            .ok_or_else(|| LlmError::Generation("the model returned no logits".into()))
    }

    fn remember(&mut self, token: LlamaToken) {
        if self.recent.len() == Self::WINDOW {
            self.recent.pop_front();
        }
        self.recent.push_back(token);
    }
}

/// The GBNF grammar for `schema`, allowing no whitespace between JSON tokens. Compact JSON is
/// what the prompts' examples show and what scored continuations assume (`,{"tool":"`); a
/// model that drifts into spaced JSON after a prefix also drifts away from them.
fn compact_grammar(schema: &serde_json::Value) -> Result<String, LlmError> {
    let grammar = llama_cpp_2::json_schema_to_grammar(&schema.to_string())
        .map_err(|err| LlmError::Grammar(err.to_string()))?;
    Ok(grammar
        .lines()
        .map(|line| {
            if line.starts_with("space ::=") {
                r#"space ::= """#
            } else {
                line
            }
        })
        .collect::<Vec<_>>()
        .join("\n"))
}

/// Greedy choice under a grammar. The grammar filters the whole vocabulary only when the
/// unconstrained best token is rejected, as llama.cpp's own common sampler does: checking one
/// candidate is far cheaper than filtering ~50k of them at every step.
fn greedy_under_grammar(
    grammar: &mut LlamaSampler,
    logits: &[f32],
) -> Result<LlamaToken, LlmError> {
    let best = argmax(logits.iter().copied().enumerate())
        .ok_or_else(|| LlmError::Generation("the model returned no logits".into()))?;
    let mut single = LlamaTokenDataArray::new(vec![token_data(best, logits[best])], false);
    grammar.apply(&mut single);
    if single.data[0].logit().is_finite() {
        return Ok(token_id(best));
    }
    let mut all = LlamaTokenDataArray::new(
        logits
            .iter()
            .enumerate()
            .map(|(i, &l)| token_data(i, l))
            .collect(),
        false,
    );
    grammar.apply(&mut all);
    argmax(all.data.iter().map(|d| (d.id().0 as usize, d.logit())))
        .map(token_id)
        .ok_or_else(|| LlmError::Grammar("the grammar allows no next token".into()))
}

/// The length of the longest common prefix of `a` and `b`.
fn common_prefix(a: &[LlamaToken], b: &[LlamaToken]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// A log-softmax over one position's logits, computed stably.
struct LogSoftmax<'l> {
    logits: &'l [f32],
    max: f32,
    log_sum: f64,
}

impl<'l> LogSoftmax<'l> {
    fn of(logits: &'l [f32]) -> Self {
        let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let sum: f64 = logits.iter().map(|&l| f64::from(l - max).exp()).sum();
        Self {
            logits,
            max,
            log_sum: sum.ln(),
        }
    }

    /// `log softmax(logits)[token]`; minus infinity for a token out of range.
    fn at(&self, token: LlamaToken) -> f64 {
        usize::try_from(token.0)
            .ok()
            .and_then(|i| self.logits.get(i))
            .map_or(f64::NEG_INFINITY, |&l| {
                f64::from(l - self.max) - self.log_sum
            })
    }
}

/// The index of the highest finite score; masked (-inf) and NaN scores never win. A plain
/// loop: this runs over the whole vocabulary at every generated token.
fn argmax(scores: impl Iterator<Item = (usize, f32)>) -> Option<usize> {
    let mut best = None;
    let mut best_score = f32::NEG_INFINITY;
    for (index, score) in scores {
        if score > best_score {
            best_score = score;
            best = Some(index);
        }
    }
    best
}

fn token_id(index: usize) -> LlamaToken {
    LlamaToken::new(i32::try_from(index).unwrap_or(i32::MAX))
}

fn token_data(index: usize, logit: f32) -> LlamaTokenData {
    LlamaTokenData::new(token_id(index), logit, 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Role;

    #[test]
    fn the_grammar_allows_no_whitespace_between_json_tokens() {
        let schema = serde_json::json!({
            "type": "object",
            "properties": {"tool": {"enum": ["get_logs"]}, "args": {"type": "object"}},
            "required": ["tool", "args"]
        });
        let spaced = llama_cpp_2::json_schema_to_grammar(&schema.to_string()).unwrap();
        assert!(spaced
            .lines()
            .any(|l| l.starts_with("space ::=") && l.contains(r#"" ""#)));
        let compact = compact_grammar(&schema).unwrap();
        let space_rules: Vec<&str> = compact
            .lines()
            .filter(|l| l.starts_with("space ::="))
            .collect();
        assert_eq!(space_rules, [r#"space ::= """#]);
        assert_eq!(compact.lines().count(), spaced.lines().count());
    }

    #[test]
    fn chatml_fallback_opens_the_assistant_turn_and_its_prefix_is_a_prefix() {
        let messages = [
            ChatMessage::new(Role::System, "be brief"),
            ChatMessage::new(Role::User, "hi"),
        ];
        let prompt = chatml(&messages, true);
        assert_eq!(
            prompt,
            "<|im_start|>system\nbe brief<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"
        );
        let shared = chatml(&messages[..1], false);
        assert_eq!(shared, "<|im_start|>system\nbe brief<|im_end|>\n");
        assert!(prompt.starts_with(&shared));
    }

    #[test]
    fn repetition_penalty_lets_a_fresh_token_win_over_a_repeated_one() {
        let mut penalty = RepetitionPenalty::default();
        let logits = [1.0, 2.2, 2.0, -1.0];
        assert_eq!(penalty.greedy(&logits).unwrap(), token_id(1));
        penalty.remember(token_id(1));
        // 2.2 / 1.15 = 1.91 < 2.0: the repeated token loses to the next best.
        assert_eq!(penalty.greedy(&logits).unwrap(), token_id(2));
        // A negative logit gets more negative, never better.
        penalty.remember(token_id(3));
        assert_eq!(
            penalty.greedy(&[-1.0, -5.0, -5.0, -0.9]).unwrap(),
            token_id(0)
        );
    }

    #[test]
    fn log_softmax_is_normalised_and_ranks_like_the_logits() {
        let logits = [1.0_f32, 3.0, 0.5, -2.0];
        let probs: f64 = (0..4)
            .map(|i| LogSoftmax::of(&logits).at(token_id(i)).exp())
            .sum();
        assert!((probs - 1.0).abs() < 1e-9, "{probs}");
        assert!(LogSoftmax::of(&logits).at(token_id(1)) > LogSoftmax::of(&logits).at(token_id(0)));
        // Shifting every logit changes nothing; huge logits do not overflow.
        let shifted = logits.map(|l| l + 1000.0);
        let a = LogSoftmax::of(&logits).at(token_id(2));
        let b = LogSoftmax::of(&shifted).at(token_id(2));
        assert!((a - b).abs() < 1e-6, "{a} vs {b}");
        assert_eq!(LogSoftmax::of(&logits).at(token_id(9)), f64::NEG_INFINITY);
    }

    #[test]
    fn common_prefix_counts_equal_leading_tokens() {
        let tokens = |ids: &[i32]| ids.iter().map(|&i| LlamaToken::new(i)).collect::<Vec<_>>();
        assert_eq!(
            common_prefix(&tokens(&[1, 2, 3]), &tokens(&[1, 2, 4, 5])),
            2
        );
        assert_eq!(common_prefix(&tokens(&[1, 2]), &tokens(&[1, 2, 3])), 2);
        assert_eq!(common_prefix(&tokens(&[]), &tokens(&[1])), 0);
    }

    #[test]
    fn argmax_skips_masked_tokens() {
        let scores = [
            (0, f32::NEG_INFINITY),
            (1, -3.0),
            (2, -1.0),
            (3, f32::NEG_INFINITY),
        ];
        assert_eq!(argmax(scores.into_iter()), Some(2));
        assert_eq!(argmax([(0, f32::NEG_INFINITY)].into_iter()), None);
    }
}
