import type { AuditRow } from "../../api/types";
import { formatTimestamp } from "../../shared/format";
import { countPerSlot } from "./buckets";

const BAR = 10;
/** Widest a bar is drawn, in CSS pixels; many slots shrink to fit the width. */
const MAX_BAR_PX = 14;
const HEIGHT = 40;

/** A tiny bar chart of the shown events per hour (or per day over a longer span). */
export function AuditChart({ rows }: { rows: AuditRow[] }) {
  const { slotMs, buckets } = countPerSlot(rows);
  if (buckets.length === 0) return null;
  const max = Math.max(...buckets.map((bucket) => bucket.count));
  const unit = slotMs > 3_600_000 ? "day" : "hour";
  return (
    <figure className="audit-chart">
      <svg
        viewBox={`0 0 ${String(buckets.length * BAR)} ${String(HEIGHT)}`}
        width={buckets.length * MAX_BAR_PX}
        preserveAspectRatio="none"
        role="img"
        aria-label={`Events per ${unit}, at most ${String(max)}`}
      >
        {buckets.map((bucket, index) => {
          const height = max === 0 ? 0 : Math.max(bucket.count > 0 ? 1 : 0, (bucket.count / max) * HEIGHT);
          return (
            <rect key={bucket.start.getTime()} x={index * BAR + 1} y={HEIGHT - height} width={BAR - 2} height={height}>
              <title>{`${formatTimestamp(bucket.start.toISOString())}: ${String(bucket.count)} events`}</title>
            </rect>
          );
        })}
      </svg>
      <figcaption className="muted small">
        Events per {unit} · {formatTimestamp(buckets[0]?.start.toISOString() ?? "")} to{" "}
        {formatTimestamp(buckets[buckets.length - 1]?.start.toISOString() ?? "")}
      </figcaption>
    </figure>
  );
}
