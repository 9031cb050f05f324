import { useState } from "react";

import { savePolicy } from "../../api/commands";
import type { PolicyFile } from "../../api/types";
import { errorMessage } from "../../shared/errors";
import { DiffView } from "./DiffView";
import { PolicyEditor } from "./PolicyEditor";
import { ProblemList } from "./ProblemList";
import { usePolicyReview } from "./usePolicyReview";

/** A short word on where the review stands. */
function reviewLabel(current: boolean, error: string | null, problems: number, changed: boolean): string {
  if (!current) return "Checking…";
  if (error !== null) return "";
  if (problems > 0) return `${String(problems)} problem${problems === 1 ? "" : "s"}`;
  return changed ? "No problems" : "Unchanged";
}

type Notice = { ok: true; text: string } | { ok: false; text: string };

/**
 * Editing one policy file: the engine reviews the text as it changes; problems show in the
 * editor and as a list; Save is possible only with zero problems and a change, and shows the
 * diff to confirm first.
 */
export function PolicyWorkbench({
  file,
  text,
  onText,
  onSaved,
}: {
  /** The file as in force. */
  file: PolicyFile;
  /** The text being edited. */
  text: string;
  onText: (text: string) => void;
  /** Called after a save with the text now in force. */
  onSaved: (text: string) => void;
}) {
  const { review, current, error } = usePolicyReview(file.name, text);
  const [confirming, setConfirming] = useState(false);
  const [saving, setSaving] = useState(false);
  const [notice, setNotice] = useState<Notice | null>(null);
  const problems = review?.problems ?? [];
  const changed = text !== file.text;
  const canSave = current && review !== null && problems.length === 0 && changed && !saving;
  const lineProblems = problems.filter((problem) => problem.file === file.name && problem.line !== null);

  const save = async () => {
    setSaving(true);
    try {
      await savePolicy(file.name, text);
      setNotice({ ok: true, text: "Saved; the governor now uses it." });
      onSaved(text);
    } catch (err: unknown) {
      setNotice({ ok: false, text: `Not saved: ${errorMessage(err)}. The old policy stays in force.` });
    } finally {
      setSaving(false);
      setConfirming(false);
    }
  };

  return (
    <div className="workbench">
      <div className="workbench-bar">
        <span className="review-state" role="status">
          {reviewLabel(current, error, problems.length, changed)}
        </span>
        <button
          type="button"
          className="primary"
          data-testid="policy-save"
          disabled={!canSave}
          onClick={() => {
            setNotice(null);
            setConfirming(true);
          }}
        >
          Save…
        </button>
      </div>
      {error !== null && (
        <p className="error" role="alert">
          Could not check the policy: {error}
        </p>
      )}
      {problems.length > 0 && <ProblemList problems={problems} />}
      {notice !== null && (
        <p className={notice.ok ? "notice notice-ok" : "error"} role="status" data-testid="policy-notice">
          {notice.text}
        </p>
      )}
      <PolicyEditor value={text} language={file.language} problems={lineProblems} onChange={onText} />
      {confirming && review !== null && (
        <div className="dialog-backdrop">
          <div
            className="dialog"
            role="dialog"
            aria-modal="true"
            aria-labelledby="confirm-save-title"
            onKeyDown={(event) => {
              if (event.key === "Escape" && !saving) setConfirming(false);
            }}
          >
            <h2 id="confirm-save-title">Save {file.name}?</h2>
            <p className="muted">The governor reloads the policy as soon as it is saved. The change is audited.</p>
            <DiffView diff={review.diff} />
            <div className="form-actions">
              <button
                type="button"
                className="primary"
                data-testid="policy-confirm-save"
                disabled={saving}
                onClick={() => {
                  void save();
                }}
              >
                {saving ? "Saving…" : "Save"}
              </button>
              <button
                type="button"
                disabled={saving}
                autoFocus
                onClick={() => {
                  setConfirming(false);
                }}
              >
                Cancel
              </button>
            </div>
          </div>
        </div>
      )}
    </div>
  );
}
