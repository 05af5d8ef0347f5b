// Shared by the browser tests: start a hub (the stand-in, or the real one
// from PUSHDESK_HUB_CMD) on a free 127.0.0.1 port, start Chromium, open
// pages of the UI and watch them for errors and CSP violations.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(here, "../..");

/** The stand-in, as a command template like PUSHDESK_HUB_CMD's. */
const STANDIN_CMD = `node ${JSON.stringify(join(here, "standin-hub.mjs"))} --port {port}`;

/** Whether the tests run against the real hub. */
export const REAL_HUB = Boolean(process.env.PUSHDESK_HUB_CMD);

export async function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Starts a hub. `seed: true` starts the stand-in in the seed's exact
 * behaviour (no acks, no history), and `standinArgs: [...]` the stand-in
 * with those flags, whatever PUSHDESK_HUB_CMD says; `hubArgs: [...]` adds
 * flags to the real hub's command.
 * Returns { url, port, stop(), restart() }.
 */
export async function startHub({ seed = false, standinArgs = null, hubArgs = [] } = {}) {
  const extra = hubArgs.map((a) => JSON.stringify(a)).join(" ");
  const template = seed
    ? `${STANDIN_CMD} --seed`
    : standinArgs
      ? `${STANDIN_CMD} ${standinArgs.map((a) => JSON.stringify(a)).join(" ")}`
      : process.env.PUSHDESK_HUB_CMD
        ? `${process.env.PUSHDESK_HUB_CMD} ${extra}`
        : STANDIN_CMD;
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "pushdesk-ui-hub-"));
  const command = template.replaceAll("{port}", String(port)).replaceAll("{dir}", dir);
  const url = `http://127.0.0.1:${port}`;
  let child = null;
  let output = "";

  async function start() {
    output = "";
    // exec: the shell becomes the hub, so the pid we kill is the hub's.
    child = spawn("/bin/sh", ["-c", `exec ${command}`], { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
    const mine = child;
    let exited = null;
    mine.once("exit", (code, signal) => {
      exited = `exited (${code ?? signal})`;
    });
    for (const stream of [mine.stdout, mine.stderr]) {
      stream.on("data", (d) => {
        output = (output + d).slice(-20000);
      });
    }
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (exited) throw new Error(`hub ${exited}: ${command}\n${output}`);
      try {
        const res = await fetch(`${url}/`, { signal: AbortSignal.timeout(1000) });
        await res.arrayBuffer();
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`hub not ready after 30 s: ${command}\n${output}`);
      await sleep(100);
    }
  }

  async function stop() {
    const c = child;
    child = null;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const gone = new Promise((r) => c.once("exit", r));
    c.kill("SIGTERM");
    const timer = setTimeout(() => c.kill("SIGKILL"), 5000);
    await gone;
    clearTimeout(timer);
  }

  await start();
  return {
    url,
    port,
    output: () => output,
    stop,
    restart: start,
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * How the hub at `url` syncs the shared text, as the UI decides it: "yjs"
 * when its `welcome` says `text: "yjs"` (the real hub: edits merge), else
 * "full-text" (the stand-in, the seed's server: the last writer wins). Asks
 * the hub itself, over a socket.io connection of its own (it comes and goes
 * before the caller opens its pages, and counts as a user meanwhile).
 */
export async function hubTextMode(url, options = {}) {
  const w = await hubWelcome(url, options);
  return w?.text === "yjs" ? "yjs" : "full-text";
}

/** The hub's `welcome` (null from a server that sends none: the seed's). */
export async function hubWelcome(url, { timeout = 10_000 } = {}) {
  const { io } = await import("socket.io-client");
  const socket = io(url, { transports: ["websocket"], reconnection: false, auth: { text: "yjs" }, forceNew: true });
  try {
    return await new Promise((ok, fail) => {
      const timer = setTimeout(() => fail(new Error(`no welcome or text_update from ${url} within ${timeout} ms`)), timeout);
      const settle = (mode) => {
        clearTimeout(timer);
        ok(mode);
      };
      // Our hubs send `welcome` first; the seed's server sends no welcome, only `text_update`.
      socket.on("welcome", (w) => settle(w ?? {}));
      socket.on("text_update", () => settle(null));
      socket.on("connect_error", (e) => {
        clearTimeout(timer);
        fail(new Error(`probing ${url}: ${e.message}`));
      });
    });
  } finally {
    socket.close();
  }
}

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-quic",
];

/** Chromium (Debian's), with a fresh profile (playwright makes a temporary user-data dir per launch). */
export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
    args: CHROMIUM_ARGS,
    timeout: 30_000,
  });
}

