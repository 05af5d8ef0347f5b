// The seed's own page (tests/peers/python/templates/index.html: jQuery 3.6.0
// and the socket.io 4.0.1 browser client from their CDNs, with SRI) runs,
// unchanged, against the real hub. Nothing new is served by the hub:
// Playwright request interception answers exactly three URLs: the page itself
// at the hub's origin (so its `io()` connects to the hub) and the two CDN
// scripts, with the same versions' files from npm (exact devDependencies, so
// the page's integrity hashes hold; checked below). Everything else goes to
// the hub. `window.Notification` is stubbed to record what the page would
// show.
//
// Runs against PUSHDESK_HUB_CMD, else target/debug/pushdesk if it is built,
// else is skipped (the stand-in hub is not what this test is about).

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, test } from "node:test";

import { eventually, launchBrowser, startHub } from "./harness.mjs";
import { CDN, JQUERY_URL, NO_HUB, SEED_HTML, SOCKET_IO_URL, openSeedPage as openSeed, realHubCommand } from "./seed.mjs";

const PAGE_PATH = "/seed.html";

const hubCmd = realHubCommand();
// This process only (node --test runs each file in its own process):
// startHub() reads the variable when it is called.
if (hubCmd) process.env.PUSHDESK_HUB_CMD = hubCmd;
const skip = hubCmd ? false : NO_HUB;

/** The page's <script src integrity> pairs, in order. */
function pageScripts() {
  const html = SEED_HTML.toString("utf8");
  return [...html.matchAll(/<script\s+src="([^"]+)"\s+integrity="([^"]+)"/g)].map((m) => ({ src: m[1], integrity: m[2] }));
}

function sri(algorithm, bytes) {
  return `${algorithm}-${createHash(algorithm).update(bytes).digest("base64")}`;
}


