import { useState } from "react";

import type { PendingApproval } from "../../api/types";
import { useNow } from "../../shared/useNow";
import { ApprovalCard } from "./ApprovalCard";

/** How many requests wait, as a badge (highlighted when any does). */
export function ApprovalsBadge({ count }: { count: number }) {
  return (
    <span
      className={count > 0 ? "count-badge count-badge-active" : "count-badge"}
      data-testid="approvals-badge"
      aria-label={`${String(count)} waiting`}
    >
      {count}
    </span>
  );
}

/**
 * The pending approvals as cards, newest state from the shell. Cards decided here stay
 * (showing their result) until dismissed, though the shell no longer lists them. Used by the
 * main window's panel and the admin window's Approvals tab.
 */
export function ApprovalList({
  approvals,
  error,
  onRefresh,
}: {
  approvals: PendingApproval[] | null;
  error: string | null;
  onRefresh: () => void;
}) {
  const now = useNow();
  const [decided, setDecided] = useState<PendingApproval[]>([]);
  const pending = approvals ?? [];
  const listed = new Set(pending.map((item) => item.approval.id));
  const shown = [...pending, ...decided.filter((item) => !listed.has(item.approval.id))];

  return (
    <div className="approval-list">
      {error !== null && (
        <p className="error small" role="alert">
          Could not read the approvals: {error}
        </p>
      )}
      {approvals === null && error === null && <p className="muted">Reading approvals…</p>}
      {approvals !== null && shown.length === 0 && <p className="empty-state">Nothing waits for approval.</p>}
      {shown.map((item) => (
        <div key={item.approval.id} className="approval-slot">
          <ApprovalCard
            item={item}
            now={now}
            onDecided={(done) => {
              setDecided((all) => [...all.filter((x) => x.approval.id !== done.approval.id), done]);
              onRefresh();
            }}
          />
          {!listed.has(item.approval.id) && (
            <button
              type="button"
              className="link-button"
              onClick={() => {
                setDecided((all) => all.filter((x) => x.approval.id !== item.approval.id));
              }}
            >
              Dismiss
            </button>
          )}
        </div>
      ))}
    </div>
  );
}
