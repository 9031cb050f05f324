import { describe, expect, it } from "vitest";

import { formatMs, formatValue, humanise } from "./format";

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
});
