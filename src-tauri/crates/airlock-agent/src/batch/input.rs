//! Reading a batch file: a JSON array of requests, an object with a `requests` array, or JSON
//! Lines (one request per line). Every entry is validated on its own, so one bad entry is
//! reported with what is wrong and the rest of the batch still runs.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::{check_request, TypedCall, MAX_TYPED_CALLS};

/// The largest batch file read, in bytes.
pub const MAX_BATCH_BYTES: usize = 64 * 1024 * 1024;

/// The most requests one batch file may hold.
pub const MAX_BATCH_REQUESTS: usize = 100_000;

/// The longest request id, user, role, department or group name, in characters.
const MAX_NAME_CHARS: usize = 128;

/// The fields a request may have.
const FIELDS: [&str; 7] = [
    "id",
    "user",
    "role",
    "department",
    "groups",
    "text",
    "calls",
];

/// Why a batch file could not be read at all (a single bad entry is an [`InvalidEntry`]).
#[derive(Debug, thiserror::Error)]
pub enum BatchFileError {
    /// Larger than [`MAX_BATCH_BYTES`].
    #[error("the batch file is {0} bytes; the most Airlock reads is {MAX_BATCH_BYTES}: split it into several files")]
    TooLarge(usize),
    /// Not UTF-8 text.
    #[error("the batch file is not UTF-8 text (byte {0}); save it as UTF-8 JSON")]
    NotText(usize),
    /// A JSON array or object that does not parse (JSON Lines report bad lines per entry).
    #[error("the batch file is not valid JSON at line {line}, column {column}: {message}; fix it there, or use JSON Lines (one request per line) so a bad line is reported on its own")]
    BadJson {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// serde_json's message.
        message: String,
    },
    /// Valid JSON of the wrong shape.
    #[error("the batch file must be a JSON array of requests, an object with a `requests` array, or JSON Lines; found {0}")]
    Shape(&'static str),
    /// No requests.
    #[error("the batch file holds no requests")]
    Empty,
    /// More than [`MAX_BATCH_REQUESTS`].
    #[error("the batch file holds {0} requests; the most one batch runs is {MAX_BATCH_REQUESTS}: split it")]
    TooMany(usize),
}

/// One request of a batch, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchRequest {
    /// Its id in the file (unique within the batch).
    pub id: String,
    /// Who asks: a login name.
    pub user: String,
    /// The role the file states for the user.
    pub role: Option<String>,
    /// The department the file states (counted as one of the user's groups).
    pub department: Option<String>,
    /// Groups the file states.
    pub groups: Vec<String>,
    /// What the user asked.
    pub text: String,
    /// Tool calls already worked out upstream (e.g. by a ticketing system); when given, the
    /// model is not asked to plan the text, and the governor decides these.
    pub calls: Option<Vec<TypedCall>>,
}

/// An entry that could not be run, and everything wrong with it.
#[derive(Debug, Clone, PartialEq)]
pub struct InvalidEntry {
    /// Its 1-based position in the file.
    pub position: usize,
    /// Its line, for JSON Lines.
    pub line: Option<usize>,
    /// Its id, when it has a usable one.
    pub id: Option<String>,
    /// What is wrong, one problem per item.
    pub errors: Vec<String>,
}

/// One entry of a batch file.
#[derive(Debug, Clone, PartialEq)]
pub enum BatchEntry {
    /// A request to plan and decide.
    Request(BatchRequest),
    /// An entry reported with its problems and skipped.
    Invalid(InvalidEntry),
}

