import { useEffect, useState } from "react";

import { policyFiles } from "../../api/commands";
import type { PolicyFile } from "../../api/types";
import { errorMessage } from "../../shared/errors";
import { PolicyWorkbench } from "./PolicyWorkbench";

type Load = { kind: "loading" } | { kind: "error"; message: string } | { kind: "ready"; files: PolicyFile[] };

/** The policy editor tab: the policy directory's files, and the selected one in the editor. */
export function PolicyTab() {
  const [load, setLoad] = useState<Load>({ kind: "loading" });
  const [selected, setSelected] = useState<string | null>(null);
  const [drafts, setDrafts] = useState<Record<string, string>>({});

  useEffect(() => {
    let live = true;
    policyFiles().then(
      (files) => {
        if (live) setLoad({ kind: "ready", files });
      },
      (error: unknown) => {
        if (live) setLoad({ kind: "error", message: errorMessage(error) });
      },
    );
    return () => {
      live = false;
    };
  }, []);

  if (load.kind === "loading") return <p className="muted">Reading the policy files…</p>;
  if (load.kind === "error") {
    return (
      <p className="error" role="alert">
        Could not read the policy files: {load.message}
      </p>
    );
  }
  const { files } = load;
  const file = files.find((candidate) => candidate.name === selected) ?? files[0];
  if (!file) return <p className="empty-state">The policy directory has no editable files.</p>;
  const text = drafts[file.name] ?? file.text;

  return (
    <div className="policy-tab">
      <nav className="file-list" aria-label="Policy files">
        <ul>
          {files.map((candidate) => {
            const edited = drafts[candidate.name] !== undefined && drafts[candidate.name] !== candidate.text;
            return (
              <li key={candidate.name}>
                <button
                  type="button"
                  data-testid="policy-file"
                  data-file={candidate.name}
                  aria-current={candidate.name === file.name ? "true" : undefined}
                  onClick={() => {
                    setSelected(candidate.name);
                  }}
                >
                  {candidate.name}
                  {edited && <span className="edited" title="Edited, not saved"> •</span>}
                </button>
              </li>
            );
          })}
        </ul>
      </nav>
      <PolicyWorkbench
        key={file.name}
        file={file}
        text={text}
        onText={(next) => {
          setDrafts((all) => ({ ...all, [file.name]: next }));
        }}
        onSaved={(saved) => {
          setLoad({
            kind: "ready",
            files: files.map((candidate) => (candidate.name === file.name ? { ...candidate, text: saved } : candidate)),
          });
        }}
      />
    </div>
  );
}
