import { describe, expect, it } from "vitest";

import type { AuditRow } from "../../api/types";
import { MAX_BUCKETS, timeline } from "./buckets";

function row(at: string, decision: string | null = null): AuditRow {
  return { seq: 1, at, kind: decision === null ? "request_received" : "decision_made", trace_id: "t", principal: null, tool: null, decision, risk: null, payload: {} };
}

describe("audit timeline", () => {
  it("counts events per slot by outcome, gaps included", () => {
    const strip = timeline([
      row("2025-03-01T10:01:00Z", "allow"),
      row("2025-03-01T10:04:00Z", "deny"),
      row("2025-03-01T10:06:00Z"),
      row("2025-03-01T10:29:00Z", "require_approval"),
      row("2025-03-01T10:29:30Z", "allow"),
      row("not a time", "allow"),
    ]);
    expect(strip?.slotName).toBe("minute");
    expect(strip?.buckets).toHaveLength(29);
    expect(strip?.totals).toEqual({ allow: 2, require_approval: 1, clarify: 0, deny: 1, other: 1 });
    expect(strip?.buckets[0]?.counts).toMatchObject({ allow: 1, deny: 0 });
    expect(strip?.buckets[3]?.counts).toMatchObject({ deny: 1 });
    expect(strip?.buckets[28]?.total).toBe(2);
    expect(strip?.buckets.reduce((sum, b) => sum + b.total, 0)).toBe(5);
  });

  it("spans the filtered range, not only the events, in slots that keep the strip short", () => {
    const strip = timeline([row("2025-03-01T10:05:00Z", "allow")], {
      since: "2025-03-01T09:00:00Z",
      until: "2025-03-01T12:00:00Z",
    });
    expect(strip?.slotName).toBe("5 minutes");
    expect(strip?.from.toISOString()).toBe("2025-03-01T09:00:00.000Z");
    expect(strip?.to.toISOString()).toBe("2025-03-01T12:00:00.000Z");
    expect(strip?.buckets).toHaveLength(37);
    expect(strip?.buckets.findIndex((b) => b.total === 1)).toBe(13);

    const week = timeline([row("2025-03-01T10:05:00Z"), row("2025-03-08T10:05:00Z")]);
    expect(week?.slotName).toBe("6 hours");
    expect(week?.buckets.length).toBeLessThanOrEqual(MAX_BUCKETS);
  });

  it("draws nothing without a valid time", () => {
    expect(timeline([])).toBeNull();
    expect(timeline([row("yesterday")])).toBeNull();
  });
});