/// Reads the entries of a batch file.
///
/// # Errors
/// [`BatchFileError`] when the file as a whole cannot be read; problems of single entries are
/// [`BatchEntry::Invalid`] entries instead.
pub fn parse_batch(bytes: &[u8]) -> Result<Vec<BatchEntry>, BatchFileError> {
    if bytes.len() > MAX_BATCH_BYTES {
        return Err(BatchFileError::TooLarge(bytes.len()));
    }
    let text =
        std::str::from_utf8(bytes).map_err(|err| BatchFileError::NotText(err.valid_up_to()))?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let values: Vec<(Option<usize>, Result<Value, String>)> = if is_single_document(text) {
        let document: Value =
            serde_json::from_str(text).map_err(|err| BatchFileError::BadJson {
                line: err.line(),
                column: err.column(),
                message: err.to_string(),
            })?;
        requests_of(document)?
            .into_iter()
            .map(|value| (None, Ok(value)))
            .collect()
    } else {
        text.lines()
            .enumerate()
            .filter(|(_, line)| !line.trim().is_empty())
            .map(|(index, line)| {
                let parsed = serde_json::from_str::<Value>(line)
                    .map_err(|err| format!("not JSON (column {}): {err}", err.column()));
                (Some(index + 1), parsed)
            })
            .collect()
    };
    if values.is_empty() {
        return Err(BatchFileError::Empty);
    }
    if values.len() > MAX_BATCH_REQUESTS {
        return Err(BatchFileError::TooMany(values.len()));
    }
    let mut seen = BTreeSet::new();
    Ok(values
        .into_iter()
        .enumerate()
        .map(|(index, (line, value))| {
            let position = index + 1;
            let entry = match value {
                Ok(value) => validate(&value),
                Err(problem) => Err((None, vec![problem])),
            };
            match entry {
                Ok(request) if !seen.insert(request.id.clone()) => {
                    BatchEntry::Invalid(InvalidEntry {
                        position,
                        line,
                        errors: vec![format!(
                            "the id `{}` is used by an earlier request; give each request its own id",
                            request.id
                        )],
                        id: Some(request.id),
                    })
                }
                Ok(request) => BatchEntry::Request(request),
                Err((id, errors)) => BatchEntry::Invalid(InvalidEntry {
                    position,
                    line,
                    id,
                    errors,
                }),
            }
        })
        .collect())
}

/// Whether `text` is one JSON document (an array or an object spanning the file) rather than
/// JSON Lines: it starts with `[`, or it is an object that parses whole.
fn is_single_document(text: &str) -> bool {
    let trimmed = text.trim_start();
    trimmed.starts_with('[')
        || (trimmed.starts_with('{') && serde_json::from_str::<Value>(text).is_ok())
}

/// The requests of a whole-file document.
fn requests_of(document: Value) -> Result<Vec<Value>, BatchFileError> {
    match document {
        Value::Array(requests) => Ok(requests),
        Value::Object(mut object) => match object.remove("requests") {
            Some(Value::Array(requests)) => Ok(requests),
            Some(_) => Err(BatchFileError::Shape(
                "a `requests` field that is not an array",
            )),
            None if object.contains_key("text") => Ok(vec![Value::Object(object)]),
            None => Err(BatchFileError::Shape(
                "an object without a `requests` array",
            )),
        },
        _ => Err(BatchFileError::Shape("neither an array nor an object")),
    }
}

/// Checks one entry; on failure, its id (when usable) and every problem found.
fn validate(value: &Value) -> Result<BatchRequest, (Option<String>, Vec<String>)> {
    let Value::Object(fields) = value else {
        return Err((
            None,
            vec!["a request must be a JSON object with id, user and text".to_owned()],
        ));
    };
    let mut errors = Vec::new();
    for key in fields.keys() {
        if !FIELDS.contains(&key.as_str()) {
            errors.push(format!(
                "unknown field `{key}`; the fields are {}",
                FIELDS.join(", ")
            ));
        }
    }
    let id = match fields.get("id") {
        Some(Value::Number(number)) => Some(number.to_string()),
        _ => name(fields, "id", true, &mut errors),
    };
    let user = name(fields, "user", true, &mut errors);
    let role = name(fields, "role", false, &mut errors);
    let department = name(fields, "department", false, &mut errors);
    let groups = groups(fields, &mut errors);
    let text = match fields.get("text") {
        None | Some(Value::Null) => {
            errors.push("missing `text`: what the user asked".to_owned());
            None
        }
        Some(Value::String(text)) => match check_request(text) {
            Ok(text) => Some(text.to_owned()),
            Err(err) => {
                errors.push(format!("`text`: {err}"));
                None
            }
        },
        Some(_) => {
            errors.push("`text` must be a string".to_owned());
            None
        }
    };
    let calls = calls(fields, &mut errors);
    match (id, user, text) {
        (Some(id), Some(user), Some(text)) if errors.is_empty() => Ok(BatchRequest {
            id,
            user,
            role,
            department,
            groups,
            text,
            calls,
        }),
        (id, _, _) => Err((id, errors)),
    }
}

