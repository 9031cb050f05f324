import { useRef, useState } from "react";

import type { ConnectionKind } from "../../api/types";
import { SecretInput } from "../../shared/SecretInput";
import { KIND_SETTINGS, KINDS, settingsOf, validateConnection, type ConnectionForm, type FormErrors } from "./connectionForm";

const EMPTY: ConnectionForm = { name: "", kind: "sap", settings: {} };

/** An error line under a field, which the field names as its description. */
function FieldError({ id, message }: { id: string; message: string | undefined }) {
  if (message === undefined) return null;
  return (
    <span className="field-error" id={id}>
      {message}
    </span>
  );
}

/**
 * The add-connection form: name, kind, the kind's settings, and the secret in a masked field
 * that is cleared as soon as the form is sent, whatever the result. `onAdd` resolves true
 * when the connection was saved: the form is then emptied.
 */
export function AddConnection({
  busy,
  onAdd,
}: {
  busy: boolean;
  onAdd: (name: string, kind: ConnectionKind, settings: Record<string, string>, secret: string) => Promise<boolean>;
}) {
  const [form, setForm] = useState<ConnectionForm>(EMPTY);
  const [secret, setSecret] = useState("");
  const [errors, setErrors] = useState<FormErrors>({});
  const [tried, setTried] = useState(false);
  const formRef = useRef<HTMLFormElement>(null);
  const shown = tried ? errors : {};

  const update = (next: ConnectionForm) => {
    setForm(next);
    if (tried) setErrors(validateConnection(next, secret));
  };

  return (
    <form
      ref={formRef}
      className="stacked-form add-connection"
      aria-labelledby="add-connection-title"
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        if (busy) return;
        const found = validateConnection(form, secret);
        setTried(true);
        setErrors(found);
        const first = Object.keys(found)[0];
        if (first !== undefined) {
          const selector = first === "secret" ? '[data-testid="connection-secret"]' : `[data-field="${first}"]`;
          formRef.current?.querySelector<HTMLElement>(selector)?.focus();
          return;
        }
        const sent = secret;
        setSecret("");
        void onAdd(form.name.trim(), form.kind, settingsOf(form), sent).then((saved) => {
          if (saved) {
            setForm(EMPTY);
            setTried(false);
            setErrors({});
          }
        });
      }}
    >
      <h2 id="add-connection-title">Add a connection</h2>
      <label>
        Name
        <input
          data-testid="connection-name"
          data-field="name"
          placeholder="sap-prod"
          spellCheck={false}
          value={form.name}
          aria-invalid={shown.name !== undefined || undefined}
          aria-describedby={shown.name !== undefined ? "connection-name-error" : undefined}
          onChange={(event) => {
            update({ ...form, name: event.target.value });
          }}
        />
        <FieldError id="connection-name-error" message={shown.name} />
      </label>
      <label>
        Kind
        <select
          data-testid="connection-kind"
          value={form.kind}
          onChange={(event) => {
            update({ ...form, kind: event.target.value as ConnectionKind });
          }}
        >
          {KINDS.map((kind) => (
            <option key={kind.value} value={kind.value}>
              {kind.label}
            </option>
          ))}
        </select>
      </label>
      {KIND_SETTINGS[form.kind].map((spec) => {
        const errorId = `connection-${spec.key}-error`;
        const hintId = `connection-${spec.key}-hint`;
        const described = [shown[spec.key] !== undefined ? errorId : null, spec.hint !== undefined ? hintId : null]
          .filter((id) => id !== null)
          .join(" ");
        return (
          <label key={spec.key}>
            {spec.label}
            {spec.required ? " (required)" : " (optional)"}
            <input
              data-testid={`connection-setting-${spec.key}`}
              data-field={spec.key}
              placeholder={spec.placeholder}
              spellCheck={false}
              required={spec.required}
              value={form.settings[spec.key] ?? ""}
              aria-invalid={shown[spec.key] !== undefined || undefined}
              aria-describedby={described === "" ? undefined : described}
              onChange={(event) => {
                update({ ...form, settings: { ...form.settings, [spec.key]: event.target.value } });
              }}
            />
            {spec.hint !== undefined && (
              <span className="muted small" id={hintId}>
                {spec.hint}
              </span>
            )}
            <FieldError id={errorId} message={shown[spec.key]} />
          </label>
        );
      })}
      <SecretInput
        label="Password (stored in the OS keychain, never shown)"
        value={secret}
        onChange={(value) => {
          setSecret(value);
          if (tried) setErrors(validateConnection(form, value));
        }}
        testId="connection-secret"
        autoComplete="new-password"
        invalid={shown.secret !== undefined}
        describedBy={shown.secret !== undefined ? "connection-secret-error" : undefined}
      />
      <FieldError id="connection-secret-error" message={shown.secret} />
      <div className="form-actions">
        <button type="submit" className="primary" data-testid="connection-add" disabled={busy}>
          {busy ? "Saving…" : "Add connection"}
        </button>
      </div>
    </form>
  );
}
