// One request's view model, built from its event stream by a pure reducer.

import type { Action, AgentEvent, Args, AskOutcome, Mode, PlannedIntent } from "../../api/types";

/** A piece of a running tool's output; consecutive pieces of one stream are merged. */
export interface OutputChunk {
  stream: "stdout" | "stderr";
  text: string;
}

/** One tool call as it runs: its live output, then what it returned. */
export interface ToolRun {
  tool: string;
  args: Args;
  /** The decision the call runs under: guessed when it starts, known when it finishes. */
  decisionId: string | null;
  output: OutputChunk[];
  /** Set when the call finished. */
  action: Action | null;
}

/** A call that waits for a human (from `approval_requested`). */
export interface ApprovalNotice {
  approvalId: string;
  tool: string;
  args: Args;
  approverGroup: string;
}

/** Where the model worker is. */
export interface ModelState {
  phase: "unknown" | "loading" | "ready";
  description: string | null;
  loadMs: number | null;
}

/** Everything the window shows about one request. */
export interface RequestView {
  text: string;
  mode: Mode;
  status: "running" | "done" | "failed";
  model: ModelState;
  /** The plan as the model writes it (raw JSON), shown only on demand. */
  planText: string;
  /** Whether the whole plan was proposed. */
  planned: boolean;
  /** The decided intents, in the order they were decided (keyed by decision id). */
  intents: PlannedIntent[];
  approvals: ApprovalNotice[];
  runs: ToolRun[];
  /** The answer: streamed tokens, replaced by the outcome's answer at the end. */
  answer: string;
  outcome: AskOutcome | null;
  error: string | null;
}

/** A request that was just sent. */
export function newRequest(text: string, mode: Mode): RequestView {
  return {
    text,
    mode,
    status: "running",
    model: { phase: "unknown", description: null, loadMs: null },
    planText: "",
    planned: false,
    intents: [],
    approvals: [],
    runs: [],
    answer: "",
    outcome: null,
    error: null,
  };
}

function upsertIntents(intents: PlannedIntent[], incoming: PlannedIntent[]): PlannedIntent[] {
  const next = [...intents];
  for (const intent of incoming) {
    const index = next.findIndex((known) => known.decision.id === intent.decision.id);
    if (index === -1) {
      next.push(intent);
    } else {
      next[index] = intent;
    }
  }
  return next;
}

/** The allowed intent a starting call most likely runs under: same tool, no run yet. */
function guessDecision(state: RequestView, tool: string): string | null {
  const taken = new Set(state.runs.map((run) => run.decisionId));
  const intent = state.intents.find(
    (candidate) =>
      candidate.tool === tool &&
      candidate.decision.decision === "allow" &&
      !taken.has(candidate.decision.id),
  );
  return intent ? intent.decision.id : null;
}

function lastRunningIndex(runs: ToolRun[], tool?: string): number {
  for (let index = runs.length - 1; index >= 0; index -= 1) {
    const run = runs[index];
    if (run && run.action === null && (tool === undefined || run.tool === tool)) {
      return index;
    }
  }
  return -1;
}

function appendOutput(output: OutputChunk[], chunk: OutputChunk): OutputChunk[] {
  const last = output[output.length - 1];
  if (last && last.stream === chunk.stream) {
    return [...output.slice(0, -1), { stream: last.stream, text: last.text + chunk.text }];
  }
  return [...output, chunk];
}

function finishRun(runs: ToolRun[], action: Action): ToolRun[] {
  const index = lastRunningIndex(runs, action.tool);
  const run = runs[index];
  if (!run) {
    return [...runs, { tool: action.tool, args: action.args, decisionId: action.decision_id, output: [], action }];
  }
  const next = [...runs];
  next[index] = { ...run, decisionId: action.decision_id, action };
  return next;
}

/** Adds the outcome's actions that no event reported (so the final picture is complete). */
function reconcileRuns(runs: ToolRun[], actions: Action[]): ToolRun[] {
  const known = new Set(runs.map((run) => run.decisionId));
  const missing = actions
    .filter((action) => !known.has(action.decision_id))
    .map((action) => ({ tool: action.tool, args: action.args, decisionId: action.decision_id, output: [], action }));
  return missing.length === 0 ? runs : [...runs, ...missing];
}

/**
 * Applies one event to a request's view. Pure: returns a new state, never mutates. Events
 * after the request ended (answer or error) are ignored.
 */
export function requestReducer(state: RequestView, event: AgentEvent): RequestView {
  if (state.status !== "running") {
    return state;
  }
  switch (event.event) {
    case "model_loading":
      return { ...state, model: { ...state.model, phase: "loading" } };
    case "model_ready":
      return { ...state, model: { phase: "ready", description: event.description, loadMs: event.load_ms } };
    case "plan_token":
      return { ...state, planText: state.planText + event.text };
    case "plan_proposed":
      return { ...state, planned: true, intents: upsertIntents(state.intents, event.plan) };
    case "decision":
      return { ...state, intents: upsertIntents(state.intents, [event.intent]) };
    case "approval_requested":
      return {
        ...state,
        approvals: [
          ...state.approvals,
          { approvalId: event.approval_id, tool: event.tool, args: event.args, approverGroup: event.approver_group },
        ],
      };
    case "tool_started":
      return {
        ...state,
        runs: [
          ...state.runs,
          { tool: event.tool, args: event.args, decisionId: guessDecision(state, event.tool), output: [], action: null },
        ],
      };
    case "tool_output": {
      const index = lastRunningIndex(state.runs);
      const run = state.runs[index];
      if (!run) {
        return state;
      }
      const runs = [...state.runs];
      runs[index] = { ...run, output: appendOutput(run.output, { stream: event.stream, text: event.text }) };
      return { ...state, runs };
    }
    case "tool_finished":
      return { ...state, runs: finishRun(state.runs, event.action) };
    case "token":
      return { ...state, answer: state.answer + event.text };
    case "answer":
      return {
        ...state,
        status: "done",
        planned: true,
        intents: upsertIntents(state.intents, event.outcome.plan),
        runs: reconcileRuns(state.runs, event.outcome.actions_taken),
        answer: event.outcome.answer,
        outcome: event.outcome,
      };
    case "error":
      return { ...state, status: "failed", error: event.message };
  }
}

/** The run of the call decided by `decisionId`, if it ran (or is running). */
export function runOf(state: Pick<RequestView, "runs">, decisionId: string): ToolRun | undefined {
  return state.runs.find((run) => run.decisionId === decisionId);
}

/** The governor's questions for this request (from the admission or any intent), in order. */
export function clarifyingQuestions(state: RequestView): string[] {
  const questions: string[] = [];
  const admission = state.outcome?.admission;
  if (admission?.decision === "clarify") {
    questions.push(...admission.questions);
  }
  for (const intent of state.intents) {
    if (intent.decision.decision === "clarify") {
      questions.push(...intent.decision.questions);
    }
  }
  return [...new Set(questions)];
}
