import { describe, expect, it } from "vitest";

import { EMPTY_ACCOUNT, rolesOf, validateAccount } from "./accountForm";

describe("account form", () => {
  it("needs a name of letters, digits, dots, dashes and underscores", () => {
    const ok = { ...EMPTY_ACCOUNT, name: "lead.anna_2-x", passphrase: "correct horse battery", confirmation: "correct horse battery" };
    expect(validateAccount(ok)).toEqual({});
    expect(validateAccount({ ...ok, name: "  " }).name).toBe("Type the account name, e.g. lead.anna.");
    expect(validateAccount({ ...ok, name: "anna k" }).name).toMatch(/no spaces/);
  });

  it("needs a passphrase of at least 12 characters, counted as the engine counts them", () => {
    const form = { ...EMPTY_ACCOUNT, name: "anna", passphrase: "short words", confirmation: "short words" };
    expect(validateAccount(form).passphrase).toBe("The passphrase needs at least 12 characters; it has 11.");
    // Eleven emoji are 22 UTF-16 units but 11 characters.
    const emoji = "🔑".repeat(11);
    expect(validateAccount({ ...form, passphrase: emoji, confirmation: emoji }).passphrase).toMatch(/it has 11/);
    const twelve = "twelve chars";
    expect(validateAccount({ ...form, passphrase: twelve, confirmation: twelve }).passphrase).toBeUndefined();
  });

  it("needs the same passphrase twice", () => {
    const form = { ...EMPTY_ACCOUNT, name: "anna", passphrase: "correct horse battery" };
    expect(validateAccount(form).confirmation).toBe("Type the passphrase again to confirm it.");
    expect(validateAccount({ ...form, confirmation: "correct horse batterY" }).confirmation).toBe(
      "The two passphrases differ: type the same one twice.",
    );
  });

  it("grants the ticked roles and the typed ones, each once", () => {
    expect(rolesOf({ ...EMPTY_ACCOUNT, roles: ["shift-leads", "admin"], extraRoles: " qa, admin  maintenance," })).toEqual([
      "shift-leads",
      "admin",
      "qa",
      "maintenance",
    ]);
    expect(validateAccount({ ...EMPTY_ACCOUNT, extraRoles: "qa, line lead!" }).extraRoles).toMatch(/“lead!” is not a role name/);
  });
});
