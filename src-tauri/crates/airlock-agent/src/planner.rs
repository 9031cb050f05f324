//! Planning: the prompt, the output schema the grammar is built from, and the parser.
//!
//! The schema is discriminated — one branch per tool, each with that tool's own argument
//! schema, bounded strings and arrays, confidence as a small enum — so even a 135M model can
//! only emit plans that parse, name registered tools and carry type-valid arguments.

use std::path::Path;

use airlock_core::{Plan, ToolSpec};
use airlock_llm::{ChatMessage, GenerateRequest, Role, ScoreRequest, StopReason};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::ToolRegistry;

/// Most intents one request may produce.
pub const MAX_INTENTS: usize = 4;
/// Longest `reasoning` text.
const MAX_REASONING_CHARS: usize = 120;
/// Token budget of a plan; the schema's bounds keep any valid plan well below it.
const MAX_PLAN_TOKENS: u32 = 640;

/// Why the model's output could not be used as a plan.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    /// The output ended before the JSON was complete.
    #[error(
        "the model's plan was cut off after {tokens} tokens; try a shorter, more specific request"
    )]
    Truncated {
        /// Tokens generated.
        tokens: u32,
    },
    /// The output is not a plan.
    #[error(
        "the model's output is not a valid plan ({detail}); rephrase the request and try again"
    )]
    Malformed {
        /// What the parser said.
        detail: String,
    },
    /// The plan names a tool that is not registered.
    #[error("the model proposed `{0}`, which is not a registered tool; nothing was run")]
    UnknownTool(String),
    /// The planner's few-shot examples could not be read.
    #[error("cannot read planner examples {path}: {reason}")]
    Examples {
        /// The examples file.
        path: String,
        /// What is wrong.
        reason: String,
    },
}

/// How every plan starts: what the model writes before it names anything.
pub(crate) const PLAN_OPENING: &str = r#"{"intents":["#;
/// How an intent starts, up to its tool's name.
pub(crate) const INTENT_OPENING: &str = r#"{"tool":""#;

/// The JSON schema every plan must match, built from the registered tools.
#[must_use]
pub fn plan_schema(specs: &[ToolSpec]) -> Value {
    let branches: Vec<Value> = specs.iter().map(intent_schema).collect();
    let max_items = if branches.is_empty() { 0 } else { MAX_INTENTS };
    json!({
        "type": "object",
        "properties": {
            "intents": {
                "type": "array",
                "maxItems": max_items,
                "items": { "oneOf": branches }
            }
        },
        "required": ["intents"],
        "additionalProperties": false
    })
}

/// One intent calling `spec`'s tool: its own arguments, a bounded reason, a confidence.
fn intent_schema(spec: &ToolSpec) -> Value {
    json!({
        "type": "object",
        "properties": {
            "tool": { "const": spec.name },
            "args": spec.parameters,
            "reasoning": { "type": "string", "maxLength": MAX_REASONING_CHARS },
            "confidence": { "enum": ["low", "medium", "high"] }
        },
        "required": ["tool", "args", "reasoning", "confidence"],
        "additionalProperties": false
    })
}

/// A worked example shown to the model: a request and the plan it should produce.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Example {
    request: String,
    plan: String,
    /// The tools its plan uses (filled when loaded).
    #[serde(skip)]
    tools: Vec<String>,
}

impl Example {
    /// The example's request.
    pub(crate) fn request(&self) -> &str {
        &self.request
    }

    /// The tools its plan uses.
    pub(crate) fn tools(&self) -> &[String] {
        &self.tools
    }
}

#[derive(Deserialize)]
struct ExampleFile {
    #[serde(rename = "example")]
    examples: Vec<Example>,
}

/// Loads the few-shot examples, keeping those whose plans use registered tools only.
pub(crate) fn load_examples(path: &Path, tools: &ToolRegistry) -> Result<Vec<Example>, PlanError> {
    let fail = |reason: String| PlanError::Examples {
        path: path.display().to_string(),
        reason,
    };
    let text = std::fs::read_to_string(path).map_err(|err| fail(err.to_string()))?;
    let file: ExampleFile = toml::from_str(&text).map_err(|err| fail(err.to_string()))?;
    let mut kept = Vec::new();
    for mut example in file.examples {
        let plan: Plan = serde_json::from_str(&example.plan)
            .map_err(|err| fail(format!("example {:?}: {err}", example.request)))?;
        if plan.intents.iter().all(|i| tools.spec(&i.tool).is_some()) {
            example.tools = plan.intents.into_iter().map(|i| i.tool).collect();
            kept.push(example);
        }
    }
    Ok(kept)
}

