import { useState } from "react";

import { runPolicyTests } from "../../api/commands";
import type { PolicyCaseResult } from "../../api/types";
import { errorMessage } from "../../shared/errors";

type Run = { kind: "idle" } | { kind: "running" } | { kind: "error"; message: string } | { kind: "done"; cases: PolicyCaseResult[] };

/** Runs the policy's test tables and shows each case with what it expected and got. */
export function PolicyTests() {
  const [run, setRun] = useState<Run>({ kind: "idle" });
  const start = () => {
    setRun({ kind: "running" });
    runPolicyTests().then(
      (cases) => {
        setRun({ kind: "done", cases });
      },
      (error: unknown) => {
        setRun({ kind: "error", message: errorMessage(error) });
      },
    );
  };
  const passed = run.kind === "done" ? run.cases.filter((c) => c.passed).length : 0;
  return (
    <section className="policy-tests" aria-labelledby="policy-tests-title">
      <h2 id="policy-tests-title">Policy tests</h2>
      <button type="button" onClick={start} disabled={run.kind === "running"}>
        {run.kind === "running" ? "Running…" : "Run policy tests"}
      </button>
      {run.kind === "error" && (
        <p className="error" role="alert">
          {run.message}
        </p>
      )}
      {run.kind === "done" && (
        <>
          <p className={passed === run.cases.length ? "notice notice-ok" : "error"} role="status">
            {passed} of {run.cases.length} passed
          </p>
          <table className="dense">
            <thead>
              <tr>
                <th>File</th>
                <th>Case</th>
                <th>Result</th>
                <th>Expected</th>
                <th>Got</th>
              </tr>
            </thead>
            <tbody>
              {run.cases.map((c, index) => (
                <tr key={`${c.file}-${c.name}-${String(index)}`} className={c.passed ? "" : "row-failed"}>
                  <td>{c.file}</td>
                  <td>{c.name}</td>
                  <td className={c.passed ? "pass" : "fail"}>{c.passed ? "✓ pass" : "✗ fail"}</td>
                  <td>{c.expected}</td>
                  <td>{c.got}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
