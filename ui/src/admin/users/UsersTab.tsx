import { useState } from "react";

import { addAccount, listAccounts, removeAccount } from "../../api/commands";
import { errorMessage } from "../../shared/errors";
import { useLoaded } from "../../shared/useLoaded";
import { useNow } from "../../shared/useNow";
import { AccountTable } from "./AccountTable";
import { AddAccount } from "./AddAccount";

type Notice = { ok: boolean; text: string } | null;

/** The local accounts approvers and admins sign in with: list, add, remove. */
export function UsersTab() {
  const accounts = useLoaded(listAccounts);
  const now = useNow(30_000);
  const [changing, setChanging] = useState(false);
  const [notice, setNotice] = useState<Notice>(null);

  const add = (name: string, roles: string[], passphrase: string) => {
    setChanging(true);
    setNotice(null);
    return addAccount(name, roles, passphrase).then(
      () => {
        setChanging(false);
        setNotice({ ok: true, text: `Added ${name}${roles.length > 0 ? ` (${roles.join(", ")})` : " (no roles)"}.` });
        void accounts.refresh();
        return true;
      },
      (error: unknown) => {
        setChanging(false);
        setNotice({ ok: false, text: `Could not add ${name}: ${errorMessage(error)}` });
        return false;
      },
    );
  };

  const remove = (name: string) => {
    setChanging(true);
    setNotice(null);
    removeAccount(name).then(
      (existed) => {
        setChanging(false);
        setNotice({ ok: true, text: existed ? `Removed ${name}.` : `${name} was already gone.` });
        void accounts.refresh();
      },
      (error: unknown) => {
        setChanging(false);
        setNotice({ ok: false, text: `Could not remove ${name}: ${errorMessage(error)}` });
      },
    );
  };

  const view = accounts.data;
  return (
    <div className="users-tab">
      <section aria-labelledby="accounts-title">
        <div className="toolbar">
          <h2 id="accounts-title">Accounts</h2>
          <button
            type="button"
            onClick={() => {
              void accounts.refresh();
            }}
          >
            Refresh
          </button>
        </div>
        {notice !== null && (
          <p className={notice.ok ? "notice notice-ok" : "error"} role={notice.ok ? "status" : "alert"} data-testid="users-notice">
            {notice.text}
          </p>
        )}
        {accounts.error !== null && (
          <p className="error" role="alert">
            Could not read the accounts: {accounts.error}
          </p>
        )}
        {view === null && accounts.error === null && (
          <p className="muted" role="status">
            Reading the accounts…
          </p>
        )}
        {view !== null && view.accounts.length === 0 && (
          <p className="empty-state" data-testid="accounts-empty">
            No local accounts. Add approvers below so calls that need approval can be decided.
          </p>
        )}
        {view !== null && view.accounts.length > 0 && (
          <AccountTable accounts={view.accounts} now={now} busy={changing} onRemove={remove} />
        )}
      </section>
      <AddAccount knownRoles={view?.roles ?? []} busy={changing} onAdd={add} />
    </div>
  );
}
