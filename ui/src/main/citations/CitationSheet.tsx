import { useEffect, useRef, useState } from "react";

import { openCitation } from "../../api/commands";
import type { OpenedChunk } from "../../api/types";
import { errorMessage } from "../../shared/errors";

type Load = { kind: "loading" } | { kind: "error"; message: string } | { kind: "ready"; opened: OpenedChunk };

/**
 * A side sheet with a cited passage: the document's title, page and section, and the text
 * around the cited chunk with the chunk highlighted. Mount it with `key={chunkId}`.
 */
export function CitationSheet({ chunkId, onClose }: { chunkId: number; onClose: () => void }) {
  const [load, setLoad] = useState<Load>({ kind: "loading" });
  const closeRef = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    let live = true;
    openCitation(chunkId).then(
      (opened) => {
        if (live) setLoad({ kind: "ready", opened });
      },
      (error: unknown) => {
        if (live) setLoad({ kind: "error", message: errorMessage(error) });
      },
    );
    closeRef.current?.focus();
    return () => {
      live = false;
    };
  }, [chunkId]);

  return (
    <aside
      className="sheet"
      role="dialog"
      aria-labelledby="citation-title"
      data-testid="citation-sheet"
      onKeyDown={(event) => {
        if (event.key === "Escape") onClose();
      }}
    >
      <header className="sheet-head">
        <h2 id="citation-title">{load.kind === "ready" ? load.opened.chunk.title : "Source"}</h2>
        <button type="button" ref={closeRef} onClick={onClose} aria-label="Close the source">
          Close
        </button>
      </header>
      {load.kind === "loading" && <p className="muted">Opening the passage…</p>}
      {load.kind === "error" && (
        <p className="error" role="alert">
          {load.message}
        </p>
      )}
      {load.kind === "ready" && <Passage opened={load.opened} />}
    </aside>
  );
}

function Passage({ opened }: { opened: OpenedChunk }) {
  const { chunk } = opened;
  return (
    <>
      <p className="muted small">
        {chunk.page !== null && `Page ${String(chunk.page)}`}
        {chunk.page !== null && chunk.section !== null && " · "}
        {chunk.section !== null && `Section ${chunk.section}`}
        {` · ${chunk.classification}`}
      </p>
      <div className="passage">
        {opened.before !== "" && <span className="context">{opened.before}</span>}
        <mark className="cited">{chunk.text}</mark>
        {opened.after !== "" && <span className="context">{opened.after}</span>}
      </div>
    </>
  );
}
