// The metrics tab's command (admin window only: the main window's capability does not grant it,
// and the shell also wants an admin signed in).

import { invoke } from "@tauri-apps/api/core";

import type { MetricsSnapshot } from "./types";

/** The counts behind the metrics charts, read by the engine from the audit log. */
export function metricsSnapshot(): Promise<MetricsSnapshot> {
  return invoke<MetricsSnapshot>("metrics_snapshot");
}
