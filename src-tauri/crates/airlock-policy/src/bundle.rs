//! Loading and checking the policy directory: `*.cedarschema`, `*.cedar`, `principals.toml`
//! and `guards.toml`. Every problem is reported with its file and line, all at once.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use cedar_policy::{
    Effect, Entities, Policy, PolicyId, PolicySet, Schema, ValidationMode, Validator,
};
use miette::Diagnostic;

use crate::config::GuardsConfig;
use crate::directory::{Directory, Member};

/// The guards file's name inside the policy directory.
pub const GUARDS_FILE: &str = "guards.toml";
/// The directory file's name inside the policy directory.
pub const PRINCIPALS_FILE: &str = "principals.toml";

/// One problem in one policy file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    /// The file, relative to the policy directory.
    pub file: String,
    /// 1-based line, when the problem has a place.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file, line, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// Why a policy directory could not be loaded: every problem found, each with its place.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the policy in {} has {} problem(s); fix them and run `airlock policy check` again (the last good policy stays in force):\n{}", .dir.display(), .problems.len(), render(.problems))]
pub struct PolicyError {
    /// The policy directory.
    pub dir: PathBuf,
    /// Every problem, in file order.
    pub problems: Vec<Problem>,
}

fn render(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("  {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A loaded, validated policy: Cedar policies and schema, the entities of the directory, and
/// the guard configuration.
#[derive(Debug, Clone)]
pub struct PolicyBundle {
    /// Cedar policies, each with the id of its `@id` annotation.
    pub policies: PolicySet,
    /// The Cedar schema.
    pub schema: Schema,
    /// Roles, people, agents, systems and documents as Cedar entities (plus the schema's
    /// actions).
    pub entities: Entities,
    /// `principals.toml`.
    pub directory: Directory,
    /// `guards.toml`.
    pub guards: GuardsConfig,
    /// Where it was loaded from.
    pub dir: PathBuf,
    /// Each policy's effect and annotations, by `@id`, read once at load: looking an
    /// annotation up in Cedar parses its key on every call.
    pub notes: HashMap<String, PolicyNotes>,
}

/// What the governor needs to know about one Cedar policy beyond its condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyNotes {
    /// Whether it forbids (else it permits).
    pub forbids: bool,
    /// `@decision("approval")`: a permit that asks a person first.
    pub needs_approval: bool,
    /// `@approver("…")`: the group asked.
    pub approver: Option<String>,
    /// `@reason("…")`: the text users see.
    pub reason: Option<String>,
}

impl PolicyNotes {
    fn of(policy: &Policy) -> Self {
        Self {
            forbids: policy.effect() == Effect::Forbid,
            needs_approval: policy.annotation("decision") == Some("approval"),
            approver: policy.annotation("approver").map(str::to_owned),
            reason: policy.annotation("reason").map(str::to_owned),
        }
    }
}

impl PolicyBundle {
    /// The directory's entities with the user `name` holding `member`'s roles and groups (in
    /// place of the directory's entry, if any).
    ///
    /// # Errors
    /// Cedar's message when the stated entities do not fit the schema.
    pub fn entities_with(&self, name: &str, member: &Member) -> Result<Entities, String> {
        let stated = Entities::from_json_value(
            self.directory.stated_entities(name, member),
            Some(&self.schema),
        )
        .map_err(|err| err.to_string())?;
        self.entities
            .clone()
            .upsert_entities(stated, Some(&self.schema))
            .map_err(|err| err.to_string())
    }

    /// Loads and validates the policy directory `dir`.
    ///
    /// # Errors
    /// [`PolicyError`] listing every problem with its file and line: unreadable files, Cedar
    /// syntax errors, policies that do not validate against the schema, policies without a
    /// unique `@id`, unknown keys in the TOML files, references to undefined roles, systems
    /// or tools.
    pub fn load(dir: &Path) -> Result<Self, PolicyError> {
        let mut problems = Vec::new();
        let files = list_files(dir, &mut problems);

        let schema = load_schema(dir, &files, &mut problems);
        let policies = load_policies(dir, &files, &mut problems);
        let directory: Option<Directory> = load_toml(dir, PRINCIPALS_FILE, &mut problems);
        let guards: Option<GuardsConfig> = load_toml(dir, GUARDS_FILE, &mut problems);

        let entities = match (&schema, &directory) {
            (Some(schema), Some(directory)) => {
                problems.extend(directory.dangling_references().into_iter().map(|message| {
                    Problem {
                        file: PRINCIPALS_FILE.to_owned(),
                        line: None,
                        message,
                    }
                }));
                match Entities::from_json_value(directory.cedar_entities(), Some(schema)) {
                    Ok(entities) => Some(entities),
                    Err(err) => {
                        problems.push(Problem {
                            file: PRINCIPALS_FILE.to_owned(),
                            line: None,
                            message: format!("does not fit the Cedar schema: {}", chain(&err)),
                        });
                        None
                    }
                }
            }
            _ => None,
        };
        if let (Some(schema), Some((policies, sources))) = (&schema, &policies) {
            validate_policies(schema, policies, sources, &mut problems);
        }
        if let (Some(schema), Some(directory), Some(guards)) = (&schema, &directory, &guards) {
            cross_check(schema, directory, guards, &mut problems);
        }

        match (schema, policies, directory, guards, entities) {
            (Some(schema), Some((policies, _)), Some(directory), Some(guards), Some(entities))
                if problems.is_empty() =>
            {
                let notes = policies
                    .policies()
                    .map(|policy| (policy.id().to_string(), PolicyNotes::of(policy)))
                    .collect();
                Ok(Self {
                    notes,
                    policies,
                    schema,
                    entities,
                    directory,
                    guards,
                    dir: dir.to_path_buf(),
                })
            }
            _ => Err(PolicyError {
                dir: dir.to_path_buf(),
                problems,
            }),
        }
    }

    /// The tool names the schema declares as actions (action groups excluded).
    #[must_use]
    pub fn tools(&self) -> BTreeSet<String> {
        schema_tools(&self.schema)
    }
}

/// The policy files in `dir`, sorted by name.
fn list_files(dir: &Path, problems: &mut Vec<Problem>) -> Vec<PathBuf> {
    match std::fs::read_dir(dir) {
        Ok(entries) => {
            let mut files: Vec<PathBuf> = entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect();
            files.sort();
            files
        }
        Err(err) => {
            problems.push(Problem {
                file: dir.display().to_string(),
                line: None,
                message: format!(
                    "cannot read the policy directory ({err}); pass --policy-dir or restore it"
                ),
            });
            Vec::new()
        }
    }
}

fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

fn read(path: &Path, problems: &mut Vec<Problem>) -> Option<String> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(err) => {
            problems.push(Problem {
                file: file_name(path),
                line: None,
                message: format!("cannot read it: {err}"),
            });
            return None;
        }
    };
    match String::from_utf8(bytes) {
        Ok(text) => Some(text),
        Err(err) => {
            let offset = err.utf8_error().valid_up_to();
            let text = String::from_utf8_lossy(err.as_bytes());
            problems.push(Problem {
                file: file_name(path),
                line: Some(line_of(&text, offset)),
                message: format!("not UTF-8 at byte {offset}; save the file as UTF-8"),
            });
            None
        }
    }
}

