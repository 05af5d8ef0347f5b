// The shared text never clobbers an IME composition, and keeps the caret.

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { eventually, launchBrowser, openPage, startHub, tid } from "./harness.mjs";

let browser;
before(async () => {
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

const value = (p) => tid(p.page, "shared-text").inputValue();

test("a remote update never clobbers a composition, nor after it ends", { timeout: 60_000 }, async () => {
  const hub = await startHub();
  try {
    const a = await openPage(browser, hub.url);
    const b = await openPage(browser, hub.url);
    await tid(a.page, "shared-text").fill("start");
    await eventually(() => value(b), (v) => v === "start", { message: "initial text on B" });

    // B starts composing and its text changes (what an IME does).
    const bText = tid(b.page, "shared-text");
    await bText.focus();
    await bText.dispatchEvent("compositionstart", { data: "" });
    await bText.fill("start にほんご");

    // Meanwhile A edits: B must keep its composing value.
    await tid(a.page, "shared-text").fill("start, edited by A");
    await a.page.waitForTimeout(500); // the update has long reached B
    assert.equal(await value(b), "start にほんご", "B's composing value kept");

    // The composition ends (committed): B's value stands and is sent to everyone.
    await bText.fill("start 日本語");
    await bText.dispatchEvent("compositionend", { data: "日本語" });
    await b.page.waitForTimeout(300);
    assert.equal(await value(b), "start 日本語", "not clobbered after compositionend");
    await eventually(() => value(a), (v) => v === "start 日本語", { message: "B's composed text reaches A" });

    // A composition that changes nothing lets the held remote text in.
    await bText.dispatchEvent("compositionstart", { data: "" });
    await tid(a.page, "shared-text").fill("A again");
    await b.page.waitForTimeout(300);
    assert.equal(await value(b), "start 日本語", "held while composing");
    await bText.dispatchEvent("compositionend", { data: "" });
    await eventually(() => value(b), (v) => v === "A again", { message: "held text applied after an empty composition" });

    a.assertClean();
    b.assertClean();
    await a.close();
    await b.close();
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
