// Mirrors `airlock_store::MetricsSnapshot` (src-tauri/crates/airlock-store/src/metrics.rs), as
// the shell's `metrics_snapshot` command returns it.

/** A count with the labels it is broken down by (in the order the metric documents). */
export interface LabelledCount {
  labels: string[];
  count: number;
}

/** One observation of a duration or rate, with its labels. */
export interface Observation {
  labels: string[];
  value: number;
}

/** The counts behind the metrics, read from the audit log and the approvals table. */
export interface MetricsSnapshot {
  /** Requests received, by `[mode, kind]` (kind: ask, call, batch). */
  requests: LabelledCount[];
  /** Governor decisions, by `[stage, outcome, rule]` (stage: admission or intent). */
  decisions: LabelledCount[];
  /** Approval requests by `[status]`, as they stand now. */
  approvals: LabelledCount[];
  /** Tool runs by `[tool, result]` (result: ok or error), each with its duration in ms. */
  tool_runs: Observation[];
  /** The planner's decode rate in tokens per second, by `[model]`. */
  tokens_per_second: Observation[];
  /** Errors by `[kind]` (the audit event kind that records them). */
  errors: LabelledCount[];
  /** Batch runs started. */
  batch_runs: number;
  /** Rows in the audit log. */
  audit_rows: number;
}
