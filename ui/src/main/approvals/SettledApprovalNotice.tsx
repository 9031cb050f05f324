import type { Verdict } from "../../api/types";
import { VERDICTS } from "../../shared/decision/verdicts";
import type { SettledNotice, SettledVerdict } from "./settledApprovals";

/** Each result's headline, its outcome colour and the governor verdict whose icon it borrows. */
const LOOKS: Record<SettledVerdict, { title: string; outcome: string; icon: Verdict }> = {
  approved: { title: "Approved", outcome: "outcome-allow", icon: "pass" },
  denied: { title: "Denied", outcome: "outcome-deny", icon: "deny" },
  failed: { title: "Approved, but the call failed", outcome: "outcome-failed", icon: "warn" },
};

/**
 * A settled approval's result in the requester's conversation: approved (and ran), denied, or
 * approved but failed, in the engine's words. Announced politely when it appears.
 */
export function SettledApprovalNotice({ notice }: { notice: SettledNotice }) {
  const look = LOOKS[notice.verdict];
  const icon = VERDICTS[look.icon];
  return (
    <div
      className={`intent approval-notice approval-notice-${notice.verdict}`}
      data-testid="approval-notice"
      data-verdict={notice.verdict}
      role="status"
      aria-live="polite"
    >
      <p className={`outcome ${look.outcome}`}>
        <span className="approval-notice-icon" aria-hidden="true">
          {icon.icon}
        </span>{" "}
        {look.title}
      </p>
      <p className="answer-text">{notice.text}</p>
    </div>
  );
}
