import type { Ref } from "react";

/**
 * A write-only secret field (passphrase, password): always masked, with no "show" toggle, and
 * never filled from anything but what the person types.
 */
export function SecretInput({
  label,
  value,
  onChange,
  testId,
  autoComplete,
  invalid = false,
  describedBy,
  inputRef,
}: {
  label: string;
  value: string;
  onChange: (value: string) => void;
  testId: string;
  /** "current-password" to prove who one is, "new-password" to set a secret. */
  autoComplete: "current-password" | "new-password";
  invalid?: boolean;
  describedBy?: string | undefined;
  inputRef?: Ref<HTMLInputElement> | undefined;
}) {
  return (
    <label>
      {label}
      <input
        ref={inputRef}
        type="password"
        data-testid={testId}
        autoComplete={autoComplete}
        spellCheck={false}
        value={value}
        aria-invalid={invalid || undefined}
        aria-describedby={describedBy}
        onChange={(event) => {
          onChange(event.target.value);
        }}
      />
    </label>
  );
}
