// Builders of the shell's values for tests; each takes overrides.
import type {
  Action,
  AppStatus,
  AskOutcome,
  Decision,
  PendingApproval,
  PlannedIntent,
  Step,
} from "../api/types";

/** A passing step of one layer. */
export function step(overrides: Partial<Step> = {}): Step {
  return { layer: "identity", verdict: "pass", detail: "known principal", rules: [], risk: "low", ...overrides };
}

/** An allowing decision with a two-step trace. */
export function allowDecision(id = "d-1", overrides: Partial<Decision> = {}): Decision {
  return {
    decision: "allow",
    id,
    risk: "low",
    deciding_rule: "permit-read",
    trace: [
      step({ layer: "identity", detail: "operator.jdoe is known" }),
      step({ layer: "authorization", detail: "permitted by policy", rules: ["permit-read"] }),
    ],
    ...overrides,
  } as Decision;
}

/** A denying decision. */
export function denyDecision(id = "d-2", reason = "writes to production need a change ticket"): Decision {
  return {
    decision: "deny",
    reason,
    id,
    risk: "high",
    deciding_rule: "forbid-prod-write",
    trace: [
      step({ layer: "identity" }),
      step({ layer: "business_guards", verdict: "deny", detail: "no change ticket", rules: ["forbid-prod-write", "guard-ticket"], risk: "high" }),
    ],
  };
}

/** A proposed call with its decision. */
export function intent(tool: string, decision: Decision, args: PlannedIntent["args"] = {}): PlannedIntent {
  return { tool, args, reasoning: `check ${tool}`, confidence: "high", decision };
}

/** A finished call. */
export function action(tool: string, decisionId: string, overrides: Partial<Action> = {}): Action {
  return { tool, decision_id: decisionId, args: {}, result: { ok: true }, error: null, duration_ms: 120, ...overrides };
}

/** A request's outcome in conversation `conv-1`. */
export function outcome(overrides: Partial<AskOutcome> = {}): AskOutcome {
  return {
    answer: "All lines are running.",
    admission: allowDecision("admission"),
    plan: [],
    actions_taken: [],
    sources: [],
    audit: { trace_id: "t-1", mode: "plan", conversation_id: "conv-1" },
    timings: { total_ms: 1500, model_ms: 1200, governor_ms: 3, tools_ms: 250 },
    ...overrides,
  };
}

/** A healthy status. */
export function status(overrides: Partial<AppStatus> = {}): AppStatus {
  return {
    principal: "operator.jdoe",
    model: { ok: true, detail: "qwen ready", name: "qwen2.5-3b" },
    docker: { ok: true, detail: "Docker 27.1" },
    keychain: { ok: true, detail: "Secret Service" },
    read_only: false,
    data_dir: "/var/lib/airlock",
    ...overrides,
  };
}

/** A pending approval of a service restart, expiring at `expiresAt`. */
export function pendingApproval(expiresAt: string, overrides: Partial<PendingApproval["approval"]> = {}): PendingApproval {
  const decision: Decision = {
    decision: "require_approval",
    approver_group: "shift-leads",
    reason: "restarts on line 3 need a shift lead",
    id: "d-9",
    risk: "medium",
    deciding_rule: "approve-restart",
    trace: [
      step({ layer: "identity" }),
      step({ layer: "authorization", verdict: "approval", detail: "restart needs approval", rules: ["approve-restart"], risk: "medium" }),
    ],
  };
  return {
    approval: {
      id: "ap-1",
      trace_id: "t-9",
      conversation_id: "conv-9",
      requester: "operator.jdoe",
      tool: "service_restart",
      args: { host: "line3-plc", service: "opcua-bridge", options: { graceful: true, timeout_s: 30 } },
      decision,
      approver_group: "shift-leads",
      risk: "medium",
      reason: "restarts on line 3 need a shift lead",
      status: "pending",
      created_at: "2025-03-01T10:00:00Z",
      expires_at: expiresAt,
      decided_by: null,
      decided_at: null,
      comment: null,
      finished_at: null,
      result: null,
      ...overrides,
    },
    target: { system: "line3", kind: "linux_host", environment: "production", classification: "internal" },
  };
}
