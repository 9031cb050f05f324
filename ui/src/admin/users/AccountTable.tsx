import type { LocalAccount } from "../../api/types";
import { ConfirmButton } from "../../shared/ConfirmButton";
import { formatTimestamp } from "../../shared/format";

function lockedNow(account: LocalAccount, now: Date): boolean {
  if (account.locked_until === null) return false;
  const until = new Date(account.locked_until).getTime();
  return Number.isNaN(until) || until > now.getTime();
}

/** The local accounts: roles, whether sign-in is locked, and a Remove that asks first. */
export function AccountTable({
  accounts,
  now,
  busy,
  onRemove,
}: {
  accounts: LocalAccount[];
  now: Date;
  busy: boolean;
  onRemove: (name: string) => void;
}) {
  return (
    <table className="dense accounts-table">
      <thead>
        <tr>
          <th>Account</th>
          <th>Roles</th>
          <th>Sign-in</th>
          <th>Created</th>
          <th>
            <span className="visually-hidden">Actions</span>
          </th>
        </tr>
      </thead>
      <tbody>
        {accounts.map((account) => {
          const locked = lockedNow(account, now);
          return (
            <tr key={account.name} data-testid="account-row" data-account={account.name}>
              <td>
                <strong>{account.name}</strong>
              </td>
              <td>
                {account.roles.length === 0 ? (
                  <span className="faint">none</span>
                ) : (
                  account.roles.map((role) => (
                    <span key={role} className="tag">
                      {role}
                    </span>
                  ))
                )}
              </td>
              <td data-testid="account-lock" data-locked={locked}>
                {locked && account.locked_until !== null ? (
                  <span className="result-failed">locked until {formatTimestamp(account.locked_until)}</span>
                ) : account.failed_attempts > 0 ? (
                  <span className="edited">
                    {account.failed_attempts} failed {account.failed_attempts === 1 ? "attempt" : "attempts"}
                  </span>
                ) : (
                  <span className="muted">ok</span>
                )}
              </td>
              <td className="nowrap">{formatTimestamp(account.created_at)}</td>
              <td className="row-actions">
                <ConfirmButton
                  label="Remove"
                  question={`Remove the account ${account.name}? It can no longer sign in or approve.`}
                  confirmLabel="Remove"
                  testId="account-remove"
                  disabled={busy}
                  onConfirm={() => {
                    onRemove(account.name);
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
