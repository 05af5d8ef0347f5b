import assert from "node:assert/strict";
import { test } from "node:test";

import * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import * as syncProtocol from "y-protocols/sync";
import * as Y from "yjs";

import type { SendResult } from "../src/core/ack.js";
import type { Selection } from "../src/core/caret.js";
import { CrdtText, carrySplice, MAX_TEXT_BYTES, TEXT_NAME, spliceBetween, utf8Length, type TextField } from "../src/core/crdt-text.js";

// ---------------------------------------------------------------------------
// A textarea stand-in, a hub that speaks what the Rust hub speaks (step 1 →
// step 2 + step 1; step 2 / update applied, refused without the right or over
// the size limit, passed on to the others), and links between them that hold
// messages until the test delivers them (in order per direction, as a socket
// does; in any order across links).

class Field implements TextField {
  value = "";
  selection: Selection = { start: 0, end: 0 };
  shows = 0;

  show(value: string, selection: Selection): void {
    this.value = value;
    this.selection = selection;
    this.shows++;
  }
}

interface Up {
  message: Uint8Array;
  ack: (result: SendResult) => void;
}

function frame(write: (e: encoding.Encoder) => void): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, 0);
  write(e);
  return encoding.toUint8Array(e);
}

class Peer {
  readonly field = new Field();
  readonly crdt: CrdtText;
  readonly up: Up[] = [];
  readonly down: Uint8Array[] = [];
  readonly notes: string[] = [];
  connected = false;
  mayEdit = true;
  sentEdits = 0;

  constructor(
    readonly hub: Hub,
    readonly name: string,
    maxBytes?: number,
  ) {
    this.crdt = new CrdtText(this.field, {
      send: (message) => {
        if (messageType(message) !== syncProtocol.messageYjsSyncStep1) this.sentEdits++;
        if (!this.connected) return Promise.resolve({ status: "offline" });
        return new Promise((ack) => this.up.push({ message, ack }));
      },
      notify: (message) => this.notes.push(message),
      ...(maxBytes !== undefined ? { maxBytes } : {}),
    });
  }

  connect(): void {
    this.connected = true;
    this.crdt.connect(); // after the hub's welcome {text: "yjs"}
  }

  disconnect(): void {
    this.connected = false;
    // In flight: lost with the connection (an ack that never comes).
    for (const u of this.up.splice(0)) u.ack({ status: "unacknowledged" });
    this.down.splice(0);
    this.crdt.disconnect();
  }

  /** The user puts the caret at `at` and types `text` (one input event). */
  type(at: number, text: string): void {
    const v = this.field.value;
    this.field.value = v.slice(0, at) + text + v.slice(at);
    this.field.selection = { start: at + text.length, end: at + text.length };
    this.crdt.input();
  }

  /** The user deletes `count` code units at `at`. */
  remove(at: number, count: number): void {
    const v = this.field.value;
    this.field.value = v.slice(0, at) + v.slice(at + count);
    this.field.selection = { start: at, end: at };
    this.crdt.input();
  }

  /** Like Playwright's fill(): everything replaced, the caret at the end. */
  fill(text: string): void {
    this.field.value = text;
    this.field.selection = { start: text.length, end: text.length };
    this.crdt.input();
  }

  get lastNote(): string | undefined {
    return this.notes[this.notes.length - 1];
  }
}

function messageType(message: Uint8Array): number {
  const d = decoding.createDecoder(message);
  decoding.readVarUint(d);
  return decoding.readVarUint(d);
}

class Hub {
  readonly doc = new Y.Doc();
  readonly peers: Peer[] = [];
  refused = 0;

  constructor(readonly maxBytes = MAX_TEXT_BYTES) {
    this.doc.on("update", (update: Uint8Array, origin: unknown) => {
      for (const p of this.peers) {
        if (p !== origin && p.connected) p.down.push(frame((e) => syncProtocol.writeUpdate(e, update)));
      }
    });
  }

  get text(): string {
    return this.doc.getText(TEXT_NAME).toString();
  }

  peer(name: string, maxBytes?: number): Peer {
    const p = new Peer(this, name, maxBytes);
    this.peers.push(p);
    return p;
  }

