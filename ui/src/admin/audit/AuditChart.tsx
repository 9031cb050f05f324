import type { AuditFilter, AuditRow } from "../../api/types";
import { formatTimestamp } from "../../shared/format";
import { OUTCOMES, timeline, type Bucket } from "./buckets";

const BAR = 10;
const HEIGHT = 40;

function describe(bucket: Bucket): string {
  const parts = OUTCOMES.filter((o) => bucket.counts[o.key] > 0).map((o) => `${String(bucket.counts[o.key])} ${o.label.toLowerCase()}`);
  const events = `${String(bucket.total)} ${bucket.total === 1 ? "event" : "events"}`;
  return `${formatTimestamp(bucket.start.toISOString())}: ${events}${parts.length > 0 ? ` (${parts.join(", ")})` : ""}`;
}

/**
 * The audit timeline strip: the shown events over the filtered time range, counted per slot
 * and stacked by the governor's outcome (allowed, approval, clarify, denied, no decision).
 */
export function AuditChart({ rows, filter }: { rows: AuditRow[]; filter: AuditFilter }) {
  const strip = timeline(rows, { since: filter.since, until: filter.until });
  if (strip === null) return null;
  const max = Math.max(...strip.buckets.map((bucket) => bucket.total), 1);
  const shown = OUTCOMES.filter((outcome) => strip.totals[outcome.key] > 0);
  const summary = shown.map((o) => `${String(strip.totals[o.key])} ${o.label.toLowerCase()}`).join(", ");
  const capped = filter.limit !== undefined && rows.length >= filter.limit;
  return (
    <figure className="audit-chart" data-testid="audit-timeline">
      <svg
        viewBox={`0 0 ${String(strip.buckets.length * BAR)} ${String(HEIGHT)}`}
        preserveAspectRatio="none"
        role="img"
        aria-label={`Audit events per ${strip.slotName}, ${formatTimestamp(strip.from.toISOString())} to ${formatTimestamp(strip.to.toISOString())}: ${summary}`}
      >
        {strip.buckets.map((bucket, index) => {
          let y = HEIGHT;
          return (
            <g key={bucket.start.getTime()} data-testid="audit-bucket" data-total={bucket.total}>
              <title>{describe(bucket)}</title>
              <rect className="slot" x={index * BAR} y={0} width={BAR} height={HEIGHT} />
              {OUTCOMES.map((outcome) => {
                const count = bucket.counts[outcome.key];
                if (count === 0) return null;
                const height = Math.max(1, (count / max) * HEIGHT);
                y -= height;
                return (
                  <rect
                    key={outcome.key}
                    className={`seg seg-${outcome.key}`}
                    data-outcome={outcome.key}
                    data-count={count}
                    x={index * BAR + 1}
                    y={y}
                    width={BAR - 2}
                    height={height}
                  />
                );
              })}
            </g>
          );
        })}
      </svg>
      <figcaption className="small">
        <span className="audit-axis muted">
          <span>{formatTimestamp(strip.from.toISOString())}</span>
          <span>Events per {strip.slotName}</span>
          <span>{formatTimestamp(strip.to.toISOString())}</span>
        </span>
        <span className="audit-legend">
          {shown.map((outcome) => (
            <span key={outcome.key} className="legend-item" data-testid={`audit-legend-${outcome.key}`}>
              <span className={`swatch seg-${outcome.key}`} aria-hidden="true" />
              {outcome.label} {strip.totals[outcome.key]}
            </span>
          ))}
          {capped && (
            <span className="muted" data-testid="audit-timeline-capped">
              Only the newest {rows.length} events are drawn: narrow the filters or raise the limit to see the whole range.
            </span>
          )}
        </span>
      </figcaption>
    </figure>
  );
}