/// The generation request that plans `request` on `today` (so "this week" can become dates):
/// the prompt lists the tools `shown` and the examples whose plans use none but them; the
/// grammar allows only the tools `allowed`.
pub(crate) fn plan_request(
    request: &str,
    shown: &[ToolSpec],
    allowed: &[ToolSpec],
    examples: &[Example],
    today: time::Date,
) -> GenerateRequest {
    structured(
        plan_messages(request, shown, examples, today),
        String::new(),
        plan_schema(allowed),
    )
}

/// The planner's conversation for `request`: the system prompt listing the tools `shown`, the
/// examples whose plans use none but them, and the request.
pub(crate) fn plan_messages(
    request: &str,
    shown: &[ToolSpec],
    examples: &[Example],
    today: time::Date,
) -> Vec<ChatMessage> {
    let mut messages = vec![ChatMessage::new(Role::System, system_prompt(shown, today))];
    let usable = examples.iter().filter(|example| {
        example
            .tools
            .iter()
            .all(|tool| shown.iter().any(|spec| spec.name == *tool))
    });
    for example in usable {
        messages.push(ChatMessage::new(Role::User, example.request.clone()));
        messages.push(ChatMessage::new(Role::Assistant, example.plan.clone()));
    }
    messages.push(ChatMessage::new(Role::User, request.to_owned()));
    messages
}

/// The plan as far as the intents `written`: what the model has said before its next choice.
pub(crate) fn plan_so_far(written: &[String]) -> String {
    format!("{PLAN_OPENING}{}", written.join(","))
}

/// What the model writes to start another intent after the intents `written`.
pub(crate) fn next_intent_opening(written: &[String]) -> String {
    if written.is_empty() {
        INTENT_OPENING.to_owned()
    } else {
        format!(",{INTENT_OPENING}")
    }
}

/// What the model writes to end the plan.
pub(crate) const PLAN_CLOSING: &str = "]}";

/// Scores ending the plan after the intents `written` against another call (in that order).
pub(crate) fn end_or_call_request(messages: &[ChatMessage], written: &[String]) -> ScoreRequest {
    ScoreRequest {
        messages: messages.to_vec(),
        prefix: plan_so_far(written),
        continuations: vec![PLAN_CLOSING.to_owned(), next_intent_opening(written)],
        shared_messages: shared_messages(messages),
    }
}

/// Scores each of `tools` as the next call's tool after the intents `written`.
pub(crate) fn tool_names_request(
    messages: &[ChatMessage],
    written: &[String],
    tools: &[String],
) -> ScoreRequest {
    ScoreRequest {
        messages: messages.to_vec(),
        prefix: format!("{}{}", plan_so_far(written), next_intent_opening(written)),
        continuations: tools.iter().map(|name| format!("{name}\"")).collect(),
        shared_messages: shared_messages(messages),
    }
}

/// The next intent, calling `spec` (already chosen), after the intents `written` so far.
pub(crate) fn next_intent_request(
    messages: Vec<ChatMessage>,
    written: &[String],
    spec: &ToolSpec,
) -> GenerateRequest {
    let mut prefix = plan_so_far(written);
    if !written.is_empty() {
        prefix.push(',');
    }
    structured(messages, prefix, intent_schema(spec))
}

/// Whether `intent` calls the same tool with the same arguments as one of the intents
/// `written` (the reasoning may differ): a plan never needs a call twice.
pub(crate) fn repeats_a_call(written: &[String], intent: &str) -> bool {
    let call = |text: &str| {
        serde_json::from_str::<Value>(text)
            .ok()
            .map(|value| (value["tool"].clone(), value["args"].clone()))
    };
    call(intent).is_some_and(|call_now| {
        written
            .iter()
            .any(|earlier| call(earlier).as_ref() == Some(&call_now))
    })
}

/// The plan text made of the intents `written` one by one.
pub(crate) fn join_intents(written: &[String]) -> String {
    format!("{}{PLAN_CLOSING}", plan_so_far(written))
}

/// How many leading messages of the planner conversation `messages` are the same for every
/// request: all but the request itself (system prompt, examples).
pub(crate) fn shared_messages(messages: &[ChatMessage]) -> usize {
    messages.len().saturating_sub(1)
}