  receive(from: Peer, message: Uint8Array): SendResult {
    const type = messageType(message);
    const decoder = decoding.createDecoder(message);
    decoding.readVarUint(decoder);
    if (type === syncProtocol.messageYjsSyncStep1) {
      const reply = encoding.createEncoder();
      encoding.writeVarUint(reply, 0);
      syncProtocol.readSyncMessage(decoder, reply, this.doc, from);
      from.down.push(encoding.toUint8Array(reply));
      from.down.push(frame((e) => syncProtocol.writeSyncStep1(e, this.doc)));
      return { status: "accepted" };
    }
    if (!from.mayEdit) return this.refuse("this token may not change the shared text");
    // As the hub: an update that would make the text too long leaves it as it was.
    const trial = new Y.Doc();
    Y.applyUpdate(trial, Y.encodeStateAsUpdate(this.doc));
    syncProtocol.readSyncMessage(decoding.createDecoder(message.subarray(1)), encoding.createEncoder(), trial, null);
    if (utf8Length(trial.getText(TEXT_NAME).toString()) > this.maxBytes) return this.refuse(`text is over ${this.maxBytes} bytes`);
    syncProtocol.readSyncMessage(decoder, encoding.createEncoder(), this.doc, from);
    return { status: "accepted" };
  }

  refuse(error: string): SendResult {
    this.refused++;
    return { status: "rejected", error };
  }
}

/** Lets the acks' promise callbacks run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Delivers one waiting message on one link (false: none waiting). */
function deliverOne(peer: Peer, direction: "up" | "down"): boolean {
  if (direction === "up") {
    const u = peer.up.shift();
    if (u === undefined) return false;
    u.ack(peer.hub.receive(peer, u.message));
    return true;
  }
  const m = peer.down.shift();
  if (m === undefined) return false;
  peer.crdt.receive(m);
  return true;
}

/** Delivers everything, in a random order across links (`random` picks), until nothing moves. */
async function deliverAll(hub: Hub, random: () => number = Math.random): Promise<void> {
  for (let rounds = 0; rounds < 100_000; rounds++) {
    const links: Array<[Peer, "up" | "down"]> = [];
    for (const p of hub.peers) {
      if (p.up.length > 0) links.push([p, "up"]);
      if (p.down.length > 0) links.push([p, "down"]);
    }
    if (links.length === 0) {
      await settle();
      if (hub.peers.every((p) => p.up.length === 0 && p.down.length === 0)) return;
      continue;
    }
    const link = links[Math.floor(random() * links.length)];
    if (link !== undefined) deliverOne(link[0], link[1]);
    await settle();
  }
  throw new Error("the messages never settled");
}

/** A seeded PRNG (mulberry32): a failing run can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Connected peers that agree on `text`. */
async function start(names: string[], text = "", hub = new Hub()): Promise<[Hub, ...Peer[]]> {
  const peers = names.map((n) => hub.peer(n));
  for (const p of peers) p.connect();
  await deliverAll(hub);
  const first = peers[0];
  if (first !== undefined && text !== "") {
    first.fill(text);
    await deliverAll(hub);
  }
  for (const p of peers) assert.equal(p.field.value, text);
  return [hub, ...peers];
}

function countChars(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const ch of text) m.set(ch, (m.get(ch) ?? 0) + 1);
  return m;
}

// ---------------------------------------------------------------------------

test("spliceBetween: the smallest change, in UTF-16 code units", () => {
  assert.equal(spliceBetween("same", "same"), null);
  assert.deepEqual(spliceBetween("hello world", "hello big world"), { index: 6, remove: 0, insert: "big " });
  assert.deepEqual(spliceBetween("hello world", "hello world!"), { index: 11, remove: 0, insert: "!" });
  assert.deepEqual(spliceBetween("hello world", "hello"), { index: 5, remove: 6, insert: "" });
  assert.deepEqual(spliceBetween("abc", "aXc"), { index: 1, remove: 1, insert: "X" });
  assert.deepEqual(spliceBetween("", "日本語"), { index: 0, remove: 0, insert: "日本語" });
  assert.deepEqual(spliceBetween("日本語のテキスト", "日本語テキスト"), { index: 3, remove: 1, insert: "" });
});

