import { useState } from "react";

import type { AuditFilter } from "../../api/types";
import { EMPTY_FORM, toFilter, type AuditForm } from "./auditFilter";

const DECISIONS: { value: AuditForm["decision"]; label: string }[] = [
  { value: "", label: "Any" },
  { value: "allow", label: "Allow" },
  { value: "deny", label: "Deny" },
  { value: "require_approval", label: "Require approval" },
  { value: "clarify", label: "Clarify" },
];

const RISKS: { value: AuditForm["risk"]; label: string }[] = [
  { value: "", label: "Any" },
  { value: "low", label: "Low" },
  { value: "medium", label: "Medium" },
  { value: "high", label: "High" },
  { value: "critical", label: "Critical" },
];

/** The audit viewer's filters; submitting applies them. */
export function AuditFilterForm({ busy, onApply }: { busy: boolean; onApply: (filter: AuditFilter) => void }) {
  const [form, setForm] = useState<AuditForm>(EMPTY_FORM);
  const field = <K extends keyof AuditForm>(key: K, value: AuditForm[K]) => {
    setForm((current) => ({ ...current, [key]: value }));
  };
  return (
    <form
      className="filter-form"
      onSubmit={(event) => {
        event.preventDefault();
        onApply(toFilter(form));
      }}
    >
      <label>
        Principal
        <input
          value={form.principal}
          onChange={(event) => {
            field("principal", event.target.value);
          }}
        />
      </label>
      <label>
        Tool
        <input
          value={form.tool}
          onChange={(event) => {
            field("tool", event.target.value);
          }}
        />
      </label>
      <label>
        Decision
        <select
          value={form.decision}
          onChange={(event) => {
            field("decision", DECISIONS.find((d) => d.value === event.target.value)?.value ?? "");
          }}
        >
          {DECISIONS.map((d) => (
            <option key={d.value} value={d.value}>
              {d.label}
            </option>
          ))}
        </select>
      </label>
      <label>
        Risk
        <select
          value={form.risk}
          onChange={(event) => {
            field("risk", RISKS.find((r) => r.value === event.target.value)?.value ?? "");
          }}
        >
          {RISKS.map((r) => (
            <option key={r.value} value={r.value}>
              {r.label}
            </option>
          ))}
        </select>
      </label>
      <label>
        Since
        <input
          type="datetime-local"
          value={form.since}
          onChange={(event) => {
            field("since", event.target.value);
          }}
        />
      </label>
      <label>
        Until
        <input
          type="datetime-local"
          value={form.until}
          onChange={(event) => {
            field("until", event.target.value);
          }}
        />
      </label>
      <label>
        Limit
        <input
          type="number"
          min={1}
          value={form.limit}
          onChange={(event) => {
            field("limit", event.target.value);
          }}
        />
      </label>
      <button type="submit" className="primary" disabled={busy}>
        Apply
      </button>
    </form>
  );
}
