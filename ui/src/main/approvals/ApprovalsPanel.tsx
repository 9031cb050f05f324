import type { Ref } from "react";

import type { PendingApproval } from "../../api/types";
import { ApprovalList, ApprovalsBadge } from "./ApprovalList";

/** The main window's approvals side panel: a count badge, a Show/Hide toggle, the list. */
export function ApprovalsPanel({
  approvals,
  error,
  open,
  onToggle,
  onRefresh,
  panelRef,
}: {
  approvals: PendingApproval[] | null;
  error: string | null;
  open: boolean;
  onToggle: () => void;
  onRefresh: () => void;
  panelRef?: Ref<HTMLElement>;
}) {
  return (
    <aside
      className={open ? "approvals" : "approvals approvals-collapsed"}
      aria-labelledby="approvals-title"
      tabIndex={-1}
      ref={panelRef}
    >
      <header className="approvals-head">
        <h2 id="approvals-title">Approvals</h2>
        <ApprovalsBadge count={approvals?.length ?? 0} />
        <button type="button" className="panel-toggle" aria-expanded={open} onClick={onToggle} title="Ctrl+Shift+A">
          {open ? "Hide" : "Show"}
        </button>
      </header>
      {/* Hidden, not unmounted: cards decided here keep their result while the panel is closed. */}
      <div className="approvals-body" hidden={!open}>
        <ApprovalList approvals={approvals} error={error} onRefresh={onRefresh} />
      </div>
    </aside>
  );
}
