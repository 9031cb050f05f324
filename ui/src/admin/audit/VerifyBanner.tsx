import type { AuditReport } from "../../api/types";

/** The chain verification's verdict: green when intact, red naming the first bad row. */
export function VerifyBanner({ report }: { report: AuditReport }) {
  const problem = report.first_problem;
  if (problem === null) {
    return (
      <p className="banner banner-ok" role="status" data-testid="audit-verify-result" data-intact="true">
        Chain intact: {report.rows_checked} rows, {report.checkpoints_checked} signed checkpoints
      </p>
    );
  }
  return (
    <p className="banner banner-bad" role="alert" data-testid="audit-verify-result" data-intact="false">
      Chain broken at row {problem.seq}: {problem.kind} — {problem.detail}
    </p>
  );
}
