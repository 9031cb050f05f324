import { useState } from "react";
import { CredentialFields } from "../../shared/CredentialFields";

/** What the approver typed. */
export interface ApprovalFields {
  account: string;
  passphrase: string;
  comment: string;
}

/**
 * The inline form of an approval decision: account, passphrase and comment (required to
 * deny). `onSubmit` resolves false on failure: the passphrase is then cleared, the rest kept.
 */
export function ApprovalForm({
  kind,
  busy,
  onSubmit,
  onCancel,
}: {
  kind: "approve" | "deny";
  busy: boolean;
  onSubmit: (fields: ApprovalFields) => Promise<boolean>;
  onCancel: () => void;
}) {
  const [account, setAccount] = useState("");
  const [passphrase, setPassphrase] = useState("");
  const [comment, setComment] = useState("");
  const commentMissing = kind === "deny" && comment.trim() === "";
  const incomplete = account.trim() === "" || passphrase === "" || commentMissing;

  return (
    <form
      className="approval-form"
      onSubmit={(event) => {
        event.preventDefault();
        if (incomplete || busy) return;
        void onSubmit({ account, passphrase, comment }).then((ok) => {
          if (!ok) setPassphrase("");
        });
      }}
    >
      <p className="form-title">
        {kind === "approve" ? "Approve: the call runs at once, under your name." : "Deny: the call never runs."}
      </p>
      <CredentialFields
        account={account}
        passphrase={passphrase}
        onAccount={setAccount}
        onPassphrase={setPassphrase}
        testIdPrefix="approval"
      />
      <label>
        Comment{kind === "deny" ? " (required)" : " (optional)"}
        <textarea
          data-testid="approval-comment"
          rows={2}
          value={comment}
          onChange={(event) => {
            setComment(event.target.value);
          }}
        />
      </label>
      {commentMissing && <p className="hint">Say why you deny it: the requester reads this comment.</p>}
      <div className="form-actions">
        <button
          type="submit"
          className={kind === "deny" ? "danger" : "primary"}
          data-testid="approval-submit"
          disabled={incomplete || busy}
        >
          {busy ? "Working…" : kind === "approve" ? "Approve and run" : "Deny"}
        </button>
        <button type="button" onClick={onCancel} disabled={busy}>
          Cancel
        </button>
      </div>
    </form>
  );
}
