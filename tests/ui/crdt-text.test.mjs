// The shared text as a CRDT (issue 14), in the browser, against the real hub
// (its welcome says `text: "yjs"`; the UI syncs over `text_sync`):
// concurrent typing with real key events, an IME composition with CJK and
// emoji, a seed page's full-text writes merged with ours, and edits made
// offline merged on reconnect. Every case ends with the same text on every
// page, holding every edit, also when the seed page's resend of an older
// text crosses an update on its way to it.
//
// Skipped against the stand-in hub: it has no Yjs (full text, the last
// writer wins; ime-caret.test.mjs covers that mode).

import assert from "node:assert/strict";
import { after, before, test } from "node:test";

import { REAL_HUB, eventually, hubTextMode, hubWelcome, launchBrowser, openPage, startHub, tid, waitConnected } from "./harness.mjs";
import { openSeedPage } from "./seed.mjs";

const skip = REAL_HUB
  ? false
  : "the stand-in hub has no Yjs (full-text mode, last writer wins): set PUSHDESK_HUB_CMD to run these against the real hub";

let browser;
before(async () => {
  if (!skip) browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const field = (p) => tid(p.page, "shared-text");
const value = (p) => field(p).inputValue();
/** [selectionStart, selectionEnd, focused]. */
const selection = (p) => field(p).evaluate((ta) => [ta.selectionStart, ta.selectionEnd, document.activeElement === ta]);

/** Focuses the shared text and puts the caret at `index` (UTF-16 code units). */
async function caretAt(p, index) {
  await field(p).focus();
  await field(p).evaluate((ta, i) => ta.setSelectionRange(i, i), index);
}

/** A hub that merges: the real one, which must say so in its welcome. */
async function startYjsHub(hubArgs = []) {
  const hub = await startHub({ hubArgs });
  try {
    assert.equal(await hubTextMode(hub.url), "yjs", "the hub's welcome says text: \"yjs\"");
  } catch (e) {
    await hub.close();
    throw e;
  }
  return hub;
}

/** Waits until every page shows `want`; fails with what each showed. */
async function allShow(pages, want, message, timeout = 10_000) {
  await eventually(
    () => Promise.all(pages.map((p) => (p.text ? p.text() : value(p)))),
    (vs) => vs.every((v) => v === want),
    { message: `${message}: ${JSON.stringify(want)} on every page`, timeout },
  );
}

test("two pages typing at once at different places: the same text with every keystroke, carets in their words", { timeout: 90_000, skip }, async () => {
  const hub = await startYjsHub();
  const pages = [];
  try {
    const a = await openPage(browser, hub.url);
    const b = await openPage(browser, hub.url);
    pages.push(a, b);
    const start = "alpha bravo charlie";
    await field(a).fill(start);
    await allShow([a, b], start, "the starting text");

    // Round 1: A types after "alpha", B after "bravo" (A's keystrokes land
    // before B's caret, which has to move with them).
    const wordA = " quick-brown-fox";
    const wordB = " lazy-sleepy-dog";
    await caretAt(a, "alpha".length);
    await caretAt(b, "alpha bravo".length);
    await Promise.all([
      a.page.keyboard.type(wordA, { delay: 30 }),
      sleep(15).then(() => b.page.keyboard.type(wordB, { delay: 35 })),
    ]);
    const round1 = `alpha${wordA} bravo${wordB} charlie`;
    await allShow([a, b], round1, "round 1");
    const endA1 = `alpha${wordA}`.length;
    const endB1 = `alpha${wordA} bravo${wordB}`.length;
    assert.deepEqual(await selection(a), [endA1, endA1, true], "A's caret at the end of what A typed");
    assert.deepEqual(await selection(b), [endB1, endB1, true], "B's caret at the end of what B typed, moved by A's keystrokes");

    // Round 2, the other way round: B types at the very start, A at the
    // end of "charlie" (now B's keystrokes move A's caret), and a word in
    // the middle of A's: A types into "charlie", between "char" and "lie".
    const wordA2 = "-IN-";
    const wordB2 = "zulu ";
    const charlie = round1.indexOf("charlie");
    await caretAt(a, charlie + "char".length);
    await caretAt(b, 0);
    await Promise.all([
      b.page.keyboard.type(wordB2, { delay: 30 }),
      sleep(10).then(() => a.page.keyboard.type(wordA2, { delay: 45 })),
    ]);
    const round2 = `${wordB2}${round1.slice(0, charlie)}char${wordA2}lie`;
    await allShow([a, b], round2, "round 2");
    const endA2 = `${wordB2}${round1.slice(0, charlie)}char${wordA2}`.length;
    assert.deepEqual(await selection(a), [endA2, endA2, true], "A's caret inside \"charlie\", after what A typed, moved by B's keystrokes");
    assert.deepEqual(await selection(b), [wordB2.length, wordB2.length, true], "B's caret after what B typed");

    // The hub has it too: a page opened now shows it.
    const c = await openPage(browser, hub.url);
    pages.push(c);
    await allShow([c], round2, "a new page");
    for (const p of pages) p.assertClean();
  } finally {
    for (const p of pages) await p.close().catch(() => {});
    await hub.close();
  }
});

test("an IME composition (Japanese, via CDP) is never replaced while another page types; emoji keep their places", { timeout: 90_000, skip }, async () => {
  const hub = await startYjsHub();
  const pages = [];
  try {
    const a = await openPage(browser, hub.url);
    const b = await openPage(browser, hub.url);
    // C only watches: once it shows A's typing, the hub has passed it on (to B too).
    const c = await openPage(browser, hub.url);
    pages.push(a, b, c);
    // Emoji are two UTF-16 code units each: an offset counted in code points
    // (or bytes) anywhere would put the edits in the wrong places.
    const head = "😀 alpha";
    const tail = " 🍣 東京";
    const rest = " omega 🎌";
    const start = `${head}${tail}${rest}`;
    await field(a).fill(start);
    await allShow([a, b, c], start, "the starting text");

    await caretAt(a, head.length);
    await caretAt(b, `${head}${tail}`.length);
    const cdp = await b.page.context().newCDPSession(b.page);
    // B's value while composing `comp`: the text as it was when the
    // composition started, with `comp` at the caret, nothing else changed.
    const samples = [];
    const sample = async (comp) => samples.push({ comp, value: await value(b) });

    await cdp.send("Input.imeSetComposition", { text: "に", selectionStart: 1, selectionEnd: 1 });
    await sample("に");
    // A types ASCII while B composes.
    const typed = " typed while B composes";
    let typing = true;
    const aTypes = a.page.keyboard.type(typed, { delay: 30 }).finally(() => {
      typing = false;
    });
    for (const comp of ["にほ", "にほん"]) {
      await sleep(150);
      await sample(samples.at(-1).comp);
      await cdp.send("Input.imeSetComposition", { text: comp, selectionStart: comp.length, selectionEnd: comp.length });
      await sample(comp);
    }
    while (typing) {
      await sample("にほん");
      await sleep(40);
    }
    await aTypes;
    const withA = `${head}${typed}${tail}${rest}`;
    await allShow([c], withA, "A's typing passed on by the hub");
    await sleep(300); // B's copy has long arrived too
    await sample("にほん");
    for (const { comp, value: v } of samples) {
      assert.equal(v, `${head}${tail}${comp}${rest}`, `B's value while composing ${comp}: its composition, untouched`);
    }

    // B commits: its text goes in, then A's held keystrokes.
    await cdp.send("Input.insertText", { text: "日本" });
    const final = `${head}${typed}${tail}日本${rest}`;
    await allShow([a, b, c], final, "A's typing and B's composed text");
    const endB = `${head}${typed}${tail}日本`.length;
    const endA = `${head}${typed}`.length;
    assert.deepEqual(await selection(b), [endB, endB, true], "B's caret after its composed text");
    assert.deepEqual(await selection(a), [endA, endA, true], "A's caret after what A typed");

    // A second composition on B while A types before it again: the same.
    await caretAt(a, 0);
    await cdp.send("Input.imeSetComposition", { text: "か", selectionStart: 1, selectionEnd: 1 });
    const during = await value(b);
    await a.page.keyboard.type("Go ", { delay: 20 });
    await allShow([c], `Go ${final}`, "A's second typing passed on by the hub");
    await sleep(300);
    assert.equal(await value(b), during, "B's second composition untouched");
    await cdp.send("Input.imeSetComposition", { text: "漢字", selectionStart: 2, selectionEnd: 2 });
    await cdp.send("Input.insertText", { text: "漢字" });
    const final2 = `Go ${head}${typed}${tail}日本漢字${rest}`;
    await allShow([a, b, c], final2, "the second composition and A's second typing");
    const endB2 = `Go ${head}${typed}${tail}日本漢字`.length;
    assert.deepEqual(await selection(b), [endB2, endB2, true], "B's caret after its second composed text");

    await cdp.detach();
    for (const p of pages) p.assertClean();
  } finally {
    for (const p of pages) await p.close().catch(() => {});
    await hub.close();
  }
});

test("the seed page (jQuery, full-text writes) and our page edit at once: both edits merge", { timeout: 90_000, skip }, async (t) => {
  const hub = await startYjsHub();
  const pages = [];
  try {
    const ours = await openPage(browser, hub.url);
    pages.push(ours);
    const seed = await openSeedPage(browser, hub);
    seed.text = () => seed.page.locator("#text").inputValue();
    pages.push(seed);
    // The seed page's client (4.0.1) reaches the hub, which counts it.
    await eventually(() => tid(ours.page, "user-count").textContent(), (n) => n === "2", { message: "count 2 on our page" });

    // Several rounds, the seed page's keystroke at a different moment of ours each time.
    for (const seedDelay of [0, 40, 90]) {
      await field(ours).fill("hello world");
      await allShow([ours, seed], "hello world", `round ${seedDelay}: the starting text`);
      await caretAt(ours, "hello".length);
      await seed.page.locator("#text").focus();
      await seed.page.locator("#text").press("End");
      await Promise.all([
        ours.page.keyboard.type(" big", { delay: 30 }),
        sleep(seedDelay).then(() => seed.page.keyboard.type("!")),
      ]);
      await allShow([ours, seed], "hello big world!", `round ${seedDelay}: both edits`);
      const [start, end] = await selection(ours);
      assert.deepEqual([start, end], ["hello big".length, "hello big".length], `round ${seedDelay}: our caret after " big"`);
    }

    // And the hub stored it: a new page of each kind shows it.
    const ours2 = await openPage(browser, hub.url);
    pages.push(ours2);
    const seed2 = await openSeedPage(browser, hub);
    seed2.text = () => seed2.page.locator("#text").inputValue();
    pages.push(seed2);
    await allShow([ours2, seed2], "hello big world!", "new pages");

    ours.assertClean();
    ours2.assertClean();
    for (const p of [seed, seed2]) assert.deepEqual(p.problems, [], "no errors on the seed page");
    t.diagnostic(`seed page transport: ${await seed.page.evaluate(() => socket.io.engine.transport.name)}`);
  } finally {
    for (const p of pages) await p.close().catch(() => {});
    await hub.close();
  }
});

// The seed page sends its text on every `input` and `keyup`, so a write can
// cross a text_update on the wire and repeat what the page had before. The
// hub takes such a write for a resend, changes nothing, and sends the page
// the text as it stands; the text in flight stays a possible base of the
// page's next write, so nothing it had been sent is inserted twice (the
// bug this caught: "hello bi bi world!"). The resend is emitted directly
// (it is what the page's keyup handler sends when the crossing happens;
// with real typing it does, now and then).
test(
  "the seed page's resend of an older text, then a keystroke: nothing is inserted twice",
  { timeout: 60_000, skip },
  async () => {
    const hub = await startYjsHub();
    const pages = [];
    try {
      const ours = await openPage(browser, hub.url);
      pages.push(ours);
      const seed = await openSeedPage(browser, hub);
      seed.text = () => seed.page.locator("#text").inputValue();
      pages.push(seed);
      await field(ours).fill("hello world");
      await allShow([ours, seed], "hello world", "the starting text");
      await seed.page.locator("#text").focus();
      await seed.page.locator("#text").press("End");
      await caretAt(ours, "hello".length);
      await ours.page.keyboard.type(" bi");
      await allShow([ours, seed], "hello bi world", "our typing on the seed page");
      // The keyup copy of the text the page had before " bi" arrived.
      await seed.page.evaluate(() => socket.emit("text_update_request", { text: "hello world" }));
      await seed.page.keyboard.type("!");
      await allShow([ours, seed], "hello bi world!", "the seed page's keystroke, once, and ours, once", 5_000);
    } finally {
      for (const p of pages) await p.close().catch(() => {});
      await hub.close();
    }
  },
);

test("a page types while offline, another meanwhile: after the reconnect both edits are on both pages", { timeout: 90_000, skip }, async () => {
  const hub = await startYjsHub();
  const pages = [];
  try {
    const a = await openPage(browser, hub.url);
    const b = await openPage(browser, hub.url);
    pages.push(a, b);
    const start = "shared: one two 日本";
    await field(a).fill(start);
    await allShow([a, b], start, "the starting text");

    // A loses the network (its socket drops) and types at the end.
    await a.context.setOffline(true);
    await a.page.locator('[data-testid="connection-status"]:not([data-state="connected"])').waitFor({ timeout: 15_000 });
    await caretAt(a, start.length);
    await a.page.keyboard.type(" three 🚀", { delay: 20 });
    // B, online, types at the start, and deletes "one ".
    await caretAt(b, 0);
    await b.page.keyboard.type("zero ", { delay: 20 });
    const one = `zero ${start}`.indexOf("one ");
    await field(b).evaluate((ta, [from, to]) => ta.setSelectionRange(from, to), [one, one + "one ".length]);
    await b.page.keyboard.press("Backspace");
    const onB = "zero shared: two 日本";
    assert.equal(await value(b), onB);
    // A third page sees B's edits only: the hub has them, A is cut off.
    const c = await openPage(browser, hub.url);
    pages.push(c);
    await allShow([c], onB, "B's edits in the hub");
    assert.equal(await value(a), `${start} three 🚀`, "A still shows its own text only");

    await a.context.setOffline(false);
    await waitConnected(a.page, 30_000);
    const merged = "zero shared: two 日本 three 🚀";
    await allShow([a, b, c], merged, "after the reconnect");
    const endA = merged.length;
    assert.deepEqual(await selection(a), [endA, endA, true], "A's caret still after what it typed");

    // While offline A's page could not reach the hub: only network errors were logged.
    assert.deepEqual(a.problems.filter((m) => !/ERR_INTERNET_DISCONNECTED|WebSocket connection to .* failed/.test(m)), []);
    b.assertClean();
    c.assertClean();
  } finally {
    for (const p of pages) await p.close().catch(() => {});
    await hub.close();
  }
});

test("two pages typing fast while the hub cuts its document again and again: every keystroke once, in order, carets in their words", { timeout: 120_000, skip }, async () => {
  // Every 3rd stored edit compacts and cuts: the pages keep typing while
  // their rebases are on their way. A keystroke typed then goes on the text
  // the page shows (its own last keystrokes included) and travels in the
  // next rebase; none lands on the wrong characters, none is lost or doubled.
  const hub = await startYjsHub(["--text-compact-every", "3", "--text-cut-min-bytes", "0", "--text-cut-ratio", "1"]);
  const pages = [];
  try {
    const a = await openPage(browser, hub.url);
    const b = await openPage(browser, hub.url);
    pages.push(a, b);
    const start = "[middle]";
    await field(a).fill(start);
    await allShow([a, b], start, "the starting text");
    const first = (await hubWelcome(hub.url)).text_epoch;

    // B types at the front, A at the end, each word by word, deleting a
    // mistyped word now and then (backspaces race the cuts too).
    const wordsA = ["one", "two", "三", "🚀", "five", "six", "seven", "eight"];
    const wordsB = ["ant", "bee", "cat", "dog", "eel", "fox", "gnu", "hen"];
    await caretAt(b, 0);
    await caretAt(a, start.length);
    const typeWords = async (p, words, delay) => {
      for (const [i, w] of words.entries()) {
        await p.page.keyboard.type(` ${w}`, { delay });
        if (i % 3 === 1) {
          await p.page.keyboard.type("oops", { delay });
          for (let k = 0; k < 4; k++) await p.page.keyboard.press("Backspace", { delay });
        }
      }
    };
    await Promise.all([typeWords(a, wordsA, 8), typeWords(b, wordsB, 11)]);
    const typedA = wordsA.map((w) => ` ${w}`).join("");
    const typedB = wordsB.map((w) => ` ${w}`).join("");
    const want = `${typedB}${start}${typedA}`;
    await allShow([a, b], want, "both pages' keystrokes, in order", 20_000);
    assert.deepEqual(await selection(a), [want.length, want.length, true], "A's caret at the end of what A typed");
    assert.deepEqual(await selection(b), [typedB.length, typedB.length, true], "B's caret after what B typed, before the start text");
    const later = (await hubWelcome(hub.url)).text_epoch;
    assert.notEqual(later, first, "the hub cut its document while they typed");
    // The hub has it too: a page opened now shows it.
    const c = await openPage(browser, hub.url);
    pages.push(c);
    await allShow([c], want, "a new page");
    for (const p of pages) p.assertClean();
  } finally {
    for (const p of pages) await p.close().catch(() => {});
    await hub.close();
  }
});

test("the hub cuts its document into new epochs while pages type, one of them offline: every edit is kept", { timeout: 120_000, skip }, async () => {
  // Compaction every 15 stored edits, each one a cut (the document is always
  // bigger than its text): B's 35 keystrokes make 2 cuts, within the 3 the
  // hub keeps, so A's edit from before them still merges.
  const hub = await startYjsHub(["--text-compact-every", "15", "--text-cut-min-bytes", "0", "--text-cut-ratio", "1"]);
  const pages = [];
  try {
    const a = await openPage(browser, hub.url);
    const b = await openPage(browser, hub.url);
    pages.push(a, b);
    const start = "epochs: one two";
    await field(a).fill(start);
    await allShow([a, b], start, "the starting text");
    const first = (await hubWelcome(hub.url)).text_epoch;

    // A goes offline and types at the end.
    await a.context.setOffline(true);
    await a.page.locator('[data-testid="connection-status"]:not([data-state="connected"])').waitFor({ timeout: 15_000 });
    await caretAt(a, start.length);
    await a.page.keyboard.type(" 三 🚀", { delay: 20 });

    // B types and deletes a word over and over: the document outgrows the
    // text and the hub cuts it, more than once. Each keystroke is awaited on
    // a third page, so that the number of cuts (2) stays within the 3 the
    // hub keeps for A (the test above has pages type across cuts at speed).
    const c = await openPage(browser, hub.url);
    pages.push(c);
    await allShow([c], start, "the third page");
    await caretAt(b, 0);
    let expected = start;
    const key = async (k) => {
      await b.page.keyboard.press(k);
      expected = k === "Backspace" ? expected.slice(1) : (k === "Space" ? " " : k) + expected;
      await allShow([b, c], expected, `after ${k}`);
    };
    for (let i = 0; i < 3; i++) {
      // "word " typed backwards at the front (the caret stays at 0), then deleted.
      for (const k of ["Space", "d", "r", "o", "w"]) {
        await key(k);
        await caretAt(b, 0);
      }
      for (let k = 0; k < "word ".length; k++) {
        await caretAt(b, 1);
        await key("Backspace");
      }
    }
    for (const k of ["Space", "o", "r", "e", "z"]) {
      await key(k);
      await caretAt(b, 0);
    }
    const onB = `zero ${start}`;
    await allShow([b, c], onB, "B's edits in the hub");
    const later = (await hubWelcome(hub.url)).text_epoch;
    assert.notEqual(later, first, "the hub cut its document into a new epoch");

    // A is back: the hub sends it the new epoch's document, A sends what it typed.
    await a.context.setOffline(false);
    await waitConnected(a.page, 30_000);
    const merged = `zero ${start} 三 🚀`;
    await allShow([a, b, c], merged, "after A's return across the cuts");
    // And typing goes on in the new epoch on every page.
    await caretAt(c, merged.length);
    await c.page.keyboard.type("!", { delay: 20 });
    await allShow([a, b, c], `${merged}!`, "an edit after the rebase");

    assert.deepEqual(a.problems.filter((m) => !/ERR_INTERNET_DISCONNECTED|WebSocket connection to .* failed/.test(m)), []);
    b.assertClean();
    c.assertClean();
  } finally {
    for (const p of pages) await p.close().catch(() => {});
    await hub.close();
  }
});