/// A short name field: a non-empty string without control characters.
fn name(
    fields: &Map<String, Value>,
    key: &str,
    required: bool,
    errors: &mut Vec<String>,
) -> Option<String> {
    match fields.get(key) {
        None | Some(Value::Null) => {
            if required {
                errors.push(format!("missing `{key}`"));
            }
            None
        }
        Some(Value::String(text)) => match check_name(text) {
            Ok(()) => Some(text.trim().to_owned()),
            Err(problem) => {
                errors.push(format!("`{key}` {problem}"));
                None
            }
        },
        Some(_) => {
            errors.push(format!("`{key}` must be a string"));
            None
        }
    }
}

fn check_name(text: &str) -> Result<(), String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err("is empty".to_owned());
    }
    if trimmed.chars().count() > MAX_NAME_CHARS {
        return Err(format!("is longer than {MAX_NAME_CHARS} characters"));
    }
    if trimmed.chars().any(char::is_control) {
        return Err("holds control characters".to_owned());
    }
    Ok(())
}

fn groups(fields: &Map<String, Value>, errors: &mut Vec<String>) -> Vec<String> {
    match fields.get("groups") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => {
            let mut groups = Vec::with_capacity(items.len());
            for item in items {
                match item.as_str().map(|text| (text, check_name(text))) {
                    Some((text, Ok(()))) => groups.push(text.trim().to_owned()),
                    Some((_, Err(problem))) => errors.push(format!("a group {problem}")),
                    None => errors.push("`groups` must be a list of strings".to_owned()),
                }
            }
            groups
        }
        Some(_) => {
            errors.push("`groups` must be a list of strings".to_owned());
            Vec::new()
        }
    }
}

