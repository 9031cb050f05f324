import { render, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";

import type { AuditReport, AuditRow, ExportedAudit } from "../../api/types";
import { callsOf, engineError, invoke, routeCommands } from "../../test/tauriCore";
import { AuditTab } from "./AuditTab";

vi.mock("@tauri-apps/api/core", () => import("../../test/tauriCore"));

const ROWS: AuditRow[] = [
  {
    seq: 42,
    at: "2025-03-01T10:05:00Z",
    kind: "decision_made",
    trace_id: "t-1",
    principal: "operator.jdoe",
    tool: "service_restart",
    decision: "require_approval",
    risk: "medium",
    payload: { tool: "service_restart", args: { host: "line3-plc" } },
  },
  {
    seq: 41,
    at: "2025-03-01T09:10:00Z",
    kind: "request_received",
    trace_id: "t-1",
    principal: "operator.jdoe",
    tool: null,
    decision: null,
    risk: null,
    payload: { text: "restart the bridge" },
  },
];

const INTACT: AuditReport = {
  rows_checked: 42,
  checkpoints_checked: 3,
  last_seq: 42,
  last_checkpointed_seq: 40,
  first_problem: null,
};

describe("AuditTab", () => {
  beforeEach(() => {
    invoke.mockReset();
  });

  it("shows loading, then the rows; a row opens to its payload", async () => {
    let answer: (rows: AuditRow[]) => void = () => undefined;
    routeCommands({
      audit_events: () =>
        new Promise<AuditRow[]>((resolve) => {
          answer = resolve;
        }),
    });
    render(<AuditTab />);
    expect(screen.getByText("Reading audit events…")).toBeInTheDocument();
    answer(ROWS);
    const rows = await screen.findAllByTestId("audit-row");
    expect(rows).toHaveLength(2);
    expect(rows[0]).toHaveTextContent("42");
    expect(rows[0]).toHaveTextContent("decision_made");
    expect(rows[0]).toHaveTextContent("require_approval");
    expect(screen.queryByText("Reading audit events…")).not.toBeInTheDocument();
    expect(callsOf("audit_events")).toEqual([{ filter: { limit: 200 } }]);
    await userEvent.click(rows[0] as HTMLElement);
    expect(screen.getByText(/"host": "line3-plc"/)).toBeInTheDocument();
  });

  it("draws the events over the filtered range, coloured by the governor's outcome", async () => {
    routeCommands({
      audit_events: () => [
        ...ROWS,
        { ...ROWS[1], seq: 40, at: "2025-03-01T09:08:00Z", decision: "deny", kind: "decision_made" } as AuditRow,
        { ...ROWS[1], seq: 39, at: "2025-03-01T09:05:00Z", decision: "allow", kind: "decision_made" } as AuditRow,
      ],
    });
    render(<AuditTab />);
    const strip = await screen.findByTestId("audit-timeline");
    expect(within(strip).getByRole("img", { name: /Audit events per 5 minutes, .*: 1 allowed, 1 approval, 1 denied, 1 no decision/ })).toBeInTheDocument();
    const buckets = within(strip).getAllByTestId("audit-bucket");
    // 09:05 to 10:05 in five-minute slots.
    expect(buckets).toHaveLength(13);
    expect(buckets.map((b) => Number(b.dataset.total))).toEqual([2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    const first = buckets[0] as HTMLElement;
    expect([...first.querySelectorAll("rect.seg")].map((r) => r.getAttribute("data-outcome"))).toEqual(["allow", "deny"]);
    expect(first.querySelector("rect.seg-deny")).toHaveAttribute("data-count", "1");
    expect(buckets[12]?.querySelector("rect.seg-require_approval")).not.toBeNull();
    expect(within(strip).getByTestId("audit-legend-deny")).toHaveTextContent("Denied 1");
    expect(within(strip).getByTestId("audit-legend-require_approval")).toHaveTextContent("Approval 1");
    expect(within(strip).queryByTestId("audit-legend-clarify")).not.toBeInTheDocument();
    expect(within(strip).queryByTestId("audit-timeline-capped")).not.toBeInTheDocument();
  });

  it("says when no event matches", async () => {
    routeCommands({ audit_events: () => [] });
    render(<AuditTab />);
    expect(await screen.findByText("No audit events match these filters.")).toBeInTheDocument();
  });

  it("shows the error when the log cannot be read", async () => {
    routeCommands({ audit_events: () => engineError("only admins may read the audit log: sign in again") });
    render(<AuditTab />);
    expect(await screen.findByRole("alert")).toHaveTextContent("only admins may read the audit log: sign in again");
  });

  it("sends the filters typed", async () => {
    const user = userEvent.setup();
    routeCommands({ audit_events: () => ROWS });
    render(<AuditTab />);
    await screen.findAllByTestId("audit-row");
    await user.type(screen.getByLabelText("Principal"), "operator.jdoe");
    await user.selectOptions(screen.getByLabelText("Decision"), "deny");
    await user.clear(screen.getByLabelText("Limit"));
    await user.type(screen.getByLabelText("Limit"), "50");
    await user.click(screen.getByRole("button", { name: "Apply" }));
    await waitFor(() => {
      expect(callsOf("audit_events")).toHaveLength(2);
    });
    expect(callsOf("audit_events")[1]).toEqual({ filter: { principal: "operator.jdoe", decision: "deny", limit: 50 } });
  });

  it("exports every row since the applied 'since' filter, and says where the file went", async () => {
    const user = userEvent.setup();
    const written: ExportedAudit = { path: "/home/jdoe/Downloads/airlock-audit-20250301-101500.csv", rows: 42 };
    routeCommands({ audit_events: () => ROWS, export_audit: () => written });
    render(<AuditTab />);
    await screen.findAllByTestId("audit-row");
    expect(screen.getByText(/Exports every row since the 'since' filter, with hashes/)).toBeInTheDocument();

    await user.click(screen.getByRole("button", { name: "Export JSON" }));
    await screen.findByTestId("audit-export-result");
    expect(callsOf("export_audit")).toEqual([{ since: null, format: "json" }]);

    await user.type(screen.getByLabelText("Since"), "2025-03-01T09:00");
    await user.type(screen.getByLabelText("Tool"), "service_restart");
    await user.click(screen.getByRole("button", { name: "Apply" }));
    await waitFor(() => {
      expect(callsOf("audit_events")).toHaveLength(2);
    });
    await user.click(screen.getByRole("button", { name: "Export CSV" }));
    await waitFor(() => {
      expect(callsOf("export_audit")).toHaveLength(2);
    });
    expect(callsOf("export_audit")[1]).toEqual({ since: new Date(2025, 2, 1, 9, 0).toISOString(), format: "csv" });
    expect(await screen.findByTestId("audit-export-result")).toHaveTextContent(
      "Exported 42 rows to /home/jdoe/Downloads/airlock-audit-20250301-101500.csv",
    );
  });

  it("shows why an export failed", async () => {
    routeCommands({
      audit_events: () => ROWS,
      export_audit: () => engineError("cannot write the audit export in /home/jdoe/Downloads: disk full"),
    });
    render(<AuditTab />);
    await userEvent.click(screen.getByRole("button", { name: "Export CSV" }));
    expect(await screen.findByRole("alert")).toHaveTextContent("Could not export: cannot write the audit export");
    expect(screen.queryByTestId("audit-export-result")).not.toBeInTheDocument();
  });

  it("verifies an intact chain with a green banner and its counts", async () => {
    routeCommands({ audit_events: () => ROWS, verify_audit: () => INTACT });
    render(<AuditTab />);
    await userEvent.click(screen.getByTestId("audit-verify"));
    const banner = await screen.findByTestId("audit-verify-result");
    expect(banner).toHaveAttribute("data-intact", "true");
    expect(banner).toHaveClass("banner-ok");
    expect(banner).toHaveTextContent("Chain intact: 42 rows, 3 signed checkpoints");
  });

  it("names the first bad row of a broken chain in a red banner", async () => {
    routeCommands({
      audit_events: () => ROWS,
      verify_audit: () => ({
        ...INTACT,
        first_problem: { seq: 17, kind: "hash_mismatch", detail: "row hash does not cover the previous row" },
      }),
    });
    render(<AuditTab />);
    await userEvent.click(screen.getByTestId("audit-verify"));
    const banner = await screen.findByTestId("audit-verify-result");
    expect(banner).toHaveAttribute("data-intact", "false");
    expect(banner).toHaveClass("banner-bad");
    expect(banner).toHaveTextContent("Chain broken at row 17: hash_mismatch — row hash does not cover the previous row");
  });
});