fn structured(messages: Vec<ChatMessage>, prefix: String, schema: Value) -> GenerateRequest {
    GenerateRequest {
        prefix,
        json_schema: Some(schema),
        shared_messages: shared_messages(&messages),
        ..GenerateRequest::text(messages, MAX_PLAN_TOKENS)
    }
}

/// Parses the model's output into a plan of registered tools.
///
/// # Errors
/// [`PlanError`] when the output is cut off, not a plan, or names an unknown tool.
pub(crate) fn parse_plan(
    output: &str,
    stop: StopReason,
    tokens: u32,
    tools: &ToolRegistry,
) -> Result<Plan, PlanError> {
    let plan: Plan = serde_json::from_str(output.trim()).map_err(|err| {
        if stop == StopReason::MaxTokens || err.is_eof() {
            PlanError::Truncated { tokens }
        } else {
            PlanError::Malformed {
                detail: err.to_string(),
            }
        }
    })?;
    if let Some(unknown) = plan.intents.iter().find(|i| tools.spec(&i.tool).is_none()) {
        return Err(PlanError::UnknownTool(unknown.tool.clone()));
    }
    Ok(plan)
}

fn system_prompt(specs: &[ToolSpec], today: time::Date) -> String {
    let mut prompt = String::from(
        "You plan actions for Airlock, an operations assistant for a plant floor and a \
         mainframe batch system. Choose the tools that fetch what the operator asks for and \
         reply with JSON only.\n\nTools:\n",
    );
    for spec in specs {
        prompt.push_str(&format!(
            "- {}({}): {}\n",
            spec.name,
            signature(&spec.parameters),
            spec.description
        ));
    }
    prompt.push_str(
        "\nRules:\n\
         - Use only these tools and only the arguments they take.\n\
         - One intent per thing to fetch; several intents when the request asks for several things.\n\
         - If no tool fits, or the request asks to delete or destroy something, reply {\"intents\":[]}.\n\
         - confidence is high when the request names the data plainly, low when you guess.\n",
    );
    let monday = today - time::Duration::days(i64::from(today.weekday().number_days_from_monday()));
    prompt.push_str(&format!(
        "- Today is {today} ({}); this week began on Monday {monday}; write dates as YYYY-MM-DD.",
        today.weekday()
    ));
    prompt
}

