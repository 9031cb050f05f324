// Pictures of known tools' results: the JSON is read defensively, and anything unexpected
// means no picture (the raw result still shows), never an exception.

/** A JSON object, as far as we can tell. */
type Json = Record<string, unknown>;

/** One gauge: a percentage with what it measures. */
export interface Gauge {
  label: string;
  /** 0 to 100. */
  percent: number;
  /** At or above the warning threshold. */
  warn: boolean;
  /** Amounts behind the percentage ("12.1 of 15.5 GiB"). */
  detail: string | null;
  /** A warning the tool itself gave. */
  note: string | null;
}

/** `get_system_status`'s gauges. */
export interface StatusChart {
  kind: "status";
  host: string | null;
  gauges: Gauge[];
}

/** One reason's downtime. */
export interface DowntimeBar {
  reason: string;
  minutes: number;
  events: number;
}

/** `mes_downtime`'s minutes by reason, most first. */
export interface DowntimeChart {
  kind: "downtime";
  bars: DowntimeBar[];
  totalMinutes: number;
  events: number;
  /** The line asked about, when the call named one. */
  line: number | null;
}

/** A picture of a tool result. */
export type ToolChartData = StatusChart | DowntimeChart;

/** A gauge at or above this percentage is drawn in the warning colour. */
export const WARN_PERCENT = 90;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The result as a JSON value: results normally are, but a stored one may be JSON text. */
function jsonOf(result: unknown): unknown {
  if (typeof result !== "string") return result;
  try {
    return JSON.parse(result) as unknown;
  } catch {
    return null;
  }
}

/** A finite number, also from numeric text (numeric cells may arrive as text). */
function numberOf(value: unknown): number | null {
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  if (typeof value === "string" && value.trim() !== "") {
    const parsed = Number(value);
    return Number.isFinite(parsed) ? parsed : null;
  }
  return null;
}

function textOf(value: unknown): string | null {
  return typeof value === "string" && value.trim() !== "" ? value.trim() : null;
}

function percentOf(value: unknown): number | null {
  const percent = numberOf(value);
  return percent !== null && percent >= 0 && percent <= 100 ? percent : null;
}

/** `used` of `total` as a percentage, when both are sane. */
function ratio(used: number | null, total: number | null): number | null {
  if (used === null || total === null || total <= 0 || used < 0 || used > total) return null;
  return (used / total) * 100;
}

function amount(value: number): string {
  return value >= 100 ? value.toFixed(0) : value.toFixed(1);
}

function gauge(label: string, percent: number, detail: string | null, note: string | null = null): Gauge {
  return { label, percent, warn: percent >= WARN_PERCENT, detail, note };
}

function cpuGauge(cpu: unknown): Gauge | null {
  if (!isObject(cpu)) return null;
  const percent = percentOf(cpu.percent);
  if (percent === null) return null;
  const facts: string[] = [];
  const cores = numberOf(cpu.cores);
  if (cores !== null) facts.push(`${String(cores)} cores`);
  const load = isObject(cpu.load_average) ? numberOf(cpu.load_average.one) : null;
  if (load !== null) facts.push(`load ${load.toFixed(2)}`);
  return gauge("CPU", percent, facts.length > 0 ? facts.join(" · ") : null);
}

function memoryGauge(memory: unknown): Gauge | null {
  if (!isObject(memory)) return null;
  const used = numberOf(memory.used_mb);
  const total = numberOf(memory.total_mb);
  const percent = percentOf(memory.percent) ?? ratio(used, total);
  if (percent === null) return null;
  const detail =
    used !== null && total !== null && total > 0 ? `${amount(used / 1024)} of ${amount(total / 1024)} GiB` : null;
  return gauge("Memory", percent, detail);
}

function filesystemGauges(filesystems: unknown): Gauge[] {
  if (!Array.isArray(filesystems)) return [];
  return filesystems.flatMap((fs: unknown) => {
    if (!isObject(fs)) return [];
    const mount = textOf(fs.mount);
    const used = numberOf(fs.used_gb);
    const size = numberOf(fs.size_gb);
    const percent = percentOf(fs.percent) ?? ratio(used, size);
    if (mount === null || percent === null) return [];
    const detail = used !== null && size !== null ? `${amount(used)} of ${amount(size)} GB` : null;
    return [gauge(mount, percent, detail, textOf(fs.warning))];
  });
}

/** The CPU, memory and filesystem gauges of a `get_system_status` result; null if none. */
export function statusChart(result: unknown): StatusChart | null {
  const status = jsonOf(result);
  if (!isObject(status)) return null;
  const gauges = [cpuGauge(status.cpu), memoryGauge(status.memory), ...filesystemGauges(status.filesystems)].filter(
    (g): g is Gauge => g !== null,
  );
  return gauges.length === 0 ? null : { kind: "status", host: textOf(status.hostname), gauges };
}

/** The rows of a downtime result: `{events: [...]}` (the tool) or `{columns, rows}` (a query). */
function downtimeRows(result: Json): Json[] | null {
  if (Array.isArray(result.events)) return result.events.filter(isObject);
  if (!Array.isArray(result.rows)) return null;
  const columns = Array.isArray(result.columns) ? result.columns : null;
  return result.rows.flatMap((row: unknown): Json[] => {
    if (isObject(row)) return [row];
    // Rows as arrays of cells, named by `columns`.
    if (Array.isArray(row) && columns !== null) {
      return [Object.fromEntries(columns.map((column, index) => [String(column), row[index] as unknown]))];
    }
    return [];
  });
}

/** The minutes of a `mes_downtime` result summed by reason, most first; null if none. */
export function downtimeChart(result: unknown, args: Record<string, unknown> = {}): DowntimeChart | null {
  const downtime = jsonOf(result);
  if (!isObject(downtime)) return null;
  const rows = downtimeRows(downtime);
  if (rows === null) return null;
  const byReason = new Map<string, DowntimeBar>();
  for (const row of rows) {
    const minutes = numberOf(row.minutes);
    if (minutes === null || minutes < 0) continue;
    const reason = textOf(row.reason) ?? "(no reason given)";
    const bar = byReason.get(reason) ?? { reason, minutes: 0, events: 0 };
    byReason.set(reason, { reason, minutes: bar.minutes + minutes, events: bar.events + 1 });
  }
  const bars = [...byReason.values()].sort((a, b) => b.minutes - a.minutes || a.reason.localeCompare(b.reason));
  if (bars.length === 0) return null;
  return {
    kind: "downtime",
    bars,
    totalMinutes: bars.reduce((sum, bar) => sum + bar.minutes, 0),
    events: bars.reduce((sum, bar) => sum + bar.events, 0),
    line: numberOf(args.line),
  };
}

/** The picture of a tool's result, when the tool is known and its result reads as expected. */
export function toolChart(tool: string, result: unknown, args: Record<string, unknown> = {}): ToolChartData | null {
  switch (tool) {
    case "get_system_status":
      return statusChart(result);
    case "mes_downtime":
      return downtimeChart(result, args);
    default:
      return null;
  }
}
