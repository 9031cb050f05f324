import { useState } from "react";

import { addConnection, listConnections, removeConnection, testConnection } from "../../api/commands";
import type { ConnectionKind } from "../../api/types";
import { errorMessage } from "../../shared/errors";
import { useLoaded } from "../../shared/useLoaded";
import { AddConnection } from "./AddConnection";
import { ConnectionTable, type TestState } from "./ConnectionTable";

type Notice = { ok: boolean; text: string } | null;

/**
 * The connections to SAP and the MES: settings in the database, secrets in the OS keychain.
 * Secrets are write-only here: typed once when adding, never read back.
 */
export function CredentialsTab() {
  const connections = useLoaded(listConnections);
  const [tests, setTests] = useState<Record<string, TestState>>({});
  const [changing, setChanging] = useState(false);
  const [notice, setNotice] = useState<Notice>(null);

  const test = (name: string) => {
    setTests((all) => ({ ...all, [name]: { kind: "running" } }));
    testConnection(name).then(
      (result) => {
        setTests((all) => ({ ...all, [name]: { kind: "done", result } }));
      },
      (error: unknown) => {
        setTests((all) => ({ ...all, [name]: { kind: "error", message: errorMessage(error) } }));
      },
    );
  };

  const remove = (name: string) => {
    setChanging(true);
    setNotice(null);
    removeConnection(name).then(
      (existed) => {
        setChanging(false);
        setNotice({ ok: true, text: existed ? `Removed ${name} and its secret.` : `${name} was already gone.` });
        setTests((all) => Object.fromEntries(Object.entries(all).filter(([key]) => key !== name)));
        void connections.refresh();
      },
      (error: unknown) => {
        setChanging(false);
        setNotice({ ok: false, text: `Could not remove ${name}: ${errorMessage(error)}` });
      },
    );
  };

  const add = (name: string, kind: ConnectionKind, settings: Record<string, string>, secret: string) => {
    setChanging(true);
    setNotice(null);
    return addConnection(name, kind, settings, secret).then(
      (added) => {
        setChanging(false);
        setNotice({
          ok: added.secret_stored,
          text: added.secret_stored
            ? `Added ${added.name}; its secret is stored (${added.secret_detail}). Test it below.`
            : `Added ${added.name}, but its secret is not stored: ${added.secret_detail}`,
        });
        void connections.refresh();
        return true;
      },
      (error: unknown) => {
        setChanging(false);
        setNotice({ ok: false, text: `Could not add ${name}: ${errorMessage(error)}. Type the password again to retry.` });
        return false;
      },
    );
  };

  const list = connections.data;
  return (
    <div className="credentials-tab">
      <section aria-labelledby="connections-title">
        <div className="toolbar">
          <h2 id="connections-title">Connections</h2>
          <button
            type="button"
            onClick={() => {
              void connections.refresh();
            }}
          >
            Refresh
          </button>
        </div>
        {notice !== null && (
          <p className={notice.ok ? "notice notice-ok" : "error"} role={notice.ok ? "status" : "alert"} data-testid="credentials-notice">
            {notice.text}
          </p>
        )}
        {connections.error !== null && (
          <p className="error" role="alert">
            Could not read the connections: {connections.error}
          </p>
        )}
        {list === null && connections.error === null && (
          <p className="muted" role="status">
            Reading the connections…
          </p>
        )}
        {list !== null && list.length === 0 && (
          <p className="empty-state" data-testid="connections-empty">
            No connections yet. Add the SAP gateway or an MES database below; their tools need one.
          </p>
        )}
        {list !== null && list.length > 0 && (
          <ConnectionTable connections={list} tests={tests} busy={changing} onTest={test} onRemove={remove} />
        )}
      </section>
      <AddConnection busy={changing} onAdd={add} />
    </div>
  );
}
