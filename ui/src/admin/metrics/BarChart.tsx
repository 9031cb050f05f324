import type { Bar } from "./metrics";

/** The drawing's width in SVG units; the picture scales with its card, text included. */
export const WIDTH = 420;
/** Where bars start: the labels' column is on their left. */
export const LABEL_WIDTH = 140;
/** The values' column, right of the bars' track. */
export const VALUE_ROOM = 100;
/** Where the values start. */
export const VALUE_X = WIDTH - VALUE_ROOM + 8;
const ROW = 24;
const BAR = 14;

/** A label that fits its column; the whole of it is in the bar's title. */
export function fit(label: string, chars = 19): string {
  return label.length > chars ? `${label.slice(0, chars - 1)}…` : label;
}

/** The width of a bar of `value` when `max` fills the bar area. */
export function barWidth(value: number, max: number): number {
  if (!Number.isFinite(value) || value <= 0 || max <= 0) return 0;
  return Math.max(1.5, (value / max) * (WIDTH - LABEL_WIDTH - VALUE_ROOM));
}

/**
 * Horizontal bars with their labels and values, hand-drawn in SVG. The picture is an image
 * with its numbers in its label; a visually hidden table repeats them with their details.
 */
export function BarChart({
  title,
  bars,
  format = String,
  testId,
}: {
  title: string;
  bars: Bar[];
  format?: (value: number) => string;
  testId: string;
}) {
  const max = Math.max(...bars.map((bar) => (Number.isFinite(bar.value) ? bar.value : 0)), 0);
  const height = bars.length * ROW;
  const said = (bar: Bar) => `${bar.label} ${format(bar.value)}${bar.detail ? ` (${bar.detail})` : ""}`;
  return (
    <>
      <svg
        className="metrics-chart"
        viewBox={`0 0 ${String(WIDTH)} ${String(height)}`}
        role="img"
        aria-label={`${title}: ${bars.map(said).join(", ")}`}
        data-testid={testId}
      >
        {bars.map((bar, index) => {
          const y = index * ROW;
          const width = barWidth(bar.value, max);
          return (
            <g key={bar.key} data-testid={`${testId}-bar`} data-key={bar.key} data-value={bar.value}>
              <title>{said(bar)}</title>
              <text className="metrics-label" x={0} y={y + ROW / 2} dominantBaseline="central">
                {fit(bar.label)}
              </text>
              <rect
                className="metrics-track"
                x={LABEL_WIDTH}
                y={y + (ROW - BAR) / 2}
                width={WIDTH - LABEL_WIDTH - VALUE_ROOM}
                height={BAR}
                rx={2}
              />
              <rect
                className={`metrics-bar tone-${bar.tone}`}
                x={LABEL_WIDTH}
                y={y + (ROW - BAR) / 2}
                width={width}
                height={BAR}
                rx={2}
              />
              <text
                className="metrics-value"
                x={VALUE_X}
                y={y + ROW / 2}
                dominantBaseline="central"
                data-testid={`${testId}-value`}
              >
                {format(bar.value)}
              </text>
            </g>
          );
        })}
      </svg>
      <table className="visually-hidden">
        <caption>{title}</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Value</th>
            <th scope="col">Detail</th>
          </tr>
        </thead>
        <tbody>
          {bars.map((bar) => (
            <tr key={bar.key}>
              <th scope="row">{bar.label}</th>
              <td>{format(bar.value)}</td>
              <td>{bar.detail ?? ""}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
