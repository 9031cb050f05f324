import type { Step } from "../../api/types";
import { humanise } from "../format";
import { VERDICTS } from "./verdicts";

/** One governor layer's result: verdict icon, layer, detail and its rules as chips. */
export function StepRow({ step, decidingRule }: { step: Step; decidingRule: string | null }) {
  const verdict = VERDICTS[step.verdict];
  const decides = decidingRule !== null && step.rules.includes(decidingRule);
  return (
    <li
      className={`step step-${step.verdict}${decides ? " step-deciding" : ""}`}
      data-testid="timeline-step"
      data-layer={step.layer}
      data-verdict={step.verdict}
    >
      <span className="step-icon" role="img" aria-label={verdict.label} title={verdict.label}>
        {verdict.icon}
      </span>
      <span className="step-layer">{humanise(step.layer)}</span>
      <span className="step-detail">{step.detail}</span>
      {step.rules.length > 0 && (
        <span className="step-rules">
          {step.rules.map((rule) => (
            <RuleChip key={rule} rule={rule} deciding={rule === decidingRule} />
          ))}
        </span>
      )}
    </li>
  );
}

/** A policy id; the deciding rule is highlighted and says so. */
export function RuleChip({ rule, deciding }: { rule: string; deciding: boolean }) {
  return (
    <code
      className={deciding ? "rule rule-deciding" : "rule"}
      data-deciding={deciding ? "true" : undefined}
      title={deciding ? "The rule that decided" : undefined}
    >
      {rule}
      {deciding && <span className="visually-hidden"> (deciding rule)</span>}
    </code>
  );
}
