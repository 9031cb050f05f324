import { useState } from "react";

import { ingestDocuments, listDocuments, reindexDocuments, removeDocument } from "../../api/commands";
import type { Classification, DocumentRow, IngestFileReport, IngestProgress } from "../../api/types";
import { ConfirmButton } from "../../shared/ConfirmButton";
import { errorMessage } from "../../shared/errors";
import { useLoaded } from "../../shared/useLoaded";
import { AddDocuments } from "./AddDocuments";
import { DocumentTable } from "./DocumentTable";
import { ingestReducer, NOT_STARTED, type IngestRun } from "./ingestProgress";
import { IngestProgressView, IngestResults, ingestSummary } from "./IngestProgressView";

/** An ingest or a reindex: running with its progress, or ended with its reports. */
type Job =
  | { kind: "ingest" | "reindex"; phase: "running"; run: IngestRun }
  | { kind: "ingest" | "reindex"; phase: "done"; reports: IngestFileReport[] }
  | { kind: "ingest" | "reindex"; phase: "failed"; run: IngestRun; message: string };

type Removal = { kind: "idle" } | { kind: "running"; title: string } | { kind: "done"; text: string; ok: boolean };

/**
 * The document library: what is in it, adding files and folders with their classification,
 * reindexing everything, removing a document. One change runs at a time.
 */
export function DocumentsTab() {
  const documents = useLoaded(listDocuments);
  const [job, setJob] = useState<Job | null>(null);
  const [removal, setRemoval] = useState<Removal>({ kind: "idle" });
  const busy = job?.phase === "running" || removal.kind === "running";

  const start = (kind: "ingest" | "reindex", call: (onProgress: (p: IngestProgress) => void) => Promise<IngestFileReport[]>) => {
    setRemoval({ kind: "idle" });
    setJob({ kind, phase: "running", run: NOT_STARTED });
    const onProgress = (progress: IngestProgress) => {
      setJob((current) =>
        current?.phase === "running" ? { ...current, run: ingestReducer(current.run, progress) } : current,
      );
    };
    return call(onProgress).then(
      (reports) => {
        setJob({ kind, phase: "done", reports });
        void documents.refresh();
        return reports.every((report) => report.ok);
      },
      (error: unknown) => {
        setJob((current) => ({
          kind,
          phase: "failed",
          run: current?.phase === "running" ? current.run : NOT_STARTED,
          message: errorMessage(error),
        }));
        void documents.refresh();
        return false;
      },
    );
  };

  const remove = (document: DocumentRow) => {
    setRemoval({ kind: "running", title: document.title });
    removeDocument(document.id).then(
      (existed) => {
        setRemoval({
          kind: "done",
          ok: true,
          text: existed ? `Removed “${document.title}”.` : `“${document.title}” was already gone.`,
        });
        void documents.refresh();
      },
      (error: unknown) => {
        setRemoval({ kind: "done", ok: false, text: `Could not remove “${document.title}”: ${errorMessage(error)}` });
      },
    );
  };

  const list = documents.data;
  return (
    <div className="documents-tab">
      <AddDocuments
        busy={busy}
        onIngest={(paths, classification: Classification, audience) =>
          start("ingest", (onProgress) => ingestDocuments(paths, classification, audience, onProgress))
        }
      />
      {job !== null && <JobView job={job} />}
      <div className="toolbar">
        <h2>Library</h2>
        <ConfirmButton
          label="Reindex all…"
          question="Re-embed every document? This can take several minutes."
          confirmLabel="Reindex all"
          testId="documents-reindex"
          disabled={busy || list === null || list.length === 0}
          onConfirm={() => {
            void start("reindex", reindexDocuments);
          }}
        />
        <button
          type="button"
          disabled={busy}
          onClick={() => {
            void documents.refresh();
          }}
        >
          Refresh
        </button>
      </div>
      {removal.kind === "running" && (
        <p className="muted" role="status">
          Removing “{removal.title}”…
        </p>
      )}
      {removal.kind === "done" && (
        <p className={removal.ok ? "notice notice-ok" : "error"} role={removal.ok ? "status" : "alert"} data-testid="documents-notice">
          {removal.text}
        </p>
      )}
      {documents.error !== null && (
        <p className="error" role="alert">
          Could not read the library: {documents.error}
        </p>
      )}
      {list === null && documents.error === null && (
        <p className="muted" role="status">
          Reading the library…
        </p>
      )}
      {list !== null && list.length === 0 && (
        <p className="empty-state" data-testid="documents-empty">
          The library is empty. Add manuals, procedures or reports above: answers cite them.
        </p>
      )}
      {list !== null && list.length > 0 && <DocumentTable documents={list} busy={busy} onRemove={remove} />}
    </div>
  );
}

function JobView({ job }: { job: Job }) {
  const label = job.kind === "ingest" ? "Ingest progress" : "Reindex progress";
  if (job.phase === "running") {
    return (
      <section className="job" aria-label={label}>
        <IngestProgressView run={job.run} label={label} />
        <IngestResults results={job.run.results} />
      </section>
    );
  }
  if (job.phase === "failed") {
    return (
      <section className="job" aria-label={label}>
        <p className="error" role="alert">
          {job.kind === "ingest" ? "The ingest stopped" : "The reindex stopped"}: {job.message}
          {job.run.results.length > 0 && " The files listed below were finished before it stopped."}
        </p>
        <IngestResults results={job.run.results} />
      </section>
    );
  }
  const failed = job.reports.some((report) => !report.ok);
  return (
    <section className="job" aria-label={label}>
      <p className={failed ? "warning" : "notice notice-ok"} role="status" data-testid="ingest-summary">
        {ingestSummary(job.kind, job.reports)}
      </p>
      <IngestResults results={job.reports} />
    </section>
  );
}
