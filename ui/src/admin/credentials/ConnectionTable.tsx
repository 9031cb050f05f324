import type { ConnectionTest, ConnectionView } from "../../api/types";
import { ConfirmButton } from "../../shared/ConfirmButton";
import { formatValue } from "../../shared/format";

/** A connection test: running, or what it found. */
export type TestState = { kind: "running" } | { kind: "done"; result: ConnectionTest } | { kind: "error"; message: string };

/**
 * The named connections: settings in clear, and whether the secret is in the keychain (the
 * secret itself is never read here). Each can be tested and removed (after a confirmation).
 */
export function ConnectionTable({
  connections,
  tests,
  busy,
  onTest,
  onRemove,
}: {
  connections: ConnectionView[];
  tests: Record<string, TestState>;
  busy: boolean;
  onTest: (name: string) => void;
  onRemove: (name: string) => void;
}) {
  return (
    <table className="dense connections-table">
      <thead>
        <tr>
          <th>Name</th>
          <th>Kind</th>
          <th>Settings</th>
          <th>Secret</th>
          <th>Test</th>
          <th>
            <span className="visually-hidden">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {connections.map((connection) => {
          const test = tests[connection.name];
          const settings = Object.entries(connection.settings);
          return (
            <tr key={connection.name} data-testid="connection-row" data-connection={connection.name}>
              <td>
                <strong>{connection.name}</strong>
              </td>
              <td>{connection.kind.toUpperCase()}</td>
              <td>
                {settings.length === 0 ? (
                  <span className="faint">none</span>
                ) : (
                  <dl className="settings-list">
                    {settings.map(([key, value]) => (
                      <div key={key}>
                        <dt>{key}</dt>
                        <dd>
                          <code>{formatValue(value)}</code>
                        </dd>
                      </div>
                    ))}
                  </dl>
                )}
              </td>
              <td data-testid="connection-secret-state" data-stored={connection.secret_stored}>
                <span className={connection.secret_stored ? "result-ok" : "result-failed"}>
                  {connection.secret_stored ? "✓ stored" : "✗ not stored"}
                </span>
                {connection.secret_detail !== "" && <div className="muted small">{connection.secret_detail}</div>}
              </td>
              <td className="test-cell">
                <button
                  type="button"
                  data-testid="connection-test"
                  aria-label={`Test ${connection.name}`}
                  disabled={busy || test?.kind === "running"}
                  onClick={() => {
                    onTest(connection.name);
                  }}
                >
                  {test?.kind === "running" ? "Testing…" : "Test"}
                </button>
                <TestResult test={test} />
              </td>
              <td className="row-actions">
                <ConfirmButton
                  label="Remove"
                  question={`Remove ${connection.name} and its secret from the keychain?`}
                  confirmLabel="Remove"
                  testId="connection-remove"
                  disabled={busy}
                  onConfirm={() => {
                    onRemove(connection.name);
                  }}
                />
              </td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

function TestResult({ test }: { test: TestState | undefined }) {
  if (test === undefined || test.kind === "running") return null;
  if (test.kind === "error") {
    return (
      <p className="test-result result-failed small" data-testid="connection-test-result" data-ok="false" role="status">
        ✗ could not test: {test.message}
      </p>
    );
  }
  return (
    <p
      className={`test-result small ${test.result.ok ? "result-ok" : "result-failed"}`}
      data-testid="connection-test-result"
      data-ok={test.result.ok}
      role="status"
    >
      {test.result.ok ? "✓ " : "✗ "}
      {test.result.detail}
    </p>
  );
}
