import type { Risk } from "../../api/types";
import { humanise } from "../format";

/** A colour-coded risk level: "Low risk" … "Critical risk". */
export function RiskBadge({ risk }: { risk: Risk }) {
  return <span className={`pill risk-${risk}`}>{humanise(risk)} risk</span>;
}