fn with_extension<'a>(files: &'a [PathBuf], ext: &'a str) -> impl Iterator<Item = &'a PathBuf> {
    files
        .iter()
        .filter(move |p| p.extension().is_some_and(|e| e == ext))
}

fn load_schema(dir: &Path, files: &[PathBuf], problems: &mut Vec<Problem>) -> Option<Schema> {
    let paths: Vec<_> = with_extension(files, "cedarschema").collect();
    let [path] = paths.as_slice() else {
        problems.push(Problem {
            file: dir.display().to_string(),
            line: None,
            message: format!(
                "expected exactly one *.cedarschema file, found {}",
                paths.len()
            ),
        });
        return None;
    };
    let text = read(path, problems)?;
    match Schema::from_cedarschema_str(&text) {
        Ok((schema, _warnings)) => Some(schema),
        Err(err) => {
            problems.extend(diagnostics(&file_name(path), &text, &err));
            None
        }
    }
}

/// Parses every `*.cedar` file; each policy gets its `@id` as policy id. Returns the set and,
/// for each policy id, its file and text (for line numbers of validation errors).
fn load_policies(
    dir: &Path,
    files: &[PathBuf],
    problems: &mut Vec<Problem>,
) -> Option<(PolicySet, Vec<PolicySource>)> {
    let paths: Vec<_> = with_extension(files, "cedar").collect();
    if paths.is_empty() {
        problems.push(Problem {
            file: dir.display().to_string(),
            line: None,
            message: "no *.cedar policy files: without policies every call is denied".to_owned(),
        });
        return None;
    }
    let before = problems.len();
    let mut set = PolicySet::new();
    let mut sources = Vec::new();
    for path in paths {
        let file = file_name(path);
        let Some(text) = read(path, problems) else {
            continue;
        };
        let parsed = match parse_policy_file(&text) {
            Ok(parsed) => parsed,
            Err(err) => {
                problems.extend(diagnostics(&file, &text, &*err));
                continue;
            }
        };
        for (policy, offset) in parsed {
            let line = line_of(&text, offset);
            let Some(id) = policy.annotation("id").map(str::to_owned) else {
                problems.push(Problem {
                    file: file.clone(),
                    line: Some(line),
                    message:
                        "policy has no @id(\"…\") annotation; every decision must name its rule"
                            .to_owned(),
                });
                continue;
            };
            if let Err(err) = set.add(policy.new_id(PolicyId::new(&id))) {
                problems.push(Problem {
                    file: file.clone(),
                    line: Some(line),
                    message: format!("@id(\"{id}\"): {err}; policy ids must be unique"),
                });
                continue;
            }
            sources.push(PolicySource {
                id,
                file: file.clone(),
                text: text.clone(),
            });
        }
    }
    (problems.len() == before).then_some((set, sources))
}

