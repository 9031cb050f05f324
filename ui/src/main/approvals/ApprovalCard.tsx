import { useState } from "react";

import { approveRequest, denyRequest } from "../../api/commands";
import type { PendingApproval, ToolTarget } from "../../api/types";
import { expiryTitle, formatCountdown, isExpired } from "../../shared/countdown";
import { ArgumentList } from "../../shared/decision/ArgumentList";
import { DecisionTrace } from "../../shared/decision/DecisionTrace";
import { RiskBadge } from "../../shared/decision/RiskBadge";
import { errorMessage } from "../../shared/errors";
import { newRequest, requestReducer, type RequestView } from "../request/requestReducer";
import { ToolRunView } from "../request/ToolRunView";
import { ApprovalForm, type ApprovalFields } from "./ApprovalForm";
import { ApprovalResultView, type ApprovalResult } from "./ApprovalResultView";

/**
 * One call that waits for a human: who asked, the full call, where it lands, its risk and
 * reason, the governor's trace, the time left; Approve/Deny with the approver's passphrase.
 * `now` drives the countdown (injectable for tests).
 */
export function ApprovalCard({
  item,
  now,
  onDecided,
}: {
  item: PendingApproval;
  now: Date;
  onDecided: (item: PendingApproval) => void;
}) {
  const { approval, target } = item;
  const [form, setForm] = useState<"approve" | "deny" | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<ApprovalResult | null>(null);
  const [live, setLive] = useState<RequestView>(() => newRequest("", "execute"));
  const expired = approval.status === "expired" || isExpired(approval.expires_at, now);

  const decide = async (kind: "approve" | "deny", fields: ApprovalFields): Promise<boolean> => {
    setBusy(true);
    setError(null);
    const account = fields.account.trim();
    const comment = fields.comment.trim();
    try {
      if (kind === "approve") {
        const outcome = await approveRequest(approval.id, account, fields.passphrase, comment === "" ? null : comment, (event) => {
          setLive((view) => requestReducer(view, event));
        });
        const ran = outcome.action;
        if (ran) {
          setLive((view) =>
            view.runs.some((run) => run.action?.decision_id === ran.decision_id)
              ? view
              : requestReducer(view, { event: "tool_finished", action: ran }),
          );
        }
        setResult({ kind: "approved", outcome });
      } else {
        const record = await denyRequest(approval.id, account, fields.passphrase, comment);
        setResult({ kind: "denied", record });
      }
      setForm(null);
      onDecided(item);
      return true;
    } catch (err: unknown) {
      setError(errorMessage(err));
      return false;
    } finally {
      setBusy(false);
    }
  };

  return (
    <article className="approval-card" data-testid="approval-card" data-approval-id={approval.id}>
      <header className="approval-head">
        <code className="tool-name">{approval.tool}</code>
        <RiskBadge risk={approval.risk} />
        {result === null && (
          <span className={`countdown${expired ? " countdown-expired" : ""}`} title={expiryTitle(approval.expires_at)}>
            {approval.status === "expired" ? "expired" : formatCountdown(approval.expires_at, now)}
          </span>
        )}
      </header>
      <p className="small">
        Requested by <strong>{approval.requester}</strong> · approver group <strong>{approval.approver_group}</strong>
      </p>
      <p className="approval-reason">{approval.reason}</p>
      <TargetFacts target={target} />
      <ArgumentList args={approval.args} />
      <details className="trace-details">
        <summary>Decision trace ({approval.decision.trace.length} layers)</summary>
        <DecisionTrace decision={approval.decision} />
      </details>
      {busy && live.runs.map((run, index) => <ToolRunView key={index} run={run} />)}
      {error !== null && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {result !== null ? (
        <ApprovalResultView result={result} liveRuns={live.runs} />
      ) : form !== null ? (
        <ApprovalForm
          kind={form}
          busy={busy}
          onSubmit={(fields) => decide(form, fields)}
          onCancel={() => {
            setForm(null);
            setError(null);
          }}
        />
      ) : expired ? (
        <p className="muted small">This request expired; the requester has to ask again.</p>
      ) : (
        <div className="form-actions">
          <button
            type="button"
            className="primary"
            data-testid="approval-approve"
            onClick={() => {
              setForm("approve");
            }}
          >
            Approve…
          </button>
          <button
            type="button"
            data-testid="approval-deny"
            onClick={() => {
              setForm("deny");
            }}
          >
            Deny…
          </button>
        </div>
      )}
    </article>
  );
}

function TargetFacts({ target }: { target: ToolTarget | null }) {
  if (target === null) {
    return <p className="muted small">Target system unknown.</p>;
  }
  return (
    <dl className="facts target">
      <dt>System</dt>
      <dd>{target.system ?? "—"}</dd>
      <dt>Kind</dt>
      <dd>{target.kind}</dd>
      <dt>Environment</dt>
      <dd>{target.environment ?? "—"}</dd>
      <dt>Classification</dt>
      <dd>{target.classification}</dd>
    </dl>
  );
}
