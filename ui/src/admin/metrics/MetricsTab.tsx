import { useState, type ReactNode } from "react";

import { useLoaded } from "../../shared/useLoaded";
import { BarChart } from "./BarChart";
import { metricsSnapshot } from "./commands";
import { LatencyChart } from "./LatencyChart";
import {
  admissions,
  approvalBars,
  decisionBars,
  errorBars,
  formatRate,
  OUTCOMES,
  requestBars,
  tokenRateBars,
  toolLatency,
  topRules,
  total,
} from "./metrics";
import type { MetricsSnapshot } from "./types";
import "./metrics.css";

function Card({ title, testId, children }: { title: string; testId: string; children: ReactNode }) {
  return (
    <section className="metrics-card" aria-label={title} data-testid={testId}>
      <h3>{title}</h3>
      {children}
    </section>
  );
}

function None({ children }: { children: ReactNode }) {
  return <p className="muted small metrics-none">{children}</p>;
}

function outcomeLabel(key: string): string {
  return OUTCOMES.find((outcome) => outcome.key === key)?.label ?? key;
}

function toneOf(key: string): string {
  return OUTCOMES.find((outcome) => outcome.key === key)?.tone ?? "muted";
}

function Totals({ snapshot }: { snapshot: MetricsSnapshot }) {
  const items: [string, string, number][] = [
    ["requests", "Requests", total(snapshot.requests)],
    ["decisions", "Decisions on calls", decisionBars(snapshot).reduce((sum, bar) => sum + bar.value, 0)],
    ["tool-runs", "Tool runs", snapshot.tool_runs.length],
    ["errors", "Errors", total(snapshot.errors)],
    ["batch-runs", "Batch runs", snapshot.batch_runs],
    ["audit-rows", "Audit rows", snapshot.audit_rows],
  ];
  return (
    <dl className="metrics-totals" aria-label="Totals">
      {items.map(([key, label, value]) => (
        <div key={key}>
          <dt>{label}</dt>
          <dd data-testid={`metrics-total-${key}`}>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

function Charts({ snapshot }: { snapshot: MetricsSnapshot }) {
  const rules = topRules(snapshot);
  const admission = admissions(snapshot);
  const approvals = approvalBars(snapshot);
  const tools = toolLatency(snapshot);
  const rates = tokenRateBars(snapshot);
  const errors = errorBars(snapshot);
  return (
    <div className="metrics-grid">
      <Card title="Requests by kind" testId="metrics-requests-card">
        <BarChart title="Requests by kind" bars={requestBars(snapshot)} testId="metrics-requests" />
      </Card>
      <Card title="Decisions by outcome" testId="metrics-decisions-card">
        <BarChart title="Decisions by outcome" bars={decisionBars(snapshot)} testId="metrics-decisions" />
        <p className="muted small metrics-caption" data-testid="metrics-admission">
          Admission checks: {admission.admitted} {admission.admitted === 1 ? "request" : "requests"} admitted,{" "}
          {admission.refused} refused{admission.refused > 0 && " (counted as denials above)"}.
        </p>
        <h4>Top deciding rules</h4>
        {rules.length === 0 ? (
          <None>No decision named a rule yet.</None>
        ) : (
          <ol className="metrics-rules" data-testid="metrics-rules">
            {rules.map((rule) => (
              <li key={rule.rule} data-testid="metrics-rule" data-rule={rule.rule}>
                <code className="metrics-rule-name" title={rule.rule}>
                  {rule.rule}
                </code>
                <span className="metrics-rule-count">{rule.count}</span>
                <span className="metrics-rule-outcomes">
                  {rule.outcomes.map(([outcome, count]) => (
                    <span key={outcome} className="legend-item">
                      <span className={`swatch tone-${toneOf(outcome)}`} aria-hidden="true" />
                      {outcomeLabel(outcome)} {count}
                    </span>
                  ))}
                </span>
              </li>
            ))}
          </ol>
        )}
      </Card>
      <Card title="Approvals by status" testId="metrics-approvals-card">
        {approvals.length === 0 ? (
          <None>No approval was requested yet.</None>
        ) : (
          <BarChart title="Approvals by status" bars={approvals} testId="metrics-approvals" />
        )}
      </Card>
      <Card title="Errors by kind" testId="metrics-errors-card">
        {errors.length === 0 ? (
          <None>No errors were recorded.</None>
        ) : (
          <BarChart title="Errors by kind" bars={errors} testId="metrics-errors" />
        )}
      </Card>
      <Card title="Tool latency (p50, p95)" testId="metrics-latency-card">
        {tools.length === 0 ? (
          <None>No tool has run yet.</None>
        ) : (
          <>
            <LatencyChart tools={tools} />
            <p className="muted small metrics-caption">
              <span className="legend-item">
                <span className="swatch tone-accent" aria-hidden="true" />
                p50
              </span>{" "}
              <span className="legend-item">
                <span className="swatch tone-p95" aria-hidden="true" />
                p95
              </span>{" "}
              of every recorded run, failed ones included.
            </p>
          </>
        )}
      </Card>
      <Card title="Planner tokens/s (median per model)" testId="metrics-tokens-card">
        {rates.length === 0 ? (
          <None>The planner has not run yet.</None>
        ) : (
          <BarChart title="Planner decode rate, median tokens per second per model" bars={rates} format={formatRate} testId="metrics-tokens" />
        )}
      </Card>
    </div>
  );
}

/**
 * Operational metrics of this installation, read from the audit log and the approvals table
 * (every process that served requests counts, across restarts): requests, the governor's
 * decisions and rules, approvals, tool latency, the planner's decode rate and errors.
 */
export function MetricsTab() {
  const metrics = useLoaded(metricsSnapshot);
  const [reading, setReading] = useState(false);
  const snapshot = metrics.data;
  return (
    <div className="metrics-tab">
      <div className="toolbar">
        <h2>Metrics</h2>
        <button
          type="button"
          data-testid="metrics-refresh"
          disabled={reading}
          onClick={() => {
            setReading(true);
            void metrics.refresh().finally(() => {
              setReading(false);
            });
          }}
        >
          {reading ? "Refreshing…" : "Refresh"}
        </button>
        <span className="muted small">From the audit log: every request this installation served, across restarts.</span>
      </div>
      {metrics.error !== null && (
        <p className="error" role="alert" data-testid="metrics-error">
          Could not read the metrics: {metrics.error}
        </p>
      )}
      {snapshot === null && metrics.error === null && <p className="muted">Reading the metrics…</p>}
      {snapshot !== null && (
        <>
          <Totals snapshot={snapshot} />
          {total(snapshot.requests) === 0 ? (
            <p className="notice" data-testid="metrics-empty">
              No requests were recorded yet. Ask something in the main window, or run <code>airlock call</code>, then
              refresh.
            </p>
          ) : (
            <Charts snapshot={snapshot} />
          )}
        </>
      )}
    </div>
  );
}
