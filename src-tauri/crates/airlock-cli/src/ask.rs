//! `airlock ask`: one request, streamed as it happens.

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;

use airlock_agent::{
    Agent, AgentError, AgentEvent, AskOutcome, Outcome, PlannedIntent, Progress, Stream, TypedCall,
};
use airlock_core::Mode;
use serde_json::{Map, Value};

use crate::paths::Paths;

/// Where a request's progress and outcome go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// Progress and answer for people, on stdout.
    Human,
    /// The outcome as one JSON object on stdout, progress on stderr.
    Json,
    /// Every event as one JSON line on stdout, the outcome last.
    Events,
}

impl Output {
    /// The output the `--json` and `--events` flags ask for.
    pub fn chosen(json: bool, events: bool) -> Self {
        match (json, events) {
            (_, true) => Self::Events,
            (true, false) => Self::Json,
            (false, false) => Self::Human,
        }
    }
}

/// Exit code for a request refused before planning (bad input).
const EXIT_BAD_REQUEST: u8 = 2;

pub fn run(
    paths: &Paths,
    text: Option<&str>,
    conversation: Option<&str>,
    mode: Mode,
    output: Output,
) -> anyhow::Result<ExitCode> {
    let request = match text {
        Some(text) if text != "-" => text.to_owned(),
        _ => match airlock_agent::read_request(io::stdin().lock()) {
            Ok(text) => text,
            Err(err) => {
                eprintln!("error: {err}");
                return Ok(ExitCode::from(EXIT_BAD_REQUEST));
            }
        },
    };
    let agent = Agent::open(paths.agent_config()?)?;
    let mut printer = Printer::for_output(output);
    let outcome = match agent.ask_in(conversation, &request, mode, &mut |event| {
        printer.show(&event);
    }) {
        Ok(outcome) => outcome,
        Err(AgentError::Request(err)) => {
            eprintln!("error: {err}");
            return Ok(ExitCode::from(EXIT_BAD_REQUEST));
        }
        Err(err) => return Err(err.into()),
    };
    let streamed = !outcome.actions_taken.is_empty();
    report(&mut printer, &outcome, output, streamed)
}

/// `airlock call`: one tool call typed by the operator, decided and (in execute mode) run
/// without the model.
pub fn call(
    paths: &Paths,
    tool: &str,
    args: &str,
    mode: Mode,
    output: Output,
) -> anyhow::Result<ExitCode> {
    let args: Map<String, Value> = match serde_json::from_str(args) {
        Ok(args) => args,
        Err(err) => {
            eprintln!("error: --args must be a JSON object, e.g. '{{\"command\": \"tail -n 20 /sim/logs/syslog.log\"}}' ({err})");
            return Ok(ExitCode::from(EXIT_BAD_REQUEST));
        }
    };
    let agent = Agent::open(paths.agent_config()?)?;
    let mut printer = Printer::for_output(output);
    let outcome = agent.call(tool, args, mode, &mut |event| printer.show(&event))?;
    report(&mut printer, &outcome, output, false)
}

/// `airlock call --plan FILE`: calls typed by the operator, decided and (in execute mode) run
/// in order until one fails.
pub fn call_plan(
    paths: &Paths,
    plan: &std::path::Path,
    mode: Mode,
    output: Output,
) -> anyhow::Result<ExitCode> {
    let text = if plan.as_os_str() == "-" {
        let mut text = String::new();
        io::Read::read_to_string(&mut io::stdin().lock(), &mut text)?;
        text
    } else {
        std::fs::read_to_string(plan)
            .map_err(|err| anyhow::anyhow!("cannot read the plan {}: {err}", plan.display()))?
    };
    let calls: Vec<TypedCall> = match serde_json::from_str(&text) {
        Ok(calls) => calls,
        Err(err) => {
            eprintln!(
                "error: the plan must be a JSON list of calls, e.g. \
                 '[{{\"tool\": \"get_system_status\", \"args\": {{}}}}]' ({err})"
            );
            return Ok(ExitCode::from(EXIT_BAD_REQUEST));
        }
    };
    let agent = Agent::open(paths.agent_config()?)?;
    let mut printer = Printer::for_output(output);
    let outcome = match agent.call_plan(None, &calls, mode, &mut |event| printer.show(&event)) {
        Ok(outcome) => outcome,
        Err(err @ AgentError::TypedPlanSize(_)) => {
            eprintln!("error: {err}");
            return Ok(ExitCode::from(EXIT_BAD_REQUEST));
        }
        Err(err) => return Err(err.into()),
    };
    report(&mut printer, &outcome, output, false)
}

/// `airlock rollback`: the undo of a completed write, decided and (in execute mode) run.
pub fn rollback(
    paths: &Paths,
    decision_id: &str,
    mode: Mode,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let agent = Agent::open(paths.agent_config()?)?;
    let mut printer = Printer::new(json);
    let outcome = agent.rollback(decision_id, mode, &mut |event| printer.show(&event))?;
    report(&mut printer, &outcome, Output::chosen(json, false), false)
}

