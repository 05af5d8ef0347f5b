// Screenshots of the UI with some content, light and dark, for a look.

import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, test } from "node:test";

import { eventually, historyRows, launchBrowser, openPage, sendNotification, startHub, tid } from "./harness.mjs";

const out = join(dirname(fileURLToPath(import.meta.url)), "screenshots");

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

test("screenshots (light and dark)", { timeout: 60_000 }, async () => {
  mkdirSync(out, { recursive: true });
  const hub = await startHub();
  try {
    const a = await openPage(browser, hub.url);
    await tid(a.page, "shared-text").fill("会議は15時から。議事録はここに書きます。\nMeeting at 15:00 — notes go here.");
    await sendNotification(a.page, { title: "Deploy finished", body: "v1.4.2 is live on production.", tag: "deploy", url: "https://ci.example/deploy/1402" });
    await sendNotification(a.page, { title: "レビュー依頼", body: "プルリクエスト #87 を見てください" });
    await sendNotification(a.page, { title: "<b>not bold</b>", body: "HTML from the network stays text.", url: "javascript:alert(1)" });
    await tid(a.page, "notify-title").fill("Lunch?");
    await tid(a.page, "notify-body").fill("Ramen at 12:30");
    await tid(a.page, "notify-url").fill("");
    await eventually(() => historyRows(a.page), (r) => r.length >= 2, { message: "rows" });
    const b = await openPage(browser, hub.url);
    await eventually(() => tid(a.page, "user-count").textContent(), (t) => t === "2", { message: "count" });
    await a.page.screenshot({ path: join(out, "ui.png") });
    await a.page.emulateMedia({ colorScheme: "dark" });
    await a.page.screenshot({ path: join(out, "ui-dark.png") });
    await b.close();
    const narrow = await openPage(browser, hub.url, { viewport: { width: 420, height: 900 } });
    await eventually(() => historyRows(narrow.page), (r) => r.length >= 2, { message: "history" });
    await narrow.page.screenshot({ path: join(out, "ui-narrow.png"), fullPage: true });
    await narrow.close();
    a.assertClean();
    await a.close();
  } finally {
    await hub.close();
  }
});
