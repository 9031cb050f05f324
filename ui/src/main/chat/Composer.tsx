import type { Ref } from "react";

import type { Mode } from "../../api/types";
import { matchShortcut } from "../../shared/shortcuts";

/** What the composer shows and what it reports. */
export interface ComposerProps {
  text: string;
  onText: (text: string) => void;
  mode: Mode;
  onMode: (mode: Mode) => void;
  /** Why execute mode is unavailable, or null. */
  blockedReason: string | null;
  busy: boolean;
  onSend: () => void;
  inputRef?: Ref<HTMLTextAreaElement>;
}

/**
 * The request box: text (a `/call TOOL {args}` line runs a tool directly), plan/execute switch
 * (with the reason when execute is unavailable) and Send. Ctrl+Enter in the box sends; Ctrl+M
 * is a window shortcut (see `useShortcuts`).
 */
export function Composer({ text, onText, mode, onMode, blockedReason, busy, onSend, inputRef }: ComposerProps) {
  return (
    <form
      className="composer"
      onSubmit={(event) => {
        event.preventDefault();
        onSend();
      }}
    >
      <label className="visually-hidden" htmlFor="composer-input">
        Request
      </label>
      <textarea
        id="composer-input"
        ref={inputRef}
        data-testid="composer-input"
        value={text}
        readOnly={busy}
        rows={3}
        placeholder="Ask about system status, logs, SAP orders or plant documents. Ctrl+Enter sends."
        aria-describedby="composer-hint"
        onChange={(event) => {
          onText(event.target.value);
        }}
        onKeyDown={(event) => {
          if (matchShortcut(event) === "send") {
            event.preventDefault();
            onSend();
          }
        }}
      />
      <p id="composer-hint" className="hint composer-hint">
        Type <code>/call TOOL {"{args}"}</code> to run a tool directly.
      </p>
      <div className="composer-bar">
        <div className="segmented" role="group" aria-label="Mode (Ctrl+M switches)">
          <button
            type="button"
            data-testid="mode-plan"
            aria-pressed={mode === "plan"}
            onClick={() => {
              onMode("plan");
            }}
          >
            Plan
          </button>
          <button
            type="button"
            data-testid="mode-execute"
            aria-pressed={mode === "execute"}
            disabled={blockedReason !== null}
            aria-describedby={blockedReason !== null ? "execute-disabled-reason" : undefined}
            onClick={() => {
              onMode("execute");
            }}
          >
            Execute
          </button>
        </div>
        {blockedReason !== null ? (
          <span id="execute-disabled-reason" className="blocked-reason" data-testid="execute-disabled-reason">
            {blockedReason}
          </span>
        ) : (
          <span className="muted mode-hint">
            {mode === "plan" ? "Plan shows what would happen; nothing runs." : "Execute runs the allowed calls now."}
          </span>
        )}
        <span className="composer-send">
          {busy && (
            <span className="working" role="status">
              Working…
            </span>
          )}
          <button type="submit" className="primary" data-testid="send-button" disabled={busy || text.trim() === ""}>
            Send
          </button>
        </span>
      </div>
    </form>
  );
}
