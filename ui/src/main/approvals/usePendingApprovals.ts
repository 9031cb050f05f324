import { pendingApprovals } from "../../api/commands";
import type { PendingApproval } from "../../api/types";
import { usePolling, type Polled } from "../../shared/usePolling";

/** How often the pending approvals are read again. */
const APPROVALS_EVERY_MS = 5_000;

/** The pending approvals, read now and every few seconds (both windows list them). */
export function usePendingApprovals(): Polled<PendingApproval[]> {
  return usePolling(pendingApprovals, APPROVALS_EVERY_MS);
}
