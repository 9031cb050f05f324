import type { Outcome } from "../../api/types";

/** The decision's outcome in words: Allowed, Denied, Needs approval, Needs clarification. */
export function OutcomeLine({ outcome }: { outcome: Outcome }) {
  switch (outcome.decision) {
    case "allow":
      return <p className="outcome outcome-allow">Allowed</p>;
    case "deny":
      return <p className="outcome outcome-deny">Denied: {outcome.reason}</p>;
    case "require_approval":
      return (
        <p className="outcome outcome-require_approval">
          Needs approval by <strong>{outcome.approver_group}</strong>: {outcome.reason}
        </p>
      );
    case "clarify":
      return (
        <div className="outcome outcome-clarify">
          Needs clarification:
          <ul>
            {outcome.questions.map((question) => (
              <li key={question}>{question}</li>
            ))}
          </ul>
        </div>
      );
  }
}
