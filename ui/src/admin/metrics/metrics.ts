// What the metrics tab draws, computed from the engine's snapshot: totals per label, the
// governor's outcomes, the deciding rules, and tool latency percentiles.

import type { LabelledCount, MetricsSnapshot, Observation } from "./types";

/** The colour a bar takes (classes in metrics.css, from the theme's variables). */
export type Tone = "accent" | "ok" | "warn" | "bad" | "clarify" | "muted";

/** One bar of a chart. */
export interface Bar {
  key: string;
  label: string;
  value: number;
  tone: Tone;
  /** Said after the value in the bar's title and the table ("execute 9, plan 3"). */
  detail?: string;
}

/**
 * The `q` quantile (0 to 1) of `values`, interpolated linearly between the two nearest ranks
 * (numpy's default): the median of 10, 20, 30, 40 is 25. `NaN` for no values.
 */
export function quantile(values: readonly number[], q: number): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const position = Math.min(Math.max(q, 0), 1) * (sorted.length - 1);
  const below = Math.floor(position);
  const above = Math.ceil(position);
  const low = sorted[below] ?? Number.NaN;
  const high = sorted[above] ?? Number.NaN;
  return low + (high - low) * (position - below);
}

/** Sums `counts` by the label at `index`, largest first (ties by name). */
export function sumBy(counts: readonly LabelledCount[], index: number): Map<string, number> {
  const sums = new Map<string, number>();
  for (const { labels, count } of counts) {
    const key = labels[index] ?? "unknown";
    sums.set(key, (sums.get(key) ?? 0) + count);
  }
  return new Map([...sums].sort(([a, x], [b, y]) => y - x || a.localeCompare(b)));
}

/** The sum of every count. */
export function total(counts: readonly LabelledCount[]): number {
  return counts.reduce((sum, { count }) => sum + count, 0);
}

