import type { Timings } from "../../api/types";
import { formatMs } from "../../shared/format";

/** Where a request's time went, as a small muted line. */
export function TimingsFooter({ timings }: { timings: Timings }) {
  return (
    <p className="timings">
      total {formatMs(timings.total_ms)} · model {formatMs(timings.model_ms)} · governor{" "}
      {formatMs(timings.governor_ms)} · tools {formatMs(timings.tools_ms)}
    </p>
  );
}
