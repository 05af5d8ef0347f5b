// The history: text only (no HTML from the network), tag replacement, links
// only for http(s), exactly once per id across a reload.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { REAL_HUB, eventually, historyRows, launchBrowser, openPage, sendNotification, startHub, tid } from "./harness.mjs";

let browser;
let hub;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

async function withPages(fn) {
  hub = await startHub();
  const a = await openPage(browser, hub.url);
  const b = await openPage(browser, hub.url);
  try {
    await fn(a, b);
    a.assertClean();
    b.assertClean();
  } finally {
    await a.close();
    await b.close();
    await hub.close();
  }
}

test("HTML in a notification is shown as literal text", { timeout: 60_000 }, async () => {
  await withPages(async (a, b) => {
    const evil = `<img src=x onerror=alert(1)>`;
    const body = `<script>alert(2)</script><b>bold?</b>`;
    assert.match(await sendNotification(a.page, { title: evil, body }), /^Sent/);
    for (const p of [a, b]) {
      const rows = await eventually(() => historyRows(p.page), (r) => r.length === 1, { message: "the row" });
      assert.equal(rows[0].title, evil);
      assert.equal(rows[0].body, body);
      const history = tid(p.page, "history");
      assert.equal(await history.locator("img, script, b").count(), 0, "no element made from the text");
      assert.equal(await p.page.locator("img").count(), 0);
    }
    await a.page.waitForTimeout(200); // an onerror would have fired by now
  });
});

test("a notification with the same non-empty tag replaces the entry; an empty tag never does", { timeout: 60_000 }, async () => {
  await withPages(async (a, b) => {
    await sendNotification(a.page, { title: "Deploy started", tag: "deploy" });
    await sendNotification(a.page, { title: "Unrelated", body: "no tag" });
    await sendNotification(b.page, { title: "Deploy finished", tag: "deploy" });
    for (const p of [a, b]) {
      const rows = await eventually(
        () => historyRows(p.page),
        (r) => r.length === 2 && r[0].title === "Deploy finished",
        { message: "the replacement on top" },
      );
      assert.deepEqual(
        rows.map((r) => [r.title, r.tag]),
        [
          ["Deploy finished", "deploy"],
          ["Unrelated", ""],
        ],
      );
    }
    await sendNotification(a.page, { title: "Unrelated" });
    const rows = await eventually(() => historyRows(b.page), (r) => r.length === 3, { message: "empty tags both kept" });
    assert.deepEqual(
      rows.map((r) => r.title),
      ["Unrelated", "Deploy finished", "Unrelated"],
    );
  });
});

test("only http(s) URLs become links", { timeout: 60_000 }, async () => {
  await withPages(async (a, b) => {
    assert.match(await sendNotification(a.page, { title: "With a link", url: "https://ci.example/build/42" }), /^Sent/);
    const bad = "javascript:alert(document.domain)";
    const result = await sendNotification(a.page, { title: "With a bad link", url: bad });
    for (const p of [a, b]) {
      if (/^Sent/.test(result)) {
        // A server that passes any url through (the stand-in does): shown as text.
        const rows = await eventually(() => historyRows(p.page), (r) => r.length === 2, { message: "both rows" });
        assert.equal(rows[0].title, "With a bad link");
        assert.deepEqual(rows[0].links, [], "no link");
        assert.ok(rows[0].text.includes(bad), "the url shown as text");
        assert.deepEqual(rows[1].links, ["https://ci.example/build/42"]);
      } else {
        // The hub refuses non-http URLs: refused, and nothing arrives.
        assert.match(result, /^Refused: .*url/i);
        await p.page.waitForTimeout(300);
        const rows = await historyRows(p.page);
        assert.equal(rows.length, 1);
        assert.deepEqual(rows[0].links, ["https://ci.example/build/42"]);
      }
      assert.equal(await p.page.locator('a[href^="javascript:" i]').count(), 0);
    }
    const link = tid(b.page, "history-item").locator("a").first();
    assert.equal(await link.getAttribute("rel"), "noopener noreferrer");
    assert.equal(await link.getAttribute("target"), "_blank");
    if (!REAL_HUB) assert.match(result, /^Sent/, "the stand-in passes any url through");
  });
});

