import type { DocumentRow } from "../../api/types";
import { ConfirmButton } from "../../shared/ConfirmButton";
import { formatTimestamp } from "../../shared/format";
import { ClassificationBadge } from "./ClassificationBadge";

/** The library's documents, one row each, with a Remove action that asks first. */
export function DocumentTable({
  documents,
  busy,
  onRemove,
}: {
  documents: DocumentRow[];
  busy: boolean;
  onRemove: (document: DocumentRow) => void;
}) {
  return (
    <table className="dense documents-table">
      <thead>
        <tr>
          <th>Title</th>
          <th>Classification</th>
          <th>Format</th>
          <th className="num">Chunks</th>
          <th className="num">Pages</th>
          <th className="num">Version</th>
          <th>Audience</th>
          <th>Updated</th>
          <th>
            <span className="visually-hidden">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {documents.map((document) => (
          <tr key={document.id} data-testid="document-row" data-document-id={document.id}>
            <td>
              {document.title}
              {document.ingesting && (
                <span className="tag tag-warn" title="An ingest of a new version was interrupted; ingesting the file again resumes it.">
                  ingest unfinished
                </span>
              )}
              <div className="faint small path-cell">
                <code title={document.content_hash === null ? undefined : `SHA-256 ${document.content_hash}`}>
                  {document.source}
                </code>
              </div>
            </td>
            <td>
              <ClassificationBadge classification={document.classification} />
            </td>
            <td>{document.format}</td>
            <td className="num">{document.chunks}</td>
            <td className="num">{document.pages ?? "—"}</td>
            <td className="num">{document.version ?? "—"}</td>
            <td>{document.audience === "" ? <span className="faint">—</span> : document.audience}</td>
            <td className="nowrap">{formatTimestamp(document.updated_at)}</td>
            <td className="row-actions">
              <ConfirmButton
                label="Remove"
                question={`Remove “${document.title}” and its chunks from the library?`}
                confirmLabel="Remove"
                testId="document-remove"
                disabled={busy}
                onConfirm={() => {
                  onRemove(document);
                }}
              />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
