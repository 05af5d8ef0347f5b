// The seed's page served from ANOTHER origin than the hub's, the way the
// seed's users run it: their own web server hosts the page (jQuery +
// socket.io 4.0.1, which starts on long-polling), and its socket connects
// to `pushdesk serve --allow-origin <that origin>` on another port.
//
// A `node:http` server of this test serves the seed's HTML (its only change:
// `io()` becomes `io("http://127.0.0.1:<hub port>")`) on its own 127.0.0.1
// port. Chromium reaches it by a name that is not loopback —
// http://app.test:<port>, mapped to 127.0.0.1 by --host-resolver-rules —
// because the hub allows every loopback origin (127.0.0.1, localhost, any
// port) without being told: a page on http://127.0.0.1:<port> would connect
// even without --allow-origin and prove nothing. The hub is started with
// `--allow-origin http://app.test:<port>`; a second server, reached as
// http://pages.test:<port>, serves the same page from an origin the hub was
// not told about, which must never connect.
//
// The two CDN scripts are answered by Playwright with the same versions'
// files from npm (as in seed-page.test.mjs; the page's SRI hashes hold);
// everything else goes over the network. `window.Notification` (absent
// anyway on a plain-http, non-loopback page: not a secure context) is stubbed
// to record what the page would show.
//
// Runs against PUSHDESK_HUB_CMD (with `--allow-origin …` appended), else
// target/debug/pushdesk if it is built, else is skipped: the stand-in hub
// does not check origins.

import assert from "node:assert/strict";
import { createServer, request as httpRequest } from "node:http";
import { after, afterEach, before, beforeEach, test } from "node:test";

import { chromium } from "playwright-core";

import { CHROMIUM_ARGS, eventually, freePort, startHub } from "./harness.mjs";
import { CDN, NO_HUB, SEED_HTML, notificationStub, realHubCommand } from "./seed.mjs";

const SEED_TEXT = SEED_HTML.toString("utf8");

/** Host names Chromium resolves to 127.0.0.1 (not loopback names, as far as the hub can tell). */
const ALLOWED_HOST = "app.test";
const UNLISTED_HOST = "pages.test";

const baseHubCmd = realHubCommand();
const skip = baseHubCmd ? false : NO_HUB;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The seed's HTML, its `io()` pointed at the hub. */
function seedHtmlFor(hubUrl) {
  const call = "var socket = io();";
  assert.ok(SEED_TEXT.includes(call), "the seed page connects with io()");
  return SEED_TEXT.replace(call, `var socket = io(${JSON.stringify(hubUrl)});`);
}

/**
 * A web server of the page's own on a free 127.0.0.1 port: `/` is the seed
 * page pointed at `hubUrl()` (read per request: the hub starts after this
 * server, as its --allow-origin names this server's port). `requests` lists
 * what it served, with the Host the browser asked for.
 */
async function startPageServer(hubUrl) {
  const port = await freePort();
  const requests = [];
  const server = createServer((req, res) => {
    requests.push({ method: req.method, url: req.url, host: req.headers.host });
    if (req.method === "GET" && req.url === "/") {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
      res.end(seedHtmlFor(hubUrl()));
    } else {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not found");
    }
  });
  await new Promise((ok, fail) => {
    server.once("error", fail);
    server.listen(port, "127.0.0.1", ok);
  });
  return {
    port,
    requests,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections?.();
        server.close(() => r());
      }),
  };
}


/** A header's value from a {name: value} object, whatever the name's case. */
const header = (headers, name) => Object.entries(headers ?? {}).find(([k]) => k.toLowerCase() === name)?.[1];

const lowerTokens = (v) => (v ?? "").split(",").map((t) => t.trim().toLowerCase());

let browser;
let allowedServer;
let unlistedServer;
/** The hub of the running test (each test starts its own); the page servers point their pages at it. */
let hub;
let allowedOrigin;
let unlistedOrigin;

before(async () => {
  if (skip) return;
  allowedServer = await startPageServer(() => hub.url);
  unlistedServer = await startPageServer(() => hub.url);
  allowedOrigin = `http://${ALLOWED_HOST}:${allowedServer.port}`;
  unlistedOrigin = `http://${UNLISTED_HOST}:${unlistedServer.port}`;
  // node --test runs each file in a process of its own; startHub() reads the
  // variable when it is called.
  process.env.PUSHDESK_HUB_CMD = `${baseHubCmd} --allow-origin ${allowedOrigin}`;
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
    args: [...CHROMIUM_ARGS, `--host-resolver-rules=MAP ${ALLOWED_HOST} 127.0.0.1, MAP ${UNLISTED_HOST} 127.0.0.1`],
    timeout: 30_000,
  });
});

