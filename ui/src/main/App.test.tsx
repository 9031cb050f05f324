import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";

import type { AgentEvent, AskOutcome, OpenedChunk } from "../api/types";
import { allowDecision, intent, outcome, status } from "../test/fixtures";
import { callsOf, engineError, invoke, routeCommands, type Handler } from "../test/tauriCore";
import { App } from "./App";

vi.mock("@tauri-apps/api/core", () => import("../test/tauriCore"));

type Events = { onmessage: (event: AgentEvent) => void };

function routes(overrides: Record<string, Handler> = {}) {
  routeCommands({
    app_status: () => status(),
    pending_approvals: () => [],
    list_conversations: () => [],
    ...overrides,
  });
}

const clarifying: AskOutcome = outcome({
  answer: "Which line do you mean?",
  plan: [
    intent("read_logs", {
      decision: "clarify",
      questions: ["Which line: 3 or 4?"],
      id: "d-7",
      risk: "low",
      deciding_rule: null,
      trace: [],
    }),
  ],
});

describe("main window", () => {
  beforeEach(() => {
    invoke.mockReset();
  });

  it("says what to do when there is nothing yet", async () => {
    routes();
    render(<App />);
    expect(
      screen.getByText(
        "Ask about system status, logs, SAP orders or plant documents. Plan mode shows what would happen without running anything.",
      ),
    ).toBeInTheDocument();
    expect(await screen.findByText("Nothing waits for approval.")).toBeInTheDocument();
    expect(screen.getByTestId("approvals-badge")).toHaveTextContent("0");
    expect(await screen.findByTestId("status-docker")).toHaveTextContent("Docker ok");
    expect(screen.getByTestId("status-model")).toHaveTextContent("qwen2.5-3b");
  });

  it("streams a request, then sends the reply to the governor's question into the same thread", async () => {
    const user = userEvent.setup();
    const replies = [clarifying, outcome({ answer: "Line 3 logs are clean." })];
    routes({
      ask: (args) => {
        const events = args.events as Events;
        const reply = replies.shift() ?? outcome();
        events.onmessage({ event: "model_ready", description: "qwen", load_ms: 10 });
        for (const word of reply.answer.split(" ")) events.onmessage({ event: "token", text: `${word} ` });
        events.onmessage({ event: "answer", outcome: reply });
        return reply;
      },
    });
    render(<App />);
    const input = screen.getByTestId("composer-input");
    await user.type(input, "show the logs");
    await user.keyboard("{Control>}{Enter}{/Control}");

    expect(await screen.findByText("Answer in this thread.")).toBeInTheDocument();
    expect(screen.getAllByText("Which line: 3 or 4?").length).toBeGreaterThan(0);
    expect(screen.getByTestId("answer-text")).toHaveTextContent("Which line do you mean?");
    expect(input).toHaveValue("");
    expect(callsOf("ask")[0]).toMatchObject({ text: "show the logs", mode: "plan", conversationId: null });

    await user.type(input, "line 3");
    await user.click(screen.getByTestId("send-button"));
    await waitFor(() => {
      expect(screen.getAllByTestId("request")).toHaveLength(2);
    });
    expect(callsOf("ask")[1]).toMatchObject({ text: "line 3", conversationId: "conv-1" });
    const second = screen.getAllByTestId("request")[1] as HTMLElement;
    expect(await within(second).findByTestId("answer-text")).toHaveTextContent("Line 3 logs are clean.");
  });

  it("shows the engine's error inline and keeps the typed text", async () => {
    const user = userEvent.setup();
    routes({ ask: () => engineError("The model is not installed: run `make models-recommended`, then ask again.") });
    render(<App />);
    await user.type(screen.getByTestId("composer-input"), "status of line 3");
    await user.click(screen.getByTestId("send-button"));
    expect(await screen.findByRole("alert")).toHaveTextContent("run `make models-recommended`, then ask again.");
    expect(screen.getByTestId("composer-input")).toHaveValue("status of line 3");
    expect(screen.getByTestId("send-button")).toBeEnabled();
  });

  it("runs a typed /call without the model and follows its thread", async () => {
    const user = userEvent.setup();
    const called = outcome({
      answer: "get_logs returned 20 lines.",
      plan: [intent("get_logs", allowDecision("d-3"), { source: "syslog", tail: 20 })],
      audit: { trace_id: "t-3", mode: "plan", conversation_id: "conv-7" },
    });
    routes({
      call_tool: (args) => {
        (args.events as Events).onmessage({ event: "decision", intent: intent("get_logs", allowDecision("d-3")) });
        return called;
      },
      ask: () => outcome(),
    });
    render(<App />);
    expect(screen.getByText(/to run a tool directly/)).toHaveTextContent("Type /call TOOL {args} to run a tool directly.");
    const input = screen.getByTestId("composer-input");
    await user.click(input);
    await user.paste('/call get_logs {"source": "syslog", "tail": 20}');
    await user.click(screen.getByTestId("send-button"));

    expect(await screen.findByTestId("answer-text")).toHaveTextContent("get_logs returned 20 lines.");
    expect(callsOf("call_tool")).toEqual([
      expect.objectContaining({ tool: "get_logs", args: { source: "syslog", tail: 20 }, mode: "plan", conversationId: null }),
    ]);
    expect(callsOf("ask")).toHaveLength(0);
    expect(input).toHaveValue("");

    await user.type(input, "anything odd in them?");
    await user.click(screen.getByTestId("send-button"));
    await waitFor(() => {
      expect(callsOf("ask")).toHaveLength(1);
    });
    expect(callsOf("ask")[0]).toMatchObject({ text: "anything odd in them?", conversationId: "conv-7" });

    // A typed call in an open conversation is a turn of it, not a new one.
    await user.click(input);
    await user.paste('/call get_logs {"source": "syslog", "tail": 5}');
    await user.click(screen.getByTestId("send-button"));
    await waitFor(() => {
      expect(callsOf("call_tool")).toHaveLength(2);
    });
    expect(callsOf("call_tool")[1]).toMatchObject({ args: { source: "syslog", tail: 5 }, conversationId: "conv-1" });
  });

  it("shows a malformed /call in the request block, calls nothing and keeps the text", async () => {
    const user = userEvent.setup();
    routes();
    render(<App />);
    const input = screen.getByTestId("composer-input");
    await user.click(input);
    await user.paste("/call get_logs [20]");
    await user.click(screen.getByTestId("send-button"));

    const request = await screen.findByTestId("request");
    expect(within(request).getByRole("alert")).toHaveTextContent(
      'The arguments must be a JSON object. Write it as /call TOOL {json}, for example /call get_logs {"source": "syslog", "tail": 20}',
    );
    expect(callsOf("call_tool")).toHaveLength(0);
    expect(callsOf("ask")).toHaveLength(0);
    expect(input).toHaveValue("/call get_logs [20]");
    expect(screen.getByTestId("send-button")).toBeEnabled();
  });

  it("disables execute with the reason on a read-only installation", async () => {
    routes({ app_status: () => status({ read_only: true }) });
    render(<App />);
    expect(await screen.findByTestId("execute-disabled-reason")).toHaveTextContent(
      "This installation is read-only: requests can only be planned",
    );
    expect(screen.getByTestId("mode-execute")).toBeDisabled();
    expect(screen.getByTestId("mode-plan")).toHaveAttribute("aria-pressed", "true");
  });

  it("disables execute while Docker is down, and Ctrl+M switches modes when it is up", async () => {
    const user = userEvent.setup();
    routes({ app_status: () => status({ docker: { ok: false, detail: "cannot connect to /var/run/docker.sock" } }) });
    render(<App />);
    expect(await screen.findByTestId("execute-disabled-reason")).toHaveTextContent(
      "Docker is not reachable: cannot connect to /var/run/docker.sock",
    );
    await user.keyboard("{Control>}m{/Control}");
    expect(screen.getByTestId("mode-plan")).toHaveAttribute("aria-pressed", "true");
  });

  it("switches to execute with Ctrl+M and sends in that mode", async () => {
    const user = userEvent.setup();
    routes({ ask: () => outcome() });
    render(<App />);
    await screen.findByTestId("status-docker");
    await user.keyboard("{Control>}m{/Control}");
    expect(screen.getByTestId("mode-execute")).toHaveAttribute("aria-pressed", "true");
    await user.type(screen.getByTestId("composer-input"), "restart the bridge");
    await user.keyboard("{Control>}{Enter}{/Control}");
    await waitFor(() => {
      expect(callsOf("ask")[0]).toMatchObject({ mode: "execute" });
    });
  });

  it("opens a citation in a side sheet with the cited chunk highlighted", async () => {
    const user = userEvent.setup();
    const opened: OpenedChunk = {
      chunk: {
        chunk_id: 7,
        document_id: 2,
        title: "Line 3 torque manual",
        page: 12,
        section: "4.2",
        text: "Tighten to 45 N·m.",
        classification: "internal",
      },
      before: "Clean the flange first. ",
      after: " Check again after 24 h.",
    };
    const answered = outcome({
      answer: "Use 45 N·m [1].",
      plan: [intent("search_documents", allowDecision("d-1"))],
      sources: [{ chunk_id: 7, citation: "1", quote: "Tighten to 45 N·m.", text: "", score: 1, similarity: null }],
    });
    routes({ ask: () => answered, open_citation: () => opened });
    render(<App />);
    await user.type(screen.getByTestId("composer-input"), "torque for the flange?");
    await user.click(screen.getByTestId("send-button"));
    await user.click(await screen.findByTestId("citation"));
    const sheet = await screen.findByTestId("citation-sheet");
    expect(await within(sheet).findByText("Line 3 torque manual")).toBeInTheDocument();
    expect(within(sheet).getByText("Tighten to 45 N·m.").tagName).toBe("MARK");
    expect(sheet).toHaveTextContent("Page 12 · Section 4.2");
    expect(sheet).toHaveTextContent("Clean the flange first. Tighten to 45 N·m. Check again after 24 h.");
    expect(callsOf("open_citation")).toEqual([{ chunkId: 7 }]);
  });

  it("focuses the approvals panel, opens the admin window and scales the font from the keyboard", async () => {
    const user = userEvent.setup();
    routes({ open_admin_window: () => null });
    render(<App />);
    await screen.findByTestId("status-docker");
    await user.keyboard("{Control>}{Shift>}A{/Shift}{/Control}");
    expect(document.activeElement).toBe(screen.getByRole("complementary", { name: /Approvals/ }));
    await user.keyboard("{Control>},{/Control}");
    expect(callsOf("open_admin_window")).toHaveLength(1);
    await user.keyboard("{Control>}={/Control}{Control>}={/Control}");
    expect(document.documentElement.style.fontSize).toBe("18px");
    expect(window.localStorage.getItem("airlock.fontSize")).toBe("18");
    await user.keyboard("{Control>}0{/Control}");
    expect(document.documentElement.style.fontSize).toBe("16px");
  });

  it("says so when the shell does not answer", async () => {
    routeCommands({});
    render(<App />);
    expect(await screen.findByText(/The Airlock shell does not answer/)).toBeInTheDocument();
  });
});
