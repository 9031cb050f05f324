import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";

import type { AccountsView, LocalAccount } from "../../api/types";
import { callsOf, engineError, invoke, routeCommands } from "../../test/tauriCore";
import { UsersTab } from "./UsersTab";

vi.mock("@tauri-apps/api/core", () => import("../../test/tauriCore"));

const PASSPHRASE = "correct horse battery staple";

function account(name: string, overrides: Partial<LocalAccount> = {}): LocalAccount {
  return { name, roles: ["shift-leads"], failed_attempts: 0, locked_until: null, created_at: "2026-11-01T08:00:00Z", ...overrides };
}

function view(accounts: LocalAccount[]): AccountsView {
  return { accounts, roles: ["admin", "shift-leads", "maintenance"] };
}

describe("UsersTab", () => {
  beforeEach(() => {
    invoke.mockReset();
  });

  it("lists accounts with roles, lockouts and failed attempts", async () => {
    routeCommands({
      list_accounts: () =>
        view([
          account("boss", { roles: ["admin"] }),
          account("lead.anna", { failed_attempts: 2 }),
          account("lead.ben", { failed_attempts: 5, locked_until: "2999-01-01T00:00:00Z" }),
        ]),
    });
    render(<UsersTab />);
    const rows = await screen.findAllByTestId("account-row");
    expect(rows.map((r) => r.dataset.account)).toEqual(["boss", "lead.anna", "lead.ben"]);
    expect(rows[0]).toHaveTextContent("admin");
    const lock = (index: number) => within(rows[index] as HTMLElement).getByTestId("account-lock");
    expect(lock(0)).toHaveTextContent("ok");
    expect(lock(1)).toHaveTextContent("2 failed attempts");
    expect(lock(2)).toHaveAttribute("data-locked", "true");
    expect(lock(2)).toHaveTextContent(/locked until 2999-01-01/);
  });

  it("checks the passphrase's length and confirmation before sending", async () => {
    const user = userEvent.setup();
    routeCommands({ list_accounts: () => view([]) });
    render(<UsersTab />);
    await screen.findByTestId("accounts-empty");
    await user.type(screen.getByTestId("account-name"), "lead.anna");
    await user.type(screen.getByTestId("account-passphrase"), "too short");
    await user.type(screen.getByTestId("account-confirmation"), "too short");
    await user.click(screen.getByTestId("account-add"));

    expect(callsOf("add_account")).toHaveLength(0);
    const passphrase = screen.getByTestId("account-passphrase");
    expect(passphrase).toHaveAttribute("aria-invalid", "true");
    expect(passphrase).toHaveAccessibleDescription(/The passphrase needs at least 12 characters; it has 9\./);
    expect(passphrase).toHaveFocus();

    await user.clear(passphrase);
    await user.type(passphrase, PASSPHRASE);
    expect(passphrase).not.toHaveAttribute("aria-invalid");
    const confirmation = screen.getByTestId("account-confirmation");
    expect(confirmation).toHaveAccessibleDescription("The two passphrases differ: type the same one twice.");
    await user.click(screen.getByTestId("account-add"));
    expect(callsOf("add_account")).toHaveLength(0);
    expect(confirmation).toHaveFocus();
  });

  it("adds an account with the ticked and typed roles, then clears the form", async () => {
    const user = userEvent.setup();
    let accounts: LocalAccount[] = [];
    routeCommands({
      list_accounts: () => view(accounts),
      add_account: ({ name, roles }) => {
        accounts = [account(name as string, { roles: roles as string[] })];
        return null;
      },
    });
    render(<UsersTab />);
    await screen.findByTestId("accounts-empty");
    const roles = screen.getAllByTestId("account-role");
    expect(roles.map((r) => (r as HTMLInputElement).value)).toEqual(["admin", "shift-leads", "maintenance"]);
    await user.type(screen.getByTestId("account-name"), " lead.anna ");
    await user.click(screen.getByRole("checkbox", { name: "shift-leads" }));
    await user.click(screen.getByRole("checkbox", { name: "maintenance" }));
    await user.type(screen.getByTestId("account-extra-roles"), "quality, shift-leads");
    await user.type(screen.getByTestId("account-passphrase"), PASSPHRASE);
    await user.type(screen.getByTestId("account-confirmation"), PASSPHRASE);
    await user.click(screen.getByTestId("account-add"));

    expect(callsOf("add_account")).toEqual([
      { name: "lead.anna", roles: ["shift-leads", "maintenance", "quality"], passphrase: PASSPHRASE },
    ]);
    expect(await screen.findByTestId("users-notice")).toHaveTextContent("Added lead.anna (shift-leads, maintenance, quality).");
    expect(await screen.findByTestId("account-row")).toHaveTextContent("lead.anna");
    expect(screen.getByTestId("account-name")).toHaveValue("");
    expect(screen.getByTestId("account-passphrase")).toHaveValue("");
    expect(screen.getByTestId("account-confirmation")).toHaveValue("");
    expect(screen.getByRole("checkbox", { name: "shift-leads" })).not.toBeChecked();
  });

  it("shows the engine's refusal and clears the passphrases, keeping the rest", async () => {
    const user = userEvent.setup();
    routeCommands({
      list_accounts: () => view([]),
      add_account: () => engineError("account lead.anna exists already"),
    });
    render(<UsersTab />);
    await screen.findByTestId("accounts-empty");
    await user.type(screen.getByTestId("account-name"), "lead.anna");
    await user.type(screen.getByTestId("account-passphrase"), PASSPHRASE);
    await user.type(screen.getByTestId("account-confirmation"), PASSPHRASE);
    await user.click(screen.getByTestId("account-add"));
    expect(await screen.findByRole("alert")).toHaveTextContent("Could not add lead.anna: account lead.anna exists already");
    expect(screen.getByTestId("account-name")).toHaveValue("lead.anna");
    expect(screen.getByTestId("account-passphrase")).toHaveValue("");
    expect(screen.getByTestId("account-confirmation")).toHaveValue("");
  });

  it("removes an account after a confirmation, and shows the engine's refusal", async () => {
    const user = userEvent.setup();
    let allowed = false;
    let accounts = [account("lead.anna")];
    routeCommands({
      list_accounts: () => view(accounts),
      remove_account: () => {
        if (!allowed) return engineError("only an admin may change accounts: sign in as one");
        accounts = [];
        return true;
      },
    });
    render(<UsersTab />);
    await user.click(await screen.findByTestId("account-remove"));
    expect(callsOf("remove_account")).toHaveLength(0);
    expect(screen.getByRole("group", { name: /Remove the account lead.anna\?/ })).toBeInTheDocument();
    await user.click(screen.getByTestId("account-remove-confirm"));
    expect(callsOf("remove_account")).toEqual([{ name: "lead.anna" }]);
    expect(await screen.findByRole("alert")).toHaveTextContent(
      "Could not remove lead.anna: only an admin may change accounts: sign in as one",
    );
    expect(screen.getByTestId("account-row")).toBeInTheDocument();

    allowed = true;
    await user.click(screen.getByTestId("account-remove"));
    await user.click(screen.getByTestId("account-remove-confirm"));
    await waitFor(() => {
      expect(screen.getByTestId("accounts-empty")).toBeInTheDocument();
    });
    expect(screen.getByTestId("users-notice")).toHaveTextContent("Removed lead.anna.");
  });
});
