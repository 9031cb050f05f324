import { describe, expect, it } from "vitest";

import { formatCountdown, isExpired } from "./countdown";

describe("formatCountdown", () => {
  const now = new Date("2025-03-01T10:00:00Z");

  it("counts minutes and seconds", () => {
    expect(formatCountdown("2025-03-01T10:14:32Z", now)).toBe("expires in 14:32");
    expect(formatCountdown("2025-03-01T10:00:05Z", now)).toBe("expires in 0:05");
  });

  it("counts hours past an hour", () => {
    expect(formatCountdown("2025-03-01T11:02:03Z", now)).toBe("expires in 1:02:03");
  });

  it("reads offsets in the timestamp", () => {
    expect(formatCountdown("2025-03-01T11:10:00+01:00", now)).toBe("expires in 10:00");
  });

  it("says expired at and after the time", () => {
    expect(formatCountdown("2025-03-01T10:00:00Z", now)).toBe("expired");
    expect(formatCountdown("2025-03-01T09:00:00Z", now)).toBe("expired");
    expect(isExpired("2025-03-01T09:00:00Z", now)).toBe(true);
    expect(isExpired("2025-03-01T10:00:01Z", now)).toBe(false);
  });

  it("does not invent a time it cannot read", () => {
    expect(formatCountdown("soon", now)).toBe("expiry unknown");
    expect(isExpired("soon", now)).toBe(false);
  });
});
