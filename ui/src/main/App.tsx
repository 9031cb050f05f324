import { useCallback, useRef, useState } from "react";

import { appStatus, listConversations, openAdminWindow } from "../api/commands";
import type { Mode } from "../api/types";
import { errorMessage } from "../shared/errors";
import { useShortcuts } from "../shared/shortcuts";
import { usePolling } from "../shared/usePolling";
import { ApprovalsPanel } from "./approvals/ApprovalsPanel";
import { usePendingApprovals } from "./approvals/usePendingApprovals";
import { useSettledApprovals } from "./approvals/useSettledApprovals";
import { Composer } from "./chat/Composer";
import { ConversationSidebar } from "./chat/ConversationSidebar";
import { executeBlockedReason } from "./chat/executeBlock";
import { Transcript } from "./chat/Transcript";
import { useChat } from "./chat/useChat";
import { CitationSheet } from "./citations/CitationSheet";
import { StatusBar } from "./status/StatusBar";

const STATUS_EVERY_MS = 10_000;
const CONVERSATIONS_EVERY_MS = 30_000;

/** The main window: conversations, transcript and composer, approvals, status bar. */
export function App() {
  const status = usePolling(appStatus, STATUS_EVERY_MS);
  const approvals = usePendingApprovals();
  const conversations = usePolling(listConversations, CONVERSATIONS_EVERY_MS);
  const chat = useChat();
  const settled = useSettledApprovals(chat, approvals.data);
  const [draft, setDraft] = useState("");
  const [chosenMode, setChosenMode] = useState<Mode>("plan");
  const [approvalsOpen, setApprovalsOpen] = useState(true);
  const [citation, setCitation] = useState<number | null>(null);
  const [adminError, setAdminError] = useState<string | null>(null);
  const inputRef = useRef<HTMLTextAreaElement>(null);
  const approvalsRef = useRef<HTMLElement>(null);

  const blockedReason = executeBlockedReason(status.data);
  if (blockedReason !== null && chosenMode === "execute") {
    // Execute became unavailable: fall back to plan for good, not until it comes back.
    setChosenMode("plan");
  }
  const mode: Mode = blockedReason === null ? chosenMode : "plan";
  const { send, busy } = chat;
  const refreshApprovals = approvals.refresh;
  const refreshConversations = conversations.refresh;

  const submit = useCallback(() => {
    const text = draft.trim();
    if (busy || text === "") return;
    void send(text, mode).then((answered) => {
      if (answered) setDraft("");
      refreshApprovals();
      refreshConversations();
    });
  }, [busy, draft, mode, send, refreshApprovals, refreshConversations]);

  const openAdmin = useCallback(() => {
    setAdminError(null);
    openAdminWindow().catch((error: unknown) => {
      setAdminError(errorMessage(error));
    });
  }, []);

  useShortcuts({
    "toggle-mode": () => {
      if (blockedReason === null) setChosenMode(mode === "plan" ? "execute" : "plan");
    },
    "focus-approvals": () => {
      setApprovalsOpen(true);
      approvalsRef.current?.focus();
    },
    "open-admin": openAdmin,
  });

  const unreachable = status.data === null && status.error !== null;
  return (
    <div className="app-main">
      <ConversationSidebar
        conversations={conversations.data}
        error={conversations.error}
        selectedId={chat.conversationId}
        disabled={busy}
        onSelect={chat.open}
        onNew={() => {
          chat.startNew();
          inputRef.current?.focus();
        }}
      />
      <main className="chat">
        {unreachable && (
          <div className="error shell-error" role="alert">
            <strong>The Airlock shell does not answer:</strong> {status.error}. Close and reopen Airlock; if this page
            is open in a web browser, start the desktop app instead.
          </div>
        )}
        {adminError !== null && (
          <p className="error" role="alert">
            Could not open the admin window: {adminError}
          </p>
        )}
        <Transcript chat={chat} notices={settled} onCite={setCitation} />
        <Composer
          text={draft}
          onText={setDraft}
          mode={mode}
          onMode={setChosenMode}
          blockedReason={blockedReason}
          busy={busy}
          onSend={submit}
          inputRef={inputRef}
        />
      </main>
      <ApprovalsPanel
        approvals={approvals.data}
        error={approvals.error}
        open={approvalsOpen}
        onToggle={() => {
          setApprovalsOpen(!approvalsOpen);
        }}
        onRefresh={refreshApprovals}
        panelRef={approvalsRef}
      />
      <StatusBar status={status.data} error={status.error} onOpenAdmin={openAdmin} />
      {citation !== null && (
        <CitationSheet
          key={citation}
          chunkId={citation}
          onClose={() => {
            setCitation(null);
          }}
        />
      )}
    </div>
  );
}
