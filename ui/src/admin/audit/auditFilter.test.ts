import { describe, expect, it } from "vitest";

import { EMPTY_FORM, localToRfc3339, toFilter } from "./auditFilter";

describe("audit filter", () => {
  it("leaves blank fields out and defaults the limit", () => {
    expect(toFilter(EMPTY_FORM)).toEqual({ limit: 200 });
    expect(toFilter({ ...EMPTY_FORM, limit: "zero" })).toEqual({ limit: 200 });
    expect(toFilter({ ...EMPTY_FORM, tool: " read_logs ", risk: "high", limit: "25" })).toEqual({
      tool: "read_logs",
      risk: "high",
      limit: 25,
    });
  });

  it("turns local datetime-local values into RFC 3339 instants", () => {
    const local = "2025-03-01T14:05";
    expect(localToRfc3339(local)).toBe(new Date(2025, 2, 1, 14, 5).toISOString());
    expect(localToRfc3339("")).toBeUndefined();
    expect(toFilter({ ...EMPTY_FORM, since: local }).since).toBe(new Date(2025, 2, 1, 14, 5).toISOString());
  });
});
