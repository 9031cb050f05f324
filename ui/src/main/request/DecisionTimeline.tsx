import type { PlannedIntent, PlanStop, Timings } from "../../api/types";
import { ArgumentList } from "../../shared/decision/ArgumentList";
import { DecisionView } from "../../shared/decision/DecisionView";
import { PlanStoppedBlock } from "./PlanStoppedBlock";
import { runOf, type ToolRun } from "./requestReducer";
import { TimingsFooter } from "./TimingsFooter";
import { ToolRunView } from "./ToolRunView";

/** What the timeline of one request shows. */
export interface DecisionTimelineProps {
  intents: PlannedIntent[];
  runs: ToolRun[];
  planStopped?: PlanStop | undefined;
  timings?: Timings | undefined;
}

/**
 * Per request: each proposed call with every argument, the model's reasoning, every governor
 * layer's step, the outcome, and what running it produced; then a stopped plan and timings.
 */
export function DecisionTimeline({ intents, runs, planStopped, timings }: DecisionTimelineProps) {
  const decided = new Set(intents.map((intent) => intent.decision.id));
  const others = runs.filter((run) => run.decisionId === null || !decided.has(run.decisionId));
  return (
    <div className="timeline">
      {intents.length > 0 && (
        <ol className="intents">
          {intents.map((intent) => (
            <IntentItem key={intent.decision.id} intent={intent} run={runOf({ runs }, intent.decision.id)} />
          ))}
        </ol>
      )}
      {others.map((run, index) => (
        <div className="intent" key={`other-${String(index)}`}>
          <p className="intent-head">
            <code className="tool-name">{run.tool}</code>
          </p>
          <ArgumentList args={run.args} />
          <ToolRunView run={run} />
        </div>
      ))}
      {planStopped && <PlanStoppedBlock stop={planStopped} />}
      {timings && <TimingsFooter timings={timings} />}
    </div>
  );
}

function IntentItem({ intent, run }: { intent: PlannedIntent; run: ToolRun | undefined }) {
  return (
    <li
      className={`intent intent-${intent.decision.decision}`}
      data-testid="timeline-intent"
      data-tool={intent.tool}
      data-outcome={intent.decision.decision}
    >
      <p className="intent-head">
        <code className="tool-name">{intent.tool}</code>
      </p>
      <ArgumentList args={intent.args} />
      <p className="reasoning">
        {intent.reasoning}{" "}
        <span className={`confidence confidence-${intent.confidence}`}>confidence: {intent.confidence}</span>
      </p>
      <DecisionView decision={intent.decision} />
      {intent.approval_id !== undefined && (
        <p className="approval-note">
          Approval request <code>{intent.approval_id}</code> waits in the approvals panel.
        </p>
      )}
      {run && <ToolRunView run={run} />}
    </li>
  );
}
