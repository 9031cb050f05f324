import type { IngestFileReport } from "../../api/types";
import { formatEta } from "../../shared/format";
import { fractionDone, type IngestRun } from "./ingestProgress";

/** A running ingest (or reindex): a determinate bar, the file and chunk counts, the time left. */
export function IngestProgressView({ run, label }: { run: IngestRun; label: string }) {
  const fraction = fractionDone(run);
  const percent = fraction === null ? null : Math.round(fraction * 100);
  return (
    <div className="ingest-progress" data-testid="ingest-progress">
      <progress
        aria-label={label}
        max={100}
        {...(percent === null ? {} : { value: percent })}
        aria-valuetext={percent === null ? "starting" : `${String(percent)} percent`}
      />
      {run.files === null || run.index === null ? (
        <p className="muted small">Starting…</p>
      ) : (
        <p className="small" data-testid="ingest-file">
          File {Math.min(run.index + 1, run.files)} of {run.files}: <code>{run.path}</code>
        </p>
      )}
      {(run.chunksTotal !== null || run.etaMs !== null) && (
        <p className="muted small" data-testid="ingest-chunks">
          {run.chunksTotal !== null && `Chunks ${String(run.chunksDone ?? 0)} of ${String(run.chunksTotal)} embedded`}
          {run.chunksTotal !== null && run.etaMs !== null && " · "}
          {run.etaMs !== null && `${formatEta(run.etaMs)} left`}
        </p>
      )}
    </div>
  );
}

/** One line per file: ingested or failed, with what the shell said. */
export function IngestResults({ results }: { results: IngestFileReport[] }) {
  if (results.length === 0) return null;
  return (
    <ol className="ingest-results" data-testid="ingest-results">
      {results.map((result, index) => (
        <li
          key={`${result.path}-${String(index)}`}
          className={result.ok ? "result-ok" : "result-failed"}
          data-testid="ingest-result"
          data-ok={result.ok}
        >
          <span className="result-mark" aria-hidden="true">
            {result.ok ? "✓" : "✗"}
          </span>{" "}
          <span className="visually-hidden">{result.ok ? "ingested:" : "failed:"}</span>
          <code>{result.path}</code> — {result.detail}
        </li>
      ))}
    </ol>
  );
}

/** The batch's summary line once it ended. */
export function ingestSummary(kind: "ingest" | "reindex", results: IngestFileReport[]): string {
  const failed = results.filter((result) => !result.ok).length;
  const files = results.length === 1 ? "file" : "files";
  const verb = kind === "ingest" ? "Ingested" : "Reindexed";
  if (results.length === 0) {
    return kind === "ingest"
      ? "Nothing was ingested: no document files were found at those paths."
      : "Nothing was reindexed: the library has no documents.";
  }
  if (failed === 0) return `${verb} ${String(results.length)} ${files}.`;
  return `${verb} ${String(results.length - failed)} of ${String(results.length)} ${files}; ${String(failed)} failed (see below).`;
}