/// Where a policy came from.
struct PolicySource {
    id: String,
    file: String,
    /// The whole file; Cedar's source locations are offsets into it.
    text: String,
}

/// Parses one file's policies, each with the byte offset where its text starts.
fn parse_policy_file(text: &str) -> Result<Vec<(Policy, usize)>, Box<cedar_policy::ParseErrors>> {
    let set: PolicySet = text.parse().map_err(Box::new)?;
    let mut policies: Vec<(Policy, usize)> = set
        .policies()
        .map(|policy| (policy.clone(), policy_offset(text, policy)))
        .collect();
    policies.sort_by_key(|(_, offset)| *offset);
    Ok(policies)
}

/// The byte offset of `policy`'s text in `text` (Cedar keeps each policy's source text, from
/// just after the previous policy).
fn policy_offset(text: &str, policy: &Policy) -> usize {
    text.find(&policy.to_string()).unwrap_or(0)
}

fn validate_policies(
    schema: &Schema,
    policies: &PolicySet,
    sources: &[PolicySource],
    problems: &mut Vec<Problem>,
) {
    let result = Validator::new(schema.clone()).validate(policies, ValidationMode::Strict);
    let mut reported = BTreeSet::new();
    for error in result.validation_errors() {
        let id = error.policy_id().to_string();
        let source = sources.iter().find(|s| s.id == id);
        let (file, line) = match source {
            Some(source) => {
                let offset = error
                    .labels()
                    .and_then(|mut labels| labels.next())
                    .map(|label| label.offset());
                let line = offset.map(|offset| line_of(&source.text, offset));
                (source.file.clone(), line)
            }
            None => ("(policies)".to_owned(), None),
        };
        // Cedar reports a mistake once per action it applies to; one report per place is enough.
        if !reported.insert((id.clone(), line)) {
            continue;
        }
        problems.push(Problem {
            file,
            line,
            message: format!("policy `{id}`: {error}"),
        });
    }
}

