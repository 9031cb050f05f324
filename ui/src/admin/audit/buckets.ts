import type { AuditRow } from "../../api/types";

/** What an event decided, as the timeline colours it. */
export type OutcomeKey = "allow" | "require_approval" | "clarify" | "deny" | "other";

/** The outcomes, bottom of a bar first, with their legend labels. */
export const OUTCOMES: { key: OutcomeKey; label: string }[] = [
  { key: "allow", label: "Allowed" },
  { key: "require_approval", label: "Approval" },
  { key: "clarify", label: "Clarify" },
  { key: "deny", label: "Denied" },
  { key: "other", label: "No decision" },
];

/** Events counted in one time slot, by outcome. */
export interface Bucket {
  start: Date;
  counts: Record<OutcomeKey, number>;
  total: number;
}

/** The events of a time range in equal slots. */
export interface Timeline {
  slotMs: number;
  /** The slot's length in words: "5 minutes", "hour", "day". */
  slotName: string;
  from: Date;
  to: Date;
  buckets: Bucket[];
  /** All events by outcome. */
  totals: Record<OutcomeKey, number>;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Slot lengths to choose from, shortest first. */
const SLOTS: { ms: number; name: string }[] = [
  { ms: MINUTE, name: "minute" },
  { ms: 5 * MINUTE, name: "5 minutes" },
  { ms: 15 * MINUTE, name: "15 minutes" },
  { ms: HOUR, name: "hour" },
  { ms: 3 * HOUR, name: "3 hours" },
  { ms: 6 * HOUR, name: "6 hours" },
  { ms: 12 * HOUR, name: "12 hours" },
  { ms: DAY, name: "day" },
  { ms: 7 * DAY, name: "week" },
  { ms: 30 * DAY, name: "30 days" },
];

/** The strip has at most this many slots (unless the range is years long). */
export const MAX_BUCKETS = 48;

function outcomeOf(row: AuditRow): OutcomeKey {
  switch (row.decision) {
    case "allow":
    case "require_approval":
    case "clarify":
    case "deny":
      return row.decision;
    default:
      return "other";
  }
}

function zero(): Record<OutcomeKey, number> {
  return { allow: 0, require_approval: 0, clarify: 0, deny: 0, other: 0 };
}

function instant(rfc3339: string | undefined): number | null {
  if (rfc3339 === undefined) return null;
  const time = new Date(rfc3339).getTime();
  return Number.isNaN(time) ? null : time;
}

/**
 * The rows' events over the filtered range (`since` to `until`; the events' own first and
 * last where the filter leaves it open), in the shortest slots that keep the strip at
 * {@link MAX_BUCKETS} or fewer, aligned to local time; null when no row has a valid time.
 */
export function timeline(rows: AuditRow[], range: { since?: string | undefined; until?: string | undefined } = {}): Timeline | null {
  const events = rows
    .map((row) => ({ time: new Date(row.at).getTime(), outcome: outcomeOf(row) }))
    .filter((event) => !Number.isNaN(event.time));
  if (events.length === 0) return null;
  const times = events.map((event) => event.time);
  const since = instant(range.since);
  const until = instant(range.until);
  const from = Math.min(since ?? Math.min(...times), ...times);
  const to = Math.max(until ?? Math.max(...times), ...times, from);
  const span = to - from;
  const slot = SLOTS.find((candidate) => Math.floor(span / candidate.ms) + 2 <= MAX_BUCKETS) ?? SLOTS[SLOTS.length - 1];
  const slotMs = slot?.ms ?? DAY;
  // Slots start on local-time boundaries (whole hours, local midnight).
  const offset = new Date(from).getTimezoneOffset() * MINUTE;
  const index = (time: number) => Math.floor((time - offset) / slotMs);
  const origin = index(from);
  const buckets: Bucket[] = Array.from({ length: index(to) - origin + 1 }, (_, i) => ({
    start: new Date((origin + i) * slotMs + offset),
    counts: zero(),
    total: 0,
  }));
  const totals = zero();
  for (const event of events) {
    const bucket = buckets[index(event.time) - origin];
    if (!bucket) continue;
    bucket.counts[event.outcome] += 1;
    bucket.total += 1;
    totals[event.outcome] += 1;
  }
  return { slotMs, slotName: slot?.name ?? "day", from: new Date(from), to: new Date(to), buckets, totals };
}