after(async () => {
  await browser?.close().catch(() => {});
  await allowedServer?.close();
  await unlistedServer?.close();
});

beforeEach(async () => {
  if (!skip) hub = await startHub();
});
afterEach(async () => {
  await hub?.close();
  hub = null;
});

/**
 * The seed page from `origin` in its own browser context. With
 * `blockWebSocket`, the page's WebSocket to the hub is refused (closed
 * before it connects), so the 4.0.1 client's upgrade probe fails and it
 * stays on long-polling. Records the hub requests (in order), the polling
 * responses with all their headers, failed requests, WebSockets and their
 * frames, page and console errors.
 */
async function openSeedPage(origin, { blockWebSocket = false, cdp = false } = {}) {
  const context = await browser.newContext({ locale: "ja-JP", viewport: { width: 900, height: 600 } });
  await context.route(
    (url) => CDN.has(url.href),
    (route) =>
      // crossorigin="anonymous" makes these CORS requests; SRI needs a CORS-readable response.
      route.fulfill({
        status: 200,
        headers: { "content-type": "application/javascript; charset=utf-8", "access-control-allow-origin": "*" },
        body: CDN.get(route.request().url()),
      }),
  );
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  await page.addInitScript(notificationStub);
  const hubPrefix = `${hub.url}/`;
  const rec = { problems: [], hubRequests: [], polling: [], failed: [], websockets: [], refusedWebSockets: [] };
  if (blockWebSocket) {
    await page.routeWebSocket(
      (url) => url.href.startsWith(`ws://127.0.0.1:${hub.port}/`),
      (ws) => {
        rec.refusedWebSockets.push(ws.url());
        ws.close({ code: 1008, reason: "blocked by the test: stay on polling" });
      },
    );
  }
  page.on("pageerror", (e) => rec.problems.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") rec.problems.push(`console: ${m.text()}`);
  });
  page.on("dialog", (d) => {
    rec.problems.push(`dialog: ${d.type()} ${d.message()}`);
    void d.dismiss();
  });
  page.on("request", (r) => {
    if (r.url().startsWith(hubPrefix)) rec.hubRequests.push({ method: r.method(), url: r.url() });
  });
  page.on("response", async (r) => {
    const url = r.url();
    if (!url.startsWith(hubPrefix) || !url.includes("transport=polling")) return;
    const entry = { method: r.request().method(), url, status: r.status(), headers: null, origin: null };
    rec.polling.push(entry);
    try {
      entry.headers = await r.allHeaders();
      entry.origin = (await r.request().allHeaders()).origin ?? null;
    } catch {
      // the page went away meanwhile; checked below (headers: null)
    }
  });
  page.on("requestfailed", (r) => {
    rec.failed.push({ method: r.method(), url: r.url(), error: r.failure()?.errorText ?? "" });
  });
  page.on("websocket", (ws) => {
    const entry = { url: ws.url(), received: [], sent: [], closed: false };
    rec.websockets.push(entry);
    ws.on("framereceived", (f) => entry.received.push(String(f.payload)));
    ws.on("framesent", (f) => entry.sent.push(String(f.payload)));
    ws.on("close", () => {
      entry.closed = true;
    });
  });
  if (cdp) {
    // What the browser sent and got on the wire, CORS-blocked responses
    // included (Playwright reports those as failed requests only), by request id.
    const wire = new Map();
    const entry = (id) => wire.get(id) ?? wire.set(id, { id }).get(id);
    rec.wire = () => [...wire.values()].filter((w) => w.url?.startsWith(hubPrefix));
    const session = await context.newCDPSession(page);
    session.on("Network.requestWillBeSent", (e) => {
      entry(e.requestId).url = e.request.url;
    });
    session.on("Network.requestWillBeSentExtraInfo", (e) => {
      entry(e.requestId).requestHeaders = e.headers;
    });
    session.on("Network.responseReceivedExtraInfo", (e) => {
      Object.assign(entry(e.requestId), { status: e.statusCode, responseHeaders: e.headers });
    });
    session.on("Network.loadingFailed", (e) => {
      Object.assign(entry(e.requestId), { error: e.errorText, cors: e.corsErrorStatus?.corsError ?? null });
    });
    await session.send("Network.enable");
  }
  const response = await page.goto(`${origin}/`, { timeout: 15_000 });
  assert.ok(response?.ok(), `the page loaded from ${origin}`);
  assert.equal(await page.evaluate(() => location.origin), origin, "the page's origin");
  return {
    page,
    context,
    ...rec,
    count: () => page.locator("#user_count").textContent(),
    text: () => page.locator("#text").inputValue(),
    transport: () => page.evaluate(() => (socket.connected ? socket.io.engine.transport.name : "disconnected")),
    notifications: () => page.evaluate(() => window.__seedNotifications()),
    close: () => context.close(),
  };
}

