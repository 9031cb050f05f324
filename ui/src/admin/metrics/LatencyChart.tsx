import { barWidth, fit, LABEL_WIDTH, VALUE_ROOM, VALUE_X, WIDTH } from "./BarChart";
import { formatLatency, type ToolLatency } from "./metrics";

const GROUP = 46;
const BAR = 13;

function runsText(tool: ToolLatency): string {
  const runs = `${String(tool.runs)} ${tool.runs === 1 ? "run" : "runs"}`;
  return tool.errors > 0 ? `${runs}, ${String(tool.errors)} failed` : runs;
}

function said(tool: ToolLatency): string {
  return `${tool.tool}: p50 ${formatLatency(tool.p50)}, p95 ${formatLatency(tool.p95)}, ${runsText(tool)}`;
}

/**
 * Each tool's latency as two horizontal bars, p50 over p95 (all runs, failed ones included),
 * on one scale, with the tool's run and failure counts under its name.
 */
export function LatencyChart({ tools }: { tools: ToolLatency[] }) {
  const max = Math.max(...tools.map((tool) => (Number.isFinite(tool.p95) ? tool.p95 : 0)), 0);
  const height = tools.length * GROUP;
  return (
    <>
      <svg
        className="metrics-chart"
        viewBox={`0 0 ${String(WIDTH)} ${String(height)}`}
        role="img"
        aria-label={`Tool latency, p50 and p95: ${tools.map(said).join("; ")}`}
        data-testid="metrics-latency"
      >
        {tools.map((tool, index) => {
          const y = index * GROUP;
          const p50 = barWidth(tool.p50, max);
          const p95 = barWidth(tool.p95, max);
          return (
            <g
              key={tool.tool}
              data-testid="metrics-latency-tool"
              data-tool={tool.tool}
              data-p50={tool.p50}
              data-p95={tool.p95}
              data-runs={tool.runs}
              data-errors={tool.errors}
            >
              <title>{said(tool)}</title>
              <text className="metrics-label" x={0} y={y + 16} dominantBaseline="central">
                {fit(tool.tool)}
              </text>
              <text
                className={`metrics-note${tool.errors > 0 ? " metrics-note-bad" : ""}`}
                x={0}
                y={y + 32}
                dominantBaseline="central"
                data-testid="metrics-latency-runs"
              >
                {runsText(tool)}
              </text>
              <rect className="metrics-track" x={LABEL_WIDTH} y={y + 9} width={WIDTH - LABEL_WIDTH - VALUE_ROOM} height={BAR} rx={2} />
              <rect className="metrics-bar tone-accent" x={LABEL_WIDTH} y={y + 9} width={p50} height={BAR} rx={2} />
              <text className="metrics-value" x={VALUE_X} y={y + 16} dominantBaseline="central" data-testid="metrics-p50">
                p50 {formatLatency(tool.p50)}
              </text>
              <rect className="metrics-track" x={LABEL_WIDTH} y={y + 25} width={WIDTH - LABEL_WIDTH - VALUE_ROOM} height={BAR} rx={2} />
              <rect className="metrics-bar tone-p95" x={LABEL_WIDTH} y={y + 25} width={p95} height={BAR} rx={2} />
              <text className="metrics-value" x={VALUE_X} y={y + 32} dominantBaseline="central" data-testid="metrics-p95">
                p95 {formatLatency(tool.p95)}
              </text>
            </g>
          );
        })}
      </svg>
      <table className="visually-hidden">
        <caption>Tool latency in milliseconds, all runs</caption>
        <thead>
          <tr>
            <th scope="col">Tool</th>
            <th scope="col">p50</th>
            <th scope="col">p95</th>
            <th scope="col">Runs</th>
            <th scope="col">Failed</th>
          </tr>
        </thead>
        <tbody>
          {tools.map((tool) => (
            <tr key={tool.tool}>
              <th scope="row">{tool.tool}</th>
              <td>{formatLatency(tool.p50)}</td>
              <td>{formatLatency(tool.p95)}</td>
              <td>{tool.runs}</td>
              <td>{tool.errors}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
