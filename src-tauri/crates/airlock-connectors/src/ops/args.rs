//! Argument checks that mirror the tools' JSON schemas.
//!
//! The governor validates arguments against the schema before a tool runs; the tools check
//! again so that a call which skipped the governor (a test, a future caller) still cannot
//! pass anything the schema forbids.

use airlock_core::ToolError;
use serde_json::{Map, Value};

/// An [`ToolError::InvalidArgument`] for `name`.
pub(crate) fn invalid(name: &str, reason: impl Into<String>) -> ToolError {
    ToolError::InvalidArgument {
        name: name.to_owned(),
        reason: reason.into(),
    }
}

/// Refuses any argument not in `allowed` (the schema's `additionalProperties: false`).
pub(crate) fn reject_unknown(args: &Map<String, Value>, allowed: &[&str]) -> Result<(), ToolError> {
    match args.keys().find(|key| !allowed.contains(&key.as_str())) {
        None => Ok(()),
        Some(key) if allowed.is_empty() => {
            Err(invalid(key, "this tool takes no arguments: pass {}"))
        }
        Some(key) => Err(invalid(
            key,
            format!(
                "unknown argument; this tool accepts only {}",
                allowed.join(", ")
            ),
        )),
    }
}

/// The string argument `name`, which must be present.
pub(crate) fn required_str<'a>(
    args: &'a Map<String, Value>,
    name: &str,
    max_chars: usize,
) -> Result<&'a str, ToolError> {
    optional_str(args, name, max_chars)?
        .ok_or_else(|| invalid(name, "missing; this argument is required"))
}

/// The string argument `name` if present; at most `max_chars` characters (JSON schema's
/// `maxLength` counts characters, not bytes).
pub(crate) fn optional_str<'a>(
    args: &'a Map<String, Value>,
    name: &str,
    max_chars: usize,
) -> Result<Option<&'a str>, ToolError> {
    let Some(value) = args.get(name) else {
        return Ok(None);
    };
    let text = value
        .as_str()
        .ok_or_else(|| invalid(name, format!("expected a string, got {}", kind(value))))?;
    let chars = text.chars().count();
    if chars > max_chars {
        return Err(invalid(
            name,
            format!("too long ({chars} characters); at most {max_chars} are accepted"),
        ));
    }
    Ok(Some(text))
}

/// The integer argument `name`, which must be present and within `min..=max`.
pub(crate) fn required_int(
    args: &Map<String, Value>,
    name: &str,
    min: u64,
    max: u64,
) -> Result<u64, ToolError> {
    let value = args
        .get(name)
        .ok_or_else(|| invalid(name, "missing; this argument is required"))?;
    let out_of_range = || invalid(name, format!("must be an integer from {min} to {max}"));
    if let Some(n) = value.as_u64() {
        return if (min..=max).contains(&n) {
            Ok(n)
        } else {
            Err(out_of_range())
        };
    }
    if value.is_i64() {
        return Err(out_of_range());
    }
    Err(invalid(
        name,
        format!(
            "expected an integer from {min} to {max}, got {}",
            kind(value)
        ),
    ))
}

/// A short name for the JSON type of `value`, for error messages.
fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a fractional number",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::ops::test_support::args;

    #[test]
    fn integers_outside_the_range_or_fractional_are_refused() {
        let a = args(json!({"n": 0, "m": 201, "f": 2.5, "neg": -3, "s": "5", "ok": 200}));
        assert!(required_int(&a, "n", 1, 200).is_err());
        assert!(required_int(&a, "m", 1, 200).is_err());
        assert!(required_int(&a, "neg", 1, 200).is_err());
        let err = required_int(&a, "f", 1, 200).unwrap_err().to_string();
        assert!(err.contains("fractional"), "{err}");
        assert!(required_int(&a, "s", 1, 200).is_err());
        assert!(required_int(&a, "missing", 1, 200).is_err());
        assert_eq!(required_int(&a, "ok", 1, 200).unwrap(), 200);
    }

    #[test]
    fn string_length_is_counted_in_characters() {
        let a = args(json!({"s": "äöü", "long": "abcd"}));
        assert_eq!(optional_str(&a, "s", 3).unwrap(), Some("äöü"));
        assert!(optional_str(&a, "long", 3).is_err());
        assert_eq!(optional_str(&a, "absent", 3).unwrap(), None);
        assert!(required_str(&a, "absent", 3).is_err());
    }

    #[test]
    fn unknown_arguments_are_refused_with_the_accepted_names() {
        let a = args(json!({"source": "syslog", "lines": 5}));
        let err = reject_unknown(&a, &["source", "tail"])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("`lines`") && err.contains("source, tail"),
            "{err}"
        );
        assert!(reject_unknown(&a, &[]).is_err());
        assert!(reject_unknown(&args(json!({})), &[]).is_ok());
    }
}
