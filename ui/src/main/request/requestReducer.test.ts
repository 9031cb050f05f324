import { describe, expect, it } from "vitest";

import type { AgentEvent } from "../../api/types";
import { action, allowDecision, denyDecision, intent, outcome } from "../../test/fixtures";
import { clarifyingQuestions, newRequest, requestReducer, runOf, type RequestView } from "./requestReducer";

function play(events: AgentEvent[], start: RequestView = newRequest("status of line 3", "execute")): RequestView {
  return events.reduce(requestReducer, start);
}

const status = intent("system_status", allowDecision("d-1"), { host: "line3-plc" });
const restart = intent("service_restart", denyDecision("d-2"), { host: "line3-plc", service: "opcua" });

describe("requestReducer", () => {
  it("turns a whole request's events into its view", () => {
    const finished = action("system_status", "d-1", { args: { host: "line3-plc" }, result: { load: 0.4 } });
    const final = outcome({ plan: [status, restart], actions_taken: [finished], answer: "Line 3 is up." });
    const view = play([
      { event: "model_loading" },
      { event: "model_ready", description: "qwen2.5 3B", load_ms: 900 },
      { event: "plan_token", text: '{"intents":' },
      { event: "plan_token", text: "[]}" },
      { event: "decision", intent: status },
      { event: "decision", intent: restart },
      { event: "plan_proposed", plan: [status, restart] },
      { event: "tool_started", tool: "system_status", args: { host: "line3-plc" } },
      { event: "tool_output", stream: "stdout", text: "load " },
      { event: "tool_output", stream: "stderr", text: "warning: slow disk\n" },
      { event: "tool_finished", action: finished },
      { event: "token", text: "Line " },
      { event: "token", text: "3 is " },
      { event: "token", text: "up." },
      { event: "answer", outcome: final },
    ]);

    expect(view.status).toBe("done");
    expect(view.model).toEqual({ phase: "ready", description: "qwen2.5 3B", loadMs: 900 });
    expect(view.planText).toBe('{"intents":[]}');
    expect(view.planned).toBe(true);
    expect(view.intents.map((i) => [i.tool, i.decision.decision])).toEqual([
      ["system_status", "allow"],
      ["service_restart", "deny"],
    ]);
    expect(view.runs).toHaveLength(1);
    expect(view.runs[0]).toEqual({
      tool: "system_status",
      args: { host: "line3-plc" },
      decisionId: "d-1",
      output: [
        { stream: "stdout", text: "load " },
        { stream: "stderr", text: "warning: slow disk\n" },
      ],
      action: finished,
    });
    expect(view.answer).toBe("Line 3 is up.");
    expect(view.outcome).toBe(final);
    expect(view.error).toBeNull();
  });

  it("streams answer tokens before the outcome arrives", () => {
    const view = play([
      { event: "token", text: "Line " },
      { event: "token", text: "3 is " },
      { event: "token", text: "up" },
    ]);
    expect(view.answer).toBe("Line 3 is up");
    expect(view.status).toBe("running");
  });

  it("ends the request with the error's message and ignores later events", () => {
    const view = play([
      { event: "model_loading" },
      { event: "error", message: "The model could not load: run `airlock models` to check." },
      { event: "token", text: "late" },
    ]);
    expect(view.status).toBe("failed");
    expect(view.error).toBe("The model could not load: run `airlock models` to check.");
    expect(view.answer).toBe("");
  });

  it("attaches output to the tool that is running, not an earlier one", () => {
    const logs = intent("read_logs", allowDecision("d-3"));
    const view = play([
      { event: "plan_proposed", plan: [status, logs] },
      { event: "tool_started", tool: "system_status", args: {} },
      { event: "tool_output", stream: "stdout", text: "first\n" },
      { event: "tool_finished", action: action("system_status", "d-1") },
      { event: "tool_started", tool: "read_logs", args: {} },
      { event: "tool_output", stream: "stdout", text: "second\n" },
      { event: "tool_output", stream: "stdout", text: "third\n" },
    ]);
    expect(runOf(view, "d-1")?.output).toEqual([{ stream: "stdout", text: "first\n" }]);
    expect(runOf(view, "d-3")?.output).toEqual([{ stream: "stdout", text: "second\nthird\n" }]);
    expect(runOf(view, "d-3")?.action).toBeNull();
  });

  it("takes the decision id of a finished call from its action", () => {
    const twice = [intent("system_status", allowDecision("d-1")), intent("system_status", allowDecision("d-5"))];
    const view = play([
      { event: "plan_proposed", plan: twice },
      { event: "tool_started", tool: "system_status", args: {} },
      { event: "tool_finished", action: action("system_status", "d-5") },
    ]);
    expect(view.runs.map((run) => run.decisionId)).toEqual(["d-5"]);
  });

  it("records approval requests and the governor's questions", () => {
    const clarify = intent("read_logs", {
      decision: "clarify",
      questions: ["Which line: 3 or 4?"],
      id: "d-7",
      risk: "low",
      deciding_rule: null,
      trace: [],
    });
    const view = play([
      { event: "decision", intent: clarify },
      { event: "approval_requested", approval_id: "ap-1", tool: "service_restart", args: { host: "x" }, approver_group: "shift-leads" },
    ]);
    expect(view.approvals).toEqual([{ approvalId: "ap-1", tool: "service_restart", args: { host: "x" }, approverGroup: "shift-leads" }]);
    expect(clarifyingQuestions(view)).toEqual(["Which line: 3 or 4?"]);
  });
});
