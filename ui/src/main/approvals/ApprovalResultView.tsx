import type { ApprovalOutcome, ApprovalRecord } from "../../api/types";
import { ToolRunView } from "../request/ToolRunView";
import type { ToolRun } from "../request/requestReducer";

/** What deciding an approval did. */
export type ApprovalResult =
  | { kind: "approved"; outcome: ApprovalOutcome }
  | { kind: "denied"; record: ApprovalRecord };

function approvedLine(outcome: ApprovalOutcome): string {
  const { approval } = outcome;
  const who = approval.decided_by ?? "you";
  switch (approval.status) {
    case "executed":
      return `Approved by ${who} and executed.`;
    case "failed":
      return `Approved by ${who}; the call failed.`;
    default:
      return `Approved by ${who} (${approval.status}).`;
  }
}

/** The card's result: executed or denied, with the call's result or error. */
export function ApprovalResultView({ result, liveRuns }: { result: ApprovalResult; liveRuns: ToolRun[] }) {
  if (result.kind === "denied") {
    const { record } = result;
    return (
      <div className="approval-result denied" data-testid="approval-result" data-status={record.status}>
        <p>
          Denied by {record.decided_by ?? "you"}
          {record.comment !== null && `: ${record.comment}`}
        </p>
      </div>
    );
  }
  const { outcome } = result;
  const { action } = outcome;
  const runs: ToolRun[] =
    liveRuns.length > 0
      ? liveRuns
      : action
        ? [{ tool: action.tool, args: action.args, decisionId: action.decision_id, output: [], action }]
        : [];
  return (
    <div className="approval-result approved" data-testid="approval-result" data-status={outcome.approval.status}>
      <p>{approvedLine(outcome)}</p>
      {runs.map((run, index) => (
        <ToolRunView key={index} run={run} />
      ))}
    </div>
  );
}
