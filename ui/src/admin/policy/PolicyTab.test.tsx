import { act, render, screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";

import type { PolicyFile, PolicyReview } from "../../api/types";
import { callsOf, engineError, invoke, routeCommands, type Handler } from "../../test/tauriCore";
import { PolicyTab } from "./PolicyTab";

vi.mock("@tauri-apps/api/core", () => import("../../test/tauriCore"));

const IN_FORCE = 'permit(principal, action == Action::"read", resource);\n';
const FILES: PolicyFile[] = [
  { name: "plant.cedar", language: "cedar", text: IN_FORCE },
  { name: "guards.toml", language: "toml", text: "[guards]\n" },
];
const BROKEN = `${IN_FORCE}permit(oops\n`;
const EDITED = `${IN_FORCE}forbid(principal, action, resource);\n`;
const DIFF = '--- plant.cedar\n+++ plant.cedar\n@@ -1 +1,2 @@\n permit(principal, action == Action::"read", resource);\n+forbid(principal, action, resource);';

/** The engine's review: problems for the broken text, a diff for anything else. */
const review: Handler = (args) => {
  const text = args.text as string;
  const result: PolicyReview =
    text === BROKEN
      ? {
          problems: [
            { file: "plant.cedar", line: 2, message: "unexpected end of policy" },
            { file: "guards.toml", line: null, message: "guard `ticket` names an unknown action" },
          ],
          diff: "",
        }
      : { problems: [], diff: text === IN_FORCE ? "" : DIFF };
  return result;
};

function setEditorText(text: string) {
  act(() => {
    window.__airlockEditor?.setText(text);
  });
}

async function renderTab(save: Handler = () => ({ file: "plant.cedar", diff: DIFF, sha256: "ab" })) {
  routeCommands({ policy_files: () => FILES, review_policy: review, save_policy: save });
  render(<PolicyTab />);
  await screen.findByTestId("policy-editor");
  await waitFor(() => {
    expect(callsOf("review_policy")).toHaveLength(1);
  });
}

describe("policy editor", () => {
  beforeEach(() => {
    invoke.mockReset();
  });

  it("lists the policy files and exposes the editor's text to tests", async () => {
    await renderTab();
    expect(screen.getAllByTestId("policy-file").map((f) => f.dataset.file)).toEqual(["plant.cedar", "guards.toml"]);
    expect(window.__airlockEditor?.getText()).toBe(IN_FORCE);
  });

  it("lists review problems with their lines and keeps Save disabled while any exist", async () => {
    await renderTab();
    setEditorText(BROKEN);
    const problems = await screen.findAllByTestId("policy-problem", {}, { timeout: 3000 });
    expect(problems.map((p) => p.textContent)).toEqual([
      "plant.cedar:2: unexpected end of policy",
      "guards.toml: guard `ticket` names an unknown action",
    ]);
    expect(callsOf("review_policy").at(-1)).toEqual({ file: "plant.cedar", text: BROKEN });
    expect(screen.getByTestId("policy-save")).toBeDisabled();
    await waitFor(() => {
      const editor = screen.getByTestId("policy-editor").shadowRoot;
      expect(editor?.querySelector(".cm-lintRange-error")).toHaveTextContent("permit(oops");
    });
  });

  it("with zero problems, Save shows the diff and then saves", async () => {
    const user = userEvent.setup();
    await renderTab();
    expect(screen.getByTestId("policy-save")).toBeDisabled();
    setEditorText(EDITED);
    await waitFor(
      () => {
        expect(screen.getByTestId("policy-save")).toBeEnabled();
      },
      { timeout: 3000 },
    );
    await user.click(screen.getByTestId("policy-save"));
    const diff = screen.getByTestId("policy-diff");
    expect(diff.querySelector(".diff-add")).toHaveTextContent("+forbid(principal, action, resource);");
    expect(callsOf("save_policy")).toHaveLength(0);
    await user.click(screen.getByTestId("policy-confirm-save"));
    expect(await screen.findByTestId("policy-notice")).toHaveTextContent("Saved; the governor now uses it.");
    expect(callsOf("save_policy")).toEqual([{ file: "plant.cedar", text: EDITED }]);
    expect(screen.queryByTestId("policy-diff")).not.toBeInTheDocument();
  });

  it("a failed save shows the message, says the old policy stays, and keeps the text", async () => {
    const user = userEvent.setup();
    await renderTab(() => engineError("plant.cedar:2: the policy does not validate against the schema"));
    setEditorText(EDITED);
    await waitFor(
      () => {
        expect(screen.getByTestId("policy-save")).toBeEnabled();
      },
      { timeout: 3000 },
    );
    await user.click(screen.getByTestId("policy-save"));
    await user.click(screen.getByTestId("policy-confirm-save"));
    const notice = await screen.findByTestId("policy-notice");
    expect(notice).toHaveTextContent("plant.cedar:2: the policy does not validate against the schema");
    expect(notice).toHaveTextContent("The old policy stays in force.");
    expect(window.__airlockEditor?.getText()).toBe(EDITED);
    expect(screen.getByTestId("policy-save")).toBeEnabled();
  });
});
