import type { Args } from "../../api/types";
import { errorMessage } from "../../shared/errors";

/** The arguments typed in the playground, or why they cannot be sent. */
export type ParsedArgs = { ok: true; args: Args } | { ok: false; error: string };

/** Parses the arguments box: a JSON object (blank means no arguments). */
export function parseArgs(text: string): ParsedArgs {
  const trimmed = text.trim();
  if (trimmed === "") {
    return { ok: true, args: {} };
  }
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch (error: unknown) {
    return { ok: false, error: `The arguments are not valid JSON: ${errorMessage(error)}` };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, error: 'The arguments must be a JSON object, for example {"host": "line3-plc"}.' };
  }
  return { ok: true, args: value as Args };
}
