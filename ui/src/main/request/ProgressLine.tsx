import { formatMs } from "../../shared/format";
import type { RequestView } from "./requestReducer";

/** The faint progress lines of a request: the model's state and the plan being written. */
export function ProgressLine({ view }: { view: RequestView }) {
  const running = view.status === "running";
  const { model } = view;
  return (
    <div className="progress">
      {model.phase === "loading" && running && <p className="faint">Loading the model…</p>}
      {model.phase === "ready" && (
        <p className="faint">
          Model ready{model.description !== null && `: ${model.description}`}
          {model.loadMs !== null && ` (loaded in ${formatMs(model.loadMs)})`}
        </p>
      )}
      {view.planText !== "" && (
        <details className="plan-raw faint">
          <summary>{view.planned ? "Raw plan" : `planning… (${String(view.planText.length)} characters)`}</summary>
          <pre className="mono">{view.planText}</pre>
        </details>
      )}
      {running && model.phase !== "loading" && view.planText === "" && view.intents.length === 0 && (
        <p className="faint">Working…</p>
      )}
    </div>
  );
}
