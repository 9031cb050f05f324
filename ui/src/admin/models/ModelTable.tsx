import type { ModelEntry } from "../../api/types";
import { formatBytes } from "../../shared/format";
import { ChecksumCell, type Check } from "./ChecksumCell";

/** The model files: size, where each came from, its checksum check, and switching to it. */
export function ModelTable({
  models,
  checks,
  pinned,
  switching,
  onVerify,
  onUse,
}: {
  models: ModelEntry[];
  checks: Record<string, Check>;
  /** Set when the deployment pins the model: switching is off (the reason shows above the table). */
  pinned: boolean;
  /** A switch runs: no other may start. */
  switching: boolean;
  onVerify: (name: string) => void;
  onUse: (name: string) => void;
}) {
  return (
    <table className="dense models-table">
      <thead>
        <tr>
          <th>Model</th>
          <th className="num">Size</th>
          <th>Source</th>
          <th>Checksum</th>
          <th>
            <span className="visually-hidden">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {models.map((model, index) => {
          const check: Check = checks[model.name] ?? { kind: "listed", status: model.checksum };
          const running = check.kind === "queued" || check.kind === "checking";
          const mismatch = check.kind === "listed" && check.status.state === "mismatch";
          const reasonId = `model-blocked-${String(index)}`;
          return (
            <tr
              key={model.name}
              data-testid="model-row"
              data-model={model.name}
              data-active={model.active}
              className={model.active ? "row-active" : undefined}
            >
              <td>
                <strong>{model.name}</strong>
                {model.active && (
                  <span className="tag tag-ok" data-testid="model-active">
                    active
                  </span>
                )}
                <div className="faint small path-cell">
                  <code>{model.path}</code>
                </div>
              </td>
              <td className="num nowrap">{formatBytes(model.size_bytes)}</td>
              <td>{model.source === "manifest" ? "published" : "your own"}</td>
              <td>
                <ChecksumCell check={check} />{" "}
                <button
                  type="button"
                  className="small-button"
                  data-testid="model-verify"
                  disabled={running || switching}
                  aria-label={`Verify ${model.name}`}
                  onClick={() => {
                    onVerify(model.name);
                  }}
                >
                  Verify
                </button>
              </td>
              <td className="row-actions">
                {model.active ? (
                  <span className="muted small">in use</span>
                ) : (
                  <>
                    <button
                      type="button"
                      data-testid="model-use"
                      disabled={pinned || mismatch || switching}
                      aria-describedby={pinned ? "models-pinned" : mismatch ? reasonId : undefined}
                      onClick={() => {
                        onUse(model.name);
                      }}
                    >
                      Use this model
                    </button>
                    {mismatch && !pinned && (
                      <p className="blocked-reason small" id={reasonId}>
                        Damaged or replaced file: it does not match its published checksum. Download it again.
                      </p>
                    )}
                  </>
                )}
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
