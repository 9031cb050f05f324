import { useState } from "react";

import { pickDocumentFiles } from "../../api/commands";
import type { Classification } from "../../api/types";
import { errorMessage } from "../../shared/errors";
import { CLASSIFICATIONS } from "./ClassificationBadge";

/** The paths typed, one per line: trimmed, blank lines and repeats left out. */
export function parsePaths(text: string): string[] {
  return [...new Set(text.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== ""))];
}

/**
 * The "Add documents" form: files chosen with the native picker and/or paths typed (folders
 * add every document in them), a classification, an optional audience group. `onIngest`
 * resolves true when every file was ingested: the paths are then cleared.
 */
export function AddDocuments({
  busy,
  onIngest,
}: {
  busy: boolean;
  onIngest: (paths: string[], classification: Classification, audience: string | null) => Promise<boolean>;
}) {
  const [pathsText, setPathsText] = useState("");
  const [classification, setClassification] = useState<Classification>("internal");
  const [audience, setAudience] = useState("");
  const [picking, setPicking] = useState(false);
  const [pickError, setPickError] = useState<string | null>(null);
  const paths = parsePaths(pathsText);

  const choose = () => {
    setPicking(true);
    setPickError(null);
    pickDocumentFiles().then(
      (chosen) => {
        setPicking(false);
        if (chosen.length > 0) {
          setPathsText((text) => parsePaths(`${text}\n${chosen.join("\n")}`).join("\n"));
        }
      },
      (error: unknown) => {
        setPicking(false);
        setPickError(errorMessage(error));
      },
    );
  };

  return (
    <form
      className="add-documents"
      aria-labelledby="add-documents-title"
      onSubmit={(event) => {
        event.preventDefault();
        if (busy || paths.length === 0) return;
        void onIngest(paths, classification, audience.trim() === "" ? null : audience.trim()).then((allOk) => {
          if (allOk) setPathsText("");
        });
      }}
    >
      <h2 id="add-documents-title">Add documents</h2>
      <div className="add-documents-paths">
        <label>
          Files or folders, one per line
          <textarea
            data-testid="documents-paths"
            rows={3}
            spellCheck={false}
            placeholder="/srv/manuals/line3-cartoner.pdf"
            value={pathsText}
            onChange={(event) => {
              setPathsText(event.target.value);
            }}
          />
        </label>
        <button type="button" data-testid="documents-choose" onClick={choose} disabled={busy || picking}>
          {picking ? "Choosing…" : "Choose files…"}
        </button>
      </div>
      {pickError !== null && (
        <p className="error" role="alert">
          Could not open the file picker: {pickError}. Type the paths instead.
        </p>
      )}
      <div className="add-documents-labels">
        <label>
          Classification
          <select
            data-testid="documents-classification"
            value={classification}
            onChange={(event) => {
              setClassification(event.target.value as Classification);
            }}
          >
            {CLASSIFICATIONS.map((c) => (
              <option key={c.value} value={c.value}>
                {c.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Audience group (optional)
          <input
            data-testid="documents-audience"
            placeholder="shift-leads"
            value={audience}
            onChange={(event) => {
              setAudience(event.target.value);
            }}
          />
        </label>
        <button type="submit" className="primary" data-testid="documents-ingest" disabled={busy || paths.length === 0}>
          {paths.length > 1 ? `Ingest ${String(paths.length)} paths` : "Ingest"}
        </button>
      </div>
      <p className="muted small">
        The audience group may read the documents besides everyone cleared for their classification.
      </p>
    </form>
  );
}
