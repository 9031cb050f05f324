import { useRef, useState } from "react";

import { SecretInput } from "../../shared/SecretInput";
import {
  characters,
  EMPTY_ACCOUNT,
  MIN_PASSPHRASE_CHARS,
  rolesOf,
  validateAccount,
  type AccountErrors,
  type AccountForm,
} from "../../shared/accountForm";

const FIELD_TEST_IDS: Record<keyof AccountErrors, string> = {
  name: "account-name",
  extraRoles: "account-extra-roles",
  passphrase: "account-passphrase",
  confirmation: "account-confirmation",
};

function FieldError({ id, message }: { id: string; message: string | undefined }) {
  if (message === undefined) return null;
  return (
    <span className="field-error" id={id}>
      {message}
    </span>
  );
}

/**
 * The add-account form: a name, roles (the policy's as checkboxes, others typed), and the
 * passphrase twice. Checked here first (the engine checks again); both passphrase fields are
 * cleared once the form is sent, whatever the result. `onAdd` resolves true when the account
 * was added: the form is then emptied.
 */
export function AddAccount({
  knownRoles,
  busy,
  onAdd,
}: {
  knownRoles: string[];
  busy: boolean;
  onAdd: (name: string, roles: string[], passphrase: string) => Promise<boolean>;
}) {
  const [form, setForm] = useState<AccountForm>(EMPTY_ACCOUNT);
  const [tried, setTried] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);
  const errors = tried ? validateAccount(form) : {};
  const length = characters(form.passphrase);

  const described = (field: keyof AccountErrors, ...others: string[]) => {
    const ids = [errors[field] !== undefined ? `${FIELD_TEST_IDS[field]}-error` : null, ...others].filter((id) => id !== null);
    return ids.length === 0 ? undefined : ids.join(" ");
  };

  return (
    <form
      ref={formRef}
      className="stacked-form add-account"
      aria-labelledby="add-account-title"
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        if (busy) return;
        setTried(true);
        const found = validateAccount(form);
        const first = (Object.keys(found) as (keyof AccountErrors)[])[0];
        if (first !== undefined) {
          formRef.current?.querySelector<HTMLElement>(`[data-testid="${FIELD_TEST_IDS[first]}"]`)?.focus();
          return;
        }
        const passphrase = form.passphrase;
        setForm({ ...form, passphrase: "", confirmation: "" });
        setTried(false);
        void onAdd(form.name.trim(), rolesOf(form), passphrase).then((added) => {
          if (added) setForm(EMPTY_ACCOUNT);
        });
      }}
    >
      <h2 id="add-account-title">Add an account</h2>
      <label>
        Account name
        <input
          data-testid="account-name"
          autoComplete="off"
          spellCheck={false}
          placeholder="lead.anna"
          value={form.name}
          aria-invalid={errors.name !== undefined || undefined}
          aria-describedby={described("name")}
          onChange={(event) => {
            setForm({ ...form, name: event.target.value });
          }}
        />
        <FieldError id="account-name-error" message={errors.name} />
      </label>
      <fieldset className="role-choices">
        <legend>Roles</legend>
        {knownRoles.length === 0 && <p className="muted small">The policy names no roles; type them below.</p>}
        {knownRoles.map((role) => (
          <label key={role} className="checkbox">
            <input
              type="checkbox"
              data-testid="account-role"
              value={role}
              checked={form.roles.includes(role)}
              onChange={(event) => {
                const roles = event.target.checked ? [...form.roles, role] : form.roles.filter((r) => r !== role);
                setForm({ ...form, roles });
              }}
            />
            {role}
          </label>
        ))}
        <label>
          Other roles (separated by commas)
          <input
            data-testid="account-extra-roles"
            spellCheck={false}
            placeholder="quality"
            value={form.extraRoles}
            aria-invalid={errors.extraRoles !== undefined || undefined}
            aria-describedby={described("extraRoles")}
            onChange={(event) => {
              setForm({ ...form, extraRoles: event.target.value });
            }}
          />
          <FieldError id="account-extra-roles-error" message={errors.extraRoles} />
        </label>
      </fieldset>
      <SecretInput
        label="Passphrase"
        value={form.passphrase}
        onChange={(passphrase) => {
          setForm({ ...form, passphrase });
        }}
        testId="account-passphrase"
        autoComplete="new-password"
        invalid={errors.passphrase !== undefined}
        describedBy={described("passphrase", "account-passphrase-hint")}
      />
      <span className="muted small" id="account-passphrase-hint">
        At least {MIN_PASSPHRASE_CHARS} characters ({length === 0 ? "none yet" : `${String(length)} typed`}). A few
        unrelated words are long and easy to remember.
      </span>
      <FieldError id="account-passphrase-error" message={errors.passphrase} />
      <SecretInput
        label="Passphrase again"
        value={form.confirmation}
        onChange={(confirmation) => {
          setForm({ ...form, confirmation });
        }}
        testId="account-confirmation"
        autoComplete="new-password"
        invalid={errors.confirmation !== undefined}
        describedBy={described("confirmation")}
      />
      <FieldError id="account-confirmation-error" message={errors.confirmation} />
      <div className="form-actions">
        <button type="submit" className="primary" data-testid="account-add" disabled={busy}>
          {busy ? "Adding…" : "Add account"}
        </button>
      </div>
    </form>
  );
}
