import { SecretInput } from "./SecretInput";

/**
 * The account name and passphrase a person proves who they are with (admin sign-in, and every
 * approval decision). `testIdPrefix` names the fields `<prefix>-account` and
 * `<prefix>-passphrase` for the end-to-end tests.
 */
export function CredentialFields({
  account,
  passphrase,
  onAccount,
  onPassphrase,
  testIdPrefix,
}: {
  account: string;
  passphrase: string;
  onAccount: (value: string) => void;
  onPassphrase: (value: string) => void;
  testIdPrefix: string;
}) {
  return (
    <>
      <label>
        Account
        <input
          data-testid={`${testIdPrefix}-account`}
          autoComplete="username"
          value={account}
          onChange={(event) => {
            onAccount(event.target.value);
          }}
        />
      </label>
      <SecretInput
        label="Passphrase"
        value={passphrase}
        onChange={onPassphrase}
        testId={`${testIdPrefix}-passphrase`}
        autoComplete="current-password"
      />
    </>
  );
}
