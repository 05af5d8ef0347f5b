import assert from "node:assert/strict";
import { test } from "node:test";

import { HistoryList, filterByChannel } from "../src/core/history.js";
import { normalizeNotification, type HubNotification } from "../src/core/notification.js";

function n(fields: Record<string, unknown>): HubNotification {
  const out = normalizeNotification({ title: "t", body: "b", icon: "images/icon.png", tag: "", data1: null, ...fields }, 1000);
  assert.ok(out);
  return out;
}

const titles = (h: HistoryList) => h.entries.map((e) => e.title);

test("newest first", () => {
  const h = new HistoryList();
  h.add(n({ title: "one" }));
  h.add(n({ title: "two" }));
  h.add(n({ title: "three" }));
  assert.deepEqual(titles(h), ["three", "two", "one"]);
});

test("the same id is shown once, whatever replays it", () => {
  const h = new HistoryList();
  assert.equal(h.add(n({ id: 1, title: "a" })), "added");
  assert.equal(h.add(n({ id: 1, title: "a" })), "duplicate");
  assert.equal(h.add(n({ id: "1", title: "a" })), "duplicate", "the same id as a string");
  assert.equal(h.add(n({ id: 2, title: "b" })), "added");
  assert.deepEqual(titles(h), ["b", "a"]);
  assert.equal(h.lastId, 2);
});

test("notifications without an id (seed servers) are never de-duplicated", () => {
  const h = new HistoryList();
  h.add(n({ title: "same" }));
  h.add(n({ title: "same" }));
  assert.equal(h.entries.length, 2);
  assert.notEqual(h.entries[0]?.key, h.entries[1]?.key);
  assert.equal(h.lastId, undefined);
});

test("a non-empty tag replaces the entry holding it, and goes on top", () => {
  const h = new HistoryList();
  h.add(n({ id: 1, title: "build started", tag: "build" }));
  h.add(n({ id: 2, title: "other" }));
  assert.equal(h.add(n({ id: 3, title: "build passed", tag: "build" })), "replaced");
  assert.deepEqual(titles(h), ["build passed", "other"]);
  assert.equal(h.entries.filter((e) => e.tag === "build").length, 1);
});

test("an empty tag never de-duplicates", () => {
  const h = new HistoryList();
  h.add(n({ tag: "" }));
  h.add(n({ tag: "" }));
  h.add(n({ tag: null }));
  assert.equal(h.entries.length, 3);
});

test("a replayed older notification does not replace a newer one with its tag", () => {
  const h = new HistoryList();
  h.add(n({ id: 10, title: "deploy v2", tag: "deploy" }));
  assert.equal(h.add(n({ id: 4, title: "deploy v1", tag: "deploy" })), "stale");
  assert.deepEqual(titles(h), ["deploy v2"]);
  assert.equal(h.add(n({ id: 4, title: "deploy v1", tag: "deploy" })), "duplicate");
});

test("history arriving after a live notification is placed below it, in id order", () => {
  const h = new HistoryList();
  h.add(n({ id: 51, title: "live" }));
  for (const id of [48, 49, 50, 51]) h.add(n({ id, title: `h${id}` }));
  assert.deepEqual(titles(h), ["live", "h50", "h49", "h48"]);
  // Descending replay order gives the same list.
  const d = new HistoryList();
  d.add(n({ id: 51, title: "live" }));
  for (const id of [50, 49, 48]) d.add(n({ id, title: `h${id}` }));
  assert.deepEqual(titles(d), ["live", "h50", "h49", "h48"]);
});

test("capped: the oldest fall off", () => {
  const h = new HistoryList(3);
  for (let id = 1; id <= 5; id++) h.add(n({ id, title: `n${id}` }));
  assert.deepEqual(titles(h), ["n5", "n4", "n3"]);
  assert.equal(h.add(n({ id: 1, title: "n1" })), "duplicate", "still remembered after falling off");
});

test("a hub that lost its history (ids start over) is followed", () => {
  const h = new HistoryList();
  h.add(n({ id: 7, title: "old seven" }));
  h.add(n({ id: 8, title: "old eight" }));
  assert.equal(h.hubLastId(8), false);
  assert.equal(h.hubLastId(100), false);
  assert.equal(h.hubLastId(0), true);
  assert.equal(h.lastId, undefined);
  assert.equal(h.add(n({ id: 7, title: "new seven" })), "added");
  assert.deepEqual(titles(h), ["new seven", "old eight", "old seven"]);
  const keys = h.entries.map((e) => e.key);
  assert.equal(new Set(keys).size, keys.length, "keys stay unique");
});

