import type { DowntimeChart } from "./toolCharts";

function minutesText(minutes: number): string {
  return `${String(Math.round(minutes))} min`;
}

/** `mes_downtime` at a glance: total minutes per reason as horizontal bars, longest first. */
export function DowntimeBars({ chart }: { chart: DowntimeChart }) {
  const longest = Math.max(...chart.bars.map((bar) => bar.minutes), 1);
  const events = `${String(chart.events)} ${chart.events === 1 ? "event" : "events"}`;
  return (
    <section className="tool-chart downtime-chart" data-testid="downtime-chart" aria-label="Downtime by reason">
      <p className="tool-chart-title">
        Downtime by reason{chart.line !== null && ` on line ${String(chart.line)}`}:{" "}
        <span data-testid="downtime-total">
          {minutesText(chart.totalMinutes)} in {events}
        </span>
      </p>
      <table className="bars">
        <thead className="visually-hidden">
          <tr>
            <th>Reason</th>
            <th>Share</th>
            <th>Minutes</th>
          </tr>
        </thead>
        <tbody>
          {chart.bars.map((bar) => (
            <tr key={bar.reason} data-testid="downtime-bar" data-reason={bar.reason} data-minutes={bar.minutes}>
              <th scope="row" className="bar-label">
                {bar.reason}
              </th>
              <td className="bar-cell">
                <svg viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true">
                  <rect className="bar-track" x="0" y="0" width="100" height="10" />
                  <rect className="bar-value" x="0" y="0" width={(bar.minutes / longest) * 100} height="10" />
                </svg>
              </td>
              <td className="bar-value-text">
                {minutesText(bar.minutes)}
                {bar.events > 1 && <span className="muted"> ({bar.events}×)</span>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
