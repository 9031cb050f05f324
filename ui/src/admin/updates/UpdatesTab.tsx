import { useState } from "react";

import { applyUpdate, pickUpdateFile, verifyUpdate } from "../../api/commands";
import type { UpdateInstalled, UpdateView } from "../../api/types";
import { ConfirmButton } from "../../shared/ConfirmButton";
import { errorMessage } from "../../shared/errors";
import { formatBytes } from "../../shared/format";

type Stage =
  | { kind: "idle" }
  | { kind: "verifying"; path: string }
  | { kind: "verified"; path: string; update: UpdateView }
  | { kind: "installing"; path: string; update: UpdateView }
  | { kind: "installed"; installed: UpdateInstalled }
  | { kind: "refused"; path: string; message: string };

/**
 * Offline updates: an admin picks a `.airlock-update` file (from a USB stick), sees what it
 * installs once its signature and package check out, and installs it. Nothing is read from a
 * network; a bundle signed by any other key is refused.
 */
export function UpdatesTab() {
  const [stage, setStage] = useState<Stage>({ kind: "idle" });
  const [typed, setTyped] = useState("");

  const verify = (path: string) => {
    setStage({ kind: "verifying", path });
    verifyUpdate(path).then(
      (update) => {
        setStage({ kind: "verified", path, update });
      },
      (err: unknown) => {
        setStage({ kind: "refused", path, message: errorMessage(err) });
      },
    );
  };
  const busy = stage.kind === "verifying" || stage.kind === "installing";

  return (
    <section className="updates-tab" aria-labelledby="updates-title">
      <h2 id="updates-title">Offline updates</h2>
      <p className="muted">
        Updates come as a signed <code>.airlock-update</code> file carried to this machine. Airlock checks its signature
        against the update key installed with it, that it is for this platform and newer than this version, and the
        package’s SHA-256, before anything is installed.
      </p>
      <form
        className="update-pick"
        onSubmit={(event) => {
          event.preventDefault();
          if (typed.trim() !== "") verify(typed.trim());
        }}
      >
        <button
          type="button"
          disabled={busy}
          data-testid="update-pick"
          onClick={() => {
            pickUpdateFile().then(
              (path) => {
                if (path !== null) {
                  setTyped(path);
                  verify(path);
                }
              },
              (err: unknown) => {
                setStage({ kind: "refused", path: "", message: errorMessage(err) });
              },
            );
          }}
        >
          Choose an update file…
        </button>
        <label>
          or its path
          <input
            data-testid="update-path"
            spellCheck={false}
            placeholder="/media/usb/airlock-0.2.0-linux-deb-amd64.airlock-update"
            value={typed}
            onChange={(event) => {
              setTyped(event.target.value);
            }}
          />
        </label>
        <button type="submit" disabled={busy || typed.trim() === ""} data-testid="update-verify">
          {stage.kind === "verifying" ? "Verifying…" : "Verify"}
        </button>
      </form>
      {stage.kind === "refused" && (
        <p className="error" role="alert" data-testid="update-refused">
          Refused: {stage.message}
        </p>
      )}
      {(stage.kind === "verified" || stage.kind === "installing") && (
        <div className="update-card" data-testid="update-verified">
          <p>
            <strong>
              ✓ Airlock {stage.update.manifest.version} (installed: {stage.update.current_version})
            </strong>
            , for {stage.update.manifest.target}, made {stage.update.manifest.created}.
          </p>
          <dl>
            <dt>Signed by</dt>
            <dd>
              the installed update key {stage.update.key_id} — “{stage.update.trusted_comment}”
            </dd>
            <dt>Package</dt>
            <dd>
              {stage.update.manifest.payload.name}, {formatBytes(stage.update.manifest.payload.size)}, SHA-256{" "}
              <code className="hash">{stage.update.manifest.payload.sha256}</code>
            </dd>
          </dl>
          {stage.update.manifest.notes.trim() !== "" && (
            <pre className="update-notes" data-testid="update-notes">
              {stage.update.manifest.notes}
            </pre>
          )}
          <ConfirmButton
            label={stage.kind === "installing" ? "Installing…" : `Install Airlock ${stage.update.manifest.version}`}
            question="Install it now? The system may ask for the administrator’s password; restart Airlock afterwards."
            confirmLabel="Install"
            className="primary"
            disabled={stage.kind === "installing"}
            testId="update-install"
            onConfirm={() => {
              const { path, update } = stage;
              setStage({ kind: "installing", path, update });
              applyUpdate(path).then(
                (installed) => {
                  setStage({ kind: "installed", installed });
                },
                (err: unknown) => {
                  setStage({ kind: "refused", path, message: errorMessage(err) });
                },
              );
            }}
          />
        </div>
      )}
      {stage.kind === "installed" && (
        <div className="update-card" role="status" data-testid="update-installed">
          <p>
            <strong>Airlock {stage.installed.version} is installed.</strong> Close and reopen Airlock to use it.
          </p>
          {stage.installed.output !== "" && <pre className="update-notes">{stage.installed.output}</pre>}
        </div>
      )}
    </section>
  );
}