test("history comes back after a reload, each notification once, newest first", { timeout: 60_000 }, async () => {
  await withPages(async (a, b) => {
    for (const title of ["first", "second", "third"]) await sendNotification(a.page, { title });
    await eventually(() => historyRows(b.page), (r) => r.length === 3, { message: "three rows" });
    await b.page.reload();
    await b.page.locator('[data-testid="connection-status"][data-state="connected"]').waitFor();
    const rows = await eventually(() => historyRows(b.page), (r) => r.length === 3, { message: "history after reload" });
    assert.deepEqual(
      rows.map((r) => r.title),
      ["third", "second", "first"],
    );
    assert.equal(new Set(rows.map((r) => r.id)).size, 3, "each id once");
    // A live one after the history goes on top, still once each.
    await sendNotification(a.page, { title: "fourth" });
    const after = await eventually(() => historyRows(b.page), (r) => r.length === 4, { message: "four rows" });
    assert.deepEqual(
      after.map((r) => r.title),
      ["fourth", "third", "second", "first"],
    );
    await b.page.waitForTimeout(300);
    assert.equal((await historyRows(b.page)).length, 4);
  });
});

test("the form needs a title; long fields are limited by the inputs", { timeout: 60_000 }, async () => {
  await withPages(async (a) => {
    await tid(a.page, "notify-title").fill("");
    await tid(a.page, "notify-send").click();
    assert.equal(await tid(a.page, "notify-result").textContent(), "A title is needed");
    assert.equal(await tid(a.page, "notify-result").getAttribute("data-state"), "error");
    assert.equal((await historyRows(a.page)).length, 0);
  });
});

test("desktop alerts, once enabled, show live notifications (not history)", { timeout: 60_000 }, async () => {
  hub = await startHub();
  // A stand-in for the browser's Notification, recording what would be shown.
  const initScript = () => {
    window.__shown = [];
    window.Notification = class {
      // Granted once, kept across reloads, like the browser's.
      static permission = sessionStorage.getItem("test.permission") ?? "default";
      static requestPermission() {
        sessionStorage.setItem("test.permission", "granted");
        window.Notification.permission = "granted";
        return Promise.resolve("granted");
      }
      constructor(title, options) {
        window.__shown.push({ title, body: options?.body, tag: options?.tag ?? "" });
      }
      addEventListener() {}
      close() {}
    };
  };
  const a = await openPage(browser, hub.url, { initScript });
  const b = await openPage(browser, hub.url);
  try {
    await sendNotification(b.page, { title: "before enabling" });
    await eventually(() => historyRows(a.page), (r) => r.length === 1, { message: "first row" });
    const toggle = a.page.locator("#desktop-alerts");
    assert.equal(await toggle.isVisible(), true);
    await toggle.check();
    await sendNotification(b.page, { title: "Alert me", body: "now", tag: "t1" });
    await eventually(() => historyRows(a.page), (r) => r.length === 2, { message: "second row" });
    const shown = await eventually(() => a.page.evaluate(() => window.__shown), (s) => s.length === 1, { message: "one alert" });
    assert.deepEqual(shown, [{ title: "Alert me", body: "now", tag: "t1" }]);
    // Reloading loads history: no alerts for it.
    await a.page.reload();
    await a.page.locator('[data-testid="connection-status"][data-state="connected"]').waitFor();
    await eventually(() => historyRows(a.page), (r) => r.length === 2, { message: "history" });
    assert.equal(await toggle.isChecked(), true, "the choice is remembered");
    await a.page.waitForTimeout(300);
    assert.deepEqual(await a.page.evaluate(() => window.__shown), []);
    a.assertClean();
    b.assertClean();
  } finally {
    await a.close();
    await b.close();
    await hub.close();
  }
});
