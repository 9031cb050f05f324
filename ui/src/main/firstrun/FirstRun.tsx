import { useState } from "react";

import { createFirstAdmin, runCheckup } from "../../api/commands";
import type { Checkup, CheckStatus } from "../../api/types";
import { characters, MIN_PASSPHRASE_CHARS, validateAccount } from "../../shared/accountForm";
import { errorMessage } from "../../shared/errors";
import { SecretInput } from "../../shared/SecretInput";
import { useLoaded } from "../../shared/useLoaded";

const MARK: Record<CheckStatus, string> = { ok: "✓", warn: "!", fail: "✗" };
const LABEL: Record<CheckStatus, string> = { ok: "works", warn: "works, with a warning", fail: "does not work" };

/** The check-up list: every part, how it fared and what to do. */
function CheckList({ checkup }: { checkup: Checkup }) {
  return (
    <ul className="checkup" data-testid="checkup">
      {checkup.checks.map((check) => (
        <li key={check.name} className={`check check-${check.status}`} data-testid="check" data-status={check.status}>
          <span className="check-mark" aria-label={LABEL[check.status]}>
            {MARK[check.status]}
          </span>
          <span className="check-name">{check.name}</span>
          <span className="check-detail">{check.detail}</span>
        </li>
      ))}
    </ul>
  );
}

/**
 * The first screen on a new installation: the check-up of every part (the same as `airlock
 * doctor`), then the first admin account. Failed parts are shown with what to do; they do not
 * block the account (plan mode works without Docker), and the check-up can be run again.
 */
export function FirstRun({ onDone }: { onDone: () => void }) {
  const checkup = useLoaded(runCheckup);
  const [checking, setChecking] = useState(false);
  const [name, setName] = useState("");
  const [passphrase, setPassphrase] = useState("");
  const [confirmation, setConfirmation] = useState("");
  const [tried, setTried] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const checkAgain = () => {
    setChecking(true);
    void checkup.refresh().then(() => {
      setChecking(false);
    });
  };

  const form = { name, roles: ["admin"], extraRoles: "", passphrase, confirmation };
  const errors = tried ? validateAccount(form) : {};
  const count = (status: CheckStatus) => checkup.data?.checks.filter((c) => c.status === status).length ?? 0;
  const failed = count("fail");
  const warned = count("warn");

  return (
    <main className="first-run">
      <h1>Welcome to Airlock</h1>
      <p className="muted">
        Airlock checks the parts it runs on, then you create the admin account: it approves risky actions, edits the
        policy and adds the other accounts.
      </p>
      <section aria-labelledby="checkup-title">
        <div className="first-run-head">
          <h2 id="checkup-title">1. Check-up</h2>
          <button type="button" onClick={checkAgain} disabled={checking || checkup.data === null} data-testid="checkup-again">
            {checking ? "Checking…" : "Check again"}
          </button>
        </div>
        {checkup.data === null && checkup.error === null && (
          <p className="muted" role="status">
            Checking the models’ checksums, the Docker engine and the sandbox image… this takes a few seconds.
          </p>
        )}
        {checkup.error !== null && (
          <p className="error" role="alert">
            The check-up did not run: {checkup.error}
          </p>
        )}
        {checkup.data !== null && <CheckList checkup={checkup.data} />}
        {checkup.data !== null && (
          <p className={failed === 0 ? "muted" : "error"} data-testid="checkup-summary">
            {failed > 0
              ? `${String(failed)} part${failed === 1 ? "" : "s"} not working: fix ${failed === 1 ? "it" : "them"} as described, then check again. Plan mode works meanwhile.`
              : warned > 0
                ? "Every part works; the warnings above say what to improve."
                : "Every part works."}
          </p>
        )}
      </section>
      <section aria-labelledby="first-admin-title">
        <h2 id="first-admin-title">2. The admin account</h2>
        <form
          className="stacked-form"
          noValidate
          onSubmit={(event) => {
            event.preventDefault();
            setTried(true);
            if (busy || Object.keys(validateAccount(form)).length > 0) return;
            setBusy(true);
            setError(null);
            const chosen = passphrase;
            setPassphrase("");
            setConfirmation("");
            setTried(false);
            createFirstAdmin(name.trim(), chosen).then(onDone, (err: unknown) => {
              setBusy(false);
              setError(errorMessage(err));
            });
          }}
        >
          <label>
            Account name
            <input
              data-testid="first-admin-name"
              autoComplete="username"
              spellCheck={false}
              placeholder="admin.maria"
              value={name}
              aria-invalid={errors.name !== undefined || undefined}
              onChange={(event) => {
                setName(event.target.value);
              }}
            />
            {errors.name !== undefined && <span className="field-error">{errors.name}</span>}
          </label>
          <SecretInput
            label="Passphrase"
            value={passphrase}
            onChange={setPassphrase}
            testId="first-admin-passphrase"
            autoComplete="new-password"
            invalid={errors.passphrase !== undefined}
          />
          <span className="muted small">
            At least {MIN_PASSPHRASE_CHARS} characters ({characters(passphrase)} typed). Airlock keeps only a hash of it;
            a lost admin passphrase cannot be recovered, so add a second admin soon.
          </span>
          {errors.passphrase !== undefined && <span className="field-error">{errors.passphrase}</span>}
          <SecretInput
            label="Passphrase again"
            value={confirmation}
            onChange={setConfirmation}
            testId="first-admin-confirmation"
            autoComplete="new-password"
            invalid={errors.confirmation !== undefined}
          />
          {errors.confirmation !== undefined && <span className="field-error">{errors.confirmation}</span>}
          {error !== null && (
            <p className="error" role="alert">
              {error}
            </p>
          )}
          <div className="form-actions">
            <button type="submit" className="primary" data-testid="first-admin-create" disabled={busy}>
              {busy ? "Creating…" : "Create the admin account"}
            </button>
          </div>
        </form>
      </section>
    </main>
  );
}