test("payloads are normalized: never trusted, always text", () => {
  assert.equal(normalizeNotification(null, 0), null);
  assert.equal(normalizeNotification("x", 0), null);
  assert.equal(normalizeNotification([1], 0), null);
  const x = normalizeNotification(
    { title: { toString: "evil" }, body: 42, tag: ["a"], url: 5, id: { a: 1 }, data1: { k: [1, 2] }, timestamp: "nope" },
    5,
  );
  assert.ok(x);
  assert.equal(x.title, "");
  assert.equal(x.body, "42");
  assert.equal(x.tag, "");
  assert.equal(x.url, "5");
  assert.equal(x.id, null);
  assert.equal(x.data1, '{"k":[1,2]}');
  assert.equal(x.timestamp, null);
  assert.equal(x.receivedAt, 5);
  const seed = normalizeNotification({ title: "hi", body: "this is push notification.", icon: "images/icon.png", tag: "", data1: "" }, 0);
  assert.equal(seed?.data1, "");
  assert.equal(seed?.id, null);
  assert.equal(normalizeNotification({ timestamp: 1_700_000_000 }, 0)?.timestamp, 1_700_000_000_000, "seconds");
  assert.equal(normalizeNotification({ timestamp: 1_700_000_000_123 }, 0)?.timestamp, 1_700_000_000_123, "ms");
  assert.equal(normalizeNotification({ id: -1 }, 0)?.id, null);
  assert.equal(normalizeNotification({ id: "abc" }, 0)?.numericId, null);
  assert.equal(normalizeNotification({ id: "12" }, 0)?.numericId, 12);
  assert.equal(normalizeNotification({ title: "x".repeat(5000) }, 0)?.title.length, 1025);
});

test("every entry has a channel; absent means default", () => {
  assert.equal(n({}).channel, "default");
  assert.equal(n({ channel: "ops" }).channel, "ops");
  assert.equal(n({ channel: "not a name" }).channel, "default");
});

test("the channels seen, default first, also after their entries went", () => {
  const h = new HistoryList();
  assert.deepEqual(h.channels, []);
  h.add(n({ id: 1, channel: "ops" }));
  h.add(n({ id: 2 }));
  h.add(n({ id: 3, channel: "alerts" }));
  h.add(n({ id: 4, channel: "ops" }));
  assert.deepEqual(h.channels, ["default", "alerts", "ops"]);
  h.retain((e) => e.channel === "default");
  assert.deepEqual(h.channels, ["default", "alerts", "ops"]);
});

test("filtering by channel keeps the order; null shows all", () => {
  const h = new HistoryList();
  h.add(n({ id: 1, title: "d1" }));
  h.add(n({ id: 2, title: "o1", channel: "ops" }));
  h.add(n({ id: 3, title: "d2", channel: "default" }));
  h.add(n({ id: 4, title: "o2", channel: "ops" }));
  assert.deepEqual(filterByChannel(h.entries, "ops").map((e) => e.title), ["o2", "o1"]);
  assert.deepEqual(filterByChannel(h.entries, "default").map((e) => e.title), ["d2", "d1"]);
  assert.deepEqual(filterByChannel(h.entries, "none").map((e) => e.title), []);
  assert.deepEqual(filterByChannel(h.entries, null).map((e) => e.title), ["o2", "d2", "o1", "d1"]);
});

test("a tag replaces only within its channel", () => {
  const h = new HistoryList();
  h.add(n({ id: 1, title: "ops deploy", tag: "deploy", channel: "ops" }));
  assert.equal(h.add(n({ id: 2, title: "dev deploy", tag: "deploy", channel: "dev" })), "added");
  assert.equal(h.add(n({ id: 3, title: "ops deploy 2", tag: "deploy", channel: "ops" })), "replaced");
  assert.deepEqual(titles(h), ["ops deploy 2", "dev deploy"]);
});

test("entries of channels no longer followed go, and can come back", () => {
  const h = new HistoryList();
  h.add(n({ id: 1, title: "d" }));
  h.add(n({ id: 2, title: "o", channel: "ops" }));
  assert.equal(h.retain((e) => e.channel === "ops"), 1);
  assert.deepEqual(titles(h), ["o"]);
  assert.equal(h.lastId, 2, "still where the replay starts");
  assert.equal(h.add(n({ id: 2, title: "o", channel: "ops" })), "duplicate", "kept ones stay de-duplicated");
  assert.equal(h.add(n({ id: 1, title: "d" })), "added", "a removed one comes back (its channel followed again)");
  assert.deepEqual(titles(h), ["o", "d"]);
});
