import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";

import type { UpdateView } from "../../api/types";
import { callsOf, engineError, invoke, routeCommands } from "../../test/tauriCore";
import { UpdatesTab } from "./UpdatesTab";

vi.mock("@tauri-apps/api/core", () => import("../../test/tauriCore"));

const BUNDLE = "/media/usb/airlock-0.2.0-linux-deb-amd64.airlock-update";

const verified: UpdateView = {
  current_version: "0.1.0",
  manifest: {
    format: 1,
    product: "airlock",
    version: "0.2.0",
    target: "linux-deb-amd64",
    notes: "Faster start-up.\nNew MES views.",
    created: "2026-11-20T10:00:00Z",
    payload: { name: "Airlock_0.2.0_amd64.deb", sha256: "ab".repeat(32), size: 24_053_242 },
  },
  trusted_comment: "airlock 0.2.0 release",
  key_id: "0123456789ABCDEF",
};

describe("offline updates", () => {
  beforeEach(() => {
    invoke.mockReset();
  });

  it("shows a verified bundle's version, signer, package and notes, and installs only after confirmation", async () => {
    const user = userEvent.setup();
    routeCommands({
      pick_update_file: () => BUNDLE,
      verify_update: () => verified,
      apply_update: () => ({ version: "0.2.0", command: "dpkg -i /x.deb", output: "Setting up airlock (0.2.0) ..." }),
    });
    render(<UpdatesTab />);
    await user.click(screen.getByTestId("update-pick"));
    const card = await screen.findByTestId("update-verified");
    expect(card).toHaveTextContent("Airlock 0.2.0 (installed: 0.1.0)");
    expect(card).toHaveTextContent("0123456789ABCDEF");
    expect(card).toHaveTextContent("Airlock_0.2.0_amd64.deb");
    expect(screen.getByTestId("update-notes")).toHaveTextContent("New MES views.");
    expect(callsOf("verify_update")).toEqual([{ path: BUNDLE }]);

    await user.click(screen.getByTestId("update-install"));
    expect(callsOf("apply_update")).toHaveLength(0);
    await user.click(screen.getByTestId("update-install-confirm"));
    expect(await screen.findByTestId("update-installed")).toHaveTextContent("Airlock 0.2.0 is installed");
    expect(callsOf("apply_update")).toEqual([{ path: BUNDLE }]);
  });

  it("shows the engine's refusal of a typed path and offers no install", async () => {
    const user = userEvent.setup();
    routeCommands({
      verify_update: () => engineError("update.json is not signed by this Airlock's update key 0123456789ABCDEF"),
    });
    render(<UpdatesTab />);
    await user.type(screen.getByTestId("update-path"), "/tmp/forged.airlock-update");
    await user.click(screen.getByTestId("update-verify"));
    expect(await screen.findByTestId("update-refused")).toHaveTextContent("not signed by this Airlock's update key");
    expect(screen.queryByTestId("update-install")).toBeNull();
  });

  it("says so when the install fails", async () => {
    const user = userEvent.setup();
    routeCommands({
      pick_update_file: () => BUNDLE,
      verify_update: () => verified,
      apply_update: () => engineError("pkexec is missing: apt-get install pkexec"),
    });
    render(<UpdatesTab />);
    await user.click(screen.getByTestId("update-pick"));
    await user.click(await screen.findByTestId("update-install"));
    await user.click(screen.getByTestId("update-install-confirm"));
    expect(await screen.findByTestId("update-refused")).toHaveTextContent("pkexec is missing");
  });

  it("does nothing when the picker is cancelled", async () => {
    const user = userEvent.setup();
    routeCommands({ pick_update_file: () => null });
    render(<UpdatesTab />);
    await user.click(screen.getByTestId("update-pick"));
    expect(callsOf("verify_update")).toHaveLength(0);
    expect(screen.queryByRole("alert")).toBeNull();
  });
});
