import { describe, expect, it } from "vitest";

import { parseArgs } from "./parseArgs";

describe("parseArgs", () => {
  it("accepts a JSON object, and blank as no arguments", () => {
    expect(parseArgs('{"host": "line3-plc", "n": 2}')).toEqual({ ok: true, args: { host: "line3-plc", n: 2 } });
    expect(parseArgs("  ")).toEqual({ ok: true, args: {} });
  });

  it("refuses invalid JSON and anything but an object", () => {
    const broken = parseArgs("{host:}");
    expect(broken.ok).toBe(false);
    expect(!broken.ok && broken.error).toMatch(/not valid JSON/);
    for (const text of ["[1, 2]", "null", '"host"', "3"]) {
      const parsed = parseArgs(text);
      expect(!parsed.ok && parsed.error).toMatch(/must be a JSON object/);
    }
  });
});
