import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";

import type { ConnectionView } from "../../api/types";
import { callsOf, engineError, invoke, routeCommands } from "../../test/tauriCore";
import { CredentialsTab } from "./CredentialsTab";

vi.mock("@tauri-apps/api/core", () => import("../../test/tauriCore"));

const SECRET = "Tr0ub4dor&3-sap";

const MES: ConnectionView = {
  name: "mes-line3",
  kind: "mes",
  settings: { dsn: "MES_LINE3", user: "airlock_ro" },
  secret_stored: true,
  secret_detail: "Secret Service (GNOME keyring)",
};

function secretShown(): boolean {
  return document.body.innerHTML.includes(SECRET) || screen.queryAllByDisplayValue(SECRET).length > 0;
}

describe("CredentialsTab", () => {
  beforeEach(() => {
    invoke.mockReset();
  });

  it("lists connections with their settings and whether the secret is stored, never a secret", async () => {
    routeCommands({
      list_connections: () => [MES, { ...MES, name: "mes-old", secret_stored: false, secret_detail: "not in the keychain: add the connection again" }],
    });
    render(<CredentialsTab />);
    const rows = await screen.findAllByTestId("connection-row");
    expect(rows[0]).toHaveTextContent("MES_LINE3");
    expect(rows[0]).toHaveTextContent("airlock_ro");
    const stored = within(rows[0] as HTMLElement).getByTestId("connection-secret-state");
    expect(stored).toHaveAttribute("data-stored", "true");
    expect(stored).toHaveTextContent("✓ stored");
    expect(stored).toHaveTextContent("Secret Service (GNOME keyring)");
    const missing = within(rows[1] as HTMLElement).getByTestId("connection-secret-state");
    expect(missing).toHaveAttribute("data-stored", "false");
    expect(missing).toHaveTextContent(/^✗ not stored\s*not in the keychain: add the connection again$/);
    // Write-only: no way to reveal a secret, and no command that reads one.
    expect(screen.queryByRole("button", { name: /show/i })).not.toBeInTheDocument();
    expect(invoke.mock.calls.map(([command]) => command)).toEqual(["list_connections"]);
    expect(screen.getByTestId("connection-secret")).toHaveAttribute("type", "password");
  });

  it("says when there is no connection", async () => {
    routeCommands({ list_connections: () => [] });
    render(<CredentialsTab />);
    expect(await screen.findByTestId("connections-empty")).toHaveTextContent("No connections yet");
  });

  it("adds an SAP connection with its settings, clears the secret and never shows it", async () => {
    const user = userEvent.setup();
    let list: ConnectionView[] = [];
    routeCommands({
      list_connections: () => list,
      add_connection: ({ name, kind, settings }) => {
        const added: ConnectionView = {
          name: name as string,
          kind: kind as "sap",
          settings: settings as Record<string, string>,
          secret_stored: true,
          secret_detail: "Secret Service",
        };
        list = [added];
        return added;
      },
    });
    render(<CredentialsTab />);
    await screen.findByTestId("connections-empty");
    await user.type(screen.getByTestId("connection-name"), " sap-prod ");
    await user.type(screen.getByTestId("connection-setting-url"), "https://sap-gw.plant.local:44300/sap/");
    await user.type(screen.getByTestId("connection-setting-user"), "AIRLOCK_RFC");
    await user.type(screen.getByTestId("connection-setting-client"), "100");
    await user.type(screen.getByTestId("connection-secret"), SECRET);
    await user.click(screen.getByTestId("connection-add"));

    expect(callsOf("add_connection")).toEqual([
      {
        name: "sap-prod",
        kind: "sap",
        settings: { url: "https://sap-gw.plant.local:44300/sap/", user: "AIRLOCK_RFC", client: "100" },
        secret: SECRET,
      },
    ]);
    expect(screen.getByTestId("connection-secret")).toHaveValue("");
    expect(await screen.findByTestId("credentials-notice")).toHaveTextContent("Added sap-prod; its secret is stored");
    const row = await screen.findByTestId("connection-row");
    expect(row).toHaveTextContent("sap-prod");
    expect(screen.getByTestId("connection-name")).toHaveValue("");
    expect(secretShown()).toBe(false);
  });

  it("clears the secret after a failed add too, and shows the engine's error", async () => {
    const user = userEvent.setup();
    routeCommands({
      list_connections: () => [],
      add_connection: () => engineError("no keychain is available: install gnome-keyring or KWallet"),
    });
    render(<CredentialsTab />);
    await user.selectOptions(await screen.findByTestId("connection-kind"), "mes");
    await user.type(screen.getByTestId("connection-name"), "mes-line3");
    await user.type(screen.getByTestId("connection-setting-dsn"), "MES_LINE3");
    await user.type(screen.getByTestId("connection-setting-user"), "airlock_ro");
    await user.type(screen.getByTestId("connection-secret"), SECRET);
    await user.click(screen.getByTestId("connection-add"));

    expect(callsOf("add_connection")).toEqual([
      { name: "mes-line3", kind: "mes", settings: { dsn: "MES_LINE3", user: "airlock_ro" }, secret: SECRET },
    ]);
    expect(screen.getByTestId("connection-secret")).toHaveValue("");
    expect(await screen.findByRole("alert")).toHaveTextContent(
      "Could not add mes-line3: no keychain is available: install gnome-keyring or KWallet",
    );
    // The rest of the form stays for another try.
    expect(screen.getByTestId("connection-setting-dsn")).toHaveValue("MES_LINE3");
    expect(secretShown()).toBe(false);
  });

  it("requires the kind's required settings before sending anything", async () => {
    const user = userEvent.setup();
    routeCommands({ list_connections: () => [] });
    render(<CredentialsTab />);
    await screen.findByTestId("connections-empty");
    expect(screen.queryByTestId("connection-setting-dsn")).not.toBeInTheDocument();
    await user.type(screen.getByTestId("connection-name"), "sap-prod");
    await user.type(screen.getByTestId("connection-setting-client"), "100");
    await user.click(screen.getByTestId("connection-add"));

    expect(callsOf("add_connection")).toHaveLength(0);
    const url = screen.getByTestId("connection-setting-url");
    expect(url).toHaveAttribute("aria-invalid", "true");
    expect(url).toHaveAccessibleDescription(/Service URL is required for an SAP connection/);
    expect(url).toHaveFocus();
    expect(screen.getByTestId("connection-setting-user")).toHaveAccessibleDescription("User is required for an SAP connection.");
    expect(screen.getByTestId("connection-setting-client")).not.toHaveAttribute("aria-invalid");
    expect(screen.getByText(/Type the password/)).toBeInTheDocument();

    // Fixing a field clears its message.
    await user.type(url, "https://sap-gw/");
    expect(url).not.toHaveAttribute("aria-invalid");

    // The MES kind asks for its own settings.
    await user.selectOptions(screen.getByTestId("connection-kind"), "mes");
    expect(screen.queryByTestId("connection-setting-url")).not.toBeInTheDocument();
    expect(screen.getByTestId("connection-setting-dsn")).toHaveAccessibleDescription(/DSN\) is required for an MES connection/);
  });

  it("tests a connection and shows the result in its row", async () => {
    const user = userEvent.setup();
    routeCommands({
      list_connections: () => [MES],
      test_connection: () => ({ ok: false, detail: "DSN MES_LINE3 as airlock_ro: login failed; check the password" }),
    });
    render(<CredentialsTab />);
    await user.click(await screen.findByRole("button", { name: "Test mes-line3" }));
    const result = await screen.findByTestId("connection-test-result");
    expect(result).toHaveAttribute("data-ok", "false");
    expect(result).toHaveTextContent("✗ DSN MES_LINE3 as airlock_ro: login failed; check the password");
    expect(callsOf("test_connection")).toEqual([{ name: "mes-line3" }]);
  });

  it("removes a connection only after a confirmation", async () => {
    const user = userEvent.setup();
    let list = [MES];
    routeCommands({
      list_connections: () => list,
      remove_connection: () => {
        list = [];
        return true;
      },
    });
    render(<CredentialsTab />);
    await user.click(await screen.findByTestId("connection-remove"));
    expect(screen.getByRole("group", { name: "Remove mes-line3 and its secret from the keychain?" })).toBeInTheDocument();
    expect(callsOf("remove_connection")).toHaveLength(0);
    await user.click(screen.getByTestId("connection-remove-confirm"));
    expect(callsOf("remove_connection")).toEqual([{ name: "mes-line3" }]);
    await waitFor(() => {
      expect(screen.getByTestId("connections-empty")).toBeInTheDocument();
    });
    expect(screen.getByTestId("credentials-notice")).toHaveTextContent("Removed mes-line3 and its secret.");
  });
});