test("spliceBetween: the caret picks where a repeated insertion or deletion sits", () => {
  assert.deepEqual(spliceBetween("aa", "aaa"), { index: 2, remove: 0, insert: "a" }, "latest without a caret");
  assert.deepEqual(spliceBetween("aa", "aaa", 1), { index: 0, remove: 0, insert: "a" }, "typed at the start");
  assert.deepEqual(spliceBetween("aaa", "aa", 0), { index: 0, remove: 1, insert: "" }, "deleted at the start");
  assert.deepEqual(spliceBetween("hello world", "helloo world", 6), { index: 5, remove: 0, insert: "o" });
  // A caret that has nothing to do with the change (a programmatic fill) changes nothing.
  assert.deepEqual(spliceBetween("hello world", "hello big world", 15), { index: 6, remove: 0, insert: "big " });
  assert.deepEqual(spliceBetween("abc", "aXc", 0), { index: 1, remove: 1, insert: "X" });
});

test("spliceBetween never splits a surrogate pair", () => {
  // 😀 U+1F600 and 😃 U+1F603 share their high surrogate.
  assert.deepEqual(spliceBetween("a😀b", "a😃b"), { index: 1, remove: 2, insert: "😃" });
  // 🍎 U+1F34E and 😎 U+1F60E share their low surrogate.
  assert.deepEqual(spliceBetween("x🍎", "x😎"), { index: 1, remove: 2, insert: "😎" });
  assert.deepEqual(spliceBetween("😀😀", "😀😀😀", 4), { index: 2, remove: 0, insert: "😀" }, "typed between the two");
  assert.deepEqual(spliceBetween("😀😀", "😀😀😀", 3), { index: 0, remove: 0, insert: "😀" }, "a caret inside a pair");
  assert.deepEqual(spliceBetween("😀", ""), { index: 0, remove: 2, insert: "" });
  for (const [before, after] of [
    ["😀x😃", "😃x😀"],
    ["日本😀語", "日本😃語"],
    ["🍎🍏", "🍏🍎"],
  ] as const) {
    const s = spliceBetween(before, after);
    assert.ok(s !== null);
    const result = before.slice(0, s.index) + s.insert + before.slice(s.index + s.remove);
    assert.equal(result, after);
    assert.ok(!/[\ud800-\udbff]$/.test(before.slice(0, s.index)), "starts between halves");
    assert.ok(!/^[\udc00-\udfff]/.test(before.slice(s.index + s.remove)), "ends between halves");
  }
});

test("utf8Length counts what the hub counts", () => {
  for (const s of ["", "abc", "é", "日本語", "😀", "a😀日é", "\ud800"]) {
    assert.equal(utf8Length(s), Buffer.byteLength(s, "utf8"), JSON.stringify(s));
  }
});

test("hello world: both edits survive on both sides", async () => {
  const [hub, a, b] = await start(["A", "B"], "hello world");
  assert.ok(a && b);
  a.type(6, "big ");
  b.type(11, "!");
  await deliverAll(hub);
  assert.equal(a.field.value, "hello big world!");
  assert.equal(b.field.value, "hello big world!");
  assert.equal(hub.text, "hello big world!");
});

test("hello world with whole-text writes (fill) merges the same", async () => {
  for (let seed = 1; seed <= 20; seed++) {
    const [hub, a, b] = await start(["A", "B"], "hello world");
    assert.ok(a && b);
    a.fill("hello big world");
    b.fill("hello world!");
    await deliverAll(hub, prng(seed));
    assert.equal(a.field.value, "hello big world!", `seed ${seed}`);
    assert.equal(b.field.value, "hello big world!", `seed ${seed}`);
  }
});

test("CJK and emoji edits merge on UTF-16 positions", async () => {
  const [hub, a, b, c] = await start(["A", "B", "C"], "日本語のテキスト");
  assert.ok(a && b && c);
  a.type(0, "😀");
  b.type(3, "🎌");
  c.type(8, "です");
  await deliverAll(hub);
  for (const p of [a, b, c]) assert.equal(p.field.value, "😀日本語🎌のテキストです");
  // Replacing an emoji by one that shares its high surrogate, concurrently with an edit next to it.
  a.fill("😃日本語🎌のテキストです");
  b.type(2, "x");
  await deliverAll(hub);
  // Both went right after the old emoji: their order is the Yjs client ids'.
  assert.ok(["😃x日本語🎌のテキストです", "x😃日本語🎌のテキストです"].includes(hub.text), hub.text);
  for (const p of [a, b, c]) assert.equal(p.field.value, hub.text);
});

