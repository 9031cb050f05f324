import { DowntimeBars } from "./DowntimeBars";
import { StatusGauges } from "./StatusGauges";
import type { ToolChartData } from "./toolCharts";

/** The picture of a known tool's result. */
export function ToolChart({ chart }: { chart: ToolChartData }) {
  switch (chart.kind) {
    case "status":
      return <StatusGauges chart={chart} />;
    case "downtime":
      return <DowntimeBars chart={chart} />;
  }
}
