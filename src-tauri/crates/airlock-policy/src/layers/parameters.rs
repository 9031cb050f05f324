//! Layer 5: the arguments match the tool's JSON schema (types, ranges, lengths, enums; unknown
//! fields refused) and the size limits every call obeys.

use airlock_core::ToolSpec;
use serde_json::{Map, Value};

use super::Finding;
use crate::config::LimitsConfig;
use crate::decision::{Layer, Risk};

/// A tool's argument schema, compiled once.
pub(crate) struct ArgumentSchema {
    validator: jsonschema::Validator,
    /// The declared property names; anything else is refused even if the schema forgot
    /// `additionalProperties: false`.
    properties: Option<Vec<String>>,
}

impl ArgumentSchema {
    /// Compiles `spec`'s parameter schema.
    ///
    /// # Errors
    /// The schema's own error when it is not a valid JSON schema.
    pub fn compile(spec: &ToolSpec) -> Result<Self, String> {
        let validator =
            jsonschema::validator_for(&spec.parameters).map_err(|err| err.to_string())?;
        let properties = spec
            .parameters
            .get("properties")
            .and_then(Value::as_object)
            .map(|props| props.keys().cloned().collect());
        Ok(Self {
            validator,
            properties,
        })
    }

    /// Checks `args` against the size limits and the schema.
    pub fn check(&self, tool: &str, args: &Map<String, Value>, limits: &LimitsConfig) -> Finding {
        if let Some(finding) = check_sizes(tool, args, limits) {
            return finding;
        }
        if let Some(properties) = &self.properties {
            if let Some(unknown) = args.keys().find(|key| !properties.contains(key)) {
                return Finding::deny(
                    Layer::Parameters,
                    "parameters.unknown_field",
                    format!(
                        "`{tool}` has no argument `{}`; its arguments are: {}",
                        truncate(unknown, 64),
                        properties.join(", ")
                    ),
                    Risk::Medium,
                );
            }
        }
        let instance = Value::Object(args.clone());
        let errors: Vec<String> = self
            .validator
            .iter_errors(&instance)
            .take(3)
            .map(|err| {
                let path = err.instance_path.to_string();
                let at = if path.is_empty() {
                    "arguments".to_owned()
                } else {
                    format!("argument `{}`", path.trim_start_matches('/'))
                };
                format!("{at}: {}", truncate(&err.to_string(), 200))
            })
            .collect();
        if errors.is_empty() {
            Finding::pass(
                Layer::Parameters,
                format!("{} argument(s) match `{tool}`'s schema", args.len()),
                Risk::Low,
            )
        } else {
            Finding::deny(
                Layer::Parameters,
                "parameters.schema",
                format!("the arguments do not fit `{tool}`: {}", errors.join("; ")),
                Risk::Medium,
            )
        }
    }
}

/// Refuses argument sets and single strings above the configured sizes, before anything else
/// looks at them.
fn check_sizes(tool: &str, args: &Map<String, Value>, limits: &LimitsConfig) -> Option<Finding> {
    let mut total = 0usize;
    let mut stack: Vec<(&str, &Value)> = args.iter().map(|(k, v)| (k.as_str(), v)).collect();
    while let Some((name, value)) = stack.pop() {
        total += name.len();
        match value {
            Value::String(text) => {
                total += text.len();
                if text.chars().nth(limits.max_string_chars).is_some() {
                    return Some(Finding::deny(
                        Layer::Parameters,
                        "parameters.string_too_long",
                        format!(
                            "argument `{}` of `{tool}` is longer than {} characters; shorten it",
                            truncate(name, 64),
                            limits.max_string_chars
                        ),
                        Risk::Medium,
                    ));
                }
            }
            Value::Array(items) => stack.extend(items.iter().map(|item| (name, item))),
            Value::Object(fields) => stack.extend(fields.iter().map(|(k, v)| (k.as_str(), v))),
            Value::Number(_) | Value::Bool(_) | Value::Null => total += 8,
        }
        if total > limits.max_args_bytes {
            return Some(Finding::deny(
                Layer::Parameters,
                "parameters.too_large",
                format!(
                    "the arguments of `{tool}` exceed {} bytes; ask for less at once",
                    limits.max_args_bytes
                ),
                Risk::Medium,
            ));
        }
    }
    None
}

/// At most `max` characters of `text`, with an ellipsis when cut.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use airlock_core::ToolEffect;
    use serde_json::json;

    use super::*;
    use crate::decision::Verdict;

    fn schema() -> ArgumentSchema {
        ArgumentSchema::compile(&ToolSpec {
            name: "get_logs".to_owned(),
            description: String::new(),
            parameters: json!({
                "type": "object",
                "properties": {
                    "source": {"type": "string", "enum": ["syslog", "joblog"]},
                    "tail": {"type": "integer", "minimum": 1, "maximum": 500}
                },
                "required": ["source"],
                "additionalProperties": false
            }),
            effect: ToolEffect::Read,
            target: airlock_core::ToolTarget::named_by_args(
                airlock_core::SystemKind::Ops,
                airlock_core::Classification::Internal,
            ),
        })
        .unwrap()
    }

    fn check(args: Value) -> Finding {
        schema().check(
            "get_logs",
            args.as_object().unwrap(),
            &LimitsConfig::default(),
        )
    }

    #[test]
    fn valid_arguments_pass() {
        assert_eq!(
            check(json!({"source": "syslog", "tail": 20})).step.verdict,
            Verdict::Pass
        );
    }

    #[test]
    fn missing_wrong_type_out_of_range_and_enum_violations_are_denied() {
        for (args, expect) in [
            (json!({}), "source"),
            (json!({"source": 5}), "source"),
            (json!({"source": "syslog", "tail": 0}), "tail"),
            (json!({"source": "syslog", "tail": 1e9}), "tail"),
            (json!({"source": "syslog", "tail": -3}), "tail"),
            (json!({"source": "syslog", "tail": 2.5}), "tail"),
            (json!({"source": "shadow"}), "source"),
        ] {
            let finding = check(args.clone());
            assert_eq!(finding.step.rules, ["parameters.schema"], "{args}");
            assert!(
                finding.step.detail.contains(expect),
                "{args}: {}",
                finding.step.detail
            );
        }
    }

    #[test]
    fn extra_fields_are_denied_and_the_real_ones_named() {
        let finding = check(json!({"source": "syslog", "sudo": true}));
        assert_eq!(finding.step.rules, ["parameters.unknown_field"]);
        assert!(finding.step.detail.contains("source, tail"));
    }

    #[test]
    fn a_one_megabyte_string_is_refused_before_the_schema_runs() {
        let finding = check(json!({"source": "x".repeat(1 << 20)}));
        assert_eq!(finding.step.rules, ["parameters.string_too_long"]);
        assert!(finding.step.detail.len() < 200);
    }

    #[test]
    fn many_small_values_are_refused_by_total_size() {
        let many: Vec<Value> = (0..5000).map(|i| json!(format!("item{i}"))).collect();
        let finding = check(json!({"source": many}));
        assert_eq!(finding.step.rules, ["parameters.too_large"]);
    }

    #[test]
    fn truncate_cuts_on_character_boundaries() {
        assert_eq!(truncate("ääää", 2), "ää…");
        assert_eq!(truncate("ok", 2), "ok");
    }
}
