// Vitest setup: DOM matchers, and a clean document after each test.
import "@testing-library/jest-dom/vitest";
import { cleanup } from "@testing-library/react";
import { afterEach } from "vitest";

// jsdom lays nothing out, so it has no scrolling API.
Element.prototype.scrollIntoView = function scrollIntoView() {
  return undefined;
};

// CodeMirror measures text through ranges; jsdom's have no geometry. Empty rectangles do.
Range.prototype.getClientRects = function getClientRects() {
  return document.createElement("span").getClientRects();
};
Range.prototype.getBoundingClientRect = function getBoundingClientRect() {
  return document.createElement("span").getBoundingClientRect();
};

afterEach(() => {
  cleanup();
  window.localStorage.clear();
});
