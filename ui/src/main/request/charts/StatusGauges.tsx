import { WARN_PERCENT, type Gauge, type StatusChart } from "./toolCharts";

/** The half circle every gauge draws on (centre 60,60, radius 48). */
const ARC = "M 12 60 A 48 48 0 0 1 108 60";

function percentText(percent: number): string {
  return `${percent.toFixed(percent >= 10 ? 0 : 1)} %`;
}

/** One half-circle gauge, its value in the middle, amber at or above the threshold. */
function GaugeView({ gauge }: { gauge: Gauge }) {
  const warning = gauge.warn ? ` (at or above ${String(WARN_PERCENT)} %)` : "";
  return (
    <figure
      className={gauge.warn ? "gauge gauge-warn" : "gauge"}
      data-testid="gauge"
      data-label={gauge.label}
      data-value={gauge.percent}
      data-warn={gauge.warn}
    >
      <svg viewBox="0 0 120 68" role="img" aria-label={`${gauge.label}: ${percentText(gauge.percent)} used${warning}`}>
        <path className="gauge-track" d={ARC} pathLength={100} />
        {gauge.percent > 0 && (
          <path className="gauge-value" d={ARC} pathLength={100} strokeDasharray={`${String(gauge.percent)} 100`} />
        )}
        <text className="gauge-text" x="60" y="58" textAnchor="middle">
          {percentText(gauge.percent)}
        </text>
      </svg>
      <figcaption>
        <span className="gauge-label" title={gauge.label}>
          {gauge.warn && <span aria-hidden="true">⚠ </span>}
          {gauge.label}
        </span>
        {gauge.detail !== null && <span className="gauge-detail">{gauge.detail}</span>}
        {gauge.note !== null && <span className="gauge-note">{gauge.note}</span>}
      </figcaption>
    </figure>
  );
}

/** `get_system_status` at a glance: CPU, memory and each filesystem as gauges. */
export function StatusGauges({ chart }: { chart: StatusChart }) {
  return (
    <section className="tool-chart status-gauges" data-testid="status-gauges" aria-label={`System status${chart.host === null ? "" : ` of ${chart.host}`}`}>
      {chart.host !== null && <p className="tool-chart-title">{chart.host}</p>}
      <div className="gauges">
        {chart.gauges.map((gauge, index) => (
          <GaugeView key={`${gauge.label}-${String(index)}`} gauge={gauge} />
        ))}
      </div>
    </section>
  );
}
