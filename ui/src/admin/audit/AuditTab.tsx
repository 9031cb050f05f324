import { useEffect, useState } from "react";

import { auditEvents, exportAudit, verifyAudit } from "../../api/commands";
import type { AuditFilter, AuditReport, AuditRow, ExportedAudit } from "../../api/types";
import { errorMessage } from "../../shared/errors";
import { AuditChart } from "./AuditChart";
import { AuditFilterForm } from "./AuditFilterForm";
import { AuditTable } from "./AuditTable";
import { EMPTY_FORM, toFilter } from "./auditFilter";
import { VerifyBanner } from "./VerifyBanner";

type Load = { kind: "loading" } | { kind: "error"; message: string } | { kind: "ready"; rows: AuditRow[] };
type Verify = { kind: "idle" } | { kind: "running" } | { kind: "error"; message: string } | { kind: "done"; report: AuditReport };
type ExportRun = { kind: "idle" } | { kind: "running" } | { kind: "error"; message: string } | { kind: "done"; result: ExportedAudit };

/** The audit viewer: filters, a timeline of the events by outcome, the events table, chain verification, export. */
export function AuditTab() {
  const [filter, setFilter] = useState<AuditFilter>(() => toFilter(EMPTY_FORM));
  const [load, setLoad] = useState<Load>({ kind: "loading" });
  const [verify, setVerify] = useState<Verify>({ kind: "idle" });
  const [exportRun, setExportRun] = useState<ExportRun>({ kind: "idle" });

  useEffect(() => {
    let live = true;
    auditEvents(filter).then(
      (rows) => {
        if (live) setLoad({ kind: "ready", rows });
      },
      (error: unknown) => {
        if (live) setLoad({ kind: "error", message: errorMessage(error) });
      },
    );
    return () => {
      live = false;
    };
  }, [filter]);

  const runVerify = () => {
    setVerify({ kind: "running" });
    verifyAudit().then(
      (report) => {
        setVerify({ kind: "done", report });
      },
      (error: unknown) => {
        setVerify({ kind: "error", message: errorMessage(error) });
      },
    );
  };

  const runExport = (format: "json" | "csv") => {
    setExportRun({ kind: "running" });
    exportAudit(filter.since ?? null, format).then(
      (result) => {
        setExportRun({ kind: "done", result });
      },
      (error: unknown) => {
        setExportRun({ kind: "error", message: errorMessage(error) });
      },
    );
  };

  return (
    <div className="audit-tab">
      <AuditFilterForm
        busy={load.kind === "loading"}
        onApply={(next) => {
          setLoad({ kind: "loading" });
          setFilter(next);
        }}
      />
      <div className="toolbar">
        <button type="button" data-testid="audit-verify" onClick={runVerify} disabled={verify.kind === "running"}>
          {verify.kind === "running" ? "Verifying…" : "Verify chain"}
        </button>
        <button
          type="button"
          disabled={exportRun.kind === "running"}
          onClick={() => {
            runExport("json");
          }}
        >
          Export JSON
        </button>
        <button
          type="button"
          disabled={exportRun.kind === "running"}
          onClick={() => {
            runExport("csv");
          }}
        >
          Export CSV
        </button>
        <span className="muted small">
          Exports every row since the 'since' filter, with hashes, so the chain can be checked.
        </span>
      </div>
      {verify.kind === "done" && <VerifyBanner report={verify.report} />}
      {verify.kind === "error" && (
        <p className="error" role="alert">
          Could not verify the chain: {verify.message}
        </p>
      )}
      {exportRun.kind === "running" && (
        <p className="muted" role="status">
          Exporting…
        </p>
      )}
      {exportRun.kind === "done" && (
        <p className="notice notice-ok" role="status" data-testid="audit-export-result">
          Exported {exportRun.result.rows} {exportRun.result.rows === 1 ? "row" : "rows"} to{" "}
          <code>{exportRun.result.path}</code>
        </p>
      )}
      {exportRun.kind === "error" && (
        <p className="error" role="alert">
          Could not export: {exportRun.message}
        </p>
      )}
      {load.kind === "loading" && (
        <p className="muted" role="status">
          Reading audit events…
        </p>
      )}
      {load.kind === "error" && (
        <p className="error" role="alert">
          Could not read the audit log: {load.message}
        </p>
      )}
      {load.kind === "ready" && load.rows.length === 0 && (
        <p className="empty-state">No audit events match these filters.</p>
      )}
      {load.kind === "ready" && load.rows.length > 0 && (
        <>
          <AuditChart rows={load.rows} filter={filter} />
          <AuditTable rows={load.rows} />
        </>
      )}
    </div>
  );
}
