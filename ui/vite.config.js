import { defineConfig } from "vite";

// ui/dist is embedded by the Rust hub (served at "/") and loaded by the
// desktop webview: relative asset paths, no inline scripts or data: assets
// (the hub's CSP is script-src 'self'), no source maps in the binary.
export default defineConfig({
  base: "./",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsInlineLimit: 0,
    sourcemap: false,
    modulePreload: { polyfill: false },
    target: "es2022",
  },
});
