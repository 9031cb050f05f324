import type { Args } from "../../api/types";
import { formatValue } from "../format";
import { ExpandableText } from "./ExpandableText";

/** Every argument of a call in clear: strings as they are, JSON values pretty-printed. */
export function ArgumentList({ args }: { args: Args }) {
  const entries = Object.entries(args);
  if (entries.length === 0) {
    return <p className="muted args-none">No arguments.</p>;
  }
  return (
    <dl className="args">
      {entries.map(([name, value]) => (
        <div className="arg" key={name}>
          <dt>{name}</dt>
          <dd>
            <ExpandableText text={formatValue(value)} />
          </dd>
        </div>
      ))}
    </dl>
  );
}
