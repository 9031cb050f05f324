//! `report.md` and `report.html`: the package summarised for people.
//!
//! Both are rendered from one list of [`Block`]s, so they always say the same thing. Every piece
//! of text is escaped for its format (HTML entities; Markdown punctuation); the HTML page is
//! self-contained (inline CSS, no script, no external resource) and prints on A4 or Letter.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::manifest::{fingerprint, AuditRange};
use crate::records::{ApprovalEntry, LiveChain, PolicyVersions};
use crate::Period;

/// What the period's audit rows show, tallied while they are written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Activity {
    /// Rows per kind.
    pub(crate) kinds: BTreeMap<String, u64>,
    /// `request_received` rows that were typed calls (no model).
    pub(crate) typed_calls: u64,
    /// Tool-call decisions per outcome (`allow`, `deny`, …).
    pub(crate) decisions: BTreeMap<String, u64>,
    /// Admission decisions (before planning) per outcome.
    pub(crate) admissions: BTreeMap<String, u64>,
}

impl Activity {
    /// Counts one row.
    pub(crate) fn add(&mut self, kind: &str, payload: &str) {
        *self.kinds.entry(kind.to_owned()).or_default() += 1;
        match kind {
            "request_received" => {
                let payload: serde_json::Value = serde_json::from_str(payload).unwrap_or_default();
                if payload["typed_call"] == true {
                    self.typed_calls += 1;
                }
            }
            "decision_made" => {
                let payload: serde_json::Value = serde_json::from_str(payload).unwrap_or_default();
                let outcome = payload["decision"]["decision"]
                    .as_str()
                    .unwrap_or("unreadable")
                    .to_owned();
                let tally = if payload["stage"] == "admission" {
                    &mut self.admissions
                } else {
                    &mut self.decisions
                };
                *tally.entry(outcome).or_default() += 1;
            }
            _ => {}
        }
    }

    fn count(&self, kind: &str) -> u64 {
        self.kinds.get(kind).copied().unwrap_or(0)
    }
}

/// Which rows the package's checkpoints vouch for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Coverage {
    /// Checkpoints of rows in the package.
    pub(crate) in_period: usize,
    /// The newest row in the package a checkpoint vouches for.
    pub(crate) last_signed: Option<i64>,
    /// The first checkpoint after the period, if any.
    pub(crate) after_period: Option<i64>,
}

/// Everything the report shows.
pub(crate) struct ReportInput<'a> {
    pub(crate) period: &'a Period,
    pub(crate) created_at: &'a str,
    pub(crate) airlock_version: &'a str,
    pub(crate) key: &'a ed25519_dalek::VerifyingKey,
    pub(crate) audit: &'a AuditRange,
    pub(crate) activity: &'a Activity,
    pub(crate) coverage: &'a Coverage,
    pub(crate) live: &'a LiveChain,
    pub(crate) approvals: &'a [ApprovalEntry],
    pub(crate) policies: &'a [PolicyVersions],
}

/// A piece of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Block {
    Title(String),
    Heading(String),
    Text(String),
    /// A paragraph that must not be missed (a broken chain).
    Alert(String),
    /// Label and value pairs.
    Facts(Vec<(String, String)>),
    Table {
        head: Vec<String>,
        rows: Vec<Vec<String>>,
    },
}

fn facts<const N: usize>(pairs: [(&str, String); N]) -> Block {
    Block::Facts(
        pairs
            .into_iter()
            .map(|(label, value)| (label.to_owned(), value))
            .collect(),
    )
}

fn table<const N: usize>(head: [&str; N], rows: Vec<Vec<String>>) -> Block {
    Block::Table {
        head: head.iter().map(|h| (*h).to_owned()).collect(),
        rows,
    }
}

fn seq_range(audit: &AuditRange) -> String {
    match (audit.first_seq, audit.last_seq) {
        (Some(first), Some(last)) => format!("{} rows (audit rows {first} to {last})", audit.rows),
        _ => "none: nothing was recorded in the period".to_owned(),
    }
}

