import type { AppStatus } from "../../api/types";

type Health = "ok" | "warn" | "bad" | "unknown";

function Item({ health, label, title, testId }: { health: Health; label: string; title: string; testId?: string }) {
  return (
    <span className="status-item" data-testid={testId} title={title}>
      <span className={`dot dot-${health}`} aria-hidden="true" />
      {label}
    </span>
  );
}

/**
 * The bottom bar: who the requests run as, the model, Docker, the keychain and the
 * deployment mode, each with a coloured dot (details in the tooltip), and the admin button.
 */
export function StatusBar({
  status,
  error,
  onOpenAdmin,
}: {
  status: AppStatus | null;
  error: string | null;
  onOpenAdmin: () => void;
}) {
  return (
    <footer className="status-bar" aria-label="Status">
      {status === null ? (
        <Item
          health={error === null ? "unknown" : "bad"}
          label={error === null ? "Reading status…" : "Shell unreachable"}
          title={error ?? "Reading status"}
        />
      ) : (
        <>
          <Item health="ok" label={status.principal} title={`Requests run as ${status.principal}`} />
          <Item
            health={status.model.ok ? "ok" : "bad"}
            label={status.model.ok ? `Model: ${status.model.name ?? "ready"}` : `Model: ${status.model.detail}`}
            title={status.model.detail}
            testId="status-model"
          />
          <Item
            health={status.docker.ok ? "ok" : "bad"}
            label={status.docker.ok ? "Docker ok" : "Docker down"}
            title={status.docker.detail}
            testId="status-docker"
          />
          <Item
            health={status.keychain.ok ? "ok" : "warn"}
            label={status.keychain.ok ? "Keychain ok" : "Keychain unavailable"}
            title={status.keychain.detail}
          />
          <Item
            health={status.read_only ? "warn" : "ok"}
            label={status.read_only ? "Read-only: plan only" : "Plan and execute"}
            title={`Data directory: ${status.data_dir}`}
          />
          {error !== null && <Item health="bad" label="Status out of date" title={error} />}
        </>
      )}
      <button type="button" className="open-admin" data-testid="open-admin" onClick={onOpenAdmin} title="Ctrl+,">
        Administration
      </button>
    </footer>
  );
}
