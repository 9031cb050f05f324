import { useEffect, useRef } from "react";

import type { StoredMessage } from "../../api/types";
import { placeNotices, type SettledNotice } from "../approvals/settledApprovals";
import { SettledApprovalNotice } from "../approvals/SettledApprovalNotice";
import { RequestBlock } from "../request/RequestBlock";
import type { Chat } from "./useChat";

/**
 * The thread: its stored messages, then this session's requests. Settled approvals' results
 * (`notices`) go under their request, or after the history when the request is only stored.
 * It follows the end as a request streams, unless the reader scrolled up.
 */
export function Transcript({
  chat,
  notices,
  onCite,
}: {
  chat: Chat;
  notices: readonly SettledNotice[];
  onCite: (chunkId: number) => void;
}) {
  const endRef = useRef<HTMLDivElement>(null);
  const following = useRef(true);
  const { history, requests } = chat;
  const last = requests[requests.length - 1]?.view;
  const progress = `${String(last?.answer.length ?? 0)}:${String(last?.runs.length ?? 0)}:${String(last?.intents.length ?? 0)}:${String(notices.length)}`;
  const placed = placeNotices(notices, requests);

  useEffect(() => {
    following.current = true;
    endRef.current?.scrollIntoView({ block: "end" });
  }, [history.length, requests.length]);

  useEffect(() => {
    if (following.current) endRef.current?.scrollIntoView({ block: "end" });
  }, [progress]);

  const empty =
    history.length === 0 &&
    requests.length === 0 &&
    notices.length === 0 &&
    !chat.historyLoading &&
    chat.historyError === null;
  return (
    <section
      className="transcript"
      aria-label="Transcript"
      onScroll={(event) => {
        const element = event.currentTarget;
        following.current = element.scrollHeight - element.scrollTop - element.clientHeight < 80;
      }}
    >
      {empty && (
        <div className="empty-state">
          <p>
            Ask about system status, logs, SAP orders or plant documents. Plan mode shows what would happen without
            running anything.
          </p>
        </div>
      )}
      {chat.historyLoading && <p className="muted">Loading the conversation…</p>}
      {chat.historyError !== null && (
        <p className="error" role="alert">
          Could not open the conversation: {chat.historyError}
        </p>
      )}
      {history.map((message, index) => (
        <HistoryMessage key={`${message.created_at}-${String(index)}`} message={message} />
      ))}
      {placed.afterHistory.map((notice) => (
        <SettledApprovalNotice key={notice.key} notice={notice} />
      ))}
      {requests.map((request) => (
        <RequestBlock
          key={request.key}
          view={request.view}
          notices={placed.byRequest.get(request.key) ?? []}
          onCite={onCite}
        />
      ))}
      <div ref={endRef} />
    </section>
  );
}

function HistoryMessage({ message }: { message: StoredMessage }) {
  const user = message.role === "user";
  return (
    <div className={`bubble ${user ? "bubble-user" : "bubble-assistant"} history`}>
      <p className="user-text">{message.content}</p>
    </div>
  );
}
