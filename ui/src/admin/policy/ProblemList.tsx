import type { PolicyProblem } from "../../api/types";

/** Where a problem is: "file:line", or the file alone. */
function problemLocation(problem: PolicyProblem): string {
  return problem.line === null ? problem.file : `${problem.file}:${String(problem.line)}`;
}

/** The review's problems as "file:line: message" lines. */
export function ProblemList({ problems }: { problems: PolicyProblem[] }) {
  return (
    <ul className="problems" aria-label="Problems">
      {problems.map((problem, index) => (
        <li key={`${problemLocation(problem)}-${String(index)}`} className="problem" data-testid="policy-problem">
          <code>{problemLocation(problem)}:</code> {problem.message}
        </li>
      ))}
    </ul>
  );
}
