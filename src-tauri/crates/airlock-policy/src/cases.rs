//! Table-driven policy tests: `policy/tests/*.toml`, each a list of `[[case]]` requests with
//! the decision (and optionally the deciding rule and reason) they must get. The cases of one
//! file run in order against one governor, one minute apart, so rate limits, repeat offences
//! and session sequences can be tested; budgets start from each case's `spent_cents`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use airlock_core::Confidence;
use serde::Deserialize;
use serde_json::{Map, Value};
use time::{Duration, OffsetDateTime};

use crate::decision::Decision;
use crate::governor::{Call, CallContext, Governor, GovernorError};
use crate::ledger::{Ledger, LedgerError, MemoryLedger, Standing};

/// When the first case of a file runs, unless it says otherwise: a Monday morning.
const FIRST_CASE_AT: OffsetDateTime = time::macros::datetime!(2026-11-02 09:00 UTC);

/// One file of cases.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    #[serde(rename = "case")]
    cases: Vec<Case>,
}

/// One request and the decision it must get.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// What the case shows, in words.
    pub name: String,
    /// Who asks.
    pub principal: String,
    /// The tool.
    pub tool: String,
    /// Its arguments.
    #[serde(default)]
    pub args: Map<String, Value>,
    /// The request text the screen sees.
    #[serde(default)]
    pub request: Option<String>,
    /// The planner's confidence (absent: typed by a person).
    #[serde(default)]
    pub confidence: Option<Confidence>,
    /// Arguments whose values came from tool output or documents.
    #[serde(default)]
    pub tainted: BTreeSet<String>,
    /// Already spent or pending in the budget window before this case.
    #[serde(default)]
    pub spent_cents: i64,
    /// Cases with the same session share its history; by default each case has its own.
    #[serde(default)]
    pub session: Option<String>,
    /// Minutes after the file's first case (default: one minute per case).
    #[serde(default)]
    pub minute: Option<i64>,
    /// `allow`, `deny`, `require_approval` or `clarify`.
    pub expect: String,
    /// The deciding rule the decision must name.
    #[serde(default)]
    pub rule: Option<String>,
    /// The approver group a `require_approval` must name.
    #[serde(default)]
    pub approver: Option<String>,
    /// Text the reason (or questions) must contain.
    #[serde(default)]
    pub reason_contains: Option<String>,
}

/// A case's result.
#[derive(Debug, Clone)]
pub struct CaseResult {
    /// The file it came from.
    pub file: PathBuf,
    /// The case.
    pub case: Case,
    /// The decision it got.
    pub decision: Decision,
    /// What did not match; empty when the case passed.
    pub failures: Vec<String>,
}

impl CaseResult {
    /// Whether the decision matched every expectation.
    #[must_use]
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Why the cases could not be run.
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    /// The policy under test does not load.
    #[error(transparent)]
    Governor(#[from] GovernorError),
    /// A case file is unreadable or malformed.
    #[error("{}{}: {message}", .file.display(), .line.map(|l| format!(":{l}")).unwrap_or_default())]
    File {
        /// The file.
        file: PathBuf,
        /// The line, when known.
        line: Option<usize>,
        /// What is wrong.
        message: String,
    },
}

/// Runs every `*.toml` file in `dir` (sorted), each against a fresh governor made by
/// `governor`.
///
/// # Errors
/// [`CaseError`] when a file cannot be read or parsed, or the policy does not load.
pub fn run_dir(
    dir: &Path,
    mut governor: impl FnMut() -> Result<Governor, GovernorError>,
) -> Result<Vec<CaseResult>, CaseError> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|err| CaseError::File {
            file: dir.to_path_buf(),
            line: None,
            message: format!("cannot read the test directory: {err}"),
        })?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    files.sort();
    let mut results = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).map_err(|err| CaseError::File {
            file: file.clone(),
            line: None,
            message: err.to_string(),
        })?;
        let parsed: CaseFile = toml::from_str(&text).map_err(|err| CaseError::File {
            file: file.clone(),
            line: err
                .span()
                .map(|span| text[..span.start].matches('\n').count() + 1),
            message: err.message().to_owned(),
        })?;
        results.extend(run_file(&file, &parsed.cases, &governor()?));
    }
    Ok(results)
}

/// A case's ledger: the file's shared standings (repeat offences span cases) and the case's
/// own spending.
struct CaseLedger<'a> {
    shared: &'a MemoryLedger,
    spends: MemoryLedger,
}

impl Ledger for CaseLedger<'_> {
    fn spent_cents(&self, principal: &str, since: OffsetDateTime) -> Result<i64, LedgerError> {
        self.spends.spent_cents(principal, since)
    }

    fn standing(&self, principal: &str) -> Result<Standing, LedgerError> {
        self.shared.standing(principal)
    }

    fn set_standing(&self, principal: &str, standing: &Standing) -> Result<(), LedgerError> {
        self.shared.set_standing(principal, standing)
    }
}

fn run_file(file: &Path, cases: &[Case], governor: &Governor) -> Vec<CaseResult> {
    let shared = MemoryLedger::default();
    cases
        .iter()
        .enumerate()
        .map(|(index, case)| {
            let minute = case
                .minute
                .unwrap_or_else(|| i64::try_from(index).unwrap_or(i64::MAX));
            let now = FIRST_CASE_AT + Duration::minutes(minute);
            let ledger = CaseLedger {
                shared: &shared,
                spends: MemoryLedger::default(),
            };
            if case.spent_cents != 0 {
                ledger
                    .spends
                    .record(&case.principal, now - Duration::days(1), case.spent_cents);
            }
            let session = case
                .session
                .clone()
                .unwrap_or_else(|| format!("{}#{index}", file.display()));
            let context = CallContext {
                session,
                request_id: None,
                request_text: case.request.clone(),
                confidence: case.confidence,
                tainted: case.tainted.clone(),
                now,
                identity: None,
            };
            let call = Call {
                principal: &case.principal,
                tool: &case.tool,
                args: &case.args,
            };
            let decision = governor.decide(&call, &context, &ledger);
            let failures = compare(case, &decision);
            CaseResult {
                file: file.to_path_buf(),
                case: case.clone(),
                decision,
                failures,
            }
        })
        .collect()
}

fn compare(case: &Case, decision: &Decision) -> Vec<String> {
    let mut failures = Vec::new();
    let got = decision.outcome.name();
    if got != case.expect {
        failures.push(format!(
            "expected {}, got {got} ({})",
            case.expect,
            decision.outcome.explanation()
        ));
    }
    if let Some(rule) = &case.rule {
        if decision.deciding_rule.as_deref() != Some(rule.as_str()) {
            failures.push(format!(
                "expected deciding rule `{rule}`, got {}",
                decision
                    .deciding_rule
                    .as_deref()
                    .map_or("none".to_owned(), |r| format!("`{r}`"))
            ));
        }
    }
    if let Some(approver) = &case.approver {
        match &decision.outcome {
            crate::Outcome::RequireApproval { approver_group, .. }
                if approver_group == approver => {}
            other => failures.push(format!("expected approver `{approver}`, got {other:?}")),
        }
    }
    if let Some(text) = &case.reason_contains {
        let explanation = decision.outcome.explanation();
        if !explanation.contains(text.as_str()) {
            failures.push(format!("reason does not contain \"{text}\": {explanation}"));
        }
    }
    failures
}