fn or_dash(value: Option<&str>) -> String {
    value.unwrap_or("-").to_owned()
}

/// A hash shortened for a table (the JSON files hold it whole).
fn short(hash: Option<&str>) -> String {
    hash.map_or_else(|| "-".to_owned(), |h| h.chars().take(12).collect())
}

/// The report's blocks.
pub(crate) fn blocks(input: &ReportInput<'_>) -> Vec<Block> {
    let mut out = vec![
        Block::Title("Airlock evidence package".to_owned()),
        facts([
            (
                "Period (UTC, both ends included)",
                format!("{} to {}", input.period.from, input.period.to),
            ),
            ("Written at", input.created_at.to_owned()),
            ("Airlock version", input.airlock_version.to_owned()),
            ("Signing key fingerprint", fingerprint(input.key)),
            ("Signing public key", hex::encode(input.key.as_bytes())),
        ]),
        Block::Text(
            "Every file of this package is listed with its SHA-256 in manifest.json, which is \
             signed (manifest.sig) with the installation's audit key. Check it on any machine, \
             offline, with: airlock compliance verify DIR. Compare the fingerprint above with \
             the one the installation shows."
                .to_owned(),
        ),
    ];
    chain_blocks(input, &mut out);
    activity_blocks(input, &mut out);
    approval_blocks(input.approvals, &mut out);
    policy_blocks(input.policies, &mut out);
    out
}

fn chain_blocks(input: &ReportInput<'_>, out: &mut Vec<Block>) {
    let live = input.live;
    out.push(Block::Heading("Audit chain".to_owned()));
    match &live.first_problem {
        None => out.push(Block::Text(format!(
            "The whole audit log verified intact when this package was written ({}): {} rows, \
             {} signed checkpoints, newest row {}, newest signed row {}{}.",
            live.verified_at,
            live.rows_checked,
            live.checkpoints_checked,
            live.last_seq.map_or("-".to_owned(), |s| s.to_string()),
            live.last_checkpointed_seq
                .map_or("-".to_owned(), |s| s.to_string()),
            match live.unsigned_rows {
                0 => String::new(),
                n => format!(" ({n} newer rows were protected by the hash chain only)"),
            }
        ))),
        Some(problem) => out.push(Block::Alert(format!(
            "The audit log was NOT intact when this package was written ({}): first bad row {} \
             ({}): {}. {} rows before it verified.",
            live.verified_at, problem.seq, problem.kind, problem.message, live.rows_checked
        ))),
    }
    let coverage = input.coverage;
    let signed = match (input.audit.first_seq, coverage.last_signed) {
        (Some(first), Some(last)) => format!("rows {first} to {last}"),
        _ => "none".to_owned(),
    };
    let tail = match (input.audit.last_seq, coverage.last_signed) {
        (None, _) => "-".to_owned(),
        (Some(last), Some(signed)) if signed >= last => "none".to_owned(),
        (Some(last), signed) => {
            let first_unsigned = signed.map_or(input.audit.first_seq.unwrap_or(last), |s| s + 1);
            match coverage.after_period {
                Some(after) => format!(
                    "rows {first_unsigned} to {last}: vouched for by the checkpoint of row \
                     {after}, after the period (its signature is in the package; the rows \
                     between are not, so tie them with `airlock audit verify` on the \
                     installation)"
                ),
                None => format!(
                    "rows {first_unsigned} to {last}: no checkpoint vouches for them yet; the \
                     hash chain alone protects them"
                ),
            }
        }
    };
    out.push(facts([
        ("Audit rows in this package", seq_range(input.audit)),
        (
            "Anchor (hash of the row before the period)",
            or_dash(input.audit.anchor.as_deref()),
        ),
        (
            "Signed checkpoints of rows in the package",
            coverage.in_period.to_string(),
        ),
        ("Rows a checkpoint in the package vouches for", signed),
        ("Rows after the newest checkpoint in the package", tail),
    ]));
}

