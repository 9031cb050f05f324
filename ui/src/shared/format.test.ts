import { describe, expect, it } from "vitest";

import { formatBytes, formatEta, formatMs, formatValue, humanise } from "./format";

describe("format", () => {
  it("humanises layer names", () => {
    expect(humanise("business_guards")).toBe("Business guards");
    expect(humanise("rate_limit")).toBe("Rate limit");
    expect(humanise("identity")).toBe("Identity");
  });

  it("formats durations", () => {
    expect(formatMs(850.4)).toBe("850 ms");
    expect(formatMs(1234)).toBe("1.2 s");
  });

  it("shows strings as they are and pretty-prints JSON", () => {
    expect(formatValue("line3-plc")).toBe("line3-plc");
    expect(formatValue(3)).toBe("3");
    expect(formatValue({ a: [1] })).toBe('{\n  "a": [\n    1\n  ]\n}');
    expect(formatValue(null)).toBe("null");
  });

  it("formats file sizes in MiB under a GiB, in GiB from there on", () => {
    expect(formatBytes(512 * 1024 * 1024)).toBe("512.0 MiB");
    expect(formatBytes(1024 * 1024 * 1024)).toBe("1.00 GiB");
    expect(formatBytes(4_690_000_000)).toBe("4.37 GiB");
    expect(formatBytes(-1)).toBe("unknown");
  });

  it("formats the time left roughly", () => {
    expect(formatEta(1200)).toBe("under 5 s");
    expect(formatEta(40_000)).toBe("about 40 s");
    expect(formatEta(185_000)).toBe("about 3 min");
    expect(formatEta(80 * 60_000)).toBe("about 1 h 20 min");
    expect(formatEta(Number.NaN)).toBe("unknown");
  });
});
