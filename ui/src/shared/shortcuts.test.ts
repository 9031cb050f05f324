import { describe, expect, it } from "vitest";

import { matchShortcut } from "./shortcuts";

const key = (k: string, mods: { shift?: boolean; alt?: boolean; meta?: boolean; ctrl?: boolean } = {}) => ({
  key: k,
  ctrlKey: mods.ctrl ?? !mods.meta,
  metaKey: mods.meta ?? false,
  shiftKey: mods.shift ?? false,
  altKey: mods.alt ?? false,
});

describe("matchShortcut", () => {
  it("knows the window shortcuts", () => {
    expect(matchShortcut(key("Enter"))).toBe("send");
    expect(matchShortcut(key("m"))).toBe("toggle-mode");
    expect(matchShortcut(key("A", { shift: true }))).toBe("focus-approvals");
    expect(matchShortcut(key(","))).toBe("open-admin");
    expect(matchShortcut(key("="))).toBe("font-larger");
    expect(matchShortcut(key("+", { shift: true }))).toBe("font-larger");
    expect(matchShortcut(key("-"))).toBe("font-smaller");
    expect(matchShortcut(key("0"))).toBe("font-reset");
    expect(matchShortcut(key("m", { meta: true }))).toBe("toggle-mode");
  });

  it("ignores plain keys and other combinations", () => {
    expect(matchShortcut(key("Enter", { ctrl: false }))).toBeNull();
    expect(matchShortcut(key("m", { alt: true }))).toBeNull();
    expect(matchShortcut(key("x"))).toBeNull();
  });
});
