import type { AuditRow } from "../../api/types";

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** Past this many hours the chart counts per day. */
const MAX_HOURLY_BUCKETS = 168;

/** Events counted in one time slot. */
export interface Bucket {
  start: Date;
  count: number;
}

/** The rows' events per hour (per day past a week) from the first to the last, gaps included. */
export function countPerSlot(rows: AuditRow[]): { slotMs: number; buckets: Bucket[] } {
  const times = rows.map((row) => new Date(row.at).getTime()).filter((time) => !Number.isNaN(time));
  if (times.length === 0) return { slotMs: HOUR_MS, buckets: [] };
  const first = Math.min(...times);
  const last = Math.max(...times);
  const slotMs = (last - first) / HOUR_MS > MAX_HOURLY_BUCKETS ? DAY_MS : HOUR_MS;
  const origin = Math.floor(first / slotMs);
  const counts = new Array<number>(Math.floor(last / slotMs) - origin + 1).fill(0);
  for (const time of times) {
    const index = Math.floor(time / slotMs) - origin;
    counts[index] = (counts[index] ?? 0) + 1;
  }
  return { slotMs, buckets: counts.map((count, index) => ({ start: new Date((origin + index) * slotMs), count })) };
}
