import { useState } from "react";

import { adminSignOut } from "../api/commands";
import type { Approver } from "../api/types";
import { errorMessage } from "../shared/errors";
import { useShortcuts } from "../shared/shortcuts";
import { ApprovalsTab } from "./approvals/ApprovalsTab";
import { AuditTab } from "./audit/AuditTab";
import { CredentialsTab } from "./credentials/CredentialsTab";
import { DocumentsTab } from "./documents/DocumentsTab";
import { MetricsTab } from "./metrics/MetricsTab";
import { ModelsTab } from "./models/ModelsTab";
import { PlaygroundTab } from "./playground/PlaygroundTab";
import { PolicyTab } from "./policy/PolicyTab";
import { SignIn } from "./SignIn";
import { Tabs, type TabSpec } from "./Tabs";
import { UpdatesTab } from "./updates/UpdatesTab";
import { UsersTab } from "./users/UsersTab";

const TABS: TabSpec[] = [
  { id: "policy", label: "Policy", render: () => <PolicyTab /> },
  { id: "approvals", label: "Approvals", render: () => <ApprovalsTab /> },
  { id: "playground", label: "Playground", render: () => <PlaygroundTab /> },
  { id: "audit", label: "Audit", render: () => <AuditTab /> },
  { id: "documents", label: "Documents", render: () => <DocumentsTab /> },
  { id: "models", label: "Models", render: () => <ModelsTab /> },
  { id: "credentials", label: "Credentials", render: () => <CredentialsTab /> },
  { id: "users", label: "Users", render: () => <UsersTab /> },
  { id: "updates", label: "Updates", render: () => <UpdatesTab /> },
  { id: "metrics", label: "Metrics", render: () => <MetricsTab /> },
];

/**
 * The admin window: sign-in first, then the policy, approvals, playground, audit, documents,
 * models, credentials and users tabs.
 */
export function AdminApp() {
  const [admin, setAdmin] = useState<Approver | null>(null);
  const [selected, setSelected] = useState("policy");
  const [visited, setVisited] = useState<ReadonlySet<string>>(new Set(["policy"]));
  const [error, setError] = useState<string | null>(null);
  useShortcuts({});

  if (admin === null) {
    return <SignIn onSignedIn={setAdmin} />;
  }
  return (
    <div className="app-admin">
      <header className="admin-head">
        <h1>Airlock administration</h1>
        <span className="signed-in">
          Signed in as <strong data-testid="admin-user">{admin.name}</strong>
          {admin.roles.length > 0 && <span className="muted"> ({admin.roles.join(", ")})</span>}
        </span>
        <button
          type="button"
          onClick={() => {
            setError(null);
            adminSignOut().then(
              () => {
                setAdmin(null);
                setSelected("policy");
                setVisited(new Set(["policy"]));
              },
              (err: unknown) => {
                setError(errorMessage(err));
              },
            );
          }}
        >
          Sign out
        </button>
      </header>
      {error !== null && (
        <p className="error" role="alert">
          Could not sign out: {error}
        </p>
      )}
      <Tabs
        tabs={TABS}
        selected={selected}
        visited={visited}
        onSelect={(id) => {
          setSelected(id);
          setVisited((all) => new Set([...all, id]));
        }}
      />
    </div>
  );
}
