// Channels: the send form picks the channel, each history entry shows its
// channel, a page follows the channels of its Channels field (stored, sent
// as auth.channels on the next connect, subscribe/unsubscribe at once), and
// the history filters by channel.
//
// Against the hub (PUSHDESK_HUB_CMD) or the stand-in, which speaks the same
// channel protocol. A hub without tokens lets every client read and write
// every channel. The refusals are tested against the stand-in only
// (`--read` / `--write` give every client those rights), and the seed's
// server (no channels at all) last.

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

/** Types `channels` into the Channels field and submits it; resolves once the page has the hub's answer. */
async function follow(page, channels) {
  await tid(page, "channels-input").fill(channels);
  await tid(page, "channels-apply").click();
  await page.locator('[data-testid="channels-apply"]:not([disabled])').waitFor({ timeout: 8000 });
  const note = tid(page, "channels-status");
  return {
    shown: await note.isVisible(),
    state: (await note.getAttribute("data-state")) ?? "",
    text: (await note.textContent()) ?? "",
    stored: await page.evaluate(() => localStorage.getItem(`pushdesk.channels:${location.origin}`)),
  };
}

/** [value, label] of the filter's options. */
async function filterOptions(page) {
  return tid(page, "history-filter").evaluate((select) => [...select.options].map((o) => [o.value, o.textContent]));
}

const titlesOf = (rows) => rows.map((r) => r.title).sort();

test("a page sees only the channels it follows; each entry shows its channel", { timeout: 90_000 }, async () => {
  const hub = await startHub();
  const pages = [];
  try {
    const a = await openPage(browser, hub.url);
    const b = await openPage(browser, hub.url);
    pages.push(a, b);
    // Every page starts following `default`, and sends there.
    assert.equal(await tid(a.page, "channels-input").inputValue(), "default");
    assert.equal(await tid(a.page, "notify-channel").inputValue(), "default");

    const followed = await follow(b.page, "ops");
    assert.equal(followed.shown, false, `no complaint: ${followed.text}`);
    assert.equal(followed.stored, "ops", "stored for the next visit");
    assert.equal(await tid(b.page, "channels-input").inputValue(), "ops");

    assert.match(await sendNotification(b.page, { title: "ops deploy", body: "v2 is live", channel: "ops" }), /^Sent/);
    assert.match(await sendNotification(a.page, { title: "default hello", channel: "default" }), /^Sent/);

    const aRows = await eventually(() => historyRows(a.page), (r) => r.some((x) => x.title === "default hello"), { message: "A's own one" });
    const bRows = await eventually(() => historyRows(b.page), (r) => r.some((x) => x.title === "ops deploy"), { message: "B's ops one" });
    await a.page.waitForTimeout(400); // anything misrouted would have arrived by now
    assert.deepEqual(
      (await historyRows(b.page)).map((r) => [r.title, r.channel, r.channelLabel]),
      [["ops deploy", "ops", "ops"]],
      "B follows only ops: not the default one",
    );
    assert.deepEqual(
      (await historyRows(a.page)).map((r) => [r.title, r.channel, r.channelLabel]),
      [["default hello", "default", "default"]],
      "A follows only default: not the ops one",
    );
    assert.ok(aRows.length >= 1 && bRows.length >= 1);

    // B comes back following ops (auth.channels from what is stored): its
    // history has the ops one only.
    await b.page.reload();
    await b.page.locator('[data-testid="connection-status"][data-state="connected"]').waitFor();
    assert.equal(await tid(b.page, "channels-input").inputValue(), "ops");
    await eventually(() => historyRows(b.page), (r) => r.length >= 1, { message: "B's history after the reload" });
    await b.page.waitForTimeout(300);
    assert.deepEqual(
      (await historyRows(b.page)).map((r) => [r.title, r.channel]),
      [["ops deploy", "ops"]],
    );
    assert.equal(await tid(b.page, "channels-status").isVisible(), false, "the hub follows what was asked for");

    // A page following every channel gets both, and filters them.
    const c = await openPage(browser, hub.url);
    pages.push(c);
    await eventually(() => historyRows(c.page), (r) => r.length === 1, { message: "C's default history" });
    const all = await follow(c.page, "*");
    assert.equal(all.shown, false, `no complaint: ${all.text}`);
    assert.equal(all.stored, "*");
    const cRows = await eventually(() => historyRows(c.page), (r) => r.length === 2, { message: "C's history of every channel" });
    assert.deepEqual(titlesOf(cRows), ["default hello", "ops deploy"]);
    assert.deepEqual(await filterOptions(c.page), [
      ["", "All channels"],
      ["default", "default"],
      ["ops", "ops"],
    ]);
    await tid(c.page, "history-filter").selectOption("ops");
    assert.deepEqual(
      (await historyRows(c.page)).map((r) => [r.title, r.channelLabel]),
      [["ops deploy", "ops"]],
    );
    // A live one of another channel stays out of the filtered list until "All channels".
    assert.match(await sendNotification(a.page, { title: "default again" }), /^Sent/);
    await eventually(() => historyRows(a.page), (r) => r.length === 2, { message: "A's second one" });
    await c.page.waitForTimeout(300);
    assert.deepEqual(
      (await historyRows(c.page)).map((r) => r.title),
      ["ops deploy"],
    );
    await tid(c.page, "history-filter").selectOption("default");
    assert.deepEqual(
      (await historyRows(c.page)).map((r) => [r.title, r.channel]),
      [
        ["default again", "default"],
        ["default hello", "default"],
      ],
    );
    await tid(c.page, "history-filter").selectOption("");
    assert.deepEqual(titlesOf(await historyRows(c.page)), ["default again", "default hello", "ops deploy"]);

    // The send form suggests the channels seen.
    const suggested = await c.page.locator("#notify-channels option").evaluateAll((os) => os.map((o) => o.getAttribute("value")));
    assert.ok(suggested.includes("default") && suggested.includes("ops"), JSON.stringify(suggested));

    // Following fewer channels again: the entries of the others go.
    const narrower = await follow(c.page, "ops");
    assert.equal(narrower.shown, false, `no complaint: ${narrower.text}`);
    await eventually(() => historyRows(c.page), (r) => r.length === 1, { message: "only ops left" });
    assert.deepEqual(
      (await historyRows(c.page)).map((r) => r.title),
      ["ops deploy"],
    );
    for (const p of pages) p.assertClean();
  } finally {
    for (const p of pages) await p.close();
    await hub.close();
  }
});