/**
 * A page of the UI in its own browser context, connected. `problems` lists
 * page errors, console errors, CSP violations and dialogs (an alert() would
 * be an XSS); `assertClean()` fails the test if there are any.
 */
export async function openPage(
  browser,
  url,
  { colorScheme = "light", viewport = { width: 1100, height: 720 }, path = "/", initScript = null, connected = true, permissions = [] } = {},
) {
  const context = await browser.newContext({ colorScheme, viewport, locale: "en-US" });
  if (permissions.length > 0) await context.grantPermissions(permissions, { origin: url });
  const page = await context.newPage();
  if (initScript) await page.addInitScript(initScript);
  page.setDefaultTimeout(10_000);
  const problems = [];
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`console: ${m.text()}`);
  });
  page.on("dialog", (d) => {
    problems.push(`dialog: ${d.type()} ${d.message()}`);
    void d.dismiss();
  });
  await page.goto(url + path);
  if (connected) await waitConnected(page);
  return {
    page,
    context,
    problems,
    assertClean() {
      assert.deepEqual(problems, [], "no page errors, CSP violations or dialogs");
    },
    close: () => context.close(),
  };
}

export async function waitConnected(page, timeout = 10_000) {
  await page.locator('[data-testid="connection-status"][data-state="connected"]').waitFor({ timeout });
}

export const tid = (page, id) => page.locator(`[data-testid="${id}"]`);

/** Polls `fn` (async, returns a value) until `check(value)` holds; returns the value. */
export async function eventually(fn, check, { timeout = 10_000, message = "condition" } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    last = await fn();
    if (check(last)) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${message}; last value: ${JSON.stringify(last)}`);
    await sleep(50);
  }
}

/**
 * Fills and submits the send form; returns the result text once it settles.
 * The channel field is left as it is unless `channel` is given.
 */
export async function sendNotification(page, { title, body = "", tag = "", url = "", channel }, { waitForResult = true } = {}) {
  await tid(page, "notify-title").fill(title);
  await tid(page, "notify-body").fill(body);
  await tid(page, "notify-tag").fill(tag);
  await tid(page, "notify-url").fill(url);
  if (channel !== undefined) await tid(page, "notify-channel").fill(channel);
  await tid(page, "notify-send").click();
  if (!waitForResult) return "";
  const result = tid(page, "notify-result");
  await page.locator('[data-testid="notify-result"]:not([data-state="pending"])').waitFor({ timeout: 8000 });
  return (await result.textContent()) ?? "";
}

/** The history rows as {id, title, body, tag, channel, channelLabel, text, links}. */
export async function historyRows(page) {
  return tid(page, "history-item").evaluateAll((items) =>
    items.map((li) => ({
      id: li.getAttribute("data-id"),
      title: li.querySelector(".title")?.textContent ?? "",
      body: li.querySelector(".body")?.textContent ?? "",
      tag: li.getAttribute("data-tag") ?? "",
      channel: li.getAttribute("data-channel") ?? "",
      channelLabel: li.querySelector(".channel")?.textContent ?? "",
      links: [...li.querySelectorAll("a")].map((a) => a.getAttribute("href")),
      text: li.textContent ?? "",
    })),
  );
}
