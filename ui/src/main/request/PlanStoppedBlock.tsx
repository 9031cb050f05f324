import type { PlanStop } from "../../api/types";
import { ArgumentList } from "../../shared/decision/ArgumentList";

/** Why the plan stopped part-way: the failed call, what was skipped, the undo offered. */
export function PlanStoppedBlock({ stop }: { stop: PlanStop }) {
  return (
    <div className="warning plan-stopped" role="status">
      <p>
        <strong>The plan stopped:</strong> <code>{stop.failed}</code> failed: {stop.error}
      </p>
      {stop.skipped.length > 0 && (
        <p>
          Not run:{" "}
          {stop.skipped.map((tool, index) => (
            <code key={`${tool}-${String(index)}`}>{tool}</code>
          ))}
        </p>
      )}
      {stop.compensations.length > 0 && (
        <div>
          <p>Undo offered for what already ran:</p>
          <ul className="compensations">
            {stop.compensations.map((compensation) => (
              <li key={compensation.decision_id}>
                <code>{compensation.undo.tool}</code> undoes <code>{compensation.tool}</code>
                <ArgumentList args={compensation.undo.args} />
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}
