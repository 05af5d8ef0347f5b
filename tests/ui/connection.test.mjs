// Connection status through a hub restart; the seed's server (no acks, no
// history); the page under the hub's strict CSP.

import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { REPO, eventually, historyRows, launchBrowser, openPage, sendNotification, startHub, tid, waitConnected } from "./harness.mjs";

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

test("status: connected, reconnecting with the attempt number, connected again", { timeout: 90_000 }, async () => {
  const hub = await startHub();
  try {
    const a = await openPage(browser, hub.url);
    const status = tid(a.page, "connection-status");
    assert.equal(await status.textContent(), "Connected");
    await eventually(() => tid(a.page, "user-count").textContent(), (t) => t === "1", { message: "count" });
    assert.match(await sendNotification(a.page, { title: "before the restart" }), /^Sent/);

    await hub.stop();
    await a.page.locator('[data-testid="connection-status"][data-state="reconnecting"]').waitFor({ timeout: 15_000 });
    const attempt = await eventually(
      () => status.textContent(),
      (t) => /^Reconnecting \(attempt [1-9]\d*\)…$/.test(t ?? ""),
      { timeout: 15_000, message: "an attempt number" },
    );
    assert.ok(attempt);
    assert.equal(await tid(a.page, "user-count").textContent(), "–", "no stale count while down");

    // Sending while down says so at once.
    assert.equal(await sendNotification(a.page, { title: "while down" }), "Not connected: not sent");

    // Typed while the hub is down: kept, and sent once it is back.
    await tid(a.page, "shared-text").fill("typed while offline");

    await hub.restart();
    await waitConnected(a.page, 20_000);
    assert.equal(await status.textContent(), "Connected");
    await eventually(() => tid(a.page, "user-count").textContent(), (t) => t === "1", { message: "count after reconnect" });
    assert.equal(await tid(a.page, "shared-text").inputValue(), "typed while offline", "offline edit not clobbered");
    const b = await openPage(browser, hub.url);
    await eventually(() => tid(b.page, "shared-text").inputValue(), (v) => v === "typed while offline", { message: "offline edit reached the hub" });
    // Notifications after the restart show, even from a hub that lost its
    // history and hands out the same ids again (the stand-in does).
    assert.match(await sendNotification(b.page, { title: "after the restart" }), /^Sent/);
    const rows = await eventually(() => historyRows(a.page), (r) => r[0]?.title === "after the restart", { message: "a new notification after the restart" });
    assert.equal(rows.filter((r) => r.title === "before the restart").length, 1);
    assert.equal(rows.filter((r) => r.title === "after the restart").length, 1);
    // Only connection failures were logged while the hub was down.
    assert.deepEqual(
      a.problems.filter((p) => !/ERR_CONNECTION_REFUSED|WebSocket connection to .* failed|Failed to load resource/.test(p)),
      [],
    );
    b.assertClean();
    await a.close();
    await b.close();
  } finally {
    await hub.close();
  }
});

test("against the seed's server: no ack means 'sent (no acknowledgement)', no history needed", { timeout: 60_000 }, async () => {
  const hub = await startHub({ seed: true });
  try {
    const a = await openPage(browser, hub.url);
    const b = await openPage(browser, hub.url);
    await eventually(() => tid(a.page, "user-count").textContent(), (t) => t === "2", { message: "count" });
    const started = Date.now();
    const result = await sendNotification(a.page, { title: "seed hello", body: "ignored by the seed" });
    assert.equal(result, "Sent (no acknowledgement)");
    assert.equal(await tid(a.page, "notify-result").getAttribute("data-state"), "noack");
    assert.ok(Date.now() - started >= 4000, "waited for the ack timeout");
    for (const p of [a, b]) {
      const rows = await eventually(() => historyRows(p.page), (r) => r.length === 1, { message: "the seed's notification" });
      assert.equal(rows[0].title, "seed hello");
      assert.equal(rows[0].body, "this is push notification.", "the seed's fixed body");
      assert.equal(rows[0].id, null);
    }
    // Without ids, two identical notifications are two entries.
    await sendNotification(a.page, { title: "seed hello" }, { waitForResult: false });
    await eventually(() => historyRows(b.page), (r) => r.length === 2, { message: "two entries" });
    await tid(a.page, "shared-text").fill("seed text 日本語");
    await eventually(() => tid(b.page, "shared-text").inputValue(), (v) => v === "seed text 日本語", { message: "text via the seed" });
    a.assertClean();
    b.assertClean();
    await a.close();
    await b.close();
  } finally {
    await hub.close();
  }
});

