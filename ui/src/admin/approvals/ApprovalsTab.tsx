import { ApprovalList, ApprovalsBadge } from "../../main/approvals/ApprovalList";
import { usePendingApprovals } from "../../main/approvals/usePendingApprovals";

/**
 * The calls that wait for a human, as the main window lists them. Each decision is signed
 * with the approver's own account and passphrase, not the admin's sign-in.
 */
export function ApprovalsTab() {
  const approvals = usePendingApprovals();
  return (
    <div className="approvals-tab">
      <header className="approvals-tab-head">
        <h2>Waiting for approval</h2>
        <ApprovalsBadge count={approvals.data?.length ?? 0} />
      </header>
      <p className="muted small">
        Approve or deny with the approver's own account and passphrase: the decision is recorded under that
        account, not under the admin signed in here.
      </p>
      <ApprovalList approvals={approvals.data} error={approvals.error} onRefresh={approvals.refresh} />
    </div>
  );
}
