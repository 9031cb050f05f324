/** A tab not built yet: says which terminal command does the job meanwhile. */
export function ComingLater({ command }: { command: string }) {
  return (
    <p className="notice">
      Coming in a later release: use <code>airlock {command}</code> in a terminal.
    </p>
  );
}
