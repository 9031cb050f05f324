import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";

import { action, allowDecision, denyDecision, intent } from "../../test/fixtures";
import { DecisionTimeline } from "./DecisionTimeline";

describe("DecisionTimeline", () => {
  it("shows every layer's step with its verdict marker and highlights the deciding rule", () => {
    render(<DecisionTimeline intents={[intent("service_restart", denyDecision("d-2"))]} runs={[]} />);
    const steps = screen.getAllByTestId("timeline-step");
    expect(steps.map((s) => [s.dataset.layer, s.dataset.verdict])).toEqual([
      ["identity", "pass"],
      ["business_guards", "deny"],
    ]);
    expect(within(steps[0] as HTMLElement).getByRole("img", { name: "passed" })).toHaveTextContent("✓");
    const denied = steps[1] as HTMLElement;
    expect(within(denied).getByRole("img", { name: "denied" })).toHaveTextContent("✗");
    expect(denied).toHaveTextContent("Business guards");
    expect(denied).toHaveClass("step-deciding");
    const deciding = within(denied).getByText("forbid-prod-write", { exact: false });
    expect(deciding).toHaveAttribute("data-deciding", "true");
    expect(within(denied).getByText("guard-ticket")).not.toHaveAttribute("data-deciding");
  });

  it("says why a denied intent was denied, with its risk", () => {
    render(<DecisionTimeline intents={[intent("service_restart", denyDecision("d-2", "no change ticket"))]} runs={[]} />);
    const item = screen.getByTestId("timeline-intent");
    expect(item).toHaveAttribute("data-tool", "service_restart");
    expect(item).toHaveAttribute("data-outcome", "deny");
    expect(within(item).getByText("Denied: no change ticket")).toBeInTheDocument();
    expect(within(item).getByText("High risk")).toHaveClass("risk-high");
  });

  it("collapses a long argument behind Show all and expands it on click", async () => {
    const long = `${"x".repeat(450)}END`;
    render(<DecisionTimeline intents={[intent("read_logs", allowDecision("d-1"), { query: long, lines: 20 })]} runs={[]} />);
    expect(screen.queryByText(long)).not.toBeInTheDocument();
    expect(screen.getByText("20")).toBeInTheDocument();
    await userEvent.click(screen.getByRole("button", { name: /Show all \(453 characters\)/ }));
    expect(screen.getByText(long, { exact: false })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Show less" })).toBeInTheDocument();
  });

  it("pretty-prints object arguments and shows a call's output and result", () => {
    const allowed = intent("system_status", allowDecision("d-1"), { filter: { line: 3 } });
    render(
      <DecisionTimeline
        intents={[allowed]}
        runs={[
          {
            tool: "system_status",
            args: {},
            decisionId: "d-1",
            output: [
              { stream: "stdout", text: "ok\n" },
              { stream: "stderr", text: "warn\n" },
            ],
            action: action("system_status", "d-1", { result: "up", duration_ms: 1500 }),
          },
        ]}
        timings={{ total_ms: 2000, model_ms: 1000, governor_ms: 2, tools_ms: 900 }}
      />,
    );
    expect(screen.getByText(/"line": 3/)).toBeInTheDocument();
    expect(screen.getByText("warn", { exact: false })).toHaveClass("out-stderr");
    expect(screen.getByText("Finished in 1.5 s")).toBeInTheDocument();
    expect(screen.getByText(/total 2.0 s · model 1.0 s · governor 2 ms · tools 900 ms/)).toBeInTheDocument();
  });
});