/// Names in `principals.toml` and `guards.toml` must exist in the schema and directory.
fn cross_check(
    schema: &Schema,
    directory: &Directory,
    guards: &GuardsConfig,
    problems: &mut Vec<Problem>,
) {
    let tools = schema_tools(schema);
    let mut unknown = |file: &str, what: String| {
        problems.push(Problem {
            file: file.to_owned(),
            line: None,
            message: what,
        });
    };
    for (name, role) in &directory.roles {
        for tool in role.tools.iter().filter(|t| !tools.contains(*t)) {
            unknown(
                PRINCIPALS_FILE,
                format!("role `{name}` lists `{tool}`, which the schema declares no action for"),
            );
        }
    }
    for (name, agent) in &directory.agents {
        for tool in agent.tools.iter().flatten().filter(|t| !tools.contains(*t)) {
            unknown(
                PRINCIPALS_FILE,
                format!("agent `{name}` lists `{tool}`, which the schema declares no action for"),
            );
        }
    }
    for (tool, rules) in &guards.tools {
        if !tools.contains(tool) {
            unknown(
                GUARDS_FILE,
                format!("[tools.{tool}]: the schema declares no action `{tool}`"),
            );
        }
        if let Some(resource) = &rules.default_resource {
            let known = directory.systems.contains_key(resource)
                || directory.documents.contains_key(resource);
            if !known {
                unknown(GUARDS_FILE, format!("[tools.{tool}] default_resource `{resource}` is not a system or document in {PRINCIPALS_FILE}"));
            }
        }
    }
    for tool in guards
        .rate_limits
        .tools
        .keys()
        .filter(|t| !tools.contains(*t))
    {
        unknown(
            GUARDS_FILE,
            format!("[rate_limits.tools.{tool}]: the schema declares no action `{tool}`"),
        );
    }
}

/// Action names of the schema that apply to principals (tools), not action groups.
fn schema_tools(schema: &Schema) -> BTreeSet<String> {
    let groups: BTreeSet<String> = ["read", "write", "destructive"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    schema
        .actions()
        .map(|uid| uid.id().unescaped().to_owned())
        .filter(|name| !groups.contains(name))
        .collect()
}

fn load_toml<T: serde::de::DeserializeOwned>(
    dir: &Path,
    name: &str,
    problems: &mut Vec<Problem>,
) -> Option<T> {
    let text = read(&dir.join(name), problems)?;
    match toml::from_str(&text) {
        Ok(value) => Some(value),
        Err(err) => {
            problems.push(Problem {
                file: name.to_owned(),
                line: err.span().map(|span| line_of(&text, span.start)),
                message: err.message().to_owned(),
            });
            None
        }
    }
}

/// Every diagnostic of a miette error, each at the line of its first label.
fn diagnostics(file: &str, text: &str, err: &(dyn Diagnostic + 'static)) -> Vec<Problem> {
    let related: Vec<&dyn Diagnostic> = err.related().map(Iterator::collect).unwrap_or_default();
    let all: Vec<&dyn Diagnostic> = if related.is_empty() {
        vec![err]
    } else {
        related
    };
    all.into_iter()
        .map(|diag| {
            let line = diag
                .labels()
                .and_then(|mut labels| labels.next())
                .map(|label| line_of(text, label.offset()));
            let mut message = diag.to_string();
            if let Some(help) = diag.help() {
                message.push_str(&format!(" ({help})"));
            }
            Problem {
                file: file.to_owned(),
                line,
                message,
            }
        })
        .collect()
}

fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

/// The 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    let offset = offset.min(text.len());
    text.as_bytes()[..offset]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}
