import type { Decision } from "../../api/types";
import { DecisionTrace } from "./DecisionTrace";
import { OutcomeLine } from "./OutcomeLine";
import { RiskBadge } from "./RiskBadge";

/** A governor decision: risk badge and outcome, then its trace. */
export function DecisionView({ decision }: { decision: Decision }) {
  return (
    <div className="decision">
      <div className="decision-head">
        <RiskBadge risk={decision.risk} />
        <OutcomeLine outcome={decision} />
      </div>
      <DecisionTrace decision={decision} />
    </div>
  );
}
