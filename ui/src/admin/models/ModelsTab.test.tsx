import { act, render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";

import type { ChecksumStatus, LoadedModelView, ModelEntry, ModelsView } from "../../api/types";
import { callsOf, Channel, deferred, emit, engineError, invoke, routeCommands, type Deferred, type InvokeArgs } from "../../test/tauriCore";
import { ModelsTab } from "./ModelsTab";

vi.mock("@tauri-apps/api/core", () => import("../../test/tauriCore"));

const QWEN: LoadedModelView = { name: "qwen2.5-3b", description: "Qwen 2.5 3B instruct, Q4_K_M", n_ctx: 8192, load_ms: 3200 };

function model(name: string, checksum: ChecksumStatus, overrides: Partial<ModelEntry> = {}): ModelEntry {
  return { name, path: `/opt/airlock/models/${name}.gguf`, size_bytes: 2_147_483_648, source: "manifest", checksum, active: false, ...overrides };
}

function view(overrides: Partial<ModelsView> = {}): ModelsView {
  return {
    models_dir: "/opt/airlock/models",
    models: [
      model("qwen2.5-3b", { state: "valid", sha256: "aaaabbbbccccdddd" }, { active: true }),
      model("llama-3.2-3b", { state: "unchecked" }, { size_bytes: 943_718_400 }),
      model("phi-mini", { state: "unchecked" }, { source: "user" }),
    ],
    loaded: QWEN,
    pinned_reason: null,
    problem: null,
    ...overrides,
  };
}

function row(name: string): HTMLElement {
  const found = screen.getAllByTestId("model-row").find((r) => r.dataset.model === name);
  if (!found) throw new Error(`no row ${name}`);
  return found;
}

function checksumOf(name: string): HTMLElement {
  return within(row(name)).getByTestId("model-checksum");
}

describe("ModelsTab", () => {
  beforeEach(() => {
    invoke.mockReset();
  });

  it("shows the loaded model and the files, and checks unchecked files one after another", async () => {
    const answers = new Map<string, Deferred<ChecksumStatus>>();
    routeCommands({
      list_models: () => view(),
      verify_model: ({ name }) => {
        const answer = deferred<ChecksumStatus>();
        answers.set(name as string, answer);
        return answer.promise;
      },
    });
    render(<ModelsTab />);
    await screen.findAllByTestId("model-row");
    const loaded = screen.getByTestId("models-loaded");
    expect(loaded).toHaveTextContent("Qwen 2.5 3B instruct, Q4_K_M");
    expect(loaded).toHaveTextContent("8192 tokens");
    expect(loaded).toHaveTextContent("3.2 s");
    expect(within(row("qwen2.5-3b")).getByTestId("model-active")).toBeInTheDocument();
    expect(row("qwen2.5-3b")).toHaveTextContent("2.00 GiB");
    expect(row("llama-3.2-3b")).toHaveTextContent("900.0 MiB");
    expect(row("phi-mini")).toHaveTextContent("your own");

    // The first unchecked file is hashed, the next one waits for it.
    expect(checksumOf("qwen2.5-3b")).toHaveAttribute("data-state", "valid");
    expect(checksumOf("llama-3.2-3b")).toHaveTextContent("checking…");
    expect(checksumOf("phi-mini")).toHaveTextContent("waiting to check");
    expect(callsOf("verify_model")).toEqual([{ name: "llama-3.2-3b" }]);

    await act(async () => {
      answers.get("llama-3.2-3b")?.resolve({ state: "valid", sha256: "1234567890abcdef" });
      await Promise.resolve();
    });
    expect(checksumOf("llama-3.2-3b")).toHaveTextContent("✓ matches the published checksum 1234567890ab");
    expect(checksumOf("phi-mini")).toHaveTextContent("checking…");
    expect(callsOf("verify_model")).toEqual([{ name: "llama-3.2-3b" }, { name: "phi-mini" }]);

    await act(async () => {
      answers.get("phi-mini")?.resolve({ state: "unlisted", sha256: "feedfacefeedface" });
      await Promise.resolve();
    });
    expect(checksumOf("phi-mini")).toHaveTextContent("no published checksum (your own file) feedfacefeed");
    expect(within(row("phi-mini")).getByTestId("model-use")).toBeEnabled();
  });

  it("disables switching to a file whose checksum does not match, and says why", async () => {
    const user = userEvent.setup();
    routeCommands({
      list_models: () =>
        view({ models: [model("qwen2.5-3b", { state: "valid", sha256: "aa" }, { active: true }), model("llama-3.2-3b", { state: "unchecked" })] }),
      verify_model: () => ({ state: "mismatch", expected: "0123456789abcdef00", actual: "fedcba9876543210ff" }),
    });
    render(<ModelsTab />);
    await screen.findAllByTestId("model-row");
    const llama = row("llama-3.2-3b");
    await vi.waitFor(() => {
      expect(within(llama).getByTestId("model-checksum")).toHaveAttribute("data-state", "mismatch");
    });
    expect(within(llama).getByTestId("model-checksum")).toHaveTextContent(
      "✗ does not match the published checksum: expected 0123456789ab, file has fedcba987654",
    );
    const use = within(llama).getByTestId("model-use");
    expect(use).toBeDisabled();
    expect(use).toHaveAccessibleDescription(/does not match its published checksum/);
    await user.click(use);
    expect(callsOf("switch_model")).toHaveLength(0);
  });

  it("verifies a file again on demand, and shows why a check failed", async () => {
    const user = userEvent.setup();
    routeCommands({
      list_models: () => view({ models: [model("llama-3.2-3b", { state: "valid", sha256: "aa" })] }),
      verify_model: () => engineError("cannot read /opt/airlock/models/llama-3.2-3b.gguf: permission denied"),
    });
    render(<ModelsTab />);
    await screen.findAllByTestId("model-row");
    expect(callsOf("verify_model")).toHaveLength(0);
    await user.click(screen.getByRole("button", { name: "Verify llama-3.2-3b" }));
    expect(await screen.findByText(/could not check: cannot read .* permission denied/)).toBeInTheDocument();
    expect(callsOf("verify_model")).toEqual([{ name: "llama-3.2-3b" }]);
  });

  it("turns switching off with the pinned reason, and shows a problem prominently", async () => {
    routeCommands({
      list_models: () =>
        view({
          models: [model("qwen2.5-3b", { state: "valid", sha256: "aa" }, { active: true }), model("llama-3.2-3b", { state: "valid", sha256: "bb" })],
          pinned_reason: "this deployment pins qwen2.5-3b (AIRLOCK_MODEL)",
          problem: "the manifest lists mistral-7b but its file is missing: copy it into /opt/airlock/models",
        }),
    });
    render(<ModelsTab />);
    await screen.findAllByTestId("model-row");
    expect(screen.getByTestId("models-problem")).toHaveTextContent("the manifest lists mistral-7b but its file is missing");
    expect(screen.getByRole("alert")).toBe(screen.getByTestId("models-problem"));
    expect(screen.getByTestId("models-pinned")).toHaveTextContent("Switching is off: this deployment pins qwen2.5-3b");
    const use = within(row("llama-3.2-3b")).getByTestId("model-use");
    expect(use).toBeDisabled();
    expect(use).toHaveAccessibleDescription(/this deployment pins qwen2.5-3b/);
    expect(within(row("qwen2.5-3b")).queryByTestId("model-use")).not.toBeInTheDocument();
  });

  it("switches models showing each load stage, then the load time", async () => {
    const user = userEvent.setup();
    const answer = deferred<LoadedModelView>();
    let switchArgs: InvokeArgs = {};
    let active = "qwen2.5-3b";
    const llama: LoadedModelView = { name: "llama-3.2-3b", description: "Llama 3.2 3B", n_ctx: 4096, load_ms: 2400 };
    routeCommands({
      list_models: () =>
        view({
          models: [
            model("qwen2.5-3b", { state: "valid", sha256: "aa" }, { active: active === "qwen2.5-3b" }),
            model("llama-3.2-3b", { state: "valid", sha256: "bb" }, { active: active === "llama-3.2-3b" }),
          ],
          loaded: active === "qwen2.5-3b" ? QWEN : llama,
        }),
      switch_model: (args) => {
        switchArgs = args;
        return answer.promise;
      },
    });
    render(<ModelsTab />);
    await screen.findAllByTestId("model-row");
    await user.click(within(row("llama-3.2-3b")).getByTestId("model-use"));
    expect(switchArgs.name).toBe("llama-3.2-3b");
    expect(switchArgs.events).toBeInstanceOf(Channel);

    const states = () => screen.getAllByTestId("load-stage").map((s) => `${s.dataset.stage ?? ""}:${s.dataset.state ?? ""}`);
    expect(states()).toEqual(["verifying:active", "loading:pending", "loaded:pending"]);
    expect(within(row("llama-3.2-3b")).getByTestId("model-use")).toBeDisabled();

    act(() => {
      emit(switchArgs, { stage: "verifying", detail: "hashing 2.0 GiB" });
    });
    expect(screen.getByText(/hashing 2.0 GiB/)).toBeInTheDocument();
    act(() => {
      emit(switchArgs, { stage: "loading", detail: "mapping 29 layers" });
    });
    expect(states()).toEqual(["verifying:done", "loading:active", "loaded:pending"]);
    act(() => {
      emit(switchArgs, { stage: "loaded", model: llama });
    });
    expect(states()).toEqual(["verifying:done", "loading:done", "loaded:done"]);
    expect(screen.getByTestId("model-switch")).toHaveTextContent("llama-3.2-3b loaded in 2.4 s, context 4096 tokens");

    active = "llama-3.2-3b";
    await act(async () => {
      answer.resolve(llama);
      await answer.promise;
    });
    expect(screen.getByTestId("model-switch-done")).toHaveTextContent("Now using llama-3.2-3b (loaded in 2.4 s).");
    expect(await within(row("llama-3.2-3b")).findByTestId("model-active")).toBeInTheDocument();
    expect(screen.getByTestId("models-loaded")).toHaveTextContent("Llama 3.2 3B");
    expect(callsOf("list_models")).toHaveLength(2);
  });

  it("marks the stage a switch failed at and shows the error", async () => {
    const user = userEvent.setup();
    const answer = deferred<LoadedModelView>();
    let switchArgs: InvokeArgs = {};
    routeCommands({
      list_models: () => view({ models: [model("llama-3.2-3b", { state: "valid", sha256: "bb" })] }),
      switch_model: (args) => {
        switchArgs = args;
        return answer.promise;
      },
    });
    render(<ModelsTab />);
    await user.click(await screen.findByTestId("model-use"));
    act(() => {
      emit(switchArgs, { stage: "verifying", detail: "hashing" });
      emit(switchArgs, { stage: "loading", detail: "allocating" });
    });
    await act(async () => {
      answer.reject("not enough memory for llama-3.2-3b: close other programs or pick a smaller model");
      await answer.promise.catch(() => undefined);
    });
    expect(screen.getAllByTestId("load-stage").map((s) => s.dataset.state)).toEqual(["done", "failed", "pending"]);
    expect(screen.getByRole("alert")).toHaveTextContent(
      "Could not switch to llama-3.2-3b: not enough memory for llama-3.2-3b: close other programs or pick a smaller model",
    );
    expect(screen.getByTestId("model-use")).toBeEnabled();
  });

  it("says where to put model files when there are none", async () => {
    routeCommands({ list_models: () => view({ models: [], loaded: null }) });
    render(<ModelsTab />);
    expect(await screen.findByTestId("models-empty")).toHaveTextContent("No model files in /opt/airlock/models");
    expect(screen.getByTestId("models-loaded")).toHaveTextContent("No model is loaded.");
  });
});
