import { describe, expect, it } from "vitest";

import { DOWNTIME_RESULT, STATUS_RESULT } from "../../../test/toolResults";
import { downtimeChart, statusChart, toolChart } from "./toolCharts";

describe("status gauges", () => {
  it("reads CPU, memory and every filesystem, warning at 90 % and above", () => {
    const chart = statusChart(STATUS_RESULT);
    expect(chart?.host).toBe("opsmon01");
    expect(chart?.gauges).toEqual([
      { label: "CPU", percent: 63.5, warn: false, detail: "4 cores · load 2.61", note: null },
      { label: "Memory", percent: 78.1, warn: false, detail: "12.1 of 15.5 GiB", note: null },
      { label: "/", percent: 44.5, warn: false, detail: "17.8 of 40.0 GB", note: null },
      { label: "/var/spool/batch", percent: 92.4, warn: true, detail: "46.2 of 50.0 GB", note: "above 90% threshold since 02:00" },
      { label: "/mnt/nas02/export", percent: 60.6, warn: false, detail: "1213 of 2000 GB", note: null },
    ]);
  });

  it("reads the result from JSON text too, and works out a missing percentage", () => {
    const chart = statusChart(JSON.stringify({ memory: { used_mb: 900, total_mb: 1000 }, filesystems: [{ mount: "/data", used_gb: 9, size_gb: 10 }] }));
    expect(chart?.gauges.map((g) => [g.label, g.percent, g.warn])).toEqual([
      ["Memory", 90, true],
      ["/data", 90, true],
    ]);
  });

  it("leaves out what does not read as a percentage, and gives up when nothing does", () => {
    const partial = statusChart({ cpu: { percent: "busy" }, memory: { percent: 140 }, filesystems: [{ percent: 50 }, "x", { mount: "/", percent: 12 }] });
    expect(partial?.gauges.map((g) => g.label)).toEqual(["/"]);
    for (const malformed of ["{ not json", "[1, 2]", null, 42, [], { cpu: null, memory: "full", filesystems: {} }, { hostname: "x" }]) {
      expect(statusChart(malformed)).toBeNull();
    }
  });
});

describe("downtime bars", () => {
  it("sums the minutes by reason, most first", () => {
    const chart = downtimeChart(DOWNTIME_RESULT, { line: 3, since: "2026-11-16", until: "2026-11-22" });
    expect(chart?.bars).toEqual([
      { reason: "cap feeder jam", minutes: 58, events: 2 },
      { reason: "label printer offline (labelprintd)", minutes: 54, events: 1 },
      { reason: "glue unit temperature alarm", minutes: 38, events: 1 },
      { reason: "label roll change", minutes: 12, events: 1 },
      { reason: "safety light curtain tripped", minutes: 8, events: 1 },
      { reason: "carton magazine empty", minutes: 6, events: 1 },
    ]);
    expect(chart?.totalMinutes).toBe(DOWNTIME_RESULT.total_minutes);
    expect(chart?.events).toBe(7);
    expect(chart?.line).toBe(3);
  });

  it("reads a query's columns and rows, numeric text, and rows as arrays", () => {
    const asObjects = downtimeChart({ columns: ["reason", "minutes"], rows: [{ reason: "jam", minutes: "12" }, { reason: "jam", minutes: 3 }], truncated: false });
    expect(asObjects?.bars).toEqual([{ reason: "jam", minutes: 15, events: 2 }]);
    const asArrays = downtimeChart({ columns: ["minutes", "reason"], rows: [[5, "cleaning"], [7, null]] });
    expect(asArrays?.bars).toEqual([
      { reason: "(no reason given)", minutes: 7, events: 1 },
      { reason: "cleaning", minutes: 5, events: 1 },
    ]);
  });

  it("skips rows without minutes and gives up on anything else", () => {
    expect(downtimeChart({ events: [{ reason: "jam", minutes: "n/a" }, { reason: "jam", minutes: 4 }, 17] })?.bars).toEqual([
      { reason: "jam", minutes: 4, events: 1 },
    ]);
    for (const malformed of ["{", "[]", null, { events: [] }, { events: "none" }, { rows: 3 }, { events: [{ reason: "jam", minutes: -5 }] }]) {
      expect(downtimeChart(malformed)).toBeNull();
    }
  });

  it("draws only the tools it knows", () => {
    expect(toolChart("get_system_status", STATUS_RESULT)?.kind).toBe("status");
    expect(toolChart("mes_downtime", DOWNTIME_RESULT)?.kind).toBe("downtime");
    expect(toolChart("read_logs", STATUS_RESULT)).toBeNull();
  });
});