/// Prints the outcome: as JSON, or the answer (unless it was streamed) and where it was
/// recorded.
fn report(
    printer: &mut Printer,
    outcome: &AskOutcome,
    output: Output,
    answer_streamed: bool,
) -> anyhow::Result<ExitCode> {
    if output == Output::Events {
        return Ok(ExitCode::SUCCESS);
    }
    if output == Output::Json {
        println!("{}", serde_json::to_string_pretty(outcome)?);
    } else {
        if !answer_streamed {
            printer.line(&format!("\nAnswer: {}", outcome.answer));
        }
        printer.line(&format!(
            "\n[trace {} · mode {} · conversation {}]",
            outcome.audit.trace_id, outcome.audit.mode, outcome.audit.conversation_id
        ));
    }
    Ok(ExitCode::SUCCESS)
}

/// Shows progress: on stdout for people, on stderr when stdout carries JSON. Every piece is
/// flushed at once so tokens appear as they are generated.
pub(crate) struct Printer {
    out: Box<dyn Write>,
    color: bool,
    answering: bool,
    events: bool,
}

impl Printer {
    pub(crate) fn new(json: bool) -> Self {
        Self::for_output(Output::chosen(json, false))
    }

    pub(crate) fn for_output(output: Output) -> Self {
        let (out, color): (Box<dyn Write>, bool) = match output {
            Output::Json => (Box::new(io::stderr()), io::stderr().is_terminal()),
            Output::Human => (Box::new(io::stdout()), io::stdout().is_terminal()),
            Output::Events => (Box::new(io::stdout()), false),
        };
        Self {
            out,
            color,
            answering: false,
            events: output == Output::Events,
        }
    }

    pub(crate) fn show(&mut self, event: &Progress<'_>) {
        if self.events {
            let line = serde_json::to_string(&AgentEvent::from(event)).unwrap_or_default();
            self.line(&line);
            return;
        }
        match event {
            Progress::ModelLoading => self.line("Loading the model…"),
            Progress::ModelReady(model) => {
                self.line(&format!(
                    "Model: {} ({:.0} ms)",
                    model.description, model.load_ms
                ));
                self.write("Planning: ");
            }
            Progress::PlanToken(text) => {
                let dim = self.dim(text);
                self.write(&dim);
            }
            Progress::PlanReady(plan) => self.plan(plan),
            Progress::ToolStarted(intent) => self.write(&format!(
                "→ {} {} … ",
                intent.tool,
                serde_json::Value::Object(intent.args.clone())
            )),
            Progress::ToolOutput(chunk) => {
                let text = String::from_utf8_lossy(chunk.bytes);
                let text = match chunk.stream {
                    Stream::Stdout => text.into_owned(),
                    Stream::Stderr => self.dim(&text),
                };
                self.write(&text);
            }
            Progress::ToolFinished(action) => match &action.error {
                None if action.undo().is_some() => self.line(&format!(
                    "ok ({:.1} ms); undo with `airlock rollback {}`",
                    action.duration_ms, action.decision_id
                )),
                None => self.line(&format!("ok ({:.1} ms)", action.duration_ms)),
                Some(error) => self.line(&format!("failed: {error}")),
            },
            Progress::AnswerToken(text) => {
                if !self.answering {
                    self.answering = true;
                    self.write("\nAnswer: ");
                }
                self.write(text);
            }
            // The plan lines show every decision and approval request; the answer and any
            // error are printed once the request is over.
            Progress::Decision(_)
            | Progress::ApprovalRequested { .. }
            | Progress::Answer(_)
            | Progress::Error(_) => {}
        }
    }

    fn plan(&mut self, plan: &[PlannedIntent]) {
        self.line("");
        if plan.is_empty() {
            self.line("Plan: no tool proposed.");
            return;
        }
        self.line("Plan:");
        for (n, entry) in plan.iter().enumerate() {
            let rule = entry
                .decision
                .deciding_rule
                .as_deref()
                .map(|rule| format!(" [{rule}]"))
                .unwrap_or_default();
            let decision = match &entry.decision.outcome {
                Outcome::Allow => format!("allowed{rule}"),
                Outcome::Deny { reason } => format!("denied{rule}: {reason}"),
                Outcome::RequireApproval {
                    approver_group,
                    reason,
                } => format!("needs approval from {approver_group}{rule}: {reason}"),
                Outcome::Clarify { questions } => {
                    format!("needs clarification{rule}: {}", questions.join(" "))
                }
            };
            self.line(&format!(
                "  {}. {} {}  [confidence {:?}] {decision}",
                n + 1,
                entry.intent.tool,
                serde_json::Value::Object(entry.intent.args.clone()),
                entry.intent.confidence
            ));
            if !entry.intent.reasoning.is_empty() {
                self.line(&format!("     why: {}", entry.intent.reasoning));
            }
            let id = self.dim(&format!("     decision {}", entry.decision.id));
            self.line(&id);
        }
    }

    fn dim(&self, text: &str) -> String {
        if self.color {
            format!("\x1b[2m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    fn line(&mut self, text: &str) {
        self.write(text);
        self.write("\n");
    }

    fn write(&mut self, text: &str) {
        // A closed pipe (e.g. `| head`) must not abort the request: the outcome is recorded.
        let _ = self.out.write_all(text.as_bytes());
        let _ = self.out.flush();
    }
}
