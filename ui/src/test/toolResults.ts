// Tool results as the engine returns them, for tests: fixtures/status.json (trimmed of the
// batch jobs, which the gauges do not draw) and `mes_downtime` over fixtures/mes for line 3.

/** `get_system_status` over fixtures/status.json, with the service overlay's `attention`. */
export const STATUS_RESULT = {
  hostname: "opsmon01",
  timestamp: "2026-11-21T06:30:00+01:00",
  uptime_seconds: 1867405,
  cpu: {
    percent: 63.5,
    cores: 4,
    per_core: [71.2, 58.9, 66.0, 57.9],
    load_average: { one: 2.61, five: 2.34, fifteen: 1.98 },
  },
  memory: { total_mb: 15872, used_mb: 12403, free_mb: 3469, percent: 78.1, swap_used_mb: 212 },
  filesystems: [
    { mount: "/", size_gb: 40.0, used_gb: 17.8, percent: 44.5 },
    { mount: "/var/spool/batch", size_gb: 50.0, used_gb: 46.2, percent: 92.4, warning: "above 90% threshold since 02:00" },
    { mount: "/mnt/nas02/export", size_gb: 2000.0, used_gb: 1212.6, percent: 60.6 },
  ],
  batch: { window: "NIGHT", system: "SYS1", running: [], queued: [], completed: [], failed: [] },
  subsystems: [{ name: "PKG-3", system: "pkg-line3", kind: "mes_line", state: "down", detail: "E-stop" }],
  attention: [{ name: "PKG-3", system: "pkg-line3", kind: "mes_line", state: "down", restartable: false }],
};

/** `mes_downtime {line: 3, since: 2026-11-16, until: 2026-11-22}` over fixtures/mes. */
export const DOWNTIME_RESULT = {
  events: [
    { event_id: 1, line: 3, machine_id: "L3-LBL-01", reason: "label roll change", minutes: 12, started_at: "2026-11-16T07:40:00", ended_at: "2026-11-16T07:52:00" },
    { event_id: 2, line: 3, machine_id: "L3-CAP-01", reason: "cap feeder jam", minutes: 27, started_at: "2026-11-16T13:05:00", ended_at: "2026-11-16T13:32:00" },
    { event_id: 4, line: 3, machine_id: "L3-CAS-01", reason: "glue unit temperature alarm", minutes: 38, started_at: "2026-11-17T22:10:00", ended_at: "2026-11-17T22:48:00" },
    { event_id: 6, line: 3, machine_id: "L3-LBL-01", reason: "label printer offline (labelprintd)", minutes: 54, started_at: "2026-11-19T02:20:00", ended_at: "2026-11-19T03:14:00" },
    { event_id: 7, line: 3, machine_id: "L3-PAL-01", reason: "safety light curtain tripped", minutes: 8, started_at: "2026-11-19T11:02:00", ended_at: "2026-11-19T11:10:00" },
    { event_id: 8, line: 3, machine_id: "L3-CAP-01", reason: "cap feeder jam", minutes: 31, started_at: "2026-11-20T14:40:00", ended_at: "2026-11-20T15:11:00" },
    { event_id: 10, line: 3, machine_id: "L3-CAS-01", reason: "carton magazine empty", minutes: 6, started_at: "2026-11-21T06:12:00", ended_at: "2026-11-21T06:18:00" },
  ],
  count: 7,
  total_minutes: 176,
};
