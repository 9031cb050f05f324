import { DecisionView } from "../../shared/decision/DecisionView";
import type { SettledNotice } from "../approvals/settledApprovals";
import { SettledApprovalNotice } from "../approvals/SettledApprovalNotice";
import { AnswerView } from "./AnswerView";
import { ClarifyBubble } from "./ClarifyBubble";
import { DecisionTimeline } from "./DecisionTimeline";
import { ProgressLine } from "./ProgressLine";
import { clarifyingQuestions, type RequestView } from "./requestReducer";

/**
 * One request of the transcript: what was asked, what the governor decided, what ran, the
 * answer, then the results of its calls that waited for approval (`notices`).
 */
export function RequestBlock({
  view,
  notices = [],
  onCite,
}: {
  view: RequestView;
  notices?: readonly SettledNotice[];
  onCite: (chunkId: number) => void;
}) {
  const { outcome } = view;
  const admission = outcome?.admission;
  const questions = clarifyingQuestions(view);
  const running = view.status === "running";
  return (
    <article className="request" data-testid="request" aria-busy={running}>
      <div className="bubble bubble-user">
        <span className={`mode-tag mode-tag-${view.mode}`}>{view.mode === "plan" ? "Plan" : "Execute"}</span>
        <p className="user-text">{view.text}</p>
      </div>
      <ProgressLine view={view} />
      {admission && admission.decision !== "allow" && (
        <div className="admission">
          <p className="label">The request itself</p>
          <DecisionView decision={admission} />
        </div>
      )}
      <DecisionTimeline
        intents={view.intents}
        runs={view.runs}
        planStopped={outcome?.plan_stopped}
        timings={outcome?.timings}
      />
      {view.approvals.length > 0 && (
        <p className="approval-note">
          {view.approvals.length === 1 ? "1 call waits" : `${String(view.approvals.length)} calls wait`} for approval by{" "}
          {[...new Set(view.approvals.map((approval) => approval.approverGroup))].join(", ")}: see the approvals panel
          (Ctrl+Shift+A).
        </p>
      )}
      {questions.length > 0 && <ClarifyBubble questions={questions} />}
      {view.answer.trim() !== "" && (
        <AnswerView answer={view.answer} sources={outcome?.sources ?? []} streaming={running} onCite={onCite} />
      )}
      {view.error !== null && (
        <div className="error" role="alert">
          {view.error}
        </div>
      )}
      {notices.map((notice) => (
        <SettledApprovalNotice key={notice.key} notice={notice} />
      ))}
    </article>
  );
}