fn calls(fields: &Map<String, Value>, errors: &mut Vec<String>) -> Option<Vec<TypedCall>> {
    let value = fields.get("calls")?;
    match serde_json::from_value::<Vec<TypedCall>>(value.clone()) {
        Ok(calls) if calls.is_empty() || calls.len() > MAX_TYPED_CALLS => {
            errors.push(format!(
                "`calls` must hold 1 to {MAX_TYPED_CALLS} calls; leave it out to have the model plan the text"
            ));
            None
        }
        Ok(calls) => Some(calls),
        Err(err) => {
            errors.push(format!(
                "`calls` must be a list of {{\"tool\": \"…\", \"args\": {{…}}}}: {err}"
            ));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn invalid(entry: &BatchEntry) -> &InvalidEntry {
        match entry {
            BatchEntry::Invalid(invalid) => invalid,
            BatchEntry::Request(request) => panic!("expected an invalid entry, got {request:?}"),
        }
    }

    #[test]
    fn an_array_of_requests_is_read_with_every_field() {
        let entries = parse_batch(
            br#"[{"id": 7, "user": "ada", "role": "operator", "department": "maintenance",
                  "groups": ["line-3"], "text": "restart the label printer",
                  "calls": [{"tool": "restart_service", "args": {"system": "pkg-line3"}}]}]"#,
        )
        .unwrap();
        let BatchEntry::Request(request) = &entries[0] else {
            panic!("{entries:?}")
        };
        assert_eq!(request.id, "7");
        assert_eq!(request.role.as_deref(), Some("operator"));
        assert_eq!(request.department.as_deref(), Some("maintenance"));
        assert_eq!(request.groups, ["line-3"]);
        assert_eq!(request.calls.as_ref().unwrap()[0].tool, "restart_service");
    }

    #[test]
    fn every_problem_of_an_entry_is_reported_and_the_others_still_run() {
        let entries = parse_batch(
            br#"{"requests": [
                {"id": "a", "text": "hello", "colour": "red", "groups": "line-3"},
                {"id": "b", "user": "ada", "text": "show the status"},
                {"id": "b", "user": "ada", "text": "again"},
                {"id": "c", "user": "", "text": ""},
                42
            ]}"#,
        )
        .unwrap();
        assert_eq!(entries.len(), 5);
        let first = invalid(&entries[0]);
        assert_eq!(first.id.as_deref(), Some("a"));
        let joined = first.errors.join(" | ");
        assert!(joined.contains("missing `user`"), "{joined}");
        assert!(joined.contains("unknown field `colour`"), "{joined}");
        assert!(joined.contains("`groups` must be a list"), "{joined}");
        assert!(matches!(entries[1], BatchEntry::Request(_)));
        assert!(invalid(&entries[2]).errors[0].contains("used by an earlier request"));
        let fourth = invalid(&entries[3]).errors.join(" | ");
        assert!(
            fourth.contains("`user` is empty") && fourth.contains("`text`"),
            "{fourth}"
        );
        assert!(invalid(&entries[4]).errors[0].contains("JSON object"));
    }

    #[test]
    fn a_bad_line_of_json_lines_is_one_invalid_entry() {
        let entries = parse_batch(
            b"{\"id\": \"1\", \"user\": \"ada\", \"text\": \"status\"}\n\n{\"id\": \"2\", \"user\": \n{\"id\": \"3\", \"user\": \"ada\", \"text\": \"logs\"}\n",
        )
        .unwrap();
        assert_eq!(entries.len(), 3);
        let bad = invalid(&entries[1]);
        assert_eq!(bad.line, Some(3));
        assert!(bad.errors[0].starts_with("not JSON"), "{:?}", bad.errors);
        assert!(matches!(entries[2], BatchEntry::Request(_)));
    }

    #[test]
    fn a_broken_array_names_the_line_and_column() {
        let err = parse_batch(b"[\n{\"id\": 1,}\n]").unwrap_err();
        assert!(
            matches!(err, BatchFileError::BadJson { line: 2, .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("JSON Lines"));
    }

    #[test]
    fn non_utf8_empty_and_wrongly_shaped_files_are_refused_with_the_fix() {
        assert!(matches!(
            parse_batch(b"[\xff]"),
            Err(BatchFileError::NotText(1))
        ));
        assert!(matches!(parse_batch(b"  \n"), Err(BatchFileError::Empty)));
        assert!(matches!(parse_batch(b"[]"), Err(BatchFileError::Empty)));
        let scalar = parse_batch(b"\"x\"").unwrap();
        assert!(invalid(&scalar[0]).errors[0].contains("JSON object"));
        assert!(matches!(
            parse_batch(b"{\"jobs\": []}"),
            Err(BatchFileError::Shape(_))
        ));
    }

    #[test]
    fn calls_must_be_well_formed() {
        let entries = parse_batch(
            br#"[{"id": "1", "user": "ada", "text": "x", "calls": []},
                 {"id": "2", "user": "ada", "text": "x", "calls": [{"tool": "t", "argz": {}}]}]"#,
        )
        .unwrap();
        assert!(invalid(&entries[0]).errors[0].contains("1 to"));
        assert!(invalid(&entries[1]).errors[0].contains("`calls` must be"));
    }
}
