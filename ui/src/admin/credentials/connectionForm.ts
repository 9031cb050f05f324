// The add-connection form: each kind's settings, and what must be filled in.

import type { ConnectionKind } from "../../api/types";

/** One setting of a kind of connection. */
export interface SettingSpec {
  key: string;
  label: string;
  required: boolean;
  placeholder: string;
  hint?: string;
}

/** The settings each kind takes (what `airlock vault add` takes). */
export const KIND_SETTINGS: Record<ConnectionKind, SettingSpec[]> = {
  sap: [
    { key: "url", label: "Service URL", required: true, placeholder: "https://sap-gw.plant.local:44300/sap/opu/odata/sap/" },
    { key: "user", label: "User", required: true, placeholder: "AIRLOCK_RFC" },
    { key: "client", label: "Client", required: false, placeholder: "100", hint: "the SAP client (Mandant)" },
    { key: "ca_file", label: "CA file", required: false, placeholder: "/etc/airlock/plant-ca.pem", hint: "a PEM file of the plant CA that signed the gateway's certificate" },
  ],
  mes: [
    { key: "dsn", label: "ODBC data source (DSN)", required: true, placeholder: "MES_LINE3" },
    { key: "user", label: "User", required: true, placeholder: "airlock_ro" },
  ],
};

/** The kinds, as the form offers them. */
export const KINDS: { value: ConnectionKind; label: string }[] = [
  { value: "sap", label: "SAP (OData gateway)" },
  { value: "mes", label: "MES (ODBC database)" },
];

/** What was typed (the secret is kept apart, in its own field). */
export interface ConnectionForm {
  name: string;
  kind: ConnectionKind;
  /** Every setting typed, of any kind: only the chosen kind's are sent. */
  settings: Record<string, string>;
}

/** What is wrong with the form, by field ("name", a setting's key, "secret"). */
export type FormErrors = Partial<Record<string, string>>;

/** The chosen kind's settings as sent: trimmed, optional blank ones left out. */
export function settingsOf(form: ConnectionForm): Record<string, string> {
  const settings: Record<string, string> = {};
  for (const spec of KIND_SETTINGS[form.kind]) {
    const value = (form.settings[spec.key] ?? "").trim();
    if (value !== "") settings[spec.key] = value;
  }
  return settings;
}

/** Checks the form and the secret; an empty object when it can be sent. */
export function validateConnection(form: ConnectionForm, secret: string): FormErrors {
  const errors: FormErrors = {};
  const name = form.name.trim();
  if (name === "") {
    errors.name = "Give the connection a name, e.g. sap-prod or mes-line3.";
  } else if (/\s/.test(name)) {
    errors.name = "A connection name has no spaces: use - or _ instead.";
  }
  const settings = settingsOf(form);
  for (const spec of KIND_SETTINGS[form.kind]) {
    if (spec.required && settings[spec.key] === undefined) {
      errors[spec.key] = `${spec.label} is required for an ${form.kind.toUpperCase()} connection.`;
    }
  }
  const url = settings.url;
  if (form.kind === "sap" && url !== undefined && !/^https?:\/\/[^\s/]+/i.test(url)) {
    errors.url = "The service URL starts with https:// (or http://) and a host name.";
  }
  if (secret === "") {
    errors.secret = "Type the password: it goes to the OS keychain and is never shown again.";
  }
  return errors;
}
