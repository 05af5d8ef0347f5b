// The seed's page as the browser tests serve it: its HTML, the npm files
// that stand in for its two CDN scripts, and a stand-in for the Web
// Notifications API. Used by seed-page.test.mjs and crdt-text.test.mjs (the
// page on the hub's own origin, openSeedPage) and cross-origin.test.mjs (the
// page served from another origin).

import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

import { REPO } from "./harness.mjs";

const require = createRequire(import.meta.url);

/** The seed page's HTML (the template the seed's Flask app serves). */
export const SEED_HTML = readFileSync(join(REPO, "tests", "peers", "python", "templates", "index.html"));
export const SOCKET_IO_URL = "https://cdnjs.cloudflare.com/ajax/libs/socket.io/4.0.1/socket.io.js";
export const JQUERY_URL = "https://code.jquery.com/jquery-3.6.0.min.js";
/** The CDN URLs and the npm files that stand in for them. */
export const CDN = new Map([
  [SOCKET_IO_URL, readFileSync(require.resolve("socket.io-client/dist/socket.io.js"))],
  [JQUERY_URL, readFileSync(require.resolve("jquery/dist/jquery.min.js"))],
]);

const DEFAULT_HUB_CMD = "target/debug/pushdesk serve --bind 127.0.0.1:{port} --data-dir {dir}";

/**
 * The command that starts the real hub: PUSHDESK_HUB_CMD, or the debug
 * build when it exists; `null` when neither (the seed page needs the real hub).
 */
export function realHubCommand() {
  if (process.env.PUSHDESK_HUB_CMD) return process.env.PUSHDESK_HUB_CMD;
  return existsSync(join(REPO, "target", "debug", "pushdesk")) ? DEFAULT_HUB_CMD : null;
}

/** Why the seed-page tests are skipped, when no real hub can be started. */
export const NO_HUB =
  "PUSHDESK_HUB_CMD is unset and target/debug/pushdesk is not built (cargo build -p pushdesk): the seed page needs the real hub";

/**
 * Records `new Notification(...)` and `Notification.requestPermission()`
 * instead of showing anything (an init script: runs before the page's scripts).
 */
export function notificationStub() {
  const shown = [];
  let permissionRequests = 0;
  class RecordingNotification extends EventTarget {
    constructor(title, options = {}) {
      super();
      shown.push({ title: String(title), options: JSON.parse(JSON.stringify(options)) });
      this.title = String(title);
      Object.assign(this, options);
    }
    static get permission() {
      return "granted";
    }
    static requestPermission(callback) {
      permissionRequests += 1;
      if (typeof callback === "function") callback("granted");
      return Promise.resolve("granted");
    }
    close() {}
  }
  Object.defineProperty(window, "Notification", { value: RecordingNotification, configurable: true, writable: true });
  Object.defineProperty(window, "__seedNotifications", { value: () => ({ shown: shown.slice(), permissionRequests }) });
}

/**
 * The seed page in its own context of `browser`, at `path` on `hub`'s origin
 * (so its `io()` connects to the hub): Playwright request interception
 * answers that URL with the page and the two CDN URLs with `cdn`'s bodies
 * (default: the npm files); everything else goes to the hub.
 * `window.Notification` is stubbed (notificationStub). `problems` collects
 * page errors, console errors and dialogs; `requests` every URL the page
 * asked for, with how it was answered.
 */
export async function openSeedPage(browser, hub, { cdn = CDN, path = "/seed.html" } = {}) {
  const context = await browser.newContext({ locale: "ja-JP", viewport: { width: 900, height: 600 } });
  // Without this, Chromium's Local Network Access checks block the
  // intercepted page's ws://127.0.0.1 connection
  // (net::ERR_BLOCKED_BY_LOCAL_NETWORK_ACCESS_CHECKS, a console error) while
  // its same-origin polling requests pass, so socket.io stays on polling. A
  // document answered by route.fulfill() has no remote address, so it is not
  // known to be loopback, as the page served by Flask from 127.0.0.1 would
  // be; the grant stands in for that.
  await context.grantPermissions(["local-network-access"], { origin: hub.url });
  const pageUrl = hub.url + path;
  const requests = [];
  await context.route(
    (url) => url.href === pageUrl || cdn.has(url.href),
    async (route) => {
      const url = route.request().url();
      requests.push({ url, via: "route" });
      if (url === pageUrl) {
        await route.fulfill({ status: 200, contentType: "text/html; charset=utf-8", body: SEED_HTML });
      } else {
        // crossorigin="anonymous" makes these CORS requests; SRI needs a CORS-readable response.
        await route.fulfill({
          status: 200,
          headers: { "content-type": "application/javascript; charset=utf-8", "access-control-allow-origin": "*" },
          body: cdn.get(url),
        });
      }
    },
  );
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  await page.addInitScript(notificationStub);
  const problems = [];
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console: ${m.text()}`);
  });
  page.on("dialog", (d) => {
    problems.push(`dialog: ${d.type()} ${d.message()}`);
    void d.dismiss();
  });
  page.on("request", (r) => {
    const url = r.url();
    if (url !== pageUrl && !cdn.has(url)) requests.push({ url, via: "network" });
  });
  page.on("requestfailed", (r) => problems.push(`requestfailed: ${r.url()} ${r.failure()?.errorText ?? ""}`));
  const response = await page.goto(pageUrl, { timeout: 15_000 });
  assert.ok(response, "the page loaded");
  assert.ok((await response.body()).equals(SEED_HTML), "the page is the seed's HTML, byte for byte");
  return {
    page,
    context,
    problems,
    requests,
    count: () => page.locator("#user_count").textContent(),
    notifications: () => page.evaluate(() => window.__seedNotifications()),
    close: () => context.close(),
  };
}
