import type { Args } from "../../api/types";
import { errorMessage } from "../../shared/errors";

/** A tool call typed in the composer, to run without the model. */
export interface TypedCall {
  tool: string;
  args: Args;
}

/** An example of a typed call, shown with every parse error. */
const TYPED_CALL_EXAMPLE = '/call get_logs {"source": "syslog", "tail": 20}';

const COMMAND = /^\/call(?=\s|$)/;
const TOOL_NAME = /^[a-z][a-z0-9_.-]*$/;

function refused(problem: string): { error: string } {
  return { error: `${problem} Write it as /call TOOL {json}, for example ${TYPED_CALL_EXAMPLE}` };
}

/**
 * Reads a composer message of the form `/call TOOL {json object}` (the object may be left out
 * for no arguments). Null when the message is not a `/call` message (it goes to the model);
 * an error, naming the expected form, for a bad tool name or arguments that are not a JSON
 * object.
 */
export function parseTypedCall(text: string): TypedCall | { error: string } | null {
  const trimmed = text.trim();
  const command = COMMAND.exec(trimmed);
  if (command === null) {
    return null;
  }
  const rest = trimmed.slice(command[0].length).trim();
  const split = /^([^\s{]*)\s*([\s\S]*)$/.exec(rest);
  const tool = split?.[1] ?? "";
  const argsText = split?.[2] ?? "";
  if (tool === "") {
    return refused("Name the tool to call.");
  }
  if (!TOOL_NAME.test(tool)) {
    return refused(
      `"${tool}" is not a tool name: it starts with a lower-case letter, then letters, digits, _ . or -.`,
    );
  }
  if (argsText === "") {
    return { tool, args: {} };
  }
  let value: unknown;
  try {
    value = JSON.parse(argsText);
  } catch (error: unknown) {
    return refused(`The arguments are not valid JSON (${errorMessage(error)}).`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return refused("The arguments must be a JSON object.");
  }
  return { tool, args: value as Args };
}
