import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";

import type { Checkup } from "../../api/types";
import { status } from "../../test/fixtures";
import { callsOf, engineError, invoke, routeCommands, type Handler } from "../../test/tauriCore";
import { Root } from "../Root";

vi.mock("@tauri-apps/api/core", () => import("../../test/tauriCore"));

const checkup: Checkup = {
  ok: false,
  needs_admin: true,
  checks: [
    { name: "generator model", status: "ok", detail: "/usr/lib/Airlock/models/x.gguf (94 MiB), checksum matches the manifest" },
    { name: "Docker engine", status: "fail", detail: "Docker engine not reachable at unix:///var/run/docker.sock" },
    { name: "keychain", status: "warn", detail: "keys are in the file /home/op/.local/share/airlock/keys" },
  ],
};

function routes(needed: boolean, overrides: Record<string, Handler> = {}) {
  routeCommands({
    first_run_needed: () => needed,
    run_checkup: () => checkup,
    create_first_admin: () => null,
    app_status: () => status(),
    pending_approvals: () => [],
    list_conversations: () => [],
    ...overrides,
  });
}

describe("first run", () => {
  beforeEach(() => {
    invoke.mockReset();
  });

  it("opens the chat directly once an admin exists", async () => {
    routes(false);
    render(<Root />);
    expect(await screen.findByTestId("composer-input")).toBeInTheDocument();
    expect(callsOf("run_checkup")).toHaveLength(0);
  });

  it("shows every part's check with what to do, and counts the failures", async () => {
    routes(true);
    render(<Root />);
    const list = await screen.findByTestId("checkup");
    const items = within(list).getAllByTestId("check");
    expect(items.map((item) => item.dataset.status)).toEqual(["ok", "fail", "warn"]);
    expect(items[1]).toHaveTextContent("Docker engine not reachable");
    expect(screen.getByTestId("checkup-summary")).toHaveTextContent("1 part not working");
  });

  it("runs the check-up again on request", async () => {
    const user = userEvent.setup();
    routes(true);
    render(<Root />);
    await screen.findByTestId("checkup");
    await user.click(screen.getByTestId("checkup-again"));
    await screen.findByTestId("checkup");
    expect(callsOf("run_checkup")).toHaveLength(2);
  });

  it("refuses a short passphrase or a differing confirmation before asking the engine", async () => {
    const user = userEvent.setup();
    routes(true);
    render(<Root />);
    await user.type(await screen.findByTestId("first-admin-name"), "admin.maria");
    await user.type(screen.getByTestId("first-admin-passphrase"), "short");
    await user.type(screen.getByTestId("first-admin-confirmation"), "shorter");
    await user.click(screen.getByTestId("first-admin-create"));
    expect(screen.getByText(/needs at least 12 characters; it has 5/)).toBeInTheDocument();
    expect(screen.getByText(/The two passphrases differ/)).toBeInTheDocument();
    expect(callsOf("create_first_admin")).toHaveLength(0);
  });

  it("creates the admin account, then opens the chat", async () => {
    const user = userEvent.setup();
    routes(true);
    render(<Root />);
    await user.type(await screen.findByTestId("first-admin-name"), " admin.maria ");
    await user.type(screen.getByTestId("first-admin-passphrase"), "correct horse battery");
    await user.type(screen.getByTestId("first-admin-confirmation"), "correct horse battery");
    await user.click(screen.getByTestId("first-admin-create"));
    expect(await screen.findByTestId("composer-input")).toBeInTheDocument();
    expect(callsOf("create_first_admin")).toEqual([{ name: "admin.maria", passphrase: "correct horse battery" }]);
  });

  it("shows the engine's refusal and stays on the form", async () => {
    const user = userEvent.setup();
    routes(true, {
      create_first_admin: () => engineError("changing local accounts needs an admin's sign-in (`--as NAME`)"),
    });
    render(<Root />);
    await user.type(await screen.findByTestId("first-admin-name"), "admin.maria");
    await user.type(screen.getByTestId("first-admin-passphrase"), "correct horse battery");
    await user.type(screen.getByTestId("first-admin-confirmation"), "correct horse battery");
    await user.click(screen.getByTestId("first-admin-create"));
    expect(await screen.findByRole("alert")).toHaveTextContent("needs an admin's sign-in");
    expect(screen.getByTestId("first-admin-passphrase")).toHaveValue("");
    expect(screen.getByTestId("first-admin-create")).toBeEnabled();
  });
});