/** A snake_case label for people: "require_approval" is "Require approval". */
function humanise(name: string): string {
  const words = name.replace(/_/g, " ").trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Requests by kind (ask, call, batch), each with its split by mode. */
export function requestBars(snapshot: MetricsSnapshot): Bar[] {
  return [...sumBy(snapshot.requests, 1)].map(([kind, value]) => {
    const modes = sumBy(
      snapshot.requests.filter((request) => request.labels[1] === kind),
      0,
    );
    return {
      key: kind,
      label: kind,
      value,
      tone: "accent",
      detail: [...modes].map(([mode, count]) => `${mode} ${String(count)}`).join(", "),
    };
  });
}

/** The governor's outcomes, in the order the audit timeline stacks them. */
export const OUTCOMES: { key: string; label: string; tone: Tone }[] = [
  { key: "allow", label: "Allow", tone: "ok" },
  { key: "require_approval", label: "Require approval", tone: "warn" },
  { key: "clarify", label: "Clarify", tone: "clarify" },
  { key: "deny", label: "Deny", tone: "bad" },
];

/**
 * Decisions by outcome: the governor's verdicts on proposed calls (stage `intent`), plus the
 * requests refused at admission (counted as denials, and said so). Admission's allows are not
 * decisions on a call: every admitted request has one; `admissions` counts them. The four
 * outcomes always show (zeros included), then any other value.
 */
export function decisionBars(snapshot: MetricsSnapshot): Bar[] {
  const counted = snapshot.decisions.filter((decision) => decision.labels[0] !== "admission" || decision.labels[1] !== "allow");
  const sums = sumBy(counted, 1);
  const refused = sumBy(
    counted.filter((decision) => decision.labels[0] === "admission"),
    1,
  );
  const atAdmission = (key: string): Partial<Bar> => {
    const count = refused.get(key) ?? 0;
    return count > 0 ? { detail: `${String(count)} at admission` } : {};
  };
  const known = OUTCOMES.map(
    (outcome): Bar => ({
      key: outcome.key,
      label: outcome.label,
      value: sums.get(outcome.key) ?? 0,
      tone: outcome.tone,
      ...atAdmission(outcome.key),
    }),
  );
  const others = [...sums]
    .filter(([key]) => !OUTCOMES.some((outcome) => outcome.key === key))
    .map(([key, value]): Bar => ({ key, label: humanise(key), value, tone: "muted", ...atAdmission(key) }));
  return [...known, ...others];
}

/** Requests that passed the admission checks, and those refused there. */
export function admissions(snapshot: MetricsSnapshot): { admitted: number; refused: number } {
  const admission = snapshot.decisions.filter((decision) => decision.labels[0] === "admission");
  const admitted = total(admission.filter((decision) => decision.labels[1] === "allow"));
  return { admitted, refused: total(admission) - admitted };
}

/** A rule that decided calls, with how often and what it decided. */
export interface RuleCount {
  rule: string;
  count: number;
  /** Outcome keys with their counts, most frequent first. */
  outcomes: [string, number][];
}

/** The `limit` rules that decided the most calls (decisions without a rule left out). */
export function topRules(snapshot: MetricsSnapshot, limit = 5): RuleCount[] {
  const rules = new Map<string, LabelledCount[]>();
  for (const decision of snapshot.decisions) {
    const rule = decision.labels[2] ?? "";
    if (rule === "") continue;
    rules.set(rule, [...(rules.get(rule) ?? []), decision]);
  }
  return [...rules]
    .map(([rule, rows]) => ({ rule, count: total(rows), outcomes: [...sumBy(rows, 1)] }))
    .sort((a, b) => b.count - a.count || a.rule.localeCompare(b.rule))
    .slice(0, limit);
}

const APPROVAL_TONES: Record<string, Tone> = {
  pending: "warn",
  approved: "ok",
  executed: "ok",
  denied: "bad",
  failed: "bad",
  expired: "muted",
};

/** Approval requests by status, as they stand now. */
export function approvalBars(snapshot: MetricsSnapshot): Bar[] {
  return [...sumBy(snapshot.approvals, 0)].map(([status, value]) => ({
    key: status,
    label: status,
    value,
    tone: APPROVAL_TONES[status] ?? "accent",
  }));
}

/** Errors by the audit event kind that recorded them. */
export function errorBars(snapshot: MetricsSnapshot): Bar[] {
  return [...sumBy(snapshot.errors, 0)].map(([kind, value]) => ({ key: kind, label: kind, value, tone: "bad" }));
}

/** One tool's latency: percentiles over all its recorded runs, failed ones included. */
export interface ToolLatency {
  tool: string;
  runs: number;
  errors: number;
  p50: number;
  p95: number;
}

function groupBy(observations: readonly Observation[]): Map<string, Observation[]> {
  const groups = new Map<string, Observation[]>();
  for (const observation of observations) {
    const key = observation.labels[0] ?? "unknown";
    groups.set(key, [...(groups.get(key) ?? []), observation]);
  }
  return groups;
}

/** p50 and p95 of each tool's run durations (ms), slowest p95 first. */
export function toolLatency(snapshot: MetricsSnapshot): ToolLatency[] {
  return [...groupBy(snapshot.tool_runs)]
    .map(([tool, runs]) => {
      const durations = runs.map((run) => run.value);
      return {
        tool,
        runs: runs.length,
        errors: runs.filter((run) => run.labels[1] === "error").length,
        p50: quantile(durations, 0.5),
        p95: quantile(durations, 0.95),
      };
    })
    .sort((a, b) => b.p95 - a.p95 || a.tool.localeCompare(b.tool));
}

/** The planner's median decode rate per model, fastest first. */
export function tokenRateBars(snapshot: MetricsSnapshot): Bar[] {
  return [...groupBy(snapshot.tokens_per_second)]
    .map(([model, plans]): Bar => ({
      key: model,
      label: model,
      value: quantile(
        plans.map((plan) => plan.value),
        0.5,
      ),
      tone: "accent",
      detail: `median of ${String(plans.length)} ${plans.length === 1 ? "plan" : "plans"}`,
    }))
    .sort((a, b) => b.value - a.value || a.label.localeCompare(b.label));
}

/** A duration in ms for a chart: "0.42 ms", "4.2 ms", "12 ms", "1.25 s". */
export function formatLatency(ms: number): string {
  if (!Number.isFinite(ms)) return "–";
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${String(Math.round(ms))} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

/** A decode rate: "18.4 tok/s". */
export function formatRate(tokensPerSecond: number): string {
  return Number.isFinite(tokensPerSecond) ? `${tokensPerSecond.toFixed(1)} tok/s` : "–";
}
