import { useEffect, useMemo, useRef, useState } from "react";

import { conversationMessages } from "../../api/commands";
import type { ApprovalRecord, PendingApproval } from "../../api/types";
import type { Chat } from "../chat/useChat";
import { claimSettlements, leftPending, messageKey, type SettledNotice } from "./settledApprovals";

/**
 * How long a settled approval's message is looked for after the approval left the pending
 * list: approving runs the call before the engine writes the result, and an expired approval
 * gets no message at all.
 */
const SETTLED_WAIT_MS = 120_000;

/** A settled approval whose message was not read yet, and since when it is looked for. */
interface Waiting {
  approval: ApprovalRecord;
  since: number;
}

/** What is looked for in the open conversation, and which messages became notices. */
interface Tracking {
  conversationId: string | null;
  waiting: Waiting[];
  claimed: Set<string>;
}

/** The notices shown, and the conversation they belong to. */
interface Shown {
  conversationId: string | null;
  notices: SettledNotice[];
}

/**
 * The results of the open conversation's approvals settled while it is open (here, in the
 * admin window, or by expiry), as the engine writes them into the conversation. A poll of
 * `pending` that no longer lists such an approval re-reads the conversation, and so do the
 * next polls until its message is there. Each message is shown once; opening a conversation
 * clears them, and one its stored history already holds is not shown.
 */
export function useSettledApprovals(
  chat: Pick<Chat, "conversationId" | "history" | "historyLoading">,
  pending: PendingApproval[] | null,
): SettledNotice[] {
  const { conversationId, history, historyLoading } = chat;
  const [shown, setShown] = useState<Shown>({ conversationId, notices: [] });
  if (shown.conversationId !== conversationId) {
    setShown({ conversationId, notices: [] });
  }
  const seen = useRef<PendingApproval[] | null>(null);
  const tracking = useRef<Tracking>({ conversationId, waiting: [], claimed: new Set() });
  const stored = useRef(history);

  useEffect(() => {
    stored.current = history;
  }, [history]);

  useEffect(() => {
    if (pending === null) return;
    const before = seen.current ?? pending;
    seen.current = pending;
    if (tracking.current.conversationId !== conversationId) {
      tracking.current = { conversationId, waiting: [], claimed: new Set() };
    }
    const mine = tracking.current;
    if (conversationId === null) return;
    const now = Date.now();
    mine.waiting = [
      ...mine.waiting.filter((item) => now - item.since < SETTLED_WAIT_MS),
      ...leftPending(before, pending, conversationId).map((approval) => ({ approval, since: now })),
    ];
    if (mine.waiting.length === 0) return;

    let current = true;
    conversationMessages(conversationId).then(
      (messages) => {
        if (!current) return;
        const taken = new Set([...mine.claimed, ...stored.current.map(messageKey)]);
        const { found } = claimSettlements(
          messages,
          mine.waiting.map((item) => item.approval),
          taken,
        );
        if (found.length === 0) return;
        const done = new Set(found.map((notice) => notice.approvalId));
        mine.waiting = mine.waiting.filter((item) => !done.has(item.approval.id));
        for (const notice of found) mine.claimed.add(notice.key);
        setShown((last) =>
          last.conversationId === conversationId ? { conversationId, notices: [...last.notices, ...found] } : last,
        );
      },
      () => {
        // Unread: the next poll tries again (the stored history has it on reopening anyway).
      },
    );
    return () => {
      current = false;
    };
  }, [pending, conversationId]);

  const inHistory = useMemo(() => new Set(history.map(messageKey)), [history]);
  if (shown.conversationId !== conversationId || historyLoading) return [];
  return shown.notices.filter((notice) => !inHistory.has(notice.key));
}