test("bad channel names are caught by the page", { timeout: 60_000 }, async () => {
  const hub = await startHub();
  try {
    const a = await openPage(browser, hub.url);
    assert.equal(await sendNotification(a.page, { title: "to all?", channel: "*" }), "“*” is for following every channel: send to one channel");
    assert.equal(await tid(a.page, "notify-result").getAttribute("data-state"), "error");
    assert.match(await sendNotification(a.page, { title: "spaces", channel: "two words" }), /^A channel name is/);
    assert.match(await sendNotification(a.page, { title: "markup", channel: "<b>x</b>" }), /^A channel name is/);
    assert.equal((await historyRows(a.page)).length, 0, "nothing was sent");
    assert.equal(await a.page.locator("#history b").count(), 0);

    await tid(a.page, "channels-input").fill("ops, no!");
    await tid(a.page, "channels-apply").click();
    const note = tid(a.page, "channels-status");
    await a.page.locator('[data-testid="channels-status"][data-state="error"]').waitFor();
    assert.equal(await note.textContent(), "Channels: not a channel name: “no!”");
    assert.equal(await a.page.evaluate(() => localStorage.getItem(`pushdesk.channels:${location.origin}`)), null, "nothing stored");
    // Still following default.
    assert.match(await sendNotification(a.page, { title: "still here", channel: "default" }), /^Sent/);
    await eventually(() => historyRows(a.page), (r) => r.length === 1, { message: "the default one" });
    a.assertClean();
    await a.close();
  } finally {
    await hub.close();
  }
});

test("a refused subscribe is shown in the status line, and what was followed stays", { timeout: 60_000 }, async () => {
  const hub = await startHub({ standinArgs: ["--read", "default,ops", "--write", "default"] });
  try {
    const a = await openPage(browser, hub.url);
    const refused = await follow(a.page, "default, secret");
    assert.equal(refused.shown, true);
    assert.equal(refused.state, "error");
    assert.match(refused.text, /^Channels: .*secret/);
    assert.equal(refused.stored, null, "what the hub refused is not stored");
    // The connection still follows default.
    const b = await openPage(browser, hub.url);
    assert.match(await sendNotification(b.page, { title: "for default" }), /^Sent/);
    await eventually(() => historyRows(a.page), (r) => r.some((x) => x.title === "for default"), { message: "default still followed" });
    // A send beyond the token's rights is refused by the hub.
    assert.match(await sendNotification(b.page, { title: "to ops", channel: "ops" }), /^Refused: .*ops/);
    // A channel it may read: accepted, and the error goes.
    const ok = await follow(a.page, "ops");
    assert.equal(ok.shown, false, `no complaint: ${ok.text}`);
    assert.equal(ok.stored, "ops");
    a.assertClean();
    b.assertClean();
    await a.close();
    await b.close();
  } finally {
    await hub.close();
  }
});

test("against the seed's server: every entry is in default, nothing else changes", { timeout: 60_000 }, async () => {
  const hub = await startHub({ seed: true });
  try {
    const a = await openPage(browser, hub.url);
    assert.equal(await sendNotification(a.page, { title: "seed hello" }), "Sent (no acknowledgement)");
    const rows = await eventually(() => historyRows(a.page), (r) => r.length === 1, { message: "the seed's notification" });
    assert.equal(rows[0].channel, "default");
    assert.equal(rows[0].channelLabel, "default");
    assert.deepEqual(await filterOptions(a.page), [
      ["", "All channels"],
      ["default", "default"],
    ]);
    // The seed's server answers no subscribe: the page says so, and goes on.
    const followed = await follow(a.page, "ops");
    assert.equal(followed.state, "warn");
    assert.match(followed.text, /did not answer/);
    a.assertClean();
    await a.close();
  } finally {
    await hub.close();
  }
});
