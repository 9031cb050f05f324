import type { ChecksumStatus } from "../../api/types";

/** A row's checksum check as the tab knows it: from the list, or from a check run here. */
export type Check =
  | { kind: "listed"; status: ChecksumStatus }
  | { kind: "queued" }
  | { kind: "checking" }
  | { kind: "error"; message: string };

/** The first characters of a hash, enough to compare by eye (the whole one on hover). */
function Short({ hash }: { hash: string }) {
  return (
    <code className="hash" title={hash}>
      {hash.slice(0, 12)}
    </code>
  );
}

/** What the checksum check of one model file found, or that it runs. */
export function ChecksumCell({ check }: { check: Check }) {
  const state = check.kind === "listed" ? check.status.state : check.kind;
  return (
    <span className={`checksum checksum-${state}`} data-testid="model-checksum" data-state={state}>
      <ChecksumText check={check} />
    </span>
  );
}

function ChecksumText({ check }: { check: Check }) {
  switch (check.kind) {
    case "queued":
      return <span className="muted">waiting to check</span>;
    case "checking":
      return <span role="status">checking…</span>;
    case "error":
      return <span>could not check: {check.message}</span>;
    case "listed":
      break;
  }
  const { status } = check;
  switch (status.state) {
    case "unchecked":
      return <span className="muted">not checked</span>;
    case "valid":
      return (
        <span>
          ✓ matches the published checksum <Short hash={status.sha256} />
        </span>
      );
    case "mismatch":
      return (
        <span>
          ✗ does not match the published checksum: expected <Short hash={status.expected} />, file has{" "}
          <Short hash={status.actual} />
        </span>
      );
    case "unlisted":
      return (
        <span>
          no published checksum (your own file) <Short hash={status.sha256} />
        </span>
      );
  }
}
