import { act, render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

import type { ApprovalOutcome, ConversationSummary, PendingApproval, StoredMessage } from "../api/types";
import { action, intent, outcome, pendingApproval, status } from "../test/fixtures";
import { callsOf, invoke, routeCommands, type Handler } from "../test/tauriCore";
import { App } from "./App";

vi.mock("@tauri-apps/api/core", () => import("../test/tauriCore"));

/** How often the main window reads the pending approvals (usePendingApprovals). */
const POLL_MS = 5_000;

/** ap-1: a restart in conv-9, trace t-9, that waits for shift-leads. */
const waiting = pendingApproval("2999-01-01T00:00:00Z");
/** An approval of another conversation. */
const elsewhere = pendingApproval("2999-01-01T00:00:00Z", {
  id: "ap-5",
  trace_id: "t-5",
  conversation_id: "conv-5",
  tool: "get_logs",
});

const QUESTION = "restart the opcua bridge on line 3";
const ANSWER = "The restart of opcua-bridge waits for approval by shift-leads.";
const DENIED = 'Denied by lee ("not during the shift"): `service_restart` will not run.';
const APPROVED = 'Approved by lee ("line is stopped"): `service_restart` ran. Result: {"restarted":true}';
const FAILED = "Approved by lee, but `service_restart` failed: opcua-bridge did not come back";

const asked = outcome({
  answer: ANSWER,
  plan: [intent("service_restart", waiting.approval.decision)],
  audit: { trace_id: "t-9", mode: "execute", conversation_id: "conv-9" },
});

function message(role: string, content: string, minute: number): StoredMessage {
  return { role, content, trace_id: "t-9", created_at: `2025-03-01 10:0${String(minute)}:00` };
}

/** The conversation as the engine stores it once the request was answered. */
const answered: StoredMessage[] = [message("user", QUESTION, 0), message("assistant", ANSWER, 1)];

const conversation: ConversationSummary = {
  id: "conv-9",
  title: QUESTION,
  created_at: "2025-03-01T10:00:00Z",
  updated_at: "2025-03-01T10:01:00Z",
  messages: 2,
};

/** What the mocked engine holds: the pending approvals and conv-9's messages. */
let pending: PendingApproval[] = [];
let stored: StoredMessage[] = [];

function routes(overrides: Record<string, Handler> = {}) {
  routeCommands({
    app_status: () => status(),
    pending_approvals: () => [...pending],
    list_conversations: () => [conversation],
    conversation_messages: () => [...stored],
    ask: () => {
      pending = [waiting];
      stored = [...answered];
      return asked;
    },
    ...overrides,
  });
}

/** Lets the approvals poll run once more. */
async function nextPoll() {
  await act(async () => {
    await vi.advanceTimersByTimeAsync(POLL_MS);
  });
}

/** Sends the restart in execute mode; resolves with its block once `waits` approvals wait. */
async function askForRestart(user: ReturnType<typeof userEvent.setup>, waits = 1): Promise<HTMLElement> {
  await screen.findByTestId("status-docker");
  await user.keyboard("{Control>}m{/Control}");
  await user.type(screen.getByTestId("composer-input"), QUESTION);
  await user.click(screen.getByTestId("send-button"));
  const request = await screen.findByTestId("request");
  expect(await within(request).findByTestId("answer-text")).toHaveTextContent(ANSWER);
  await waitFor(() => {
    expect(screen.getByTestId("approvals-badge")).toHaveTextContent(String(waits));
  });
  return request;
}

describe("settled approvals in the requester's conversation", () => {
  beforeEach(() => {
    invoke.mockReset();
    vi.useFakeTimers({ shouldAdvanceTime: true });
    pending = [];
    stored = [];
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it("shows a denial made elsewhere under its request, once", async () => {
    const user = userEvent.setup({ advanceTimers: vi.advanceTimersByTime });
    routes();
    render(<App />);
    const request = await askForRestart(user);
    expect(screen.queryByTestId("approval-notice")).not.toBeInTheDocument();

    // Denied in the admin window: the engine tells the conversation.
    pending = [];
    stored = [...answered, message("assistant", DENIED, 2)];
    await nextPoll();

    const notice = await within(request).findByTestId("approval-notice");
    expect(notice).toHaveAttribute("data-verdict", "denied");
    expect(notice).toHaveTextContent("Denied");
    expect(notice).toHaveTextContent(DENIED);
    expect(notice).toHaveAttribute("aria-live", "polite");
    expect(within(request).getByTestId("answer-text").compareDocumentPosition(notice)).toBe(
      Node.DOCUMENT_POSITION_FOLLOWING,
    );
    expect(callsOf("conversation_messages")).toEqual([{ conversationId: "conv-9" }]);

    await nextPoll();
    await nextPoll();
    expect(screen.getAllByTestId("approval-notice")).toHaveLength(1);
    expect(callsOf("conversation_messages")).toHaveLength(1);
  });

  it("does nothing when an approval of another conversation leaves", async () => {
    const user = userEvent.setup({ advanceTimers: vi.advanceTimersByTime });
    routes({
      ask: () => {
        pending = [waiting, elsewhere];
        stored = [...answered, { ...message("assistant", "Approved by lee: `get_logs` ran. Result: {}", 2), trace_id: "t-5" }];
        return asked;
      },
    });
    render(<App />);
    await askForRestart(user, 2);

    pending = [waiting];
    await nextPoll();
    await waitFor(() => {
      expect(screen.getByTestId("approvals-badge")).toHaveTextContent("1");
    });
    await nextPoll();
    expect(callsOf("conversation_messages")).toEqual([]);
    expect(screen.queryByTestId("approval-notice")).not.toBeInTheDocument();
  });

  it("waits for the result the engine writes after the call ran", async () => {
    const user = userEvent.setup({ advanceTimers: vi.advanceTimersByTime });
    routes();
    render(<App />);
    const request = await askForRestart(user);

    // Approved: the call runs, so the approval leaves the list before its message is written.
    pending = [];
    await nextPoll();
    await waitFor(() => {
      expect(callsOf("conversation_messages")).toHaveLength(1);
    });
    expect(screen.queryByTestId("approval-notice")).not.toBeInTheDocument();

    stored = [...answered, message("assistant", FAILED, 2)];
    await nextPoll();
    const notice = await within(request).findByTestId("approval-notice");
    expect(notice).toHaveAttribute("data-verdict", "failed");
    expect(notice).toHaveTextContent("Approved, but the call failed");
    expect(notice).toHaveTextContent(FAILED);
  });

  it("shows the result of an approval given in this window's panel", async () => {
    const user = userEvent.setup({ advanceTimers: vi.advanceTimersByTime });
    const approved: ApprovalOutcome = {
      approval: { ...waiting.approval, status: "executed", decided_by: "lee" },
      action: action("service_restart", "d-9", { result: { restarted: true } }),
    };
    routes({
      approve_request: () => {
        pending = [];
        stored = [...answered, message("assistant", APPROVED, 2)];
        return approved;
      },
    });
    render(<App />);
    const request = await askForRestart(user);

    const panel = screen.getByRole("complementary", { name: /Approvals/ });
    await user.click(within(panel).getByTestId("approval-approve"));
    await user.type(within(panel).getByTestId("approval-account"), "lee");
    await user.type(within(panel).getByTestId("approval-passphrase"), "secret words");
    await user.type(within(panel).getByTestId("approval-comment"), "line is stopped");
    await user.click(within(panel).getByTestId("approval-submit"));

    const notice = await within(request).findByTestId("approval-notice");
    expect(notice).toHaveAttribute("data-verdict", "approved");
    expect(notice).toHaveTextContent(APPROVED);
  });

  /** Opens conv-9 from the sidebar while ap-1 waits, then has it approved elsewhere. */
  async function openThenApprovedElsewhere(user: ReturnType<typeof userEvent.setup>): Promise<HTMLElement> {
    pending = [waiting];
    stored = [...answered];
    routes();
    render(<App />);
    await user.click(await screen.findByRole("button", { name: new RegExp(QUESTION) }));
    const history = await screen.findByText(ANSWER);
    await waitFor(() => {
      expect(screen.getByTestId("approvals-badge")).toHaveTextContent("1");
    });

    pending = [];
    stored = [...answered, message("assistant", APPROVED, 2)];
    await nextPoll();
    const notice = await screen.findByTestId("approval-notice");
    expect(notice).toHaveAttribute("data-verdict", "approved");
    expect(notice).toHaveTextContent(APPROVED);
    expect(history.compareDocumentPosition(notice)).toBe(Node.DOCUMENT_POSITION_FOLLOWING);
    expect(screen.queryByTestId("request")).not.toBeInTheDocument();
    return notice;
  }

  it("shows the result after the history of a conversation opened from the sidebar", async () => {
    const user = userEvent.setup({ advanceTimers: vi.advanceTimersByTime });
    await openThenApprovedElsewhere(user);
    expect(callsOf("conversation_messages")).toHaveLength(2);
  });

  it("shows the stored message, not the notice, when the conversation is opened again", async () => {
    const user = userEvent.setup({ advanceTimers: vi.advanceTimersByTime });
    await openThenApprovedElsewhere(user);
    await user.click(screen.getByRole("button", { name: new RegExp(QUESTION) }));
    await waitFor(() => {
      expect(screen.queryByTestId("approval-notice")).not.toBeInTheDocument();
    });
    expect(screen.getAllByText(APPROVED)).toHaveLength(1);
    await nextPoll();
    expect(screen.getAllByText(APPROVED)).toHaveLength(1);
    expect(screen.queryByTestId("approval-notice")).not.toBeInTheDocument();
  });

  it("clears the notices when another conversation opens", async () => {
    const user = userEvent.setup({ advanceTimers: vi.advanceTimersByTime });
    await openThenApprovedElsewhere(user);
    await user.click(screen.getByRole("button", { name: "New conversation" }));
    expect(screen.queryByTestId("approval-notice")).not.toBeInTheDocument();
    expect(screen.queryByText(APPROVED)).not.toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: new RegExp(QUESTION) }));
    expect(await screen.findByText(APPROVED)).toBeInTheDocument();
    expect(screen.getAllByText(APPROVED)).toHaveLength(1);
    expect(screen.queryByTestId("approval-notice")).not.toBeInTheDocument();
  });
});