fn activity_blocks(input: &ReportInput<'_>, out: &mut Vec<Block>) {
    let activity = input.activity;
    out.push(Block::Heading("Requests and decisions".to_owned()));
    out.push(facts([
        (
            "Requests received",
            format!(
                "{} ({} typed calls without the model)",
                activity.count("request_received"),
                activity.typed_calls
            ),
        ),
        (
            "Requests refused by the request checks",
            activity.count("request_rejected").to_string(),
        ),
        (
            "Tool runs started / finished / failed",
            format!(
                "{} / {} / {}",
                activity.count("tool_started"),
                activity.count("tool_finished"),
                activity.count("tool_failed")
            ),
        ),
        (
            "Intent tokens issued / refused",
            format!(
                "{} / {}",
                activity.count("token_issued"),
                activity.count("token_rejected")
            ),
        ),
    ]));
    let mut rows = Vec::new();
    for (stage, tally) in [
        ("admission", &activity.admissions),
        ("tool call", &activity.decisions),
    ] {
        for (outcome, count) in tally {
            rows.push(vec![stage.to_owned(), outcome.clone(), count.to_string()]);
        }
    }
    if rows.is_empty() {
        out.push(Block::Text(
            "No decision was made in the period.".to_owned(),
        ));
    } else {
        out.push(table(["Stage", "Outcome", "Decisions"], rows));
    }
    let kinds = activity
        .kinds
        .iter()
        .map(|(kind, count)| vec![kind.clone(), count.to_string()])
        .collect::<Vec<_>>();
    if !kinds.is_empty() {
        out.push(table(["Audit event", "Rows"], kinds));
    }
}

fn approval_blocks(approvals: &[ApprovalEntry], out: &mut Vec<Block>) {
    out.push(Block::Heading("Approvals".to_owned()));
    if approvals.is_empty() {
        out.push(Block::Text(
            "No approval was requested or settled in the period.".to_owned(),
        ));
        return;
    }
    let mut by_status: BTreeMap<&str, u64> = BTreeMap::new();
    let mut by_approver: BTreeMap<&str, BTreeMap<&str, u64>> = BTreeMap::new();
    for approval in approvals {
        *by_status.entry(&approval.status).or_default() += 1;
        if let Some(approver) = &approval.decided_by {
            *by_approver
                .entry(approver)
                .or_default()
                .entry(&approval.status)
                .or_default() += 1;
        }
    }
    out.push(table(
        ["Status", "Requests"],
        by_status
            .iter()
            .map(|(status, n)| vec![(*status).to_owned(), n.to_string()])
            .collect(),
    ));
    if !by_approver.is_empty() {
        out.push(table(
            ["Approver", "Decisions (by the request's status now)"],
            by_approver
                .iter()
                .map(|(approver, statuses)| {
                    let text = statuses
                        .iter()
                        .map(|(status, n)| format!("{status}: {n}"))
                        .collect::<Vec<_>>()
                        .join(", ");
                    vec![(*approver).to_owned(), text]
                })
                .collect(),
        ));
    }
    out.push(table(
        [
            "Requested",
            "Tool",
            "Requester",
            "Status",
            "Approver",
            "Decided",
            "Comment",
        ],
        approvals
            .iter()
            .map(|a| {
                vec![
                    a.created_at.clone(),
                    a.tool.clone(),
                    a.requester.clone(),
                    a.status.clone(),
                    or_dash(a.decided_by.as_deref()),
                    or_dash(a.decided_at.as_deref()),
                    or_dash(a.comment.as_deref()),
                ]
            })
            .collect(),
    ));
}

