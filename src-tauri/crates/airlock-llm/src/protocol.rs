//! The JSON-lines protocol between [`crate::ModelWorker`] and the worker process, and the
//! public request/response types it carries.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Who said a chat message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Instructions to the model.
    System,
    /// The person (or the orchestrator on their behalf).
    User,
    /// The model.
    Assistant,
}

impl Role {
    /// The role name chat templates expect.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

/// One message of a conversation, rendered with the model's own chat template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// Who said it.
    pub role: Role,
    /// What was said.
    pub content: String,
}

impl ChatMessage {
    /// A message from `role` with `content`.
    #[must_use]
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Self {
            role,
            content: content.into(),
        }
    }
}

/// What to generate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenerateRequest {
    /// The conversation; the model continues as the assistant.
    pub messages: Vec<ChatMessage>,
    /// The start of the assistant's reply, already decided: the model continues it, and a
    /// grammar constrains only what follows. Not part of the generated text.
    #[serde(default)]
    pub prefix: String,
    /// At most this many new tokens.
    pub max_tokens: u32,
    /// Generation stops before any of these strings; they are not part of the output.
    #[serde(default)]
    pub stop: Vec<String>,
    /// When set, the output is constrained to JSON matching this schema (a GBNF grammar is
    /// built from it), and decoding is greedy.
    #[serde(default)]
    pub json_schema: Option<Value>,
    /// Keep generating through end-of-generation tokens (benchmarks only).
    #[serde(default)]
    pub ignore_eos: bool,
    /// How many leading `messages` are the same for every request of its kind and hold nothing
    /// of the user's (system prompt, examples): a worker with a prompt cache keeps their KV
    /// cache on disk for the next process. 0: none.
    #[serde(default)]
    pub shared_messages: usize,
}

impl GenerateRequest {
    /// A request for free text from `messages`, at most `max_tokens` long.
    #[must_use]
    pub fn text(messages: Vec<ChatMessage>, max_tokens: u32) -> Self {
        Self {
            messages,
            prefix: String::new(),
            max_tokens,
            stop: Vec::new(),
            json_schema: None,
            ignore_eos: false,
            shared_messages: 0,
        }
    }
}

/// How likely the model finds each of several continuations of a partly written reply: the
/// planner's scored choice between tools.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreRequest {
    /// The conversation; the reply being scored is the assistant's.
    pub messages: Vec<ChatMessage>,
    /// The start of the assistant's reply, already decided.
    pub prefix: String,
    /// The texts that could come next; each is scored on its own after `prefix`.
    pub continuations: Vec<String>,
    /// As [`GenerateRequest::shared_messages`].
    #[serde(default)]
    pub shared_messages: usize,
}

/// The model's scores for a [`ScoreRequest`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    /// Per continuation, in request order: the natural log of its probability after the
    /// prefix (the sum over its tokens, unconstrained by any grammar). Where a continuation's
    /// tokenisation reaches back into the prefix (a token merging both), every continuation's
    /// score includes the same end of the prefix, so the scores compare with each other.
    pub log_probs: Vec<f64>,
    /// Prompt tokens (prefix included), those reused from the cache, and the continuations'
    /// tokens as `completion_tokens`; `prompt_ms` is the whole scoring time.
    pub usage: Usage,
}

/// Why generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// The model emitted an end-of-generation token.
    Eos,
    /// A stop string appeared.
    StopString,
    /// The token budget ran out.
    MaxTokens,
    /// The caller cancelled.
    Cancelled,
}

/// Token counts and timings of one generation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    /// Tokens in the rendered prompt.
    pub prompt_tokens: u32,
    /// Of those, tokens whose KV cache was reused from the previous request.
    pub cached_prompt_tokens: u32,
    /// Tokens generated.
    pub completion_tokens: u32,
    /// Time spent processing the uncached part of the prompt.
    pub prompt_ms: f64,
    /// Time spent generating after the first token was sampled.
    pub decode_ms: f64,
    /// Time from request to first generated token.
    pub first_token_ms: f64,
}

impl Usage {
    /// Generated tokens per second (0 when nothing was generated).
    #[must_use]
    pub fn decode_tokens_per_second(&self) -> f64 {
        if self.completion_tokens <= 1 || self.decode_ms <= 0.0 {
            return 0.0;
        }
        f64::from(self.completion_tokens - 1) * 1000.0 / self.decode_ms
    }

    /// Processed prompt tokens per second (0 when the whole prompt was cached).
    #[must_use]
    pub fn prompt_tokens_per_second(&self) -> f64 {
        let processed = self.prompt_tokens.saturating_sub(self.cached_prompt_tokens);
        if processed == 0 || self.prompt_ms <= 0.0 {
            return 0.0;
        }
        f64::from(processed) * 1000.0 / self.prompt_ms
    }
}

/// A finished generation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Generation {
    /// The whole generated text (stop string excluded).
    pub text: String,
    /// Why it ended.
    pub stop_reason: StopReason,
    /// Counts and timings.
    pub usage: Usage,
}

/// What the worker reports after loading a model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoadedModel {
    /// The model file.
    pub path: PathBuf,
    /// Model description from llama.cpp (architecture, size, quantisation).
    pub description: String,
    /// Context window of this session.
    pub n_ctx: u32,
    /// Whether the model carries its own chat template (ChatML is used otherwise).
    pub has_chat_template: bool,
    /// Time to load the weights.
    pub load_ms: f64,
}

/// Supervisor → worker.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum WorkerRequest {
    Load {
        model: PathBuf,
        n_ctx: u32,
        threads: u32,
        #[serde(default)]
        prompt_cache: Option<PathBuf>,
    },
    Generate {
        id: u64,
        request: GenerateRequest,
    },
    Score {
        id: u64,
        request: ScoreRequest,
    },
    Cancel {
        id: u64,
    },
    Shutdown,
}

/// The class of a failure the worker reports (as opposed to dying).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum FailureKind {
    ModelNotFound,
    NotGguf,
    LoadFailed,
    ContextOverflow,
    Grammar,
    Generation,
    BadRequest,
}

/// Worker → supervisor.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum WorkerEvent {
    Ready {
        pid: u32,
    },
    Loaded {
        model: LoadedModel,
    },
    Token {
        id: u64,
        text: String,
    },
    Done {
        id: u64,
        generation: Generation,
    },
    Scored {
        id: u64,
        scores: Scores,
    },
    Failed {
        id: Option<u64>,
        kind: FailureKind,
        message: String,
        #[serde(default)]
        prompt_tokens: usize,
        #[serde(default)]
        max_tokens: u32,
        #[serde(default)]
        n_ctx: u32,
    },
}
