import { describe, expect, it } from "vitest";

import type { IngestProgress } from "../../api/types";
import { fractionDone, ingestReducer, NOT_STARTED } from "./ingestProgress";

function replay(events: IngestProgress[]) {
  return events.reduce(ingestReducer, NOT_STARTED);
}

describe("ingest progress", () => {
  it("is unknown until the first file starts", () => {
    expect(fractionDone(NOT_STARTED)).toBeNull();
  });

  it("counts finished files and the current file's embedded chunks", () => {
    const run = replay([
      { kind: "file", index: 0, files: 4, path: "/docs/a.pdf" },
      { kind: "chunks", done: 10, total: 10, eta_ms: 9000 },
      { kind: "finished", path: "/docs/a.pdf", ok: true, detail: "10 chunks" },
      { kind: "file", index: 1, files: 4, path: "/docs/b.pdf" },
      { kind: "chunks", done: 5, total: 10, eta_ms: 6000 },
    ]);
    expect(run.path).toBe("/docs/b.pdf");
    expect(run.chunksDone).toBe(5);
    expect(run.etaMs).toBe(6000);
    expect(fractionDone(run)).toBeCloseTo(1.5 / 4);
  });

  it("does not count a finished file's chunks twice, and forgets them when the next file starts", () => {
    const finished = replay([
      { kind: "file", index: 0, files: 2, path: "/docs/a.pdf" },
      { kind: "chunks", done: 8, total: 8, eta_ms: null },
      { kind: "finished", path: "/docs/a.pdf", ok: false, detail: "not a PDF" },
    ]);
    expect(fractionDone(finished)).toBe(0.5);
    expect(finished.results).toEqual([{ path: "/docs/a.pdf", ok: false, detail: "not a PDF" }]);
    const next = ingestReducer(finished, { kind: "file", index: 1, files: 2, path: "/docs/b.md" });
    expect(next.chunksDone).toBeNull();
    expect(fractionDone(next)).toBe(0.5);
  });
});
