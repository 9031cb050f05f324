import type { Decision } from "../../api/types";
import { RuleChip, StepRow } from "./StepRow";

/** The governor's layers for one decision, in order, one step row each. */
export function DecisionTrace({ decision }: { decision: Decision }) {
  const decidingRule = decision.deciding_rule;
  const inTrace =
    decidingRule !== null && decision.trace.some((step) => step.rules.includes(decidingRule));
  return (
    <>
      <ol className="trace">
        {decision.trace.map((step, index) => (
          <StepRow key={`${step.layer}-${String(index)}`} step={step} decidingRule={decidingRule} />
        ))}
      </ol>
      {decidingRule !== null && !inTrace && (
        <p className="deciding-rule">
          Deciding rule: <RuleChip rule={decidingRule} deciding />
        </p>
      )}
    </>
  );
}
