import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";

import { callsOf, deferred, engineError, invoke, routeCommands } from "../../test/tauriCore";
import { formatLatency, quantile, toolLatency } from "./metrics";
import { MetricsTab } from "./MetricsTab";
import type { MetricsSnapshot, Observation } from "./types";

vi.mock("@tauri-apps/api/core", () => import("../../test/tauriCore"));

/** get_system_status ran 20 times, 10 ms to 200 ms; two runs failed. */
const STATUS_RUNS: Observation[] = Array.from({ length: 20 }, (_, index) => ({
  labels: ["get_system_status", index === 3 || index === 7 ? "error" : "ok"],
  value: (index + 1) * 10,
}));

const SAMPLE: MetricsSnapshot = {
  requests: [
    { labels: ["execute", "ask"], count: 9 },
    { labels: ["plan", "ask"], count: 3 },
    { labels: ["execute", "call"], count: 4 },
    { labels: ["execute", "batch"], count: 2 },
  ],
  decisions: [
    { labels: ["admission", "allow", ""], count: 17 },
    { labels: ["admission", "deny", "injection_screen"], count: 1 },
    { labels: ["intent", "allow", ""], count: 2 },
    { labels: ["intent", "allow", "ops-read"], count: 11 },
    { labels: ["intent", "allow", "ops-restart-dev"], count: 3 },
    { labels: ["intent", "deny", "forbid-prod-restart"], count: 4 },
    { labels: ["intent", "require_approval", "approval-prod-write"], count: 5 },
    { labels: ["intent", "clarify", "ambiguous-system"], count: 2 },
    { labels: ["intent", "deny", "rate-limit"], count: 1 },
    { labels: ["intent", "allow", "rate-limit"], count: 1 },
  ],
  approvals: [
    { labels: ["executed"], count: 3 },
    { labels: ["pending"], count: 1 },
    { labels: ["denied"], count: 1 },
  ],
  tool_runs: [
    ...STATUS_RUNS,
    { labels: ["restart_service", "ok"], value: 1500 },
    { labels: ["restart_service", "ok"], value: 2500 },
  ],
  tokens_per_second: [
    { labels: ["qwen2.5-3b"], value: 20 },
    { labels: ["qwen2.5-3b"], value: 12 },
    { labels: ["qwen2.5-3b"], value: 18 },
    { labels: ["phi-mini"], value: 31.25 },
  ],
  errors: [
    { labels: ["tool_failed"], count: 2 },
    { labels: ["request_rejected"], count: 1 },
  ],
  batch_runs: 2,
  audit_rows: 1234,
};

const EMPTY: MetricsSnapshot = {
  requests: [],
  decisions: [],
  approvals: [],
  tool_runs: [],
  tokens_per_second: [],
  errors: [],
  batch_runs: 0,
  audit_rows: 3,
};

/** The values shown on a chart's bars, by bar key. */
function shown(testId: string): Record<string, string> {
  const chart = screen.getByTestId(testId);
  return Object.fromEntries(
    within(chart)
      .getAllByTestId(`${testId}-bar`)
      .map((bar) => [bar.dataset.key ?? "", within(bar).getByTestId(`${testId}-value`).textContent]),
  );
}

describe("percentiles", () => {
  it("interpolates between the nearest ranks", () => {
    expect(quantile([40, 10, 30, 20], 0.5)).toBe(25);
    expect(quantile([7], 0.95)).toBe(7);
    expect(quantile([], 0.5)).toBeNaN();
    const durations = STATUS_RUNS.map((run) => run.value);
    expect(quantile(durations, 0.5)).toBeCloseTo(105);
    expect(quantile(durations, 0.95)).toBeCloseTo(190.5);
  });

  it("writes durations with the precision their size needs", () => {
    expect([0.284, 4.25, 190.5, 2450].map(formatLatency)).toEqual(["0.28 ms", "4.3 ms", "191 ms", "2.45 s"]);
  });

  it("computes p50 and p95 per tool over all its runs, with run and failure counts", () => {
    expect(toolLatency(SAMPLE)).toEqual([
      { tool: "restart_service", runs: 2, errors: 0, p50: 2000, p95: 2450 },
      { tool: "get_system_status", runs: 20, errors: 2, p50: 105, p95: expect.closeTo(190.5) as number },
    ]);
  });
});

