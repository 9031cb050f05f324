import { useCallback, useEffect, useRef, useState } from "react";

import { listModels, switchModel, verifyModel } from "../../api/commands";
import type { ModelsView } from "../../api/types";
import { errorMessage } from "../../shared/errors";
import { formatMs } from "../../shared/format";
import type { Check } from "./ChecksumCell";
import { LoadStages, startSwitch, switchReducer, type Switch } from "./LoadStages";
import { ModelTable } from "./ModelTable";

/**
 * The model files of the models directory and the loaded model. Unchecked files are checked
 * one after another when the tab first opens (hashing takes seconds per file); switching
 * verifies and loads the chosen model, stage by stage.
 */
export function ModelsTab() {
  const [view, setView] = useState<ModelsView | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [checks, setChecks] = useState<Record<string, Check>>({});
  const [switching, setSwitching] = useState<Switch | null>(null);
  const alive = useRef(true);
  const queue = useRef<string[]>([]);
  const draining = useRef(false);
  const autoChecked = useRef(false);

  /** Checks the queued files one at a time, until the queue is empty. */
  const drain = useCallback(async () => {
    draining.current = true;
    for (let name = queue.current.shift(); name !== undefined && alive.current; name = queue.current.shift()) {
      const checking = name;
      setChecks((all) => ({ ...all, [checking]: { kind: "checking" } }));
      let check: Check;
      try {
        check = { kind: "listed", status: await verifyModel(checking) };
      } catch (error: unknown) {
        check = { kind: "error", message: errorMessage(error) };
      }
      setChecks((all) => ({ ...all, [checking]: check }));
    }
    draining.current = false;
  }, []);

  const enqueue = useCallback(
    (names: string[]) => {
      const fresh = names.filter((name) => !queue.current.includes(name));
      if (fresh.length === 0) return;
      queue.current.push(...fresh);
      setChecks((all) => {
        const next = { ...all };
        for (const name of fresh) next[name] = { kind: "queued" };
        return next;
      });
      if (!draining.current) void drain();
    },
    [drain],
  );

  const load = useCallback(
    () =>
      listModels().then(
        (models) => {
          if (!alive.current) return;
          setView(models);
          setLoadError(null);
          // A file the list now reports as checked shows the list's result; checks still
          // running, and results the list does not hold, stay.
          setChecks((all) =>
            Object.fromEntries(
              Object.entries(all).filter(([name, check]) => {
                if (check.kind === "queued" || check.kind === "checking") return true;
                const listed = models.models.find((model) => model.name === name);
                return listed === undefined || listed.checksum.state === "unchecked";
              }),
            ),
          );
          if (!autoChecked.current) {
            autoChecked.current = true;
            enqueue(models.models.filter((model) => model.checksum.state === "unchecked").map((model) => model.name));
          }
        },
        (error: unknown) => {
          if (alive.current) setLoadError(errorMessage(error));
        },
      ),
    [enqueue],
  );

  useEffect(() => {
    alive.current = true;
    void load();
    return () => {
      alive.current = false;
    };
  }, [load]);

  const use = (name: string) => {
    setSwitching(startSwitch(name));
    switchModel(name, (progress) => {
      setSwitching((current) => (current?.phase === "running" ? switchReducer(current, progress) : current));
    }).then(
      (loaded) => {
        setSwitching((current) => ({ ...(current ?? startSwitch(name)), phase: "done", reached: 2, loaded }));
        void load();
      },
      (error: unknown) => {
        setSwitching((current) => ({ ...(current ?? startSwitch(name)), phase: "failed", message: errorMessage(error) }));
        void load();
      },
    );
  };

  const busy = switching?.phase === "running";
  return (
    <div className="models-tab">
      {loadError !== null && (
        <p className="error" role="alert">
          Could not read the models: {loadError}
        </p>
      )}
      {view === null && loadError === null && (
        <p className="muted" role="status">
          Reading the models directory…
        </p>
      )}
      {view !== null && (
        <>
          {view.problem !== null && (
            <p className="banner banner-bad" role="alert" data-testid="models-problem">
              {view.problem}
            </p>
          )}
          <section className="loaded-model" aria-labelledby="loaded-model-title">
            <h2 id="loaded-model-title">Loaded model</h2>
            {view.loaded === null ? (
              <p className="muted" data-testid="models-loaded">
                No model is loaded.
              </p>
            ) : (
              <dl className="facts" data-testid="models-loaded">
                <dt>Name</dt>
                <dd>{view.loaded.name}</dd>
                <dt>Description</dt>
                <dd>{view.loaded.description}</dd>
                <dt>Context</dt>
                <dd>{view.loaded.n_ctx} tokens</dd>
                <dt>Load time</dt>
                <dd>{formatMs(view.loaded.load_ms)}</dd>
              </dl>
            )}
          </section>
          {view.pinned_reason !== null && (
            <p className="warning" id="models-pinned" data-testid="models-pinned">
              Switching is off: {view.pinned_reason}
            </p>
          )}
          {switching !== null && <LoadStages state={switching} />}
          <div className="toolbar">
            <h2>Model files</h2>
            <span className="muted small">
              in <code>{view.models_dir}</code>
            </span>
            <button
              type="button"
              disabled={busy}
              onClick={() => {
                void load();
              }}
            >
              Refresh
            </button>
          </div>
          {view.models.length === 0 ? (
            <p className="empty-state" data-testid="models-empty">
              No model files in {view.models_dir}. Copy a .gguf file there, then press Refresh.
            </p>
          ) : (
            <ModelTable
              models={view.models}
              checks={checks}
              pinned={view.pinned_reason !== null}
              switching={busy}
              onVerify={(name) => {
                enqueue([name]);
              }}
              onUse={use}
            />
          )}
        </>
      )}
    </div>
  );
}
