// A stand-in for `@tauri-apps/api/core` in tests: `vi.mock("@tauri-apps/api/core", () =>
// import("../test/tauriCore"))`. Route commands with `routeCommands`.
import { vi } from "vitest";

/** The arguments a command was invoked with. */
export type InvokeArgs = Record<string, unknown>;

/** The mocked `invoke`: rejects unless a test routes the command. */
export const invoke = vi.fn<(command: string, args?: InvokeArgs) => Promise<unknown>>((command) =>
  Promise.reject(new Error(`unexpected command ${command}`)),
);

/** The mocked `Channel`: tests deliver events by calling `onmessage`. */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- mirrors the real generic class
export class Channel<T> {
  onmessage: (message: T) => void = () => undefined;
}

/** A command's handler: returns the value (or a promise), throws to reject. */
export type Handler = (args: InvokeArgs) => unknown;

/** Makes `invoke` answer each named command with its handler; others reject. */
export function routeCommands(routes: Record<string, Handler>): void {
  invoke.mockImplementation((command: string, args?: InvokeArgs) => {
    const handler = routes[command];
    if (!handler) {
      return Promise.reject(new Error(`unexpected command ${command}`));
    }
    try {
      return Promise.resolve(handler(args ?? {}));
    } catch (error: unknown) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  });
}

/** The arguments of every call of `command`, in order. */
export function callsOf(command: string): InvokeArgs[] {
  return invoke.mock.calls
    .filter(([name]) => name === command)
    .map(([, args]) => args ?? {});
}

/** A rejection as the shell sends it: a plain string message. */
export function engineError(message: string): Promise<never> {
  // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the shell rejects with a string
  return Promise.reject(message);
}

/**
 * Sends `message` on the channel a streaming command was invoked with (its `events`
 * argument), as the shell does while the command runs.
 */
export function emit(args: InvokeArgs, message: unknown, key = "events"): void {
  const channel = args[key];
  if (!(channel instanceof Channel)) {
    throw new Error(`the command got no channel in \`${key}\``);
  }
  (channel as Channel<unknown>).onmessage(message);
}

/** A command's answer the test gives later: `resolve` or `reject` (with a string, as the shell). */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (message: string) => void;
}

/** A pending answer, for checking what shows while a command runs. */
export function deferred<T>(): Deferred<T> {
  let resolve: (value: T) => void = () => undefined;
  let reject: (message: string) => void = () => undefined;
  const promise = new Promise<T>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  return { promise, resolve, reject };
}