test("random concurrent inserts, random delivery: all converge and no inserted character is lost", async () => {
  const alphabet = [..."abcdefghij日本語テキスト한국어", "😀", "🎌", "👍🏽", "\n", " "];
  for (let seed = 1; seed <= 25; seed++) {
    const random = prng(seed);
    const [hub, ...peers] = await start(["A", "B", "C"]);
    let inserted = "";
    /** Where each composing peer's composition goes on (an IME's text is one run). */
    const composingAt = new Map<Peer, number>();
    const randomPlace = (p: Peer): number => {
      // Never inside a pair: a textarea's caret never is.
      const chars = [...p.field.value];
      return chars.slice(0, Math.floor(random() * (chars.length + 1))).join("").length;
    };
    for (let step = 0; step < 120; step++) {
      const p = peers[Math.floor(random() * peers.length)];
      assert.ok(p !== undefined);
      const r = random();
      if (r < 0.45) {
        const at = composingAt.get(p) ?? randomPlace(p);
        const ch = alphabet[Math.floor(random() * alphabet.length)] ?? "a";
        p.type(at, ch);
        if (composingAt.has(p)) composingAt.set(p, at + ch.length);
        inserted += ch;
      } else if (r < 0.9) {
        const links = peers.flatMap((q) => [
          [q, "up"],
          [q, "down"],
        ] as const);
        const link = links[Math.floor(random() * links.length)];
        if (link !== undefined) deliverOne(link[0], link[1]);
        await settle();
      } else if (r < 0.95) {
        if (p.connected) p.disconnect();
        else p.connect();
      } else if (!p.crdt.composing) {
        p.crdt.compositionStart();
        composingAt.set(p, randomPlace(p));
      } else {
        p.crdt.compositionEnd();
        composingAt.delete(p);
      }
    }
    for (const p of peers) {
      if (p.crdt.composing) p.crdt.compositionEnd();
      if (!p.connected) p.connect();
    }
    await deliverAll(hub, random);
    const expected = countChars(inserted);
    for (const p of peers) {
      assert.equal(p.field.value, hub.text, `seed ${seed}: ${p.name} converged`);
      assert.equal(p.crdt.text, hub.text, `seed ${seed}: ${p.name}'s document`);
    }
    assert.deepEqual(countChars(hub.text), expected, `seed ${seed}: every inserted character is there once`);
  }
});

test("random inserts and deletes converge", async () => {
  for (let seed = 100; seed < 115; seed++) {
    const random = prng(seed);
    const [hub, ...peers] = await start(["A", "B", "C"], "the quick brown fox 日本 😀 jumps");
    for (let step = 0; step < 150; step++) {
      const p = peers[Math.floor(random() * peers.length)];
      assert.ok(p !== undefined);
      const r = random();
      const chars = [...p.field.value];
      const at = chars.slice(0, Math.floor(random() * (chars.length + 1))).join("").length;
      if (r < 0.3) p.type(at, random() < 0.5 ? "x" : "語");
      else if (r < 0.45 && at < p.field.value.length) {
        const n = [...p.field.value.slice(at)].slice(0, 1 + Math.floor(random() * 3)).join("").length;
        p.remove(at, n);
      } else if (r < 0.95) {
        const q = peers[Math.floor(random() * peers.length)];
        if (q !== undefined) deliverOne(q, random() < 0.5 ? "up" : "down");
        await settle();
      } else if (p.connected) p.disconnect();
      else p.connect();
    }
    for (const p of peers) if (!p.connected) p.connect();
    await deliverAll(hub, random);
    for (const p of peers) assert.equal(p.field.value, hub.text, `seed ${seed}: ${p.name}`);
  }
});

test("the caret stays in the user's word when a remote insert lands before it", async () => {
  const [hub, a, b] = await start(["A", "B"], "hello world");
  assert.ok(a && b);
  b.field.selection = { start: 8, end: 8 }; // wo|rld
  a.type(0, "oh, ");
  a.type(10, "big ");
  await deliverAll(hub);
  assert.equal(b.field.value, "oh, hello big world");
  assert.deepEqual(b.field.selection, { start: 16, end: 16 }, "still wo|rld");
  // Inserted after it: the same offset.
  a.type(19, " again");
  await deliverAll(hub);
  assert.deepEqual(b.field.selection, { start: 16, end: 16 });
  // Inserted at the caret: the caret stays before it (as typing there would).
  a.type(16, "__");
  await deliverAll(hub);
  assert.equal(b.field.value, "oh, hello big wo__rld again");
  assert.deepEqual(b.field.selection, { start: 16, end: 16 });
});

