// Two pages of the UI on one hub see each other: user count, shared text,
// notifications.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { eventually, historyRows, launchBrowser, openPage, sendNotification, startHub, tid } from "./harness.mjs";

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

test("two pages see each other's user count, text and notifications", { timeout: 60_000 }, async () => {
  const hub = await startHub();
  try {
    const a = await openPage(browser, hub.url);
    await eventually(() => tid(a.page, "user-count").textContent(), (t) => t === "1", { message: "count 1 on A" });
    const b = await openPage(browser, hub.url);
    for (const p of [a, b]) {
      await eventually(() => tid(p.page, "user-count").textContent(), (t) => t === "2", { message: "count 2" });
    }

    // Shared text, both ways, CJK included.
    await tid(a.page, "shared-text").fill("日本語テキスト");
    await eventually(() => tid(b.page, "shared-text").inputValue(), (v) => v === "日本語テキスト", { message: "A's text on B" });
    await tid(b.page, "shared-text").fill("日本語テキスト — and B's line");
    await eventually(() => tid(a.page, "shared-text").inputValue(), (v) => v === "日本語テキスト — and B's line", { message: "B's text on A" });

    // A page opened later gets the current text.
    const c = await openPage(browser, hub.url);
    await eventually(() => tid(c.page, "shared-text").inputValue(), (v) => v === "日本語テキスト — and B's line", { message: "text on a new page" });
    await c.close();
    await eventually(() => tid(a.page, "user-count").textContent(), (t) => t === "2", { message: "count back to 2" });

    // A notification from A shows in both histories.
    const result = await sendNotification(a.page, { title: "Build finished", body: "main is green ✅ 日本語" });
    assert.match(result, /^Sent/);
    for (const p of [a, b]) {
      const rows = await eventually(() => historyRows(p.page), (r) => r.length === 1, { message: "one history row" });
      assert.equal(rows[0].title, "Build finished");
      assert.equal(rows[0].body, "main is green ✅ 日本語");
    }
    // The hub acked with an id (the seed's server would not: see connection.test.mjs).
    assert.match(result, /^Sent \(#\d+\)$/);

    await b.close();
    await eventually(() => tid(a.page, "user-count").textContent(), (t) => t === "1", { message: "count 1 after B left" });
    a.assertClean();
    await a.close();
  } finally {
    await hub.close();
  }
});
