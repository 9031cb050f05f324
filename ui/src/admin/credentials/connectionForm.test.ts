import { describe, expect, it } from "vitest";

import { settingsOf, validateConnection, type ConnectionForm } from "./connectionForm";

const SAP: ConnectionForm = {
  name: "sap-prod",
  kind: "sap",
  settings: { url: " https://sap-gw:44300/sap/ ", user: "RFC", client: "", ca_file: "", dsn: "left over" },
};

describe("connection form", () => {
  it("sends only the chosen kind's settings, trimmed, without blank optional ones", () => {
    expect(settingsOf(SAP)).toEqual({ url: "https://sap-gw:44300/sap/", user: "RFC" });
    expect(settingsOf({ ...SAP, kind: "mes" })).toEqual({ dsn: "left over", user: "RFC" });
  });

  it("requires each kind's required settings, a name and a secret", () => {
    expect(validateConnection(SAP, "pw")).toEqual({});
    expect(validateConnection({ name: " ", kind: "mes", settings: { user: "  " } }, "")).toEqual({
      name: expect.stringContaining("name") as unknown,
      dsn: "ODBC data source (DSN) is required for an MES connection.",
      user: "User is required for an MES connection.",
      secret: expect.stringContaining("password") as unknown,
    });
    expect(validateConnection({ ...SAP, settings: { user: "RFC" } }, "pw")).toEqual({
      url: "Service URL is required for an SAP connection.",
    });
  });

  it("refuses a URL without a scheme and a name with spaces", () => {
    expect(validateConnection({ ...SAP, name: "sap prod", settings: { url: "sap-gw:44300", user: "RFC" } }, "pw")).toEqual({
      name: "A connection name has no spaces: use - or _ instead.",
      url: "The service URL starts with https:// (or http://) and a host name.",
    });
  });
});