test("a selection keeps its ends on the same characters", async () => {
  const [hub, a, b] = await start(["A", "B"], "日本語のテキスト");
  assert.ok(a && b);
  b.field.selection = { start: 4, end: 8 }; // テキスト
  a.type(0, "😀");
  a.type(6, "!"); // right before the selection: outside it
  a.type(11, "?"); // right after it: outside it too
  await deliverAll(hub);
  assert.equal(b.field.value, "😀日本語の!テキスト?");
  assert.deepEqual(b.field.selection, { start: 7, end: 11 });
  assert.equal(b.field.value.slice(7, 11), "テキスト");
  // Text deleted around the selection.
  a.remove(0, 6);
  await deliverAll(hub);
  assert.equal(b.field.value, "!テキスト?");
  assert.deepEqual(b.field.selection, { start: 1, end: 5 });
});

test("IME: remote updates wait for compositionend, then land after the composed text, caret mapped", async () => {
  const [hub, a, b] = await start(["A", "B"], "hello world");
  assert.ok(a && b);
  b.crdt.compositionStart();
  b.type(6, "にほん");
  assert.equal(b.up.length, 0, "nothing sent while composing");
  a.type(0, ">> ");
  a.type(14, "!");
  await deliverAll(hub);
  assert.equal(b.field.value, "hello にほんworld", "the composing text is untouched");
  assert.equal(b.crdt.text, "hello world", "nor did the document change under it");
  assert.equal(hub.text, ">> hello world!");
  const shows = b.field.shows;
  // The IME replaces its text with the result, then ends.
  b.field.value = "hello 日本world";
  b.field.selection = { start: 8, end: 8 };
  b.crdt.input();
  assert.equal(b.field.shows, shows, "still nothing shown");
  b.crdt.compositionEnd();
  assert.equal(b.field.value, ">> hello 日本world!");
  assert.deepEqual(b.field.selection, { start: 11, end: 11 }, "right after the composed text");
  await deliverAll(hub);
  assert.equal(a.field.value, ">> hello 日本world!");
  assert.equal(hub.text, ">> hello 日本world!");
});

test("IME: a composition that produced nothing just lets the held updates in", async () => {
  const [hub, a, b] = await start(["A", "B"], "start");
  assert.ok(a && b);
  b.field.selection = { start: 5, end: 5 };
  b.crdt.compositionStart();
  a.fill("A again");
  await deliverAll(hub);
  assert.equal(b.field.value, "start");
  b.crdt.compositionEnd();
  assert.equal(b.field.value, "A again");
  await deliverAll(hub);
  assert.equal(hub.text, "A again");
});

test("IME: the hub's step 1 is answered mid-composition, the composed text follows as an update", async () => {
  const [hub, a, b] = await start(["A", "B"], "abc");
  assert.ok(a && b);
  b.disconnect();
  b.type(3, "d"); // offline
  b.crdt.compositionStart();
  b.type(4, "か");
  b.connect();
  a.type(0, "0");
  await deliverAll(hub);
  assert.equal(hub.text, "0abcd", "the offline edit arrived, the composition did not");
  assert.equal(b.field.value, "abcdか");
  b.crdt.compositionEnd();
  await deliverAll(hub);
  for (const text of [hub.text, a.field.value, b.field.value]) assert.equal(text, "0abcdか");
});

test("offline edits merge on reconnect, on both sides", async () => {
  const [hub, a, b] = await start(["A", "B"], "one two");
  assert.ok(a && b);
  a.disconnect();
  a.type(0, "zero ");
  a.type(12, " three");
  b.type(3, ",");
  await deliverAll(hub);
  assert.equal(hub.text, "one, two");
  a.connect();
  await deliverAll(hub);
  for (const text of [hub.text, a.field.value, b.field.value]) assert.equal(text, "zero one, two three");
});

