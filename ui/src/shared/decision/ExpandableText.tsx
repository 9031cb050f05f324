import { useState } from "react";

/** Beyond this many characters a value is collapsed behind "Show all". */
const COLLAPSE_AT = 400;

/**
 * A value shown in clear, wrapping. Longer than `limit` characters it is collapsed to its
 * start with an explicit "Show all" button: never silently truncated.
 */
export function ExpandableText({ text, limit = COLLAPSE_AT }: { text: string; limit?: number }) {
  const [expanded, setExpanded] = useState(false);
  if (text.length <= limit) {
    return <span className="value">{text}</span>;
  }
  return (
    <span className="value value-long">
      {expanded ? text : `${text.slice(0, limit)}…`}
      <button
        type="button"
        className="link-button"
        aria-expanded={expanded}
        onClick={() => {
          setExpanded(!expanded);
        }}
      >
        {expanded ? "Show less" : `Show all (${String(text.length)} characters)`}
      </button>
    </span>
  );
}
