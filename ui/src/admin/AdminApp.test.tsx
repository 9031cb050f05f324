import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";

import type { ApprovalOutcome } from "../api/types";
import { action, pendingApproval } from "../test/fixtures";
import { callsOf, invoke, routeCommands } from "../test/tauriCore";
import { AdminApp } from "./AdminApp";

vi.mock("@tauri-apps/api/core", () => import("../test/tauriCore"));

describe("admin window", () => {
  beforeEach(() => {
    invoke.mockReset();
  });

  it("lists the waiting calls in the Approvals tab, and approves one with the approver's passphrase", async () => {
    const user = userEvent.setup();
    const item = pendingApproval("2999-01-01T00:00:00Z");
    let waiting = [item];
    const outcome: ApprovalOutcome = {
      approval: { ...item.approval, status: "executed", decided_by: "lead.anna" },
      action: action("service_restart", "d-9"),
    };
    routeCommands({
      admin_sign_in: () => ({ name: "boss", roles: ["admin"] }),
      policy_files: () => [],
      pending_approvals: () => waiting,
      approve_request: () => {
        waiting = [];
        return outcome;
      },
    });
    render(<AdminApp />);
    await user.type(screen.getByTestId("admin-account"), "boss");
    await user.type(screen.getByTestId("admin-passphrase"), "admin words");
    await user.click(screen.getByTestId("admin-sign-in"));

    const tabs = await screen.findAllByRole("tab");
    expect(tabs.slice(0, 2).map((tab) => tab.dataset.testid)).toEqual(["tab-policy", "tab-approvals"]);
    await user.click(screen.getByTestId("tab-approvals"));
    expect(await screen.findByTestId("approval-card")).toHaveAttribute("data-approval-id", "ap-1");
    expect(screen.getByTestId("approvals-badge")).toHaveTextContent("1");

    await user.click(screen.getByTestId("approval-approve"));
    await user.type(screen.getByTestId("approval-account"), "lead.anna");
    await user.type(screen.getByTestId("approval-passphrase"), "secret words");
    await user.type(screen.getByTestId("approval-comment"), "go ahead");
    await user.click(screen.getByTestId("approval-submit"));

    expect(await screen.findByTestId("approval-result")).toHaveTextContent("Approved by lead.anna and executed.");
    expect(callsOf("approve_request")).toEqual([
      expect.objectContaining({ id: "ap-1", account: "lead.anna", passphrase: "secret words", comment: "go ahead" }),
    ]);
    expect(await screen.findByTestId("approvals-badge")).toHaveTextContent("0");
  });

  it("opens the documents, models, credentials and users tabs, each reading its own list", async () => {
    const user = userEvent.setup();
    routeCommands({
      admin_sign_in: () => ({ name: "boss", roles: ["admin"] }),
      policy_files: () => [],
      list_documents: () => [],
      list_models: () => ({ models_dir: "/opt/airlock/models", models: [], loaded: null, pinned_reason: null, problem: null }),
      list_connections: () => [],
      list_accounts: () => ({ accounts: [], roles: ["admin"] }),
    });
    render(<AdminApp />);
    await user.type(screen.getByTestId("admin-account"), "boss");
    await user.type(screen.getByTestId("admin-passphrase"), "admin words");
    await user.click(screen.getByTestId("admin-sign-in"));

    await user.click(await screen.findByTestId("tab-documents"));
    expect(await screen.findByTestId("documents-empty")).toBeVisible();
    // Arrow keys move between the tabs.
    await user.keyboard("{ArrowRight}");
    expect(screen.getByTestId("tab-models")).toHaveFocus();
    expect(await screen.findByTestId("models-empty")).toBeVisible();
    expect(screen.getByTestId("documents-empty")).not.toBeVisible();
    await user.click(screen.getByTestId("tab-credentials"));
    expect(await screen.findByTestId("connections-empty")).toBeVisible();
    await user.click(screen.getByTestId("tab-users"));
    expect(await screen.findByTestId("accounts-empty")).toBeVisible();
    expect(screen.queryByText(/Coming in a later release/)).not.toBeInTheDocument();
    expect(["list_documents", "list_models", "list_connections", "list_accounts"].map((c) => callsOf(c).length)).toEqual([1, 1, 1, 1]);
  });
});
