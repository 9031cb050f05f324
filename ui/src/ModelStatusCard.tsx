import { useEffect, useState } from "react";
import {
  describeSource,
  errorMessage,
  fetchModelStatus,
  fileName,
  formatBytes,
  type ModelInfo,
  type ModelStatus,
} from "./modelStatus";

type LoadState =
  | { kind: "loading" }
  | { kind: "error"; message: string }
  | { kind: "ready"; status: ModelStatus };

/** The card that tells which local model Airlock will use, or how to get one. */
export function ModelStatusCard() {
  const [state, setState] = useState<LoadState>({ kind: "loading" });

  useEffect(() => {
    let cancelled = false;
    fetchModelStatus().then(
      (status) => {
        if (!cancelled) setState({ kind: "ready", status });
      },
      (error: unknown) => {
        if (!cancelled) setState({ kind: "error", message: errorMessage(error) });
      },
    );
    return () => {
      cancelled = true;
    };
  }, []);

  return (
    <section
      className="card"
      aria-labelledby="model-status-title"
      aria-busy={state.kind === "loading"}
    >
      <h2 id="model-status-title" className="card-title">
        Model status
      </h2>
      {state.kind === "loading" && <p className="muted">Looking for local models…</p>}
      {state.kind === "error" && (
        <p className="error" role="alert">
          Could not read the model status: {state.message}
        </p>
      )}
      {state.kind === "ready" && <StatusBody status={state.status} />}
    </section>
  );
}

function StatusBody({ status }: { status: ModelStatus }) {
  const { selected } = status;
  const others = status.available.filter((model) => model.path !== selected?.path);

  return (
    <>
      {selected ? (
        <SelectedModel model={selected} />
      ) : (
        <p className="empty" role="status">
          No model found in <code>{status.models_dir}</code>. Run <code>make setup</code>.
        </p>
      )}
      {status.problem && (
        <p className="warning" role="alert">
          <span className="warning-label">Details:</span> {status.problem}
        </p>
      )}
      {selected && (
        <div className="others">
          <h3 className="others-title">Other available models</h3>
          {others.length === 0 ? (
            <p className="muted">None.</p>
          ) : (
            <ul className="model-list">
              {others.map((model) => (
                <li key={model.path}>
                  <span className="model-name">{model.name}</span>
                  <span className="muted">
                    {" "}
                    — {formatBytes(model.size_bytes)}, {describeSource(model.source)}
                  </span>
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
      <p className="muted small">
        Models directory: <code>{status.models_dir}</code>
      </p>
    </>
  );
}

function SelectedModel({ model }: { model: ModelInfo }) {
  return (
    <dl className="facts">
      <dt>Selected</dt>
      <dd className="model-name">{model.name}</dd>
      <dt>File</dt>
      <dd>
        <code title={model.path}>{fileName(model.path)}</code>
      </dd>
      <dt>Size</dt>
      <dd>{formatBytes(model.size_bytes)}</dd>
      <dt>Source</dt>
      <dd>
        <span className={`badge badge-${model.source}`}>{describeSource(model.source)}</span>
      </dd>
    </dl>
  );
}