/** Every polling response the page got carries CORS headers for `origin`. */
function assertPollingCors(name, p, origin) {
  assert.ok(p.polling.length >= 2, `${name}: polling responses seen (${p.polling.length})`);
  const methods = new Set(p.polling.map((r) => r.method));
  assert.ok(methods.has("GET") && methods.has("POST"), `${name}: both GET and POST polls (${[...methods]})`);
  for (const r of p.polling) {
    const where = `${name}: ${r.method} ${r.url}`;
    assert.equal(r.status, 200, `${where}: status`);
    assert.ok(r.headers, `${where}: headers recorded`);
    assert.equal(r.origin, origin, `${where}: sent with the page's Origin`);
    assert.equal(r.headers["access-control-allow-origin"], origin, `${where}: access-control-allow-origin`);
    assert.equal(r.headers["access-control-allow-credentials"], "true", `${where}: access-control-allow-credentials`);
    assert.ok(lowerTokens(r.headers.vary).includes("origin"), `${where}: vary includes origin (${r.headers.vary})`);
  }
}

/** The first request the page made to the hub was a long-polling handshake (no sid yet). */
function assertStartedOnPolling(name, p) {
  const [first] = p.hubRequests;
  assert.ok(first, `${name}: the page asked the hub for something`);
  const url = new URL(first.url);
  assert.equal(url.pathname, "/socket.io/", `${name}: first hub request is Socket.IO`);
  assert.equal(url.searchParams.get("transport"), "polling", `${name}: first hub request is long-polling`);
  assert.equal(url.searchParams.get("sid"), null, `${name}: first hub request is the handshake`);
  assert.equal(first.method, "GET");
}

/**
 * Two seed pages from the allowed origin: count, text both ways, a
 * notification from each side, the count after one leaves (B; closed
 * after). Returns how long A's count took to drop, in ms.
 */
async function exerciseTwoPages(a, b, label, { leaveTimeout = 10_000 } = {}) {
  for (const [n, p] of [["A", a], ["B", b]]) await eventually(p.count, (t) => t === "2", { message: `${label}: count 2 on ${n}` });

  // A → B, Japanese included: fill() fires `input`, a key fires `input` + `keyup`.
  await a.page.locator("#text").fill(`${label}: 日本語のテキスト`);
  await a.page.locator("#text").press("End");
  await a.page.keyboard.type("!");
  const fromA = `${label}: 日本語のテキスト!`;
  await eventually(b.text, (v) => v === fromA, { message: `${label}: A's text on B` });
  // B → A. The seed page sends its text on every `input` and `keyup`, and
  // the hub relays each one (last writer wins, as the seed's server does):
  // a copy of A's last keystroke still on its way may land in B's field just
  // after B's fill, and B's "?" then follows it. That is the seed's text
  // model, not a CORS matter, so B writes again until its text is the last.
  const fromB = `${label}: Bから返事?`;
  for (let attempt = 1; ; attempt += 1) {
    await b.page.locator("#text").fill(`${label}: Bから返事`);
    await b.page.locator("#text").press("End");
    await b.page.keyboard.type("?");
    try {
      await eventually(a.text, (v) => v === fromB, { message: `${label}: B's text on A`, timeout: attempt < 3 ? 3_000 : 10_000 });
      break;
    } catch (e) {
      if (attempt >= 3) throw e;
    }
  }

  // B's button: A (and B) construct the seed's notification, titled with B's text.
  for (const p of [a, b]) assert.deepEqual((await p.notifications()).shown, [], `${label}: no notification before the click`);
  await b.page.locator("#notification").click();
  for (const [n, p] of [["A", a], ["B", b]]) {
    const { shown, permissionRequests } = await eventually(p.notifications, (x) => x.shown.length >= 1, {
      message: `${label}: B's notification on ${n}`,
    });
    assert.equal(shown.length, 1, `${label}: one notification on ${n}`);
    assert.equal(shown[0].title, fromB, `${label}: ${n}'s notification title is B's text`);
    assert.equal(shown[0].options.body, "this is push notification.");
    assert.equal(shown[0].options.icon, "images/icon.png");
    assert.ok(permissionRequests >= 1, `${label}: ${n} asked for permission`);
  }
  // And the other way: A's button reaches B.
  await a.page.locator("#notification").click();
  const onB = await eventually(b.notifications, (x) => x.shown.length >= 2, { message: `${label}: A's notification on B` });
  assert.equal(onB.shown[1].title, fromB, `${label}: B's second notification (A's text box holds B's text)`);

  // B leaves the way a user does, by navigating away (closing the tab does the
  // same): the client's `beforeunload` handler closes its transport, which on
  // long-polling sends Engine.IO's close packet.
  //
  // On long-polling that close packet never leaves: the client's `pagehide`
  // handler aborts the XHR carrying it at once, and the hub does not take the
  // aborted poll for a disconnect, so it notices B is gone at the heartbeat
  // (a ping every 25 s, 20 s for the pong): up to 45 s after B connected.
  // Hence the longer bound there. On the WebSocket, the closed socket tells
  // the hub at once.
  const left = Date.now();
  await b.page.goto("about:blank");
  await b.close();
  await eventually(a.count, (t) => t === "1", { timeout: leaveTimeout, message: `${label}: count 1 on A after B left` });
  return Date.now() - left;
}

