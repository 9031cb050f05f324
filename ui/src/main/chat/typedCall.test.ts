import { describe, expect, it } from "vitest";

import { parseTypedCall } from "./typedCall";

const FORM = '/call get_logs {"source": "syslog", "tail": 20}';

function errorOf(text: string): string {
  const parsed = parseTypedCall(text);
  if (parsed === null || !("error" in parsed)) {
    throw new Error(`expected an error for ${text}`);
  }
  return parsed.error;
}

describe("parseTypedCall", () => {
  it("leaves anything but a /call message to the model", () => {
    for (const text of ["show the logs", "  what does /call do?", "/caller get_logs", "/CALL get_logs", ""]) {
      expect(parseTypedCall(text)).toBeNull();
    }
  });

  it("reads the tool and its JSON object arguments", () => {
    expect(parseTypedCall(FORM)).toEqual({ tool: "get_logs", args: { source: "syslog", tail: 20 } });
    expect(parseTypedCall('  /call   sap.order-lookup_2\n{\n  "order": "4711"\n}  ')).toEqual({
      tool: "sap.order-lookup_2",
      args: { order: "4711" },
    });
    expect(parseTypedCall('/call get_logs{"tail": 5}')).toEqual({ tool: "get_logs", args: { tail: 5 } });
  });

  it("defaults to no arguments", () => {
    expect(parseTypedCall("/call system_status")).toEqual({ tool: "system_status", args: {} });
    expect(parseTypedCall("/call system_status   ")).toEqual({ tool: "system_status", args: {} });
  });

  it("refuses a missing or bad tool name, showing the expected form", () => {
    expect(errorOf("/call")).toMatch(/^Name the tool to call\./);
    expect(errorOf("/call   {}")).toMatch(/^Name the tool to call\./);
    for (const tool of ["Get_logs", "1tool", "get?logs", "_x", "get/logs"]) {
      const error = errorOf(`/call ${tool}`);
      expect(error).toContain("is not a tool name");
      expect(error).toContain(FORM);
    }
  });

  it("refuses arguments that are not a JSON object, showing the expected form", () => {
    const broken = errorOf("/call get_logs {source: syslog}");
    expect(broken).toMatch(/^The arguments are not valid JSON/);
    expect(broken).toContain(FORM);
    for (const args of ["[1, 2]", "null", '"syslog"', "20"]) {
      const error = errorOf(`/call get_logs ${args}`);
      expect(error).toMatch(/^The arguments must be a JSON object\./);
      expect(error).toContain(FORM);
    }
  });
});
