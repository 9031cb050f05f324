import { useEffect, useRef } from "react";

import { stepFontSize, type FontStep } from "./fontScale";

/** The keyboard shortcuts ("send" is the composer's own, the others are window-wide). */
export type Shortcut =
  | "send"
  | "toggle-mode"
  | "focus-approvals"
  | "open-admin"
  | "font-larger"
  | "font-smaller"
  | "font-reset";

const FONT_STEPS: Partial<Record<Shortcut, FontStep>> = {
  "font-larger": "larger",
  "font-smaller": "smaller",
  "font-reset": "reset",
};

/** Which shortcut a key press is, if any (Ctrl, or Cmd on macOS). */
export function matchShortcut(event: Pick<KeyboardEvent, "key" | "ctrlKey" | "metaKey" | "shiftKey" | "altKey">): Shortcut | null {
  if (!(event.ctrlKey || event.metaKey) || event.altKey) {
    return null;
  }
  const key = event.key.toLowerCase();
  if (event.shiftKey && key === "a") return "focus-approvals";
  switch (key) {
    case "enter":
      return "send";
    case "m":
      return event.shiftKey ? null : "toggle-mode";
    case ",":
      return "open-admin";
    case "=":
    case "+":
      return "font-larger";
    case "-":
    case "_":
      return "font-smaller";
    case "0":
      return "font-reset";
    default:
      return null;
  }
}

/**
 * Listens for the shortcuts on the window. The font shortcuts work everywhere; the others
 * call their handler when one is given.
 */
export function useShortcuts(handlers: Partial<Record<Shortcut, () => void>>): void {
  const ref = useRef(handlers);
  useEffect(() => {
    ref.current = handlers;
  });
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const shortcut = matchShortcut(event);
      if (shortcut === null) {
        return;
      }
      const step = FONT_STEPS[shortcut];
      if (step) {
        event.preventDefault();
        stepFontSize(step);
        return;
      }
      const handler = ref.current[shortcut];
      if (handler) {
        event.preventDefault();
        handler();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => {
      window.removeEventListener("keydown", onKey);
    };
  }, []);
}
