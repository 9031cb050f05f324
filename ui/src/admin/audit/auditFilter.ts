import type { AuditFilter, Risk } from "../../api/types";

/** The audit filter form's fields, as typed. */
export interface AuditForm {
  principal: string;
  tool: string;
  decision: "" | NonNullable<AuditFilter["decision"]>;
  risk: "" | Risk;
  /** `datetime-local` values, local time. */
  since: string;
  until: string;
  limit: string;
}

/** How many rows the viewer asks for unless told otherwise. */
const DEFAULT_LIMIT = 200;

/** The form as it first shows. */
export const EMPTY_FORM: AuditForm = {
  principal: "",
  tool: "",
  decision: "",
  risk: "",
  since: "",
  until: "",
  limit: String(DEFAULT_LIMIT),
};

/** A `datetime-local` value (local time) as RFC 3339 in UTC; undefined when blank or invalid. */
export function localToRfc3339(value: string): string | undefined {
  if (value.trim() === "") return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

/** The filter the form describes: blank fields are left out; a bad limit is the default. */
export function toFilter(form: AuditForm): AuditFilter {
  const filter: AuditFilter = {};
  if (form.principal.trim() !== "") filter.principal = form.principal.trim();
  if (form.tool.trim() !== "") filter.tool = form.tool.trim();
  if (form.decision !== "") filter.decision = form.decision;
  if (form.risk !== "") filter.risk = form.risk;
  const since = localToRfc3339(form.since);
  if (since !== undefined) filter.since = since;
  const until = localToRfc3339(form.until);
  if (until !== undefined) filter.until = until;
  const limit = Number.parseInt(form.limit, 10);
  filter.limit = Number.isInteger(limit) && limit > 0 ? limit : DEFAULT_LIMIT;
  return filter;
}
