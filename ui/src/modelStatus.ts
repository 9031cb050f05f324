import { invoke } from "@tauri-apps/api/core";

/** Where a model came from: listed in models/manifest.toml, or a GGUF a user dropped in. */
export type ModelSource = "manifest" | "user";

/** One generator model file found in the models directory (mirrors `airlock_agent::ModelInfo`). */
export interface ModelInfo {
  name: string;
  path: string;
  size_bytes: number;
  source: ModelSource;
}

/** What the engine found in the models directory (mirrors `airlock_agent::ModelStatus`). */
export interface ModelStatus {
  models_dir: string;
  selected: ModelInfo | null;
  available: ModelInfo[];
  problem: string | null;
}

/** Asks the desktop shell for the model status (the `model_status` command). */
export function fetchModelStatus(): Promise<ModelStatus> {
  return invoke<ModelStatus>("model_status");
}

const UNITS = ["B", "kB", "MB", "GB", "TB"] as const;

/**
 * Formats a byte count for people in decimal (SI) units, as the docs and the manifest quote
 * model sizes: 491,400,064 bytes is "491.4 MB".
 */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) {
    return "unknown size";
  }
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < UNITS.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const suffix = UNITS[unit] ?? "B";
  return unit === 0 ? `${String(value)} ${suffix}` : `${value.toFixed(1)} ${suffix}`;
}

/** The last component of a path, for either separator. */
export function fileName(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1] ?? path;
}

/** Human wording for a model's origin. */
export function describeSource(source: ModelSource): string {
  return source === "manifest" ? "manifest" : "user-provided";
}

/** Turns whatever `invoke` rejected with into a message a person can read. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) {
    return error.message;
  }
  if (typeof error === "string") {
    return error;
  }
  try {
    return JSON.stringify(error);
  } catch {
    return "unknown error";
  }
}
