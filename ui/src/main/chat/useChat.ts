import { useCallback, useRef, useState } from "react";

import { ask, callTool, conversationMessages } from "../../api/commands";
import type { AgentEvent, Mode, StoredMessage } from "../../api/types";
import { errorMessage } from "../../shared/errors";
import { newRequest, requestReducer, type RequestView } from "../request/requestReducer";
import { parseTypedCall } from "./typedCall";

/** A request of this session, with a key that stays stable while it streams. */
export interface ChatRequest {
  key: number;
  view: RequestView;
}

/** The thread on screen and how to talk in it. */
export interface Chat {
  /** The thread's id; null for a new thread until its first answer names it. */
  conversationId: string | null;
  /** Earlier messages of an opened thread. */
  history: StoredMessage[];
  historyLoading: boolean;
  historyError: string | null;
  /** Requests sent from this window into the thread, oldest first. */
  requests: ChatRequest[];
  /** Whether a request is running. */
  busy: boolean;
  /** Opens a stored thread. */
  open: (conversationId: string) => void;
  /** Starts a new thread. */
  startNew: () => void;
  /**
   * Sends a request into the thread; resolves true when it was answered. A `/call TOOL {args}`
   * message runs that call without the model (in a new thread, which the chat then follows).
   */
  send: (text: string, mode: Mode) => Promise<boolean>;
}

/**
 * The chat's state: which thread, its history, the requests streamed into it. A request's
 * answer names its thread, so follow-ups (and replies to the governor's questions) go there.
 */
export function useChat(): Chat {
  const [conversationId, setConversationId] = useState<string | null>(null);
  const [history, setHistory] = useState<StoredMessage[]>([]);
  const [historyLoading, setHistoryLoading] = useState(false);
  const [historyError, setHistoryError] = useState<string | null>(null);
  const [requests, setRequests] = useState<ChatRequest[]>([]);
  const [busy, setBusy] = useState(false);
  const nextKey = useRef(0);
  const opening = useRef<string | null>(null);

  const open = useCallback((id: string) => {
    opening.current = id;
    setConversationId(id);
    setRequests([]);
    setHistory([]);
    setHistoryError(null);
    setHistoryLoading(true);
    conversationMessages(id).then(
      (messages) => {
        if (opening.current === id) {
          setHistory(messages);
          setHistoryLoading(false);
        }
      },
      (error: unknown) => {
        if (opening.current === id) {
          setHistoryError(errorMessage(error));
          setHistoryLoading(false);
        }
      },
    );
  }, []);

  const startNew = useCallback(() => {
    opening.current = null;
    setConversationId(null);
    setRequests([]);
    setHistory([]);
    setHistoryError(null);
    setHistoryLoading(false);
  }, []);

  const send = useCallback(
    async (text: string, mode: Mode): Promise<boolean> => {
      const key = nextKey.current;
      nextKey.current += 1;
      const apply = (event: AgentEvent) => {
        setRequests((all) =>
          all.map((request) => (request.key === key ? { key, view: requestReducer(request.view, event) } : request)),
        );
      };
      const typed = parseTypedCall(text);
      if (typed !== null && "error" in typed) {
        const refused = requestReducer(newRequest(text, mode), { event: "error", message: typed.error });
        setRequests((all) => [...all, { key, view: refused }]);
        return false;
      }
      setRequests((all) => [...all, { key, view: newRequest(text, mode) }]);
      setBusy(true);
      try {
        const outcome =
          typed === null
            ? await ask(text, mode, conversationId, apply)
            : await callTool(typed.tool, typed.args, mode, conversationId, apply);
        apply({ event: "answer", outcome });
        opening.current = outcome.audit.conversation_id;
        setConversationId(outcome.audit.conversation_id);
        return true;
      } catch (error: unknown) {
        apply({ event: "error", message: errorMessage(error) });
        return false;
      } finally {
        setBusy(false);
      }
    },
    [conversationId],
  );

  return { conversationId, history, historyLoading, historyError, requests, busy, open, startNew, send };
}
