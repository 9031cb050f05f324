import { Fragment, useState } from "react";

import type { AuditRow } from "../../api/types";
import { formatTimestamp, formatValue } from "../../shared/format";

/** The audit events as a dense table; a row opens to its payload, pretty-printed. */
export function AuditTable({ rows }: { rows: AuditRow[] }) {
  const [open, setOpen] = useState<Set<number>>(new Set());
  const toggle = (seq: number) => {
    setOpen((current) => {
      const next = new Set(current);
      if (next.has(seq)) next.delete(seq);
      else next.add(seq);
      return next;
    });
  };
  return (
    <table className="dense audit-table">
      <thead>
        <tr>
          <th>Seq</th>
          <th>Time</th>
          <th>Kind</th>
          <th>Principal</th>
          <th>Tool</th>
          <th>Decision</th>
          <th>Risk</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => {
          const expanded = open.has(row.seq);
          return (
            <Fragment key={row.seq}>
              <tr
                className="audit-row"
                data-testid="audit-row"
                tabIndex={0}
                aria-expanded={expanded}
                onClick={() => {
                  toggle(row.seq);
                }}
                onKeyDown={(event) => {
                  if (event.key === "Enter" || event.key === " ") {
                    event.preventDefault();
                    toggle(row.seq);
                  }
                }}
              >
                <td className="num">{row.seq}</td>
                <td>{formatTimestamp(row.at)}</td>
                <td>{row.kind}</td>
                <td>{row.principal ?? ""}</td>
                <td>{row.tool ?? ""}</td>
                <td>{row.decision ?? ""}</td>
                <td>{row.risk !== null && <span className={`pill risk-${row.risk}`}>{row.risk}</span>}</td>
              </tr>
              {expanded && (
                <tr className="audit-payload">
                  <td colSpan={7}>
                    <p className="muted small">Trace {row.trace_id}</p>
                    <pre className="mono">{formatValue(row.payload)}</pre>
                  </td>
                </tr>
              )}
            </Fragment>
          );
        })}
      </tbody>
    </table>
  );
}