test("the built UI has no inline script or style and runs under the hub's CSP", { timeout: 30_000 }, async () => {
  const dist = join(REPO, "ui", "dist");
  const html = readFileSync(join(dist, "index.html"), "utf8");
  for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)) {
    assert.match(m[1], /\bsrc="\.\/assets\/[^"]+\.js"/, "scripts are files, relative to the page");
    assert.equal(m[2].trim(), "", "no inline script");
  }
  assert.doesNotMatch(html, /<style\b|\sstyle=|\son[a-z]+=/i, "no inline style or handler");
  assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//, "nothing from other hosts (works offline)");
  const js = readdirSync(join(dist, "assets")).filter((f) => f.endsWith(".js"));
  for (const f of js) {
    const code = readFileSync(join(dist, "assets", f), "utf8");
    assert.doesNotMatch(code, /\beval\(|new Function\(/, `${f}: no eval`);
    assert.doesNotMatch(code, /\.innerHTML\s*=|insertAdjacentHTML|document\.write\(/, `${f}: no HTML injection sinks`);
  }

  const hub = await startHub();
  try {
    const res = await fetch(`${hub.url}/`);
    const csp = res.headers.get("content-security-policy") ?? "";
    assert.match(csp, /script-src 'self'/, "the hub sends a strict CSP");
    const a = await openPage(browser, hub.url);
    const violations = await a.page.evaluate(
      () =>
        new Promise((resolve) => {
          const seen = [];
          document.addEventListener("securitypolicyviolation", (e) => seen.push(`${e.violatedDirective} ${e.blockedURI}`));
          setTimeout(() => resolve(seen), 500);
        }),
    );
    assert.deepEqual(violations, []);
    a.assertClean();
    await a.close();
  } finally {
    await hub.close();
  }
});

test("a hub that wants a token: the form asks for it, and the page connects", { timeout: 60_000 }, async () => {
  const hub = await startHub({ standinArgs: ["--token", "s3cret"] });
  try {
    const a = await openPage(browser, hub.url, { connected: false });
    const status = tid(a.page, "connection-status");
    await a.page.locator('[data-testid="connection-status"][data-state="disconnected"]').waitFor();
    assert.match((await status.textContent()) ?? "", /authentication required/);
    await a.page.locator("#token-form").waitFor({ state: "visible" });
    await a.page.locator("#token").fill("wrong");
    await a.page.locator("#token-form button").click();
    await eventually(() => status.textContent(), (t) => t === "Disconnected: invalid token", { message: "refused" });
    await a.page.locator("#token").fill("s3cret");
    await a.page.locator("#token-form button").click();
    await waitConnected(a.page);
    assert.equal(await a.page.locator("#token-form").isVisible(), false);
    // Remembered for this hub; ?token= works too and leaves the address bar.
    await a.page.reload();
    await waitConnected(a.page);
    const b = await openPage(browser, hub.url, { path: "/?token=s3cret" });
    assert.equal(new URL(b.page.url()).search, "");
    await eventually(() => tid(b.page, "user-count").textContent(), (t) => t === "2", { message: "both in" });
    b.assertClean();
    await a.close();
    await b.close();
  } finally {
    await hub.close();
  }
});

test("?server= points the page at another hub", { timeout: 60_000 }, async () => {
  const home = await startHub();
  const other = await startHub();
  try {
    const a = await openPage(browser, home.url, { path: `/?server=${encodeURIComponent(other.url)}` });
    const b = await openPage(browser, other.url);
    await eventually(() => tid(b.page, "user-count").textContent(), (t) => t === "2", { message: "both on the other hub" });
    await tid(a.page, "shared-text").fill("via ?server=");
    await eventually(() => tid(b.page, "shared-text").inputValue(), (v) => v === "via ?server=", { message: "text via the other hub" });
    const c = await openPage(browser, home.url);
    await eventually(() => tid(c.page, "user-count").textContent(), (t) => t === "1", { message: "alone on the home hub" });
    assert.equal(await tid(c.page, "shared-text").inputValue(), "");
    a.assertClean();
    b.assertClean();
    c.assertClean();
    for (const p of [a, b, c]) await p.close();
  } finally {
    await home.close();
    await other.close();
  }
});
