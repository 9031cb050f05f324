// The root font size: Ctrl+= / Ctrl+- / Ctrl+0 scale it, every window remembers it.

const KEY = "airlock.fontSize";
/** The base size in pixels, readable at a distance. */
const DEFAULT_FONT_SIZE = 16;
const MIN = 12;
const MAX = 28;

/** A step of the font scale. */
export type FontStep = "larger" | "smaller" | "reset";

/** The size stored in localStorage, or the default. */
export function storedFontSize(): number {
  const stored = Number(window.localStorage.getItem(KEY));
  return Number.isFinite(stored) && stored >= MIN && stored <= MAX ? stored : DEFAULT_FONT_SIZE;
}

/** Sets the root font size (CSSOM, allowed by the CSP) and remembers it. */
export function applyFontSize(px: number): void {
  const size = Math.min(MAX, Math.max(MIN, Math.round(px)));
  document.documentElement.style.fontSize = `${String(size)}px`;
  window.localStorage.setItem(KEY, String(size));
}

/** Applies one step to the current size. */
export function stepFontSize(step: FontStep): void {
  const current = storedFontSize();
  const next = step === "reset" ? DEFAULT_FONT_SIZE : current + (step === "larger" ? 1 : -1);
  applyFontSize(next);
}
