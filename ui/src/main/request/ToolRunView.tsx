import { useEffect, useMemo, useRef } from "react";

import { formatMs, formatValue } from "../../shared/format";
import { ExpandableText } from "../../shared/decision/ExpandableText";
import { ToolChart } from "./charts/ToolChart";
import { toolChart } from "./charts/toolCharts";
import type { ToolRun } from "./requestReducer";

/**
 * A call that ran: its live output (stdout and stderr told apart, kept scrolled to the end),
 * then its result or error with how long it took. A known tool's result is drawn as a chart
 * too, with the raw result one click away.
 */
export function ToolRunView({ run }: { run: ToolRun }) {
  const outputRef = useRef<HTMLPreElement>(null);
  const outputLength = run.output.reduce((sum, chunk) => sum + chunk.text.length, 0);

  useEffect(() => {
    const element = outputRef.current;
    if (element) {
      element.scrollTop = element.scrollHeight;
    }
  }, [outputLength]);

  const { action } = run;
  const chart = useMemo(
    () => (action !== null && action.error === null ? toolChart(action.tool, action.result, action.args) : null),
    [action],
  );
  return (
    <div className="tool-run">
      <p className="tool-run-head">
        {action === null ? (
          <span className="running">Running…</span>
        ) : action.error === null ? (
          <span className="ran-ok">Finished in {formatMs(action.duration_ms)}</span>
        ) : (
          <span className="ran-failed">Failed after {formatMs(action.duration_ms)}</span>
        )}
      </p>
      {run.output.length > 0 && (
        <pre className="tool-output" ref={outputRef} tabIndex={0} aria-label="Tool output">
          {run.output.map((chunk, index) => (
            <span key={index} className={`out-${chunk.stream}`} title={chunk.stream}>
              {chunk.text}
            </span>
          ))}
        </pre>
      )}
      {action?.error != null && (
        <p className="error" role="alert">
          Error: {action.error}
        </p>
      )}
      {action !== null && action.error === null && (
        <div className="tool-result">
          <span className="label">Result</span>
          {chart === null ? (
            <pre className="mono">
              <ExpandableText text={formatValue(action.result)} />
            </pre>
          ) : (
            <>
              <ToolChart chart={chart} />
              <details className="raw-result">
                <summary>Raw result</summary>
                <pre className="mono">
                  <ExpandableText text={formatValue(action.result)} />
                </pre>
              </details>
            </>
          )}
        </div>
      )}
    </div>
  );
}
