import type { LoadedModelView, ModelLoadProgress } from "../../api/types";
import { formatMs } from "../../shared/format";

/** A model switch: its stages reached so far, then the loaded model or the error. */
export interface Switch {
  name: string;
  phase: "running" | "done" | "failed";
  /** What each stage reported, by stage. */
  details: Partial<Record<"verifying" | "loading", string>>;
  /** The furthest stage reached (-1: none yet). */
  reached: number;
  loaded: LoadedModelView | null;
  message: string | null;
}

const STAGES = [
  { stage: "verifying", label: "Verify checksum" },
  { stage: "loading", label: "Load into memory" },
  { stage: "loaded", label: "Ready" },
] as const;

/** A switch to `name` that just started. */
export function startSwitch(name: string): Switch {
  return { name, phase: "running", details: {}, reached: -1, loaded: null, message: null };
}

/** Applies one progress event. Pure. */
export function switchReducer(state: Switch, event: ModelLoadProgress): Switch {
  const index = STAGES.findIndex((s) => s.stage === event.stage);
  const reached = Math.max(state.reached, index);
  if (event.stage === "loaded") {
    return { ...state, reached, loaded: event.model };
  }
  return { ...state, reached, details: { ...state.details, [event.stage]: event.detail } };
}

type StageState = "done" | "active" | "pending" | "failed";

function stageState(state: Switch, index: number): StageState {
  if (state.phase === "done") return "done";
  if (index < state.reached) return "done";
  if (index === state.reached || (state.reached === -1 && index === 0)) {
    return state.phase === "failed" ? "failed" : state.loaded !== null ? "done" : "active";
  }
  return "pending";
}

const MARKS: Record<StageState, string> = { done: "✓", active: "…", pending: "○", failed: "✗" };

/** The stages verifying → loading → loaded, each marked done, running, waiting or failed. */
export function LoadStages({ state }: { state: Switch }) {
  return (
    <section className="load-stages" aria-label={`Switching to ${state.name}`} data-testid="model-switch">
      <h3>Switching to {state.name}</h3>
      <ol>
        {STAGES.map((stage, index) => {
          const current = stageState(state, index);
          const detail =
            stage.stage === "loaded"
              ? state.loaded !== null
                ? `${state.loaded.name} loaded in ${formatMs(state.loaded.load_ms)}, context ${String(state.loaded.n_ctx)} tokens`
                : ""
              : (state.details[stage.stage] ?? "");
          return (
            <li key={stage.stage} className={`stage stage-${current}`} data-testid="load-stage" data-stage={stage.stage} data-state={current}>
              <span className="stage-mark" aria-hidden="true">
                {MARKS[current]}
              </span>
              <span className="stage-label">{stage.label}</span>
              <span className="visually-hidden"> ({current})</span>
              {detail !== "" && <span className="muted small"> — {detail}</span>}
            </li>
          );
        })}
      </ol>
      {state.phase === "failed" && (
        <p className="error" role="alert">
          Could not switch to {state.name}: {state.message}
        </p>
      )}
      {state.phase === "done" && state.loaded !== null && (
        <p className="notice notice-ok" role="status" data-testid="model-switch-done">
          Now using {state.loaded.name} (loaded in {formatMs(state.loaded.load_ms)}).
        </p>
      )}
    </section>
  );
}