test("preflight and handshake from node: the listed origin gets CORS headers, an unlisted one 403", { timeout: 30_000, skip }, async () => {
  const polling = `${hub.url}/socket.io/?EIO=4&transport=polling`;
  const preflight = (origin) =>
    fetch(polling, {
      method: "OPTIONS",
      headers: { Origin: origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "content-type" },
      signal: AbortSignal.timeout(5000),
    });

  const ok = await preflight(allowedOrigin);
  await ok.arrayBuffer();
  assert.ok(ok.status >= 200 && ok.status < 300, `preflight from ${allowedOrigin}: 2xx (got ${ok.status})`);
  assert.equal(ok.headers.get("access-control-allow-origin"), allowedOrigin, "preflight: the origin echoed");
  assert.equal(ok.headers.get("access-control-allow-credentials"), "true", "preflight: credentials allowed");
  assert.ok(lowerTokens(ok.headers.get("access-control-allow-methods")).includes("post"), `preflight: POST allowed (${ok.headers.get("access-control-allow-methods")})`);
  assert.ok(lowerTokens(ok.headers.get("access-control-allow-headers")).includes("content-type"), "preflight: content-type allowed");
  assert.ok(lowerTokens(ok.headers.get("vary")).includes("origin"), `preflight: vary includes origin (${ok.headers.get("vary")})`);

  const refused = await preflight(unlistedOrigin);
  await refused.arrayBuffer();
  assert.equal(refused.status, 403, `preflight from ${unlistedOrigin}: 403`);
  assert.equal(refused.headers.get("access-control-allow-origin"), null, "refused preflight: no access-control-allow-origin");
  assert.equal(refused.headers.get("access-control-allow-credentials"), null, "refused preflight: no access-control-allow-credentials");

  // The long-polling handshake itself.
  const hs = await fetch(polling, { headers: { Origin: allowedOrigin }, signal: AbortSignal.timeout(5000) });
  const body = await hs.text();
  assert.equal(hs.status, 200, "handshake from the listed origin");
  assert.match(body, /^0\{"sid":/, "an Engine.IO open packet");
  assert.equal(hs.headers.get("access-control-allow-origin"), allowedOrigin);
  assert.equal(hs.headers.get("access-control-allow-credentials"), "true");
  assert.ok(lowerTokens(hs.headers.get("vary")).includes("origin"));
  const no = await fetch(polling, { headers: { Origin: unlistedOrigin }, signal: AbortSignal.timeout(5000) });
  assert.equal(no.status, 403, `handshake from ${unlistedOrigin}: 403`);
  assert.doesNotMatch(await no.text(), /"sid"/, "no session for the unlisted origin");
  assert.equal(no.headers.get("access-control-allow-origin"), null);

  // And the WebSocket upgrade (a browser sends Origin on it; CORS does not
  // apply, so the hub's own check is all there is).
  const upgrade = (origin) =>
    new Promise((resolve, reject) => {
      const req = httpRequest(`${hub.url}/socket.io/?EIO=4&transport=websocket`, {
        headers: {
          Origin: origin,
          Connection: "Upgrade",
          Upgrade: "websocket",
          "Sec-WebSocket-Version": "13",
          "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
        },
        timeout: 5000,
      });
      req.on("upgrade", (res, socket) => {
        socket.destroy();
        resolve(res.statusCode);
      });
      req.on("response", (res) => {
        res.resume();
        resolve(res.statusCode);
      });
      req.on("timeout", () => req.destroy(new Error(`upgrade from ${origin}: no answer in 5 s`)));
      req.on("error", reject);
      req.end();
    });
  assert.equal(await upgrade(allowedOrigin), 101, `WebSocket from ${allowedOrigin}: switched`);
  assert.equal(await upgrade(unlistedOrigin), 403, `WebSocket from ${unlistedOrigin}: refused`);
});

test("the seed page from the listed origin over long-polling: count, text both ways, notifications, leave", { timeout: 120_000, skip }, async (t) => {
  const pages = [];
  try {
    const a = await openSeedPage(allowedOrigin, { blockWebSocket: true });
    pages.push(a);
    await eventually(a.count, (t) => t === "1", { message: "count 1 on A" });
    const b = await openSeedPage(allowedOrigin, { blockWebSocket: true });
    pages.push(b);
    const leftAfter = await exerciseTwoPages(a, b, "polling", { leaveTimeout: 60_000 });
    t.diagnostic(`over long-polling, A's count dropped ${(leftAfter / 1000).toFixed(1)} s after B left`);

    assert.equal(await a.transport(), "polling", "A is still on long-polling");
    for (const [name, p] of [["A", a], ["B", b]]) {
      assertStartedOnPolling(name, p);
      assertPollingCors(name, p, allowedOrigin);
      // The client did try to upgrade (the test refused it), and no WebSocket reached the hub.
      assert.ok(p.refusedWebSockets.length >= 1, `${name}: the client tried to upgrade`);
      assert.ok(p.refusedWebSockets.every((u) => u.includes("transport=websocket")));
      const failed = p.failed.filter((f) => !(p === b && f.url.startsWith(`${hub.url}/`))); // B's open polls are cut when it closes
      assert.deepEqual(failed, [], `${name}: no failed requests`);
      assert.deepEqual(p.problems, [], `${name}: no page errors or console errors (CORS errors show here)`);
    }
    // The page itself came from the test's own server, asked for by its name.
    assert.ok(allowedServer.requests.some((r) => r.url === "/" && r.host === `${ALLOWED_HOST}:${allowedServer.port}`));
  } finally {
    for (const p of pages) await p.close().catch(() => {});
  }
});

test("the seed page from the listed origin starts on polling, upgrades to a WebSocket, and all still works", { timeout: 90_000, skip }, async (t) => {
  const pages = [];
  try {
    const a = await openSeedPage(allowedOrigin);
    pages.push(a);
    await eventually(a.count, (t) => t === "1", { message: "count 1 on A" });
    const b = await openSeedPage(allowedOrigin);
    pages.push(b);
    for (const [name, p] of [["A", a], ["B", b]]) {
      await eventually(p.transport, (t) => t === "websocket", { message: `${name}: upgraded to websocket` });
      await eventually(
        () => p.websockets.filter((w) => w.url.includes("transport=websocket") && !w.closed).length,
        (n) => n >= 1,
        { message: `${name}: an open WebSocket to the hub` },
      );
      assertStartedOnPolling(name, p);
    }
    // Only now, on the WebSocket.
    const framesBefore = a.websockets.map((w) => w.received.length);
    const leftAfter = await exerciseTwoPages(a, b, "websocket");
    t.diagnostic(`over the WebSocket, A's count dropped ${(leftAfter / 1000).toFixed(1)} s after B left`);

    assert.equal(await a.transport(), "websocket", "A is still on the WebSocket");
    const ws = a.websockets.find((w) => w.url.startsWith(`ws://127.0.0.1:${hub.port}/socket.io/`) && !w.closed);
    assert.ok(ws, "A's WebSocket is open to the hub");
    const later = a.websockets.flatMap((w, i) => w.received.slice(framesBefore[i] ?? 0));
    for (const event of ["count_update", "text_update", "send_notification"]) {
      assert.ok(later.some((f) => f.includes(`"${event}"`)), `A received ${event} over the WebSocket`);
    }
    assert.ok(ws.sent.some((f) => f.includes('"text_update_request"')), "A sent its text over the WebSocket");
    for (const [name, p] of [["A", a], ["B", b]]) {
      assertPollingCors(name, p, allowedOrigin);
      const failed = p.failed.filter((f) => !(p === b && f.url.startsWith(`${hub.url}/`)));
      assert.deepEqual(failed, [], `${name}: no failed requests`);
      assert.deepEqual(p.problems, [], `${name}: no page errors or console errors`);
    }
  } finally {
    for (const p of pages) await p.close().catch(() => {});
  }
});

test("the same page from an unlisted origin never connects, and does not count", { timeout: 60_000, skip }, async (t) => {
  const pages = [];
  try {
    const a = await openSeedPage(allowedOrigin);
    pages.push(a);
    await eventually(a.count, (t) => t === "1", { message: "count 1 on the listed page" });
    await a.page.locator("#text").fill("listed page's text");

    const x = await openSeedPage(unlistedOrigin, { cdp: true });
    pages.push(x);
    // Its handshake is refused (403, no CORS headers: the browser blocks it), and it keeps trying.
    await eventually(
      () => x.hubRequests.filter((r) => r.url.includes("transport=polling")).length,
      (n) => n >= 2,
      { timeout: 15_000, message: "the unlisted page's polling attempts (it retries)" },
    );
    await sleep(3000);
    assert.equal(await x.count(), "", "no count on the unlisted page");
    assert.equal(await x.text(), "", "the hub's text never reached the unlisted page");
    assert.equal(await x.page.evaluate(() => socket.connected), false, "the unlisted page is not connected");
    assert.equal(await a.count(), "1", "the listed page still counts one");
    await x.page.locator("#notification").click(); // emits into a buffer that is never sent
    await x.page.locator("#text").fill("from the unlisted page");
    await sleep(500);
    assert.equal(await a.text(), "listed page's text", "nothing from the unlisted page reached the listed one");
    assert.deepEqual((await a.notifications()).shown, [], "no notification from the unlisted page");

    const polls = x.hubRequests.filter((r) => r.url.includes("transport=polling"));
    assert.ok(polls.every((r) => r.method === "GET" && !new URL(r.url).searchParams.get("sid")), "only handshakes, never a session");
    assert.deepEqual(x.websockets, [], "no WebSocket either");
    // Each attempt failed in the browser (blocked by CORS)…
    const failedPolls = x.failed.filter((f) => f.url.includes("transport=polling"));
    assert.ok(failedPolls.length >= 1, `the unlisted page's polls failed: ${JSON.stringify(x.failed)}`);
    // …on the hub's 403 without CORS headers, as the wire shows.
    const wire = x.wire();
    t.diagnostic(`the unlisted page's ${wire.length} hub requests: ${wire.map((w) => `${w.status} ${w.cors ?? w.error ?? ""}`).join(", ")}`);
    assert.equal(wire.length, polls.length, "every hub request seen on the wire");
    for (const w of wire) {
      assert.equal(header(w.requestHeaders, "origin"), unlistedOrigin, `${w.url}: sent with the page's Origin`);
      assert.equal(w.status, 403, `${w.url}: the hub answered 403`);
      assert.equal(header(w.responseHeaders, "access-control-allow-origin"), undefined, `${w.url}: no access-control-allow-origin`);
      assert.equal(header(w.responseHeaders, "access-control-allow-credentials"), undefined, `${w.url}: no access-control-allow-credentials`);
      assert.equal(w.cors, "MissingAllowOriginHeader", `${w.url}: the browser blocked it for CORS`);
    }
    assert.ok(
      x.problems.some((m) => /CORS|Access-Control-Allow-Origin/i.test(m)),
      `the console names the CORS refusal: ${JSON.stringify(x.problems)}`,
    );
    assert.deepEqual(a.problems, [], "the listed page: no errors");
    assert.ok(unlistedServer.requests.some((r) => r.url === "/" && r.host === `${UNLISTED_HOST}:${unlistedServer.port}`));
  } finally {
    for (const p of pages) await p.close().catch(() => {});
  }
});