test("over the size limit: the field goes back to the document's text, nothing is sent", async () => {
  const hub = new Hub(20);
  const a = hub.peer("A", 20);
  a.connect();
  await deliverAll(hub);
  a.type(0, "0123456789");
  await deliverAll(hub);
  const sent = a.sentEdits;
  a.field.selection = { start: 5, end: 5 };
  a.field.value = "01234日本語のテキストです56789"; // 10 + 30 bytes
  a.field.selection = { start: 15, end: 15 };
  a.crdt.input();
  assert.equal(a.field.value, "0123456789", "reverted");
  assert.deepEqual(a.field.selection, { start: 5, end: 5 }, "the caret where the paste began");
  assert.match(a.lastNote ?? "", /^Not saved: .*20 bytes/);
  assert.equal(a.crdt.text, "0123456789");
  assert.equal(a.sentEdits, sent, "nothing sent");
  await deliverAll(hub);
  assert.equal(hub.refused, 0);
  // Exactly at the limit is fine.
  a.type(10, "abcdefghij");
  await deliverAll(hub);
  assert.equal(hub.text, "0123456789abcdefghij");
  assert.equal(a.lastNote, "", "the error is cleared by the next save");
});

test("a token without the text right: the field does not change and no step 2 is sent", async () => {
  const [hub, a, b] = await start(["A", "B"], "read me");
  assert.ok(a && b);
  b.disconnect();
  b.mayEdit = false;
  b.crdt.setEditable(false);
  b.connect();
  await deliverAll(hub);
  b.type(0, "x");
  assert.equal(b.field.value, "read me");
  assert.match(b.lastNote ?? "", /^Not saved: /);
  a.type(7, "!");
  await deliverAll(hub);
  assert.equal(b.field.value, "read me!", "still follows the others");
  assert.equal(hub.refused, 0, "the hub never had to refuse anything");
});

test("edits the hub refuses (the size limit, reached together) are dropped; the hub's text is shown", async () => {
  const hub = new Hub(20);
  const a = hub.peer("A", 20);
  const b = hub.peer("B", 20);
  a.connect();
  b.connect();
  await deliverAll(hub);
  a.fill("0123456789");
  await deliverAll(hub);
  // Each fits alone; together they are too long.
  a.type(10, "AAAAAAAA");
  b.type(0, "BBBBBBBB");
  deliverOne(a, "up");
  await settle();
  deliverOne(b, "up");
  await settle();
  assert.equal(hub.refused, 1);
  assert.match(b.lastNote ?? "", /^Not saved: text is over 20 bytes/);
  assert.ok(b.crdt.reloading);
  // While the hub's text loads, typing is refused (it would not be saved).
  b.type(0, "x");
  assert.equal(b.field.value, "BBBBBBBB0123456789");
  await deliverAll(hub);
  assert.ok(!b.crdt.reloading);
  for (const text of [hub.text, a.field.value, b.field.value]) assert.equal(text, "0123456789AAAAAAAA");
  // And B edits on from there.
  b.remove(0, 10);
  await deliverAll(hub);
  for (const text of [hub.text, a.field.value, b.field.value]) assert.equal(text, "AAAAAAAA");
  assert.equal(hub.refused, 1);
});

test("messages that are not sync messages, or broken ones, change nothing", async () => {
  const [hub, a] = await start(["A"], "kept");
  assert.ok(a);
  for (const junk of [new Uint8Array([]), new Uint8Array([1, 0]), new Uint8Array([0, 9, 9]), new Uint8Array([0, 2, 5, 1])]) {
    a.crdt.receive(junk);
  }
  await deliverAll(hub);
  assert.equal(a.field.value, "kept");
  assert.equal(a.crdt.text, "kept");
});

// ---------------------------------------------------------------------------
// Epochs: the hub cuts its document and sends the new one (`text_reset`).

function resetMessage(epoch: number, base: Uint8Array | null, doc: Uint8Array): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, epoch);
  encoding.writeVarUint(e, base === null ? 0 : 1);
  if (base !== null) encoding.writeVarUint8Array(e, base);
  encoding.writeVarUint8Array(e, doc);
  return encoding.toUint8Array(e);
}

/** A `text_rebase`'s parts. */
function readRebase(message: Uint8Array): { from: number; to: number; update: Uint8Array } {
  const d = decoding.createDecoder(message);
  return { from: decoding.readVarUint(d), to: decoding.readVarUint(d), update: decoding.readVarUint8Array(d) };
}

