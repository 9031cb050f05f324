// How a settled approval's result gets back to the requester's conversation: the engine
// appends an assistant message (trace id = the approval's) when an approver approves or denies
// (airlock_agent's `Agent::approve`/`Agent::deny`); these pure helpers find and place them.

import type { ApprovalRecord, PendingApproval, StoredMessage } from "../../api/types";
import type { ChatRequest } from "../chat/useChat";

/** How an approval was settled, as its message says. */
export type SettledVerdict = "approved" | "denied" | "failed";

/** An approval's result, shown in the conversation it was requested in. */
export interface SettledNotice {
  /** The stored message's identity (see `messageKey`). */
  key: string;
  /** The approval whose message this is. */
  approvalId: string;
  /** The request's trace: the notice goes under the request of this trace. */
  traceId: string;
  verdict: SettledVerdict;
  /** The engine's words, e.g. "Denied by lee ("not now"): `restart_service` will not run." */
  text: string;
}

/** A stored message's identity: messages have no id, but trace, time and text together do. */
export function messageKey(message: StoredMessage): string {
  return `${message.trace_id ?? ""}\n${message.created_at}\n${message.content}`;
}

/**
 * The verdict of an engine's settlement message, or null when `text` is not one. The texts
 * are "Denied by NAME: …", "Approved by NAME: `TOOL` ran. …" and "Approved by NAME, but
 * `TOOL` failed: …" (or "did not start"); NAME may carry the comment in quotes.
 */
export function settlementVerdict(text: string): SettledVerdict | null {
  if (text.startsWith("Denied by ")) return "denied";
  if (!text.startsWith("Approved by ")) return null;
  // The first marker after the name is the engine's; a later one may be inside the result.
  const marker = /(: `[^`]*` ran\.)|(, but `[^`]*` (?:failed|did not start))/.exec(text);
  return marker?.[2] === undefined ? "approved" : "failed";
}

/** The approvals of `conversationId` that were pending `before` and are not any more. */
export function leftPending(
  before: readonly PendingApproval[],
  after: readonly PendingApproval[],
  conversationId: string,
): ApprovalRecord[] {
  const still = new Set(after.map((item) => item.approval.id));
  return before
    .map((item) => item.approval)
    .filter((approval) => approval.conversation_id === conversationId && !still.has(approval.id));
}

/**
 * Matches each settled approval with its message among `messages` (an assistant message of
 * its trace that names its tool and is not `taken` yet). Returns the notices found and the
 * approvals whose message is not there yet (the engine writes it after the call ran).
 */
export function claimSettlements(
  messages: readonly StoredMessage[],
  settled: readonly ApprovalRecord[],
  taken: ReadonlySet<string>,
): { found: SettledNotice[]; waiting: ApprovalRecord[] } {
  const claimed = new Set(taken);
  const found: SettledNotice[] = [];
  const waiting: ApprovalRecord[] = [];
  for (const approval of settled) {
    const match = messages.find(
      (message) =>
        message.role === "assistant" &&
        message.trace_id === approval.trace_id &&
        message.content.includes(`\`${approval.tool}\``) &&
        settlementVerdict(message.content) !== null &&
        !claimed.has(messageKey(message)),
    );
    const verdict = match ? settlementVerdict(match.content) : null;
    if (!match || verdict === null) {
      waiting.push(approval);
      continue;
    }
    const key = messageKey(match);
    claimed.add(key);
    found.push({ key, approvalId: approval.id, traceId: approval.trace_id, verdict, text: match.content });
  }
  return { found, waiting };
}

/**
 * Where each notice goes: under this session's request of its trace, else (the request is
 * only in the stored history) after the history.
 */
export function placeNotices(
  notices: readonly SettledNotice[],
  requests: readonly ChatRequest[],
): { byRequest: Map<number, SettledNotice[]>; afterHistory: SettledNotice[] } {
  const keyOfTrace = new Map<string, number>();
  for (const request of requests) {
    const traceId = request.view.outcome?.audit.trace_id;
    if (traceId !== undefined) keyOfTrace.set(traceId, request.key);
  }
  const byRequest = new Map<number, SettledNotice[]>();
  const afterHistory: SettledNotice[] = [];
  for (const notice of notices) {
    const key = keyOfTrace.get(notice.traceId);
    if (key === undefined) {
      afterHistory.push(notice);
    } else {
      byRequest.set(key, [...(byRequest.get(key) ?? []), notice]);
    }
  }
  return { byRequest, afterHistory };
}
