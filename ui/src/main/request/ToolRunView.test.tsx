import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import type { Args } from "../../api/types";
import { action } from "../../test/fixtures";
import { DOWNTIME_RESULT, STATUS_RESULT } from "../../test/toolResults";
import type { ToolRun } from "./requestReducer";
import { ToolRunView } from "./ToolRunView";

function finished(tool: string, result: unknown, args: Args = {}): ToolRun {
  return { tool, args, decisionId: "d-1", output: [], action: action(tool, "d-1", { result, args }) };
}

describe("ToolRunView charts", () => {
  it("draws get_system_status as gauges, the full filesystem in the warning colour, raw JSON on demand", async () => {
    render(<ToolRunView run={finished("get_system_status", STATUS_RESULT)} />);
    const gauges = screen.getAllByTestId("gauge");
    expect(gauges.map((g) => [g.dataset.label, g.dataset.value, g.dataset.warn])).toEqual([
      ["CPU", "63.5", "false"],
      ["Memory", "78.1", "false"],
      ["/", "44.5", "false"],
      ["/var/spool/batch", "92.4", "true"],
      ["/mnt/nas02/export", "60.6", "false"],
    ]);
    const spool = gauges[3] as HTMLElement;
    expect(spool).toHaveClass("gauge-warn");
    expect(within(spool).getByRole("img", { name: "/var/spool/batch: 92 % used (at or above 90 %)" })).toBeInTheDocument();
    expect(spool).toHaveTextContent("46.2 of 50.0 GB");
    expect(spool).toHaveTextContent("above 90% threshold since 02:00");
    // The value arc covers the gauge's share of the half circle.
    expect(spool.querySelector(".gauge-value")).toHaveAttribute("stroke-dasharray", "92.4 100");
    expect(within(gauges[0] as HTMLElement).getByRole("img", { name: "CPU: 64 % used" })).toBeInTheDocument();
    expect(screen.getByTestId("status-gauges")).toHaveTextContent("opsmon01");

    const raw = screen.getByText("Raw result");
    const details = raw.closest("details") as HTMLDetailsElement;
    expect(details.open).toBe(false);
    expect(details).toHaveTextContent('"hostname": "opsmon01"');
    await userEvent.click(raw);
    expect(details.open).toBe(true);
  });

  it("draws mes_downtime as bars of total minutes by reason, longest first", () => {
    render(<ToolRunView run={finished("mes_downtime", DOWNTIME_RESULT, { line: 3, since: "2026-11-16", until: "2026-11-22" })} />);
    expect(screen.getByTestId("downtime-chart")).toHaveTextContent("Downtime by reason on line 3: 176 min in 7 events");
    const bars = screen.getAllByTestId("downtime-bar");
    expect(bars.map((b) => [b.dataset.reason, b.dataset.minutes])).toEqual([
      ["cap feeder jam", "58"],
      ["label printer offline (labelprintd)", "54"],
      ["glue unit temperature alarm", "38"],
      ["label roll change", "12"],
      ["safety light curtain tripped", "8"],
      ["carton magazine empty", "6"],
    ]);
    const width = (bar: Element | undefined) => bar?.querySelector(".bar-value")?.getAttribute("width");
    expect(width(bars[0])).toBe("100");
    expect(Number(width(bars[1]))).toBeCloseTo((54 / 58) * 100);
    expect(bars[0]).toHaveTextContent("cap feeder jam58 min (2×)");
    expect(screen.getByRole("rowheader", { name: "carton magazine empty" })).toBeInTheDocument();
  });

  it("falls back to the raw result when the JSON is not what the chart expects", () => {
    const { rerender } = render(<ToolRunView run={finished("get_system_status", '{"cpu": {"percent": 63.5')} />);
    expect(screen.queryByTestId("status-gauges")).not.toBeInTheDocument();
    expect(screen.queryByText("Raw result")).not.toBeInTheDocument();
    expect(screen.getByText('{"cpu": {"percent": 63.5')).toBeInTheDocument();

    rerender(<ToolRunView run={finished("get_system_status", { cpu: { percent: "high" }, filesystems: "none" })} />);
    expect(screen.queryByTestId("gauge")).not.toBeInTheDocument();
    expect(screen.getByText(/"percent": "high"/)).toBeInTheDocument();

    rerender(<ToolRunView run={finished("mes_downtime", { events: [{ reason: "jam" }], count: 1 })} />);
    expect(screen.queryByTestId("downtime-chart")).not.toBeInTheDocument();
    expect(screen.getByText(/"reason": "jam"/)).toBeInTheDocument();
  });

  it("draws nothing for other tools or failed calls", () => {
    const { rerender } = render(<ToolRunView run={finished("read_logs", STATUS_RESULT)} />);
    expect(screen.queryByTestId("gauge")).not.toBeInTheDocument();
    const failed: ToolRun = {
      ...finished("get_system_status", null),
      action: action("get_system_status", "d-1", { result: null, error: "status file unreadable" }),
    };
    rerender(<ToolRunView run={failed} />);
    expect(screen.queryByTestId("gauge")).not.toBeInTheDocument();
    expect(screen.getByRole("alert")).toHaveTextContent("Error: status file unreadable");
  });
});