fn policy_blocks(policies: &[PolicyVersions], out: &mut Vec<Block>) {
    out.push(Block::Heading("Policy".to_owned()));
    out.push(table(
        [
            "File",
            "SHA-256 at the start",
            "Changes in the period",
            "SHA-256 at the end",
            "Copy in policies/ is that version",
        ],
        policies
            .iter()
            .map(|v| {
                vec![
                    v.file.clone(),
                    short(v.sha256_at_start.as_deref()),
                    v.changes.len().to_string(),
                    short(v.sha256_at_end.as_deref()),
                    if v.copy_is_version_at_end {
                        "yes"
                    } else {
                        "no"
                    }
                    .to_owned(),
                ]
            })
            .collect(),
    ));
    let changes: Vec<Vec<String>> = policies
        .iter()
        .flat_map(|v| v.changes.iter())
        .map(|c| {
            vec![
                c.at.clone(),
                c.file.clone(),
                c.by.clone(),
                short(c.sha256_from.as_deref()),
                short(c.sha256_to.as_deref()),
                c.seq.to_string(),
            ]
        })
        .collect();
    if changes.is_empty() {
        out.push(Block::Text("No policy change in the period.".to_owned()));
    } else {
        let mut changes = changes;
        changes.sort();
        out.push(table(
            ["When", "File", "By", "From", "To", "Audit row"],
            changes,
        ));
    }
    out.push(Block::Text(
        "Hashes are shortened to 12 hex digits here; policies.json holds them whole, and the \
         diff of each change is in its policy_changed audit row."
            .to_owned(),
    ));
}

/// Markdown punctuation escaped, line breaks folded, so text stays text.
fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '!' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '\r' | '\n' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// The report as Markdown.
pub(crate) fn markdown(blocks: &[Block]) -> String {
    let mut out = String::new();
    for block in blocks {
        match block {
            Block::Title(text) => {
                let _ = writeln!(out, "# {}\n", md(text));
            }
            Block::Heading(text) => {
                let _ = writeln!(out, "## {}\n", md(text));
            }
            Block::Text(text) => {
                let _ = writeln!(out, "{}\n", md(text));
            }
            Block::Alert(text) => {
                let _ = writeln!(out, "> **WARNING:** {}\n", md(text));
            }
            Block::Facts(pairs) => {
                for (label, value) in pairs {
                    let _ = writeln!(out, "- **{}:** {}", md(label), md(value));
                }
                out.push('\n');
            }
            Block::Table { head, rows } => {
                let line = |cells: &[String]| {
                    let cells: Vec<String> = cells.iter().map(|c| md(c)).collect();
                    format!("| {} |", cells.join(" | "))
                };
                let _ = writeln!(out, "{}", line(head));
                let _ = writeln!(out, "|{}", " --- |".repeat(head.len()));
                for row in rows {
                    let _ = writeln!(out, "{}", line(row));
                }
                out.push('\n');
            }
        }
    }
    out
}

