import { useState } from "react";

import { adminSignIn } from "../api/commands";
import type { Approver } from "../api/types";
import { errorMessage } from "../shared/errors";
import { CredentialFields } from "../shared/CredentialFields";

/** The admin window's first screen: an admin account and its passphrase. */
export function SignIn({ onSignedIn }: { onSignedIn: (admin: Approver) => void }) {
  const [account, setAccount] = useState("");
  const [passphrase, setPassphrase] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  return (
    <main className="sign-in">
      <h1>Airlock administration</h1>
      <p className="muted">Sign in with an admin account. Every change you make is audited under it.</p>
      <form
        className="stacked-form"
        onSubmit={(event) => {
          event.preventDefault();
          setBusy(true);
          setError(null);
          adminSignIn(account.trim(), passphrase).then(
            (admin) => {
              setBusy(false);
              onSignedIn(admin);
            },
            (err: unknown) => {
              setBusy(false);
              setPassphrase("");
              setError(errorMessage(err));
            },
          );
        }}
      >
        <CredentialFields
          account={account}
          passphrase={passphrase}
          onAccount={setAccount}
          onPassphrase={setPassphrase}
          testIdPrefix="admin"
        />
        {error !== null && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <div className="form-actions">
          <button
            type="submit"
            className="primary"
            data-testid="admin-sign-in"
            disabled={busy || account.trim() === "" || passphrase === ""}
          >
            {busy ? "Signing in…" : "Sign in"}
          </button>
        </div>
      </form>
    </main>
  );
}
