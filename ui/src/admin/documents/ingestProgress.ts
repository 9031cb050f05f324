// An ingest's (or reindex's) progress, built from the shell's events by a pure reducer.

import type { IngestFileReport, IngestProgress } from "../../api/types";

/** Where a running ingest is. */
export interface IngestRun {
  /** How many files the batch has; null until the first file starts. */
  files: number | null;
  /** The file being ingested (0-based), and its path. */
  index: number | null;
  path: string | null;
  /** Chunks of the current file embedded so far, of how many. */
  chunksDone: number | null;
  chunksTotal: number | null;
  /** The shell's estimate of the time left for the whole batch. */
  etaMs: number | null;
  /** The files finished so far, in order. */
  results: IngestFileReport[];
}

/** Before the first event. */
export const NOT_STARTED: IngestRun = {
  files: null,
  index: null,
  path: null,
  chunksDone: null,
  chunksTotal: null,
  etaMs: null,
  results: [],
};

function count(value: number): number {
  return Number.isFinite(value) && value > 0 ? value : 0;
}

/** Applies one event. Pure: returns a new state. */
export function ingestReducer(state: IngestRun, event: IngestProgress): IngestRun {
  switch (event.kind) {
    case "file":
      return {
        ...state,
        files: count(event.files),
        index: count(event.index),
        path: event.path,
        chunksDone: null,
        chunksTotal: null,
      };
    case "chunks":
      return { ...state, chunksDone: count(event.done), chunksTotal: count(event.total), etaMs: event.eta_ms };
    case "finished":
      return { ...state, results: [...state.results, { path: event.path, ok: event.ok, detail: event.detail }] };
  }
}

/**
 * How much of the batch is done, 0 to 1: finished files, plus the current file's share of
 * embedded chunks. Null while the batch size is unknown.
 */
export function fractionDone(run: IngestRun): number | null {
  if (run.files === null) return null;
  if (run.files === 0) return 1;
  const finished = Math.min(run.results.length, run.files);
  const current =
    run.index !== null && run.results.length <= run.index && run.chunksTotal !== null && run.chunksTotal > 0
      ? Math.min(1, (run.chunksDone ?? 0) / run.chunksTotal)
      : 0;
  return Math.min(1, (finished + current) / run.files);
}
