import { describe, expect, it } from "vitest";

import type { StoredMessage } from "../../api/types";
import { outcome, pendingApproval } from "../../test/fixtures";
import type { ChatRequest } from "../chat/useChat";
import { newRequest, requestReducer } from "../request/requestReducer";
import {
  claimSettlements,
  leftPending,
  messageKey,
  placeNotices,
  settlementVerdict,
  type SettledNotice,
} from "./settledApprovals";

const EXPIRES = "2025-03-01T10:15:00Z";

function assistant(content: string, traceId = "t-9", createdAt = "2025-03-01 10:05:00"): StoredMessage {
  return { role: "assistant", content, trace_id: traceId, created_at: createdAt };
}

describe("settlementVerdict", () => {
  it("reads the engine's three results", () => {
    expect(
      settlementVerdict('Approved by lee ("line is stopped"): `restart_service` ran. Result: {"restarted":true}'),
    ).toBe("approved");
    expect(settlementVerdict("Approved by lee, but `restart_service` failed: exit code 3")).toBe("failed");
    expect(
      settlementVerdict(
        "Approved by lee, but `restart_service` did not start; the audit log of its trace says why",
      ),
    ).toBe("failed");
    expect(settlementVerdict('Denied by lee ("not during the shift"): `restart_service` will not run.')).toBe("denied");
  });

  it("goes by the first marker, not one inside the result", () => {
    expect(
      settlementVerdict('Approved by lee: `restart_service` ran. Result: {"log":"x, but `db` failed: y"}'),
    ).toBe("approved");
  });

  it("is null for any other message", () => {
    expect(settlementVerdict("The restart waits for approval by shift-leads.")).toBeNull();
    expect(settlementVerdict("")).toBeNull();
  });
});

describe("leftPending", () => {
  it("gives the approvals of the conversation that are no longer pending", () => {
    const mine = pendingApproval(EXPIRES, { id: "ap-1", conversation_id: "conv-9" });
    const staying = pendingApproval(EXPIRES, { id: "ap-2", conversation_id: "conv-9" });
    const other = pendingApproval(EXPIRES, { id: "ap-3", conversation_id: "conv-5" });
    expect(leftPending([mine, staying, other], [staying], "conv-9").map((approval) => approval.id)).toEqual(["ap-1"]);
    expect(leftPending([mine, staying, other], [mine, staying], "conv-9")).toEqual([]);
  });
});

describe("claimSettlements", () => {
  const approval = pendingApproval(EXPIRES).approval;
  const answer = assistant("The restart of opcua-bridge waits for approval by shift-leads.");
  const denial = assistant('Denied by lee ("not now"): `service_restart` will not run.', "t-9", "2025-03-01 10:06:00");

  it("takes the approval's settlement message, not the request's answer", () => {
    const { found, waiting } = claimSettlements([answer, denial], [approval], new Set());
    expect(found).toEqual([
      { key: messageKey(denial), approvalId: "ap-1", traceId: "t-9", verdict: "denied", text: denial.content },
    ]);
    expect(waiting).toEqual([]);
  });

  it("keeps the approval waiting until its message is written", () => {
    const { found, waiting } = claimSettlements([answer], [approval], new Set());
    expect(found).toEqual([]);
    expect(waiting).toEqual([approval]);
  });

  it("skips taken messages, other traces and other tools", () => {
    const otherTrace = assistant("Approved by lee: `service_restart` ran. Result: {}", "t-1");
    const otherTool = assistant("Approved by lee: `get_logs` ran. Result: {}");
    const taken = new Set([messageKey(denial)]);
    const { found, waiting } = claimSettlements([denial, otherTrace, otherTool], [approval], taken);
    expect(found).toEqual([]);
    expect(waiting).toEqual([approval]);
  });

  it("gives two approvals of one trace one message each", () => {
    const second = { ...approval, id: "ap-2" };
    const approved = assistant("Approved by lee: `service_restart` ran. Result: {}", "t-9", "2025-03-01 10:07:00");
    const { found } = claimSettlements([answer, denial, approved], [approval, second], new Set());
    expect(found.map((notice) => [notice.approvalId, notice.verdict])).toEqual([
      ["ap-1", "denied"],
      ["ap-2", "approved"],
    ]);
  });
});

describe("placeNotices", () => {
  function notice(traceId: string): SettledNotice {
    return { key: `k-${traceId}`, approvalId: "ap-1", traceId, verdict: "approved", text: "Approved by lee" };
  }

  it("puts a notice under the request of its trace, else after the history", () => {
    const answered = requestReducer(newRequest("restart the bridge", "execute"), {
      event: "answer",
      outcome: outcome({ audit: { trace_id: "t-9", mode: "execute", conversation_id: "conv-9" } }),
    });
    const requests: ChatRequest[] = [
      { key: 0, view: newRequest("still running", "plan") },
      { key: 1, view: answered },
    ];
    const { byRequest, afterHistory } = placeNotices([notice("t-9"), notice("t-old")], requests);
    expect([...byRequest.entries()]).toEqual([[1, [notice("t-9")]]]);
    expect(afterHistory).toEqual([notice("t-old")]);
  });
});
