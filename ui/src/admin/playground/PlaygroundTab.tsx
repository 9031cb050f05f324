import { useState } from "react";

import { playground } from "../../api/commands";
import type { Decision } from "../../api/types";
import { DecisionView } from "../../shared/decision/DecisionView";
import { errorMessage } from "../../shared/errors";
import { parseArgs } from "./parseArgs";
import { PolicyTests } from "./PolicyTests";

/** Decides a call with the policy in force without running it; runs the policy tests. */
export function PlaygroundTab() {
  const [principal, setPrincipal] = useState("");
  const [tool, setTool] = useState("");
  const [argsText, setArgsText] = useState("{}");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [decision, setDecision] = useState<Decision | null>(null);

  const decide = () => {
    const parsed = parseArgs(argsText);
    if (!parsed.ok) {
      setError(parsed.error);
      return;
    }
    setError(null);
    setBusy(true);
    playground(principal.trim(), tool.trim(), parsed.args).then(
      (result) => {
        setDecision(result);
        setBusy(false);
      },
      (err: unknown) => {
        setError(errorMessage(err));
        setDecision(null);
        setBusy(false);
      },
    );
  };

  return (
    <div className="playground">
      <form
        className="stacked-form"
        onSubmit={(event) => {
          event.preventDefault();
          decide();
        }}
      >
        <label>
          Principal
          <input
            value={principal}
            placeholder="operator.jdoe"
            onChange={(event) => {
              setPrincipal(event.target.value);
            }}
          />
        </label>
        <label>
          Tool
          <input
            value={tool}
            placeholder="service_restart"
            onChange={(event) => {
              setTool(event.target.value);
            }}
          />
        </label>
        <label>
          Arguments (JSON object)
          <textarea
            className="mono"
            rows={6}
            value={argsText}
            aria-invalid={error !== null && !parseArgs(argsText).ok}
            onChange={(event) => {
              setArgsText(event.target.value);
            }}
          />
        </label>
        <div className="form-actions">
          <button type="submit" className="primary" disabled={busy || principal.trim() === "" || tool.trim() === ""}>
            {busy ? "Deciding…" : "Decide"}
          </button>
        </div>
      </form>
      {error !== null && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {decision !== null && (
        <section className="playground-result" aria-label="Decision">
          <DecisionView decision={decision} />
        </section>
      )}
      <PolicyTests />
    </div>
  );
}
