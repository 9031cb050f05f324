import type { ReactNode } from "react";

import type { Verdict } from "../../api/types";

/** ⏸ drawn, not typed: many system fonts on plant PCs have no glyph for it. */
function PauseIcon() {
  return (
    <svg className="pause-icon" viewBox="0 0 10 12" aria-hidden="true">
      <rect x="1" y="1" width="3" height="10" />
      <rect x="6" y="1" width="3" height="10" />
    </svg>
  );
}

/** How each governor verdict is shown: an icon and the words a screen reader says. */
export const VERDICTS: Record<Verdict, { icon: ReactNode; label: string }> = {
  pass: { icon: "✓", label: "passed" },
  warn: { icon: "!", label: "warning" },
  approval: { icon: <PauseIcon />, label: "needs approval" },
  deny: { icon: "✗", label: "denied" },
  clarify: { icon: "?", label: "needs clarification" },
};