/** The text of `doc` with `update` applied (a copy). */
function withUpdate(doc: Y.Doc, update: Uint8Array): string {
  const merged = new Y.Doc();
  Y.applyUpdate(merged, Y.encodeStateAsUpdate(doc));
  Y.applyUpdate(merged, update);
  return merged.getText(TEXT_NAME).toString();
}

/** A page on a hub that cuts its document: the old one ("hello world"), the new one's start, and what was sent. */
function cutSetup() {
  const field = new Field();
  const rebases: { message: Uint8Array; ack: (r: SendResult) => void }[] = [];
  const synced: Uint8Array[] = [];
  const epochs: number[] = [];
  const crdt = new CrdtText(field, {
    send: (message) => {
      synced.push(message);
      return new Promise<SendResult>(() => undefined); // the hub never answers these
    },
    sendRebase: (message) => new Promise((ack) => rebases.push({ message, ack })),
    onEpoch: (epoch) => epochs.push(epoch),
  });
  crdt.welcomed(0);
  crdt.connect();
  const hubOld = new Y.Doc();
  hubOld.getText(TEXT_NAME).insert(0, "hello world");
  crdt.receive(frame((e) => syncProtocol.writeUpdate(e, Y.encodeStateAsUpdate(hubOld))));
  const hubNew = new Y.Doc();
  hubNew.clientID = 77;
  hubNew.getText(TEXT_NAME).insert(0, "hello world");
  return { field, rebases, synced, epochs, crdt, hubOld, hubNew };
}

/** The hub's new document did `edit`: the page is sent the update. */
function hubEdits(crdt: CrdtText, hubNew: Y.Doc, edit: (t: Y.Text) => void): void {
  const before = Y.encodeStateVector(hubNew);
  edit(hubNew.getText(TEXT_NAME));
  const update = Y.encodeStateAsUpdate(hubNew, before);
  crdt.receive(frame((e) => syncProtocol.writeUpdate(e, update)));
}

test("a reset keeps the old document shown until the hub has all of ours; typing meanwhile is carried onto the new one", () => {
  const { field, rebases, synced, epochs, crdt, hubOld, hubNew } = cutSetup();
  assert.equal(field.value, "hello world");
  // Typed, not yet sent when the cut comes; the caret after "big ".
  field.value = "hello big world";
  field.selection = { start: 10, end: 10 };
  crdt.reset(resetMessage(77, Y.encodeStateVector(hubOld), Y.encodeStateAsUpdate(hubNew)));
  assert.equal(crdt.epoch, 77);
  assert.deepEqual(epochs, [0, 77]);
  // The field keeps what was typed: the new document lacks it until the hub rebases it.
  assert.equal(field.value, "hello big world");
  assert.equal(rebases.length, 1);
  const first = readRebase(rebases[0]!.message);
  assert.deepEqual([first.from, first.to], [0, 77]);
  assert.equal(withUpdate(hubOld, first.update), "hello big world");
  // The hub rebases it and sends the result (before the ack): taken, unseen.
  hubEdits(crdt, hubNew, (t) => t.insert(6, "big "));
  assert.equal(field.value, "hello big world");
  // Typing goes on in the old document, the caret where the user put it; nothing is sent as text_sync.
  const sentBefore = synced.length;
  field.value = "hello big xworld";
  field.selection = { start: 11, end: 11 };
  crdt.input();
  assert.equal(synced.length, sentBefore);
  // Someone else's edit in the new epoch, before the ack: unseen still.
  hubEdits(crdt, hubNew, (t) => t.insert(0, ">> "));
  assert.equal(field.value, "hello big xworld");
  // The ack: the new document shows, with what was typed since done again
  // on it (sent as an update of the new epoch), the caret after the x.
  rebases[0]!.ack({ status: "accepted" });
  return settle().then(() => {
    assert.equal(rebases.length, 1, "no second rebase: the switch ends after one round trip");
    assert.equal(field.value, ">> hello big xworld");
    assert.deepEqual(field.selection, { start: 14, end: 14 });
    assert.equal(crdt.text, ">> hello big xworld");
    assert.equal(synced.length, sentBefore + 1);
    const d = decoding.createDecoder(synced.at(-1)!);
    assert.equal(decoding.readVarUint(d), 0);
    assert.equal(decoding.readVarUint(d), syncProtocol.messageYjsUpdate);
    Y.applyUpdate(hubNew, decoding.readVarUint8Array(d));
    assert.equal(hubNew.getText(TEXT_NAME).toString(), ">> hello big xworld");
    // Typing now is an update of the new document.
    field.value = ">> hello big xyworld";
    field.selection = { start: 15, end: 15 };
    crdt.input();
    assert.equal(synced.length, sentBefore + 2);
  });
});

