// Small formatting helpers shared by both windows.

/** A snake_case identifier for people: "business_guards" is "Business guards". */
export function humanise(name: string): string {
  const words = name.replace(/_/g, " ").trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** A duration in milliseconds: "850 ms" under a second, "1.2 s" from there on. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) {
    return "unknown";
  }
  if (ms < 1000) {
    return `${String(Math.round(ms))} ms`;
  }
  return `${(ms / 1000).toFixed(1)} s`;
}

/**
 * A JSON value as text in clear: strings as they are, everything else as pretty-printed JSON
 * (objects and arrays indented by two spaces).
 */
export function formatValue(value: unknown): string {
  if (typeof value === "string") {
    return value;
  }
  if (value === undefined) {
    return "undefined";
  }
  return JSON.stringify(value, null, 2);
}

function pad(n: number): string {
  return String(n).padStart(2, "0");
}

/** An RFC 3339 timestamp in local time, "2025-03-01 14:05:09"; the input if it is not a date. */
export function formatTimestamp(rfc3339: string): string {
  const date = new Date(rfc3339);
  if (Number.isNaN(date.getTime())) {
    return rfc3339;
  }
  return (
    `${String(date.getFullYear())}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
  );
}

/** The local calendar date, "2025-03-01" (for file names). */
export function formatDate(date: Date): string {
  return `${String(date.getFullYear())}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;

/** A file size: "512.0 MiB" under a gibibyte, "4.37 GiB" from there on. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) {
    return "unknown";
  }
  if (bytes < GIB) {
    return `${(bytes / MIB).toFixed(1)} MiB`;
  }
  return `${(bytes / GIB).toFixed(2)} GiB`;
}

/** Time left, roughly: "under 5 s", "about 40 s", "about 3 min", "about 1 h 20 min". */
export function formatEta(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) {
    return "unknown";
  }
  const seconds = Math.round(ms / 1000);
  if (seconds < 5) {
    return "under 5 s";
  }
  if (seconds < 90) {
    return `about ${String(seconds)} s`;
  }
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) {
    return `about ${String(minutes)} min`;
  }
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest === 0 ? `about ${String(hours)} h` : `about ${String(hours)} h ${String(rest)} min`;
}
