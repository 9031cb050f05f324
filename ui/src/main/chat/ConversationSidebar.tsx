import type { ConversationSummary } from "../../api/types";
import { formatTimestamp } from "../../shared/format";

/** The conversations list with the "New conversation" button. */
export function ConversationSidebar({
  conversations,
  error,
  selectedId,
  disabled,
  onSelect,
  onNew,
}: {
  conversations: ConversationSummary[] | null;
  error: string | null;
  selectedId: string | null;
  disabled: boolean;
  onSelect: (id: string) => void;
  onNew: () => void;
}) {
  return (
    <nav className="sidebar" aria-label="Conversations">
      <button type="button" className="primary new-conversation" disabled={disabled} onClick={onNew}>
        New conversation
      </button>
      {error !== null && (
        <p className="error small" role="alert">
          Could not list conversations: {error}
        </p>
      )}
      {conversations === null && error === null && <p className="muted small">Loading conversations…</p>}
      {conversations?.length === 0 && <p className="muted small">No conversations yet.</p>}
      {conversations !== null && conversations.length > 0 && (
        <ul className="conversation-list">
          {conversations.map((conversation) => (
            <li key={conversation.id}>
              <button
                type="button"
                className="conversation"
                aria-current={conversation.id === selectedId ? "true" : undefined}
                disabled={disabled}
                onClick={() => {
                  onSelect(conversation.id);
                }}
              >
                <span className="conversation-title">{conversation.title || "Untitled"}</span>
                <span className="conversation-meta">
                  {conversation.messages} messages · {formatTimestamp(conversation.updated_at)}
                </span>
              </button>
            </li>
          ))}
        </ul>
      )}
    </nav>
  );
}