test("a rebase not acked is sent again on the next connect, with what was typed offline", async () => {
  const { field, rebases, crdt, hubOld, hubNew } = cutSetup();
  field.value = "hello big world";
  field.selection = { start: 10, end: 10 };
  crdt.reset(resetMessage(77, Y.encodeStateVector(hubOld), Y.encodeStateAsUpdate(hubNew)));
  crdt.disconnect();
  rebases[0]!.ack({ status: "offline" });
  await settle();
  field.value = "hello big big world";
  field.selection = { start: 14, end: 14 };
  crdt.input();
  crdt.connect();
  assert.equal(rebases.length, 2);
  assert.equal(withUpdate(hubOld, readRebase(rebases[1]!.message).update), "hello big big world");
  hubEdits(crdt, hubNew, (t) => t.insert(6, "big big "));
  rebases[1]!.ack({ status: "accepted" });
  await settle();
  assert.equal(field.value, "hello big big world");
  assert.equal(crdt.text, "hello big big world");
});

test("a rebase acked mid-composition: the switch waits for the composition's end, whose text is carried over", async () => {
  const { field, rebases, synced, crdt, hubOld, hubNew } = cutSetup();
  field.value = "hello world!";
  field.selection = { start: 12, end: 12 };
  crdt.reset(resetMessage(77, Y.encodeStateVector(hubOld), Y.encodeStateAsUpdate(hubNew)));
  hubEdits(crdt, hubNew, (t) => t.insert(11, "!"));
  crdt.compositionStart();
  field.value = "hello world!にほ";
  field.selection = { start: 14, end: 14 };
  rebases[0]!.ack({ status: "accepted" });
  await settle();
  const sentBefore = synced.length;
  assert.equal(field.value, "hello world!にほ");
  assert.equal(crdt.text, "hello world!", "nothing taken mid-composition");
  crdt.compositionEnd();
  assert.equal(crdt.text, "hello world!にほ");
  assert.deepEqual(field.selection, { start: 14, end: 14 });
  assert.equal(synced.length, sentBefore + 1);
  const d = decoding.createDecoder(synced.at(-1)!);
  decoding.readVarUint(d);
  decoding.readVarUint(d);
  Y.applyUpdate(hubNew, decoding.readVarUint8Array(d));
  assert.equal(hubNew.getText(TEXT_NAME).toString(), "hello world!にほ");
});

test("carrySplice: our change made again on their text", () => {
  // Theirs before ours, after ours, none, and overlapping.
  assert.deepEqual(carrySplice("abc def", "abc dXef", ">abc def"), { index: 6, remove: 0, insert: "X" });
  assert.deepEqual(carrySplice("abc def", "aXbc def", "abc def<"), { index: 1, remove: 0, insert: "X" });
  assert.deepEqual(carrySplice("abc def", "abc de", "abc def"), { index: 6, remove: 1, insert: "" });
  assert.equal(carrySplice("abc", "abc", "xyz"), null);
  // Both changed "def": ours goes in, none of theirs is removed.
  const s = carrySplice("abc def", "abc dYf", "abc dZZf");
  assert.ok(s);
  const after = "abc dZZf".slice(0, s.index) + s.insert + "abc dZZf".slice(s.index + s.remove);
  assert.ok(after.includes("Y") && after.includes("ZZ"), after);
});

test("a reset during an IME composition waits for its end", () => {
  const field = new Field();
  const crdt = new CrdtText(field, { send: () => Promise.resolve({ status: "accepted" }) });
  crdt.connect();
  const fresh = new Y.Doc();
  fresh.getText(TEXT_NAME).insert(0, "new epoch");
  crdt.compositionStart();
  field.value = "にほ";
  crdt.reset(resetMessage(5, null, Y.encodeStateAsUpdate(fresh)));
  assert.equal(field.value, "にほ");
  assert.equal(crdt.epoch, null);
  crdt.compositionEnd();
  assert.equal(crdt.epoch, 5);
  assert.equal(field.value, "new epoch");
});
