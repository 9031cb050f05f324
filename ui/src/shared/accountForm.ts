// The add-account form: the roles it grants and what the engine will refuse anyway.

/** The engine's minimum passphrase length, in characters (`MIN_PASSPHRASE_CHARS`). */
export const MIN_PASSPHRASE_CHARS = 12;

/** What was typed. */
export interface AccountForm {
  name: string;
  /** The suggested roles ticked. */
  roles: string[];
  /** Further roles, typed: separated by commas or spaces. */
  extraRoles: string;
  passphrase: string;
  confirmation: string;
}

export const EMPTY_ACCOUNT: AccountForm = { name: "", roles: [], extraRoles: "", passphrase: "", confirmation: "" };

/** What is wrong, by field. */
export type AccountErrors = Partial<Record<"name" | "extraRoles" | "passphrase" | "confirmation", string>>;

const NAME = /^[A-Za-z0-9._-]+$/;

/**
 * Characters as the engine counts them (Rust's `chars().count()`: Unicode scalar values, not
 * UTF-16 units, and not grapheme clusters either).
 */
export function characters(text: string): number {
  return Array.from(text).length;
}

/** The roles the account gets: the ticked ones, then the typed ones, each once. */
export function rolesOf(form: AccountForm): string[] {
  const typed = form.extraRoles.split(/[\s,]+/).filter((role) => role !== "");
  return [...new Set([...form.roles, ...typed])];
}

/** Checks the form; an empty object when it can be sent. */
export function validateAccount(form: AccountForm): AccountErrors {
  const errors: AccountErrors = {};
  const name = form.name.trim();
  if (name === "") {
    errors.name = "Type the account name, e.g. lead.anna.";
  } else if (!NAME.test(name)) {
    errors.name = "Use letters, digits, “.”, “_” and “-” only (no spaces).";
  }
  const badRole = form.extraRoles.split(/[\s,]+/).find((role) => role !== "" && !NAME.test(role));
  if (badRole !== undefined) {
    errors.extraRoles = `“${badRole}” is not a role name: use letters, digits, “.”, “_” and “-”.`;
  }
  const length = characters(form.passphrase);
  if (length < MIN_PASSPHRASE_CHARS) {
    errors.passphrase =
      length === 0
        ? `Choose a passphrase of at least ${String(MIN_PASSPHRASE_CHARS)} characters.`
        : `The passphrase needs at least ${String(MIN_PASSPHRASE_CHARS)} characters; it has ${String(length)}.`;
  }
  if (form.confirmation === "") {
    errors.confirmation = "Type the passphrase again to confirm it.";
  } else if (form.confirmation !== form.passphrase) {
    errors.confirmation = "The two passphrases differ: type the same one twice.";
  }
  return errors;
}