describe("MetricsTab", () => {
  beforeEach(() => {
    invoke.mockReset();
  });

  it("draws each chart with its numbers", async () => {
    routeCommands({ metrics_snapshot: () => SAMPLE });
    render(<MetricsTab />);

    expect(await screen.findByTestId("metrics-requests")).toBeInTheDocument();
    expect(callsOf("metrics_snapshot")).toEqual([{}]);

    // Totals.
    expect(screen.getByTestId("metrics-total-requests")).toHaveTextContent("18");
    // Decisions on calls: admission's allows (one per admitted request) are not counted.
    expect(screen.getByTestId("metrics-total-decisions")).toHaveTextContent("30");
    expect(screen.getByTestId("metrics-total-tool-runs")).toHaveTextContent("22");
    expect(screen.getByTestId("metrics-total-errors")).toHaveTextContent("3");
    expect(screen.getByTestId("metrics-total-batch-runs")).toHaveTextContent("2");
    expect(screen.getByTestId("metrics-total-audit-rows")).toHaveTextContent("1234");

    // Requests by kind, largest first, with the split by mode in the picture's label.
    expect(shown("metrics-requests")).toEqual({ ask: "12", call: "4", batch: "2" });
    expect(screen.getByTestId("metrics-requests")).toHaveAttribute(
      "aria-label",
      "Requests by kind: ask 12 (execute 9, plan 3), call 4 (execute 4), batch 2 (execute 2)",
    );

    // Decisions by outcome, each outcome in its colour.
    expect(shown("metrics-decisions")).toEqual({ allow: "17", require_approval: "5", clarify: "2", deny: "6" });
    const deny = within(screen.getByTestId("metrics-decisions"))
      .getAllByTestId("metrics-decisions-bar")
      .find((bar) => bar.dataset.key === "deny");
    expect(deny?.querySelector(".metrics-bar")).toHaveClass("tone-bad");
    expect(screen.getByTestId("metrics-decisions")).toHaveAttribute(
      "aria-label",
      expect.stringContaining("Deny 6 (1 at admission)") as string,
    );
    expect(screen.getByTestId("metrics-admission")).toHaveTextContent("Admission checks: 17 requests admitted, 1 refused");

    // The five rules that decided the most, unnamed decisions left out.
    const rules = screen.getAllByTestId("metrics-rule");
    expect(rules.map((rule) => rule.dataset.rule)).toEqual([
      "ops-read",
      "approval-prod-write",
      "forbid-prod-restart",
      "ops-restart-dev",
      "ambiguous-system",
    ]);
    expect(rules[0]).toHaveTextContent("ops-read11Allow 11");

    // Approvals by status.
    expect(shown("metrics-approvals")).toEqual({ executed: "3", denied: "1", pending: "1" });

    // Tool latency: p50 and p95 per tool, with its runs and failures.
    const status = screen.getAllByTestId("metrics-latency-tool").find((tool) => tool.dataset.tool === "get_system_status");
    if (!status) throw new Error("no get_system_status latency");
    expect(within(status).getByTestId("metrics-p50")).toHaveTextContent("p50 105 ms");
    expect(within(status).getByTestId("metrics-p95")).toHaveTextContent("p95 191 ms");
    expect(within(status).getByTestId("metrics-latency-runs")).toHaveTextContent("20 runs, 2 failed");
    const restart = screen.getAllByTestId("metrics-latency-tool").find((tool) => tool.dataset.tool === "restart_service");
    if (!restart) throw new Error("no restart_service latency");
    expect(within(restart).getByTestId("metrics-p50")).toHaveTextContent("p50 2.00 s");
    expect(within(restart).getByTestId("metrics-p95")).toHaveTextContent("p95 2.45 s");
    expect(within(restart).getByTestId("metrics-latency-runs")).toHaveTextContent("2 runs");

    // The planner's median decode rate per model.
    expect(shown("metrics-tokens")).toEqual({ "phi-mini": "31.3 tok/s", "qwen2.5-3b": "18.0 tok/s" });

    // Errors by kind.
    expect(shown("metrics-errors")).toEqual({ tool_failed: "2", request_rejected: "1" });

    // Every picture is an image with its numbers in its label.
    for (const svg of document.querySelectorAll("svg")) {
      expect(svg).toHaveAttribute("role", "img");
      expect(svg.getAttribute("aria-label")).toMatch(/\d/);
    }
    expect(screen.getByRole("img", { name: /^Tool latency, p50 and p95: restart_service: p50 2\.00 s, p95 2\.45 s, 2 runs/ })).toBeInTheDocument();
    expect(screen.queryByTestId("metrics-empty")).not.toBeInTheDocument();
  });

  it("says when no requests were recorded yet", async () => {
    routeCommands({ metrics_snapshot: () => EMPTY });
    render(<MetricsTab />);
    expect(await screen.findByTestId("metrics-empty")).toHaveTextContent("No requests were recorded yet");
    expect(screen.getByTestId("metrics-total-audit-rows")).toHaveTextContent("3");
    expect(document.querySelector("svg")).toBeNull();
  });

  it("shows the command's error, and reads again on Refresh", async () => {
    const user = userEvent.setup();
    routeCommands({ metrics_snapshot: () => engineError("sign in as an admin in this window first") });
    render(<MetricsTab />);
    expect(await screen.findByRole("alert")).toHaveTextContent("Could not read the metrics: sign in as an admin in this window first");

    const answer = deferred<MetricsSnapshot>();
    routeCommands({ metrics_snapshot: () => answer.promise });
    await user.click(screen.getByTestId("metrics-refresh"));
    expect(screen.getByTestId("metrics-refresh")).toBeDisabled();
    answer.resolve(SAMPLE);
    expect(await screen.findByTestId("metrics-requests")).toBeInTheDocument();
    expect(screen.queryByRole("alert")).not.toBeInTheDocument();
    expect(screen.getByTestId("metrics-refresh")).toBeEnabled();
    expect(callsOf("metrics_snapshot")).toHaveLength(2);
  });
});