/// Text as HTML character data or attribute value.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const STYLE: &str = "
body { font: 11pt/1.45 -apple-system, 'Segoe UI', 'DejaVu Sans', Arial, sans-serif;
       color: #111; margin: 2em auto; max-width: 60em; padding: 0 1em; }
h1 { font-size: 1.6em; border-bottom: 2px solid #111; padding-bottom: .2em; }
h2 { font-size: 1.2em; margin-top: 1.6em; border-bottom: 1px solid #999; }
table { border-collapse: collapse; margin: .6em 0 1em; width: 100%; }
th, td { border: 1px solid #999; padding: .25em .5em; text-align: left; vertical-align: top;
         overflow-wrap: anywhere; }
th { background: #eee; }
dl { display: grid; grid-template-columns: max-content auto; gap: .2em 1em; }
dt { font-weight: bold; }
dd { margin: 0; overflow-wrap: anywhere; font-family: inherit; }
.alert { border: 2px solid #b00; background: #fee; padding: .5em .8em; font-weight: bold; }
@page { margin: 15mm; }
@media print {
  body { margin: 0; max-width: none; font-size: 10pt; }
  h2 { break-after: avoid; }
  tr, .alert { break-inside: avoid; }
  th { background: none; }
}
";

/// The report as one self-contained HTML page.
pub(crate) fn html(blocks: &[Block]) -> String {
    let title = blocks
        .iter()
        .find_map(|block| match block {
            Block::Title(text) => Some(text.as_str()),
            _ => None,
        })
        .unwrap_or("Airlock evidence package");
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        escape(title)
    );
    for block in blocks {
        match block {
            Block::Title(text) => {
                let _ = writeln!(out, "<h1>{}</h1>", escape(text));
            }
            Block::Heading(text) => {
                let _ = writeln!(out, "<h2>{}</h2>", escape(text));
            }
            Block::Text(text) => {
                let _ = writeln!(out, "<p>{}</p>", escape(text));
            }
            Block::Alert(text) => {
                let _ = writeln!(out, "<p class=\"alert\">WARNING: {}</p>", escape(text));
            }
            Block::Facts(pairs) => {
                out.push_str("<dl>\n");
                for (label, value) in pairs {
                    let _ = writeln!(out, "<dt>{}</dt><dd>{}</dd>", escape(label), escape(value));
                }
                out.push_str("</dl>\n");
            }
            Block::Table { head, rows } => {
                out.push_str("<table>\n<thead><tr>");
                for cell in head {
                    let _ = write!(out, "<th>{}</th>", escape(cell));
                }
                out.push_str("</tr></thead>\n<tbody>\n");
                for row in rows {
                    out.push_str("<tr>");
                    for cell in row {
                        let _ = write!(out, "<td>{}</td>", escape(cell));
                    }
                    out.push_str("</tr>\n");
                }
                out.push_str("</tbody>\n</table>\n");
            }
        }
    }
    out.push_str("</body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<Block> {
        vec![
            Block::Title("Airlock evidence package".to_owned()),
            Block::Text("<script>alert('x')</script> & more".to_owned()),
            Block::Alert("chain *broken*".to_owned()),
            Block::Facts(vec![("Key".to_owned(), "a|b".to_owned())]),
            Block::Table {
                head: vec!["Approver".to_owned()],
                rows: vec![vec!["<img src=x onerror=alert(1)>".to_owned()]],
            },
        ]
    }

    #[test]
    fn html_escapes_every_text_and_loads_nothing_from_outside() {
        let page = html(&sample());
        assert!(!page.contains("<script"), "{page}");
        assert!(!page.contains("<img"), "{page}");
        assert!(page.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; more"));
        assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;"));
        for external in ["http:", "https:", "src=\"", "href=", "@import", "url("] {
            assert!(!page.contains(external), "{external} in {page}");
        }
        assert!(page.contains("@media print"));
        assert!(page.contains("class=\"alert\""));
    }

    #[test]
    fn markdown_keeps_user_text_from_becoming_markup() {
        let text = markdown(&sample());
        assert!(text.contains("\\<script\\>"), "{text}");
        assert!(text.contains("chain \\*broken\\*"), "{text}");
        assert!(text.contains("a\\|b"), "{text}");
        assert!(
            text.contains("| \\<img src=x onerror=alert(1)\\> |"),
            "{text}"
        );
    }

    #[test]
    fn decisions_are_tallied_by_stage_and_outcome() {
        let mut activity = Activity::default();
        activity.add(
            "request_received",
            r#"{"mode":"execute","typed_call":true}"#,
        );
        activity.add(
            "decision_made",
            r#"{"stage":"admission","decision":{"decision":"allow"}}"#,
        );
        activity.add(
            "decision_made",
            r#"{"tool":"restart_service","decision":{"decision":"require_approval"}}"#,
        );
        activity.add(
            "decision_made",
            r#"{"tool":"x","decision":{"decision":"allow"}}"#,
        );
        activity.add("decision_made", "not json");
        assert_eq!(activity.typed_calls, 1);
        assert_eq!(activity.admissions["allow"], 1);
        assert_eq!(activity.decisions["allow"], 1);
        assert_eq!(activity.decisions["require_approval"], 1);
        assert_eq!(activity.decisions["unreadable"], 1);
        assert_eq!(activity.count("decision_made"), 4);
    }
}