let browser;
before(async () => {
  if (!skip) browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

/** The seed page in its own browser context (see openSeedPage in seed.mjs). */
const openSeedPage = (hub, options) => openSeed(browser, hub, { path: PAGE_PATH, ...options });

test("the seed page's CDN integrity hashes match the npm files served for them", () => {
  const scripts = pageScripts();
  assert.deepEqual(
    scripts.map((s) => s.src),
    [SOCKET_IO_URL, JQUERY_URL],
    "the page loads socket.io 4.0.1 and jQuery 3.6.0 from their CDNs",
  );
  for (const { src, integrity } of scripts) {
    const algorithm = integrity.split("-", 1)[0];
    assert.equal(sri(algorithm, CDN.get(src)), integrity, `${src}: the npm file has the page's ${algorithm} hash`);
  }
});

test("the seed page (jQuery + socket.io 4.0.1) on the real hub: count, text, notifications", { timeout: 90_000, skip }, async () => {
  const hub = await startHub();
  const pages = [];
  try {
    const a = await openSeedPage(hub);
    pages.push(a);
    await eventually(a.count, (t) => t === "1", { message: "count 1 on A" });
    const b = await openSeedPage(hub);
    pages.push(b);
    for (const p of [a, b]) await eventually(p.count, (t) => t === "2", { message: "count 2 on both" });

    // The 4.0.1 client upgrades from polling to a WebSocket on the hub.
    for (const p of [a, b]) {
      await eventually(
        () => p.page.evaluate(() => (socket.connected ? socket.io.engine.transport.name : "disconnected")),
        (t) => t === "websocket",
        { message: "socket.io 4.0.1 upgraded to websocket" },
      );
    }

    // Text typed on A (the page's `change keyup input` handler) shows on B,
    // Japanese included. fill() fires one `input`; the one key after it fires
    // `input` and `keyup`, two requests with the same text. (Many keys in a
    // row: see the fast-typing test below.)
    await a.page.locator("#text").fill("日本語のテキスト");
    await eventually(() => b.page.locator("#text").inputValue(), (v) => v === "日本語のテキスト", { message: "A's text on B" });
    await a.page.locator("#text").press("End");
    await a.page.keyboard.type("!");
    const typed = "日本語のテキスト!";
    assert.equal(await a.page.locator("#text").inputValue(), typed);
    await eventually(() => b.page.locator("#text").inputValue(), (v) => v === typed, { message: "A's keystroke on B" });
    // The sender's own textarea is left alone (include_self=False).
    assert.equal(await a.page.locator("#text").inputValue(), typed);

    // A's button: both pages construct the seed's notification.
    for (const p of [a, b]) assert.deepEqual((await p.notifications()).shown, [], "no notification before the click");
    await a.page.locator("#notification").click();
    for (const [name, p] of [["A", a], ["B", b]]) {
      const { shown, permissionRequests } = await eventually(p.notifications, (n) => n.shown.length >= 1, {
        message: `the notification on ${name}`,
      });
      assert.equal(shown.length, 1, `one notification on ${name}`);
      const [n] = shown;
      assert.equal(n.title, typed, `${name}: title is A's text`);
      assert.equal(n.options.body, "this is push notification.");
      assert.equal(n.options.icon, "images/icon.png");
      assert.equal(n.options.tag, "");
      // The page sends `num: $("#user_count").val()`, which is "" for a <span>; the hub echoes it as data1.
      assert.deepEqual(n.options.data, { data1: "" });
      assert.ok(permissionRequests >= 1, `${name} asked for permission`);
    }

    // B leaves: A's count drops to 1.
    await b.close();
    pages.splice(pages.indexOf(b), 1);
    await eventually(a.count, (t) => t === "1", { message: "count 1 on A after B left" });

    for (const [name, p] of [["A", a], ["B", b]]) {
      assert.deepEqual(p.problems, [], `${name}: no page errors, console errors (SRI failures show here) or failed requests`);
      // Only the three intercepted URLs were answered by the test; the rest went to the hub.
      const routed = p.requests.filter((r) => r.via === "route").map((r) => r.url);
      assert.deepEqual([...new Set(routed)].sort(), [hub.url + PAGE_PATH, JQUERY_URL, SOCKET_IO_URL].sort(), `${name}: routed URLs`);
      const elsewhere = p.requests.filter((r) => r.via === "network" && !r.url.startsWith(`${hub.url}/`));
      assert.deepEqual(elsewhere, [], `${name}: no request left the hub's origin`);
    }
    assert.deepEqual((await a.notifications()).shown.length, 1, "still one notification on A");
  } finally {
    for (const p of pages) await p.close().catch(() => {});
    await hub.close();
  }
});

// The seed page sends `text_update_request` on every `input` and `keyup`,
// without acks, as fast as one types. socketioxide runs each event on a task
// of its own, so a hub that stored and broadcast them as they came could end
// on an earlier keystroke (B, and a page opened afterwards, keeping "…typ"
// after A typed "…typed"); ours applies each socket's updates in order, the
// newest winning, which this test holds it to.
test(
  "fast typing on the seed page: the last keystroke wins on the other page and in the hub",
  { timeout: 60_000, skip },
  async () => {
    const hub = await startHub();
    const pages = [];
    try {
      const a = await openSeedPage(hub);
      pages.push(a);
      const b = await openSeedPage(hub);
      pages.push(b);
      for (const p of [a, b]) await eventually(p.count, (t) => t === "2", { message: "count 2 on both" });
      await a.page.locator("#text").fill("日本語");
      await eventually(() => b.page.locator("#text").inputValue(), (v) => v === "日本語", { message: "A's text on B" });
      await a.page.locator("#text").press("End");
      const tail = "のテキスト, typed quickly on the seed page";
      await a.page.keyboard.type(tail);
      const want = `日本語${tail}`;
      assert.equal(await a.page.locator("#text").inputValue(), want);
      // Let every request land, then compare what B shows and what the hub stored.
      await new Promise((r) => setTimeout(r, 1500));
      const c = await openSeedPage(hub);
      pages.push(c);
      await eventually(c.count, (t) => t === "3", { message: "count 3" });
      const shown = { onB: await b.page.locator("#text").inputValue(), stored: await c.page.locator("#text").inputValue() };
      assert.deepEqual(shown, { onB: want, stored: want }, "A's final text on B and in the hub");
    } finally {
      for (const p of pages) await p.close().catch(() => {});
      await hub.close();
    }
  },
);

test("a tampered CDN file fails the page's SRI check, and the console shows it", { timeout: 60_000, skip }, async () => {
  // The control for the console check above: were the hashes wrong, the
  // browser would refuse the script and say so.
  const hub = await startHub();
  let p;
  try {
    const tampered = new Map(CDN);
    tampered.set(SOCKET_IO_URL, Buffer.concat([CDN.get(SOCKET_IO_URL), Buffer.from("\n// tampered\n")]));
    p = await openSeedPage(hub, { cdn: tampered });
    const problems = await eventually(
      () => p.problems.slice(),
      (list) => list.some((m) => /integrity/i.test(m)) && list.some((m) => /io is not defined/.test(m)),
      { message: "an SRI error and the page's `io is not defined`" },
    );
    assert.ok(problems.some((m) => m.includes(SOCKET_IO_URL)), "the SRI error names the socket.io URL");
    assert.equal(await p.page.evaluate(() => typeof window.io), "undefined");
  } finally {
    await p?.close().catch(() => {});
    await hub.close();
  }
});
