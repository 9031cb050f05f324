/// <reference types="vitest/config" />
import { resolve } from "node:path";

import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The Tauri shell embeds `dist/` (see src-tauri/tauri.conf.json). Everything must be a
// file: the window's CSP allows no inline scripts or styles and no remote origins.
export default defineConfig({
  plugins: [react()],
  // Relative asset URLs work from Tauri's custom protocol and from a plain file server.
  base: "./",
  clearScreen: false,
  server: {
    port: 5173,
    strictPort: true,
  },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // WebKitGTK 2.40+ (Debian 12) and WebView2 both handle ES2021.
    target: "es2021",
    // Never inline assets as data: URLs for scripts/styles; keep them as files.
    assetsInlineLimit: 0,
    sourcemap: false,
    rollupOptions: {
      // Two windows, two pages: the chat ("main") and the admin window ("admin").
      input: {
        main: resolve(import.meta.dirname, "index.html"),
        admin: resolve(import.meta.dirname, "admin.html"),
      },
    },
  },
  test: {
    environment: "jsdom",
    setupFiles: ["./src/test/setup.ts"],
    include: ["src/**/*.test.{ts,tsx}"],
    restoreMocks: true,
  },
});
