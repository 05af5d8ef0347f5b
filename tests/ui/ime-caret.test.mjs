// The shared text never clobbers an IME composition, and keeps the caret.
// Against a hub that merges (its welcome says `text: "yjs"`: the real hub)
// both sides of a concurrent edit stand; against the stand-in (full text)
// the last writer wins. hubTextMode() asks the hub which it is.
// crdt-text.test.mjs has the Yjs cases with real key and IME events.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { eventually, hubTextMode, launchBrowser, openPage, startHub, tid } from "./harness.mjs";

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

const value = (p) => tid(p.page, "shared-text").inputValue();

test("a remote update never clobbers a composition, nor after it ends", { timeout: 60_000 }, async (t) => {
  const hub = await startHub();
  try {
    // A Yjs hub merges concurrent edits; the stand-in (full text) keeps the last writer's.
    const merges = (await hubTextMode(hub.url)) === "yjs";
    const a = await openPage(browser, hub.url);
    const b = await openPage(browser, hub.url);
    // C only watches: once it shows an edit of A's, the hub has passed it on (to B too).
    const c = await openPage(browser, hub.url);
    await tid(a.page, "shared-text").fill("start");
    for (const p of [b, c]) await eventually(() => value(p), (v) => v === "start", { message: "initial text on B and C" });

    // B starts composing and its text changes (what an IME does).
    const bText = tid(b.page, "shared-text");
    await bText.focus();
    await bText.dispatchEvent("compositionstart", { data: "" });
    await bText.fill("start にほんご");

    // Meanwhile A edits: B must keep its composing value.
    await tid(a.page, "shared-text").fill("start, edited by A");
    await eventually(() => value(c), (v) => v === "start, edited by A", { message: "A's edit passed on by the hub" });
    await a.page.waitForTimeout(300); // B's copy has long arrived too
    assert.equal(await value(b), "start にほんご", "B's composing value kept");

    // The composition ends (committed).
    await bText.fill("start 日本語");
    await bText.dispatchEvent("compositionend", { data: "日本語" });
    if (merges) {
      // Both edits stand, merged, everywhere: B's composed text first into
      // the document, then A's held edit. Both went in at the same place,
      // after "start": Yjs orders such concurrent insertions by its client
      // ids (random), so either order is right, the same on every page.
      const merged = ["start, edited by A 日本語", "start 日本語, edited by A"];
      const texts = await eventually(
        () => Promise.all([a, b, c].map(value)),
        (vs) => merged.includes(vs[0]) && vs.every((v) => v === vs[0]),
        { message: "A's edit and B's composed text, merged, on A, B and C" },
      );
      t.diagnostic(`merged: ${JSON.stringify(texts[0])}`);
    } else {
      // The last writer wins: B's value stands and is sent to everyone.
      await b.page.waitForTimeout(300);
      assert.equal(await value(b), "start 日本語", "not clobbered after compositionend");
      await eventually(() => value(a), (v) => v === "start 日本語", { message: "B's composed text reaches A" });
    }
    const composed = await value(b);

    // A composition that changes nothing lets the held remote text in.
    await bText.dispatchEvent("compositionstart", { data: "" });
    await tid(a.page, "shared-text").fill("A again");
    await eventually(() => value(c), (v) => v === "A again", { message: "A's second edit passed on by the hub" });
    await b.page.waitForTimeout(300);
    assert.equal(await value(b), composed, "held while composing");
    await bText.dispatchEvent("compositionend", { data: "" });
    await eventually(() => value(b), (v) => v === "A again", { message: "held text applied after an empty composition" });

    for (const p of [a, b, c]) {
      p.assertClean();
      await p.close();
    }
  } finally {
    await hub.close();
  }
});

test("the caret stays where it was when a remote update changes the text", { timeout: 60_000 }, async () => {
  const hub = await startHub();
  try {
    const a = await openPage(browser, hub.url);
    const b = await openPage(browser, hub.url);
    await tid(a.page, "shared-text").fill("hello world");
    await eventually(() => value(b), (v) => v === "hello world", { message: "text on B" });

    const bText = tid(b.page, "shared-text");
    await bText.focus();
    await bText.evaluate((ta) => ta.setSelectionRange(5, 5));
    const selection = () => bText.evaluate((ta) => [ta.selectionStart, ta.selectionEnd, document.activeElement === ta]);

    // Changed after the caret: same offset.
    await tid(a.page, "shared-text").fill("hello world, and more");
    await eventually(() => value(b), (v) => v === "hello world, and more", { message: "update after the caret" });
    assert.deepEqual(await selection(), [5, 5, true]);

    // Changed before the caret: it stays in front of the same text.
    await tid(a.page, "shared-text").fill("oh, hello world, and more");
    await eventually(() => value(b), (v) => v === "oh, hello world, and more", { message: "update before the caret" });
    assert.deepEqual(await selection(), [9, 9, true]);

    // A selection keeps both ends.
    await bText.evaluate((ta) => ta.setSelectionRange(4, 9));
    await tid(a.page, "shared-text").fill("oh, hello world!");
    await eventually(() => value(b), (v) => v === "oh, hello world!", { message: "update with a selection" });
    assert.deepEqual(await selection(), [4, 9, true]);

    // Typing at the caret goes on from there.
    await b.page.keyboard.type("X");
    await eventually(() => value(a), (v) => v === "oh, X world!", { message: "B typing over the selection reaches A" });

    a.assertClean();
    b.assertClean();
    await a.close();
    await b.close();
  } finally {
    await hub.close();
  }
});
