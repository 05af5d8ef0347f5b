import assert from "node:assert/strict";
import { test } from "node:test";

import { FALLBACK_SERVER, resolveServerUrl, safeHttpUrl } from "../src/core/url.js";

test("http and https URLs are links", () => {
  assert.equal(safeHttpUrl("https://ci.example/build/42"), "https://ci.example/build/42");
  assert.equal(safeHttpUrl("http://127.0.0.1:5000"), "http://127.0.0.1:5000/");
  assert.equal(safeHttpUrl("  HTTPS://Example.COM/a b  "), "https://example.com/a%20b");
});

test("everything else is not", () => {
  for (const bad of [
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
    "ftp://example.com/x",
    "mailto:a@example.com",
    "/relative/path",
    "//example.com/protocol-relative",
    "example.com",
    "http://",
    "",
    "   ",
  ]) {
    assert.equal(safeHttpUrl(bad), null, bad);
  }
  for (const notString of [null, undefined, 42, {}, ["https://x.example"]]) {
    assert.equal(safeHttpUrl(notString), null);
  }
});

test("the server is the page's origin unless ?server= says otherwise", () => {
  assert.deepEqual(resolveServerUrl("http://127.0.0.1:5000/"), { url: "http://127.0.0.1:5000" });
  assert.deepEqual(resolveServerUrl("https://hub.example/ui/index.html?x=1"), { url: "https://hub.example" });
  assert.deepEqual(resolveServerUrl("http://localhost:5173/?server=http://127.0.0.1:5000"), { url: "http://127.0.0.1:5000" });
  assert.deepEqual(resolveServerUrl("http://localhost:5173/?server=https%3A%2F%2Fhub.example%3A8443%2Fignored"), {
    url: "https://hub.example:8443",
  });
});

test("an unusable ?server= falls back to the origin, with a warning", () => {
  const r = resolveServerUrl("http://127.0.0.1:5000/?server=javascript:alert(1)");
  assert.equal(r.url, "http://127.0.0.1:5000");
  assert.match(r.warning ?? "", /not an http\(s\) URL/);
});

test("a page without an http origin (file:, tauri:) uses the seed's address", () => {
  assert.equal(resolveServerUrl("file:///tmp/index.html").url, FALLBACK_SERVER);
  assert.equal(resolveServerUrl("tauri://localhost/").url, FALLBACK_SERVER);
  assert.equal(resolveServerUrl("not a url").url, FALLBACK_SERVER);
});
