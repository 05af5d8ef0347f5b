// The seed's page as the browser tests serve it: its HTML, the npm files
// that stand in for its two CDN scripts, and a stand-in for the Web
// Notifications API. Used by seed-page.test.mjs (the page on the hub's own
// origin) and cross-origin.test.mjs (the page served from another origin).

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
