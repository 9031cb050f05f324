import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";

import type { AgentEvent, ApprovalOutcome } from "../../api/types";
import { action, pendingApproval } from "../../test/fixtures";
import { callsOf, engineError, invoke, routeCommands } from "../../test/tauriCore";
import { ApprovalCard } from "./ApprovalCard";

vi.mock("@tauri-apps/api/core", () => import("../../test/tauriCore"));

const NOW = new Date("2025-03-01T10:00:00Z");
const item = pendingApproval("2025-03-01T10:14:32Z");

function renderCard(now = NOW, onDecided = vi.fn()) {
  render(<ApprovalCard item={item} now={now} onDecided={onDecided} />);
  return onDecided;
}

describe("ApprovalCard", () => {
  beforeEach(() => {
    invoke.mockReset();
  });

  it("shows the whole call, where it lands and why it waits", () => {
    renderCard();
    const card = screen.getByTestId("approval-card");
    expect(card).toHaveAttribute("data-approval-id", "ap-1");
    expect(within(card).getByText("line3-plc")).toBeInTheDocument();
    expect(within(card).getByText("opcua-bridge")).toBeInTheDocument();
    expect(within(card).getByText(/"graceful": true/)).toBeInTheDocument();
    expect(within(card).getByText(/"timeout_s": 30/)).toBeInTheDocument();
    expect(within(card).getByText("production")).toBeInTheDocument();
    expect(within(card).getByText("linux_host")).toBeInTheDocument();
    expect(within(card).getByText("Medium risk")).toBeInTheDocument();
    expect(within(card).getByText("operator.jdoe")).toBeInTheDocument();
    expect(within(card).getAllByText("restarts on line 3 need a shift lead").length).toBeGreaterThan(0);
  });

  it("counts down to the expiry at the given time", () => {
    renderCard(NOW);
    expect(screen.getByText("expires in 14:32")).toBeInTheDocument();
  });

  it("says expired once the time has passed and offers no decision", () => {
    renderCard(new Date("2025-03-01T10:20:00Z"));
    expect(screen.getByText("expired")).toBeInTheDocument();
    expect(screen.queryByTestId("approval-approve")).not.toBeInTheDocument();
  });

  it("keeps Deny disabled until a comment is typed", async () => {
    const user = userEvent.setup();
    renderCard();
    await user.click(screen.getByTestId("approval-deny"));
    await user.type(screen.getByTestId("approval-account"), "lead.anna");
    await user.type(screen.getByTestId("approval-passphrase"), "secret words");
    expect(screen.getByTestId("approval-submit")).toBeDisabled();
    expect(screen.getByText(/Say why you deny it/)).toBeInTheDocument();
    await user.type(screen.getByTestId("approval-comment"), "   ");
    expect(screen.getByTestId("approval-submit")).toBeDisabled();
    await user.type(screen.getByTestId("approval-comment"), "not during the shift change");
    expect(screen.getByTestId("approval-submit")).toBeEnabled();
  });

  it("approves with account, passphrase and comment, then shows the result", async () => {
    const user = userEvent.setup();
    const outcome: ApprovalOutcome = {
      approval: { ...item.approval, status: "executed", decided_by: "lead.anna" },
      action: action("service_restart", "d-9", { result: { restarted: true } }),
    };
    routeCommands({
      approve_request: (args) => {
        const channel = args.events as { onmessage: (event: AgentEvent) => void };
        channel.onmessage({ event: "tool_started", tool: "service_restart", args: {} });
        channel.onmessage({ event: "tool_output", stream: "stdout", text: "stopping…\n" });
        return outcome;
      },
    });
    const onDecided = renderCard();
    await user.click(screen.getByTestId("approval-approve"));
    await user.type(screen.getByTestId("approval-account"), "lead.anna");
    await user.type(screen.getByTestId("approval-passphrase"), "secret words");
    await user.type(screen.getByTestId("approval-comment"), "ok for now");
    await user.click(screen.getByTestId("approval-submit"));

    const result = await screen.findByTestId("approval-result");
    expect(callsOf("approve_request")).toEqual([
      expect.objectContaining({ id: "ap-1", account: "lead.anna", passphrase: "secret words", comment: "ok for now" }),
    ]);
    expect(result).toHaveTextContent("Approved by lead.anna and executed.");
    expect(result).toHaveTextContent('"restarted": true');
    expect(onDecided).toHaveBeenCalledWith(item);
  });

  it("shows the command's error, clears the passphrase and keeps the comment", async () => {
    const user = userEvent.setup();
    routeCommands({ deny_request: () => engineError("wrong passphrase for lead.anna: try again") });
    const onDecided = renderCard();
    await user.click(screen.getByTestId("approval-deny"));
    await user.type(screen.getByTestId("approval-account"), "lead.anna");
    await user.type(screen.getByTestId("approval-passphrase"), "wrong words");
    await user.type(screen.getByTestId("approval-comment"), "not now");
    await user.click(screen.getByTestId("approval-submit"));

    expect(await screen.findByRole("alert")).toHaveTextContent("wrong passphrase for lead.anna: try again");
    await waitFor(() => {
      expect(screen.getByTestId("approval-passphrase")).toHaveValue("");
    });
    expect(screen.getByTestId("approval-comment")).toHaveValue("not now");
    expect(screen.getByTestId("approval-account")).toHaveValue("lead.anna");
    expect(callsOf("deny_request")).toEqual([
      { id: "ap-1", account: "lead.anna", passphrase: "wrong words", comment: "not now" },
    ]);
    expect(onDecided).not.toHaveBeenCalled();
    expect(screen.queryByTestId("approval-result")).not.toBeInTheDocument();
  });
});