/// A compact argument list for the prompt, e.g. `source: syslog|joblog, tail: 1-200, grep?: text`.
fn signature(schema: &Value) -> String {
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else {
        return String::new();
    };
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    properties
        .iter()
        .map(|(name, prop)| {
            let optional = if required.contains(&name.as_str()) {
                ""
            } else {
                "?"
            };
            format!("{name}{optional}: {}", describe_type(prop))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn describe_type(prop: &Value) -> String {
    if let Some(values) = prop.get("enum").and_then(Value::as_array) {
        return values
            .iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
            .collect::<Vec<_>>()
            .join("|");
    }
    match prop.get("type").and_then(Value::as_str) {
        Some("integer" | "number") => match (prop.get("minimum"), prop.get("maximum")) {
            (Some(min), Some(max)) => format!("{min}-{max}"),
            _ => "number".into(),
        },
        Some("boolean") => "true|false".into(),
        Some("array") => "list".into(),
        _ => "text".into(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use airlock_core::{Tool, ToolEffect};

    use super::*;

    #[test]
    fn the_prompt_states_today_and_the_monday_of_this_week() {
        let sunday = time::macros::date!(2026 - 11 - 22);
        let prompt = system_prompt(registry().specs(), sunday);
        assert!(
            prompt.contains("Today is 2026-11-22 (Sunday); this week began on Monday 2026-11-16"),
            "{prompt}"
        );
        let monday = time::macros::date!(2026 - 11 - 16);
        assert!(system_prompt(registry().specs(), monday).contains("began on Monday 2026-11-16"));
    }

    fn registry() -> ToolRegistry {
        let logs = ToolSpec {
            name: "get_logs".into(),
            description: "Read a log.".into(),
            parameters: json!({
                "type": "object",
                "properties": {
                    "source": {"enum": ["syslog", "joblog"]},
                    "tail": {"type": "integer", "minimum": 1, "maximum": 200},
                    "grep": {"type": "string", "maxLength": 64}
                },
                "required": ["source", "tail"],
                "additionalProperties": false
            }),
            effect: ToolEffect::Read,
            target: airlock_core::ToolTarget::named_by_args(
                airlock_core::SystemKind::Ops,
                airlock_core::Classification::Internal,
            ),
        };
        ToolRegistry::new(vec![logs], Vec::<Arc<dyn Tool>>::new())
    }

    #[test]
    fn schema_has_one_closed_branch_per_tool() {
        let schema = plan_schema(registry().specs());
        let branches = schema["properties"]["intents"]["items"]["oneOf"]
            .as_array()
            .unwrap();
        assert_eq!(branches.len(), 1);
        assert_eq!(branches[0]["properties"]["tool"]["const"], "get_logs");
        assert_eq!(branches[0]["additionalProperties"], false);
        assert_eq!(schema["properties"]["intents"]["maxItems"], MAX_INTENTS);
    }

    #[test]
    fn a_chosen_tool_is_filled_in_after_the_intents_written_before_it() {
        let tools = registry();
        let spec = &tools.specs()[0];
        let messages = vec![ChatMessage::new(Role::User, "errors?")];
        let first = next_intent_request(messages.clone(), &[], spec);
        assert_eq!(first.prefix, PLAN_OPENING);
        let schema = first.json_schema.unwrap();
        assert_eq!(schema["properties"]["tool"]["const"], "get_logs");

        let written = [r#"{"tool":"get_system_status","args":{}}"#.to_owned()];
        let second = next_intent_request(messages.clone(), &written, spec);
        assert_eq!(
            second.prefix,
            r#"{"intents":[{"tool":"get_system_status","args":{}},"#
        );
        assert_eq!(second.messages, messages);

        let intent = r#"{"tool":"get_logs","args":{"source":"syslog","tail":20},"reasoning":"r","confidence":"high"}"#;
        let text = join_intents(&[intent.to_owned(), intent.to_owned()]);
        let plan = parse_plan(&text, StopReason::Eos, 1, &registry()).unwrap();
        assert_eq!(plan.intents.len(), 2);
        assert_eq!(join_intents(&[]), r#"{"intents":[]}"#);
        assert_eq!(next_intent_opening(&[]), r#"{"tool":""#);
        assert_eq!(next_intent_opening(&written), r#",{"tool":""#);
        assert_eq!(
            plan_so_far(&written),
            r#"{"intents":[{"tool":"get_system_status","args":{}}"#
        );
    }

    #[test]
    fn a_call_repeated_with_other_reasoning_is_recognised() {
        let written = [
            r#"{"tool":"get_logs","args":{"source":"syslog","tail":20},"reasoning":"a"}"#
                .to_owned(),
        ];
        let same = r#"{"tool":"get_logs","args":{"tail":20,"source":"syslog"},"reasoning":"b"}"#;
        assert!(repeats_a_call(&written, same));
        let other_args = r#"{"tool":"get_logs","args":{"source":"joblog","tail":20}}"#;
        assert!(!repeats_a_call(&written, other_args));
        let other_tool = r#"{"tool":"list_files","args":{"source":"syslog","tail":20}}"#;
        assert!(!repeats_a_call(&written, other_tool));
        assert!(!repeats_a_call(&[], same));
        assert!(!repeats_a_call(&written, "not json"));
    }

    #[test]
    fn signature_lists_enums_ranges_and_optional_arguments() {
        assert_eq!(
            signature(&registry().specs()[0].parameters),
            "source: syslog|joblog, tail: 1-200, grep?: text"
        );
    }

    #[test]
    fn a_plan_cut_off_by_the_token_budget_is_reported_as_truncated() {
        let err = parse_plan(
            r#"{"intents":[{"tool":"get_lo"#,
            StopReason::MaxTokens,
            640,
            &registry(),
        )
        .unwrap_err();
        assert!(matches!(err, PlanError::Truncated { tokens: 640 }), "{err}");
    }

    #[test]
    fn prose_instead_of_json_is_malformed() {
        let err = parse_plan(
            "Sure! I will check the logs.",
            StopReason::Eos,
            9,
            &registry(),
        )
        .unwrap_err();
        assert!(matches!(err, PlanError::Malformed { .. }), "{err}");
    }

    #[test]
    fn unknown_tools_are_rejected() {
        let output = r#"{"intents":[{"tool":"rm","args":{},"reasoning":"","confidence":"low"}]}"#;
        let err = parse_plan(output, StopReason::Eos, 20, &registry()).unwrap_err();
        assert!(matches!(err, PlanError::UnknownTool(ref t) if t == "rm"));
    }

    #[test]
    fn an_empty_plan_is_a_valid_plan() {
        let plan = parse_plan(r#"{"intents":[]}"#, StopReason::Eos, 5, &registry()).unwrap();
        assert!(plan.intents.is_empty());
    }

    #[test]
    fn the_scorings_continue_the_plan_written_so_far_and_share_all_but_the_request() {
        let messages = vec![
            ChatMessage::new(Role::System, "tools".to_owned()),
            ChatMessage::new(Role::User, "logs and status".to_owned()),
        ];
        let first = tool_names_request(&messages, &[], &["get_logs".to_owned()]);
        assert_eq!(first.prefix, r#"{"intents":[{"tool":""#);
        assert_eq!(first.continuations, [r#"get_logs""#]);
        let written = [r#"{"tool":"get_logs","args":{}}"#.to_owned()];
        let next = end_or_call_request(&messages, &written);
        assert_eq!(next.prefix, r#"{"intents":[{"tool":"get_logs","args":{}}"#);
        assert_eq!(next.continuations, ["]}", r#",{"tool":""#]);
        let second = tool_names_request(&messages, &written, &["get_system_status".to_owned()]);
        assert_eq!(
            second.prefix,
            r#"{"intents":[{"tool":"get_logs","args":{}},{"tool":""#
        );
        for request in [first, next, second] {
            assert_eq!(request.shared_messages, 1);
            assert_eq!(request.messages, messages);
        }
    }

    #[test]
    fn the_prompt_shows_its_tools_and_examples_and_the_grammar_allows_its_own() {
        let example = |request: &str, tools: &[&str]| Example {
            request: request.into(),
            plan: "{}".into(),
            tools: tools.iter().map(|&tool| tool.to_owned()).collect(),
        };
        let examples = [
            example("read the syslog", &["get_logs"]),
            example("restart it", &["restart_service"]),
            example("wipe the disk", &[]),
        ];
        let today = time::macros::date!(2026 - 11 - 22);
        let specs = registry().specs().to_vec();
        let request = plan_request("errors?", &specs, &specs, &examples, today);
        let shown: Vec<&str> = request
            .messages
            .iter()
            .filter(|m| m.role == Role::User)
            .map(|m| m.content.as_str())
            .collect();
        assert_eq!(shown, ["read the syslog", "wipe the disk", "errors?"]);
        assert_eq!(
            request.shared_messages,
            request.messages.len() - 1,
            "the system prompt and examples are shared; the request never is"
        );
        let branches = &request.json_schema.as_ref().unwrap()["properties"]["intents"]["items"];
        assert_eq!(branches["oneOf"].as_array().unwrap().len(), 1);
        assert!(request.messages[0].content.contains("- get_logs("));

        let grammar_only = plan_request("errors?", &specs, &[], &examples, today);
        assert_eq!(grammar_only.messages.len(), request.messages.len());
        let branches = &grammar_only.json_schema.as_ref().unwrap()["properties"]["intents"];
        assert_eq!(
            branches["maxItems"], 0,
            "no tool allowed: only the empty plan"
        );

        let nothing = plan_request("errors?", &[], &[], &examples, today);
        let shown = nothing
            .messages
            .iter()
            .filter(|m| m.role == Role::User)
            .count();
        assert_eq!(shown, 2, "only the empty-plan example and the request");
        assert!(!nothing.messages[0].content.contains("get_logs"));
    }

    #[test]
    fn every_bundled_example_calls_catalog_tools_with_valid_arguments() {
        let tools = ToolRegistry::new(airlock_connectors::catalog::specs(), Vec::new());
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../fixtures/planner/examples.toml");
        let examples = load_examples(&path, &tools).unwrap();
        let written = std::fs::read_to_string(&path).unwrap();
        assert_eq!(examples.len(), written.matches("[[example]]").count());
        assert!(examples.iter().any(|example| example.tools.len() > 1));
        for example in &examples {
            let plan: Plan = serde_json::from_str(&example.plan).unwrap();
            for intent in &plan.intents {
                let spec = tools.spec(&intent.tool).unwrap();
                let args = Value::Object(intent.args.clone());
                assert!(
                    jsonschema::is_valid(&spec.parameters, &args),
                    "{:?}: {} {args}",
                    example.request,
                    intent.tool
                );
            }
        }
    }

    #[test]
    fn bundled_examples_parse_and_use_known_tools() {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../fixtures/planner/examples.toml");
        let examples = load_examples(&path, &registry()).unwrap();
        assert!(examples
            .iter()
            .all(|e| e.plan.contains("get_logs") || e.plan.contains("[]")));
    }
}
