import assert from "node:assert/strict";
import { test } from "node:test";

import {
  asSubscriptions,
  channelDiff,
  channelOf,
  checkSendChannel,
  follows,
  formatChannelList,
  isChannelName,
  isSubscription,
  parseChannelList,
  parseSubscriptions,
  sameChannels,
  sortChannels,
} from "../src/core/channels.js";
import { parseWelcome } from "../src/core/welcome.js";

test("channel names: 1 to 64 of A-Z a-z 0-9 _ -", () => {
  for (const ok of ["default", "ops", "A-b_9", "x", "a".repeat(64), "-", "_"]) assert.equal(isChannelName(ok), true, ok);
  for (const bad of ["", "a".repeat(65), "a b", "a,b", "ops!", "é", "*", "a*", "<b>", " ops", 3, null, undefined, ["ops"]]) {
    assert.equal(isChannelName(bad), false, String(bad));
  }
});

test("`*` is a subscription, not a channel", () => {
  assert.equal(isSubscription("*"), true);
  assert.equal(isSubscription("ops"), true);
  assert.equal(isSubscription("**"), false);
  assert.equal(isSubscription("ops*"), false);
  assert.equal(checkSendChannel("*").ok, false);
});

test("the channel to send to", () => {
  assert.deepEqual(checkSendChannel(""), { ok: true, channel: "default" });
  assert.deepEqual(checkSendChannel("  "), { ok: true, channel: "default" });
  assert.deepEqual(checkSendChannel(" ops "), { ok: true, channel: "ops" });
  assert.equal(checkSendChannel("two words").ok, false);
  assert.equal(checkSendChannel("a".repeat(65)).ok, false);
});

test("a payload's channel: absent means default", () => {
  assert.equal(channelOf({ title: "seed", body: "b", icon: "images/icon.png", tag: "", data1: null }), "default");
  assert.equal(channelOf({ channel: "ops" }), "ops");
  assert.equal(channelOf({ channel: "default" }), "default");
  assert.equal(channelOf({ channel: null }), "default");
  assert.equal(channelOf({ channel: "" }), "default");
  assert.equal(channelOf({ channel: "<img src=x>" }), "default", "not a name");
  assert.equal(channelOf({ channel: 7 }), "default");
  assert.equal(channelOf(null), "default");
});

test("channel lists: comma or space separated, each once, in order", () => {
  assert.deepEqual(parseChannelList("ops, dev ops,,default  dev"), { channels: ["ops", "dev", "default"], invalid: [] });
  assert.deepEqual(parseChannelList(" \n\t, "), { channels: [], invalid: [] });
  assert.deepEqual(parseChannelList("ops, bad!, *"), { channels: ["ops"], invalid: ["bad!", "*"] }, "`*` only for subscriptions");
  assert.deepEqual(parseChannelList("ops, *", { subscriptions: true }), { channels: ["*"], invalid: [] }, "`*` stands alone");
  assert.deepEqual(parseChannelList("ops,Ops", { subscriptions: true }), { channels: ["ops", "Ops"], invalid: [] }, "case matters");
});

test("what to follow, from the Channels field", () => {
  assert.deepEqual(parseSubscriptions(""), { ok: true, channels: ["default"] }, "empty: default");
  assert.deepEqual(parseSubscriptions("ops"), { ok: true, channels: ["ops"] });
  assert.deepEqual(parseSubscriptions("*"), { ok: true, channels: ["*"] });
  const bad = parseSubscriptions("ops, no!, *x");
  assert.equal(bad.ok, false);
  assert.ok(!bad.ok && bad.error.includes("“no!”") && bad.error.includes("“*x”"), !bad.ok ? bad.error : "");
  assert.equal(formatChannelList(["default", "ops"]), "default, ops");
});

test("subscription lists from the network", () => {
  assert.deepEqual(asSubscriptions(["default", "*", "default", "x y", 1, null]), ["default", "*"]);
  assert.deepEqual(asSubscriptions([]), []);
  assert.equal(asSubscriptions("default"), null);
  assert.equal(asSubscriptions(undefined), null);
});

test("following, and the difference between two lists", () => {
  assert.equal(follows(["default"], "default"), true);
  assert.equal(follows(["default"], "ops"), false);
  assert.equal(follows(["*"], "ops"), true);
  assert.equal(follows([], "default"), false);
  assert.equal(sameChannels(["a", "b"], ["b", "a", "a"]), true);
  assert.equal(sameChannels(["a"], ["a", "b"]), false);
  assert.deepEqual(channelDiff(["default"], ["ops"]), { subscribe: ["ops"], unsubscribe: ["default"] });
  assert.deepEqual(channelDiff(["default", "ops"], ["ops", "dev"]), { subscribe: ["dev"], unsubscribe: ["default"] });
  assert.deepEqual(channelDiff(["default"], ["*"]), { subscribe: ["*"], unsubscribe: ["default"] });
  assert.deepEqual(channelDiff(["a", "b"], ["b", "a"]), { subscribe: [], unsubscribe: [] });
});

test("channels sorted for menus: default first", () => {
  assert.deepEqual(sortChannels(["ops", "alerts", "default", "Zed", "ops"]), ["default", "Zed", "alerts", "ops"]);
  assert.deepEqual(sortChannels([]), []);
});

test("welcome: last_id and version as before, channels and rights when sent", () => {
  assert.deepEqual(parseWelcome({ last_id: 12, version: "0.3.0" }), { lastId: 12, version: "0.3.0" });
  assert.deepEqual(parseWelcome(null), {});
  assert.deepEqual(parseWelcome({ last_id: -1, version: 3 }), {});
  assert.deepEqual(
    parseWelcome({ last_id: 0, channels: ["default", "ops", "bad one"], rights: { read: ["*"], write: ["ops", "team-*"], text: false } }),
    { lastId: 0, channels: ["default", "ops"], rights: { read: ["*"], write: ["ops", "team-*"], text: false } },
  );
  assert.deepEqual(parseWelcome({ channels: "ops", rights: { read: "*", write: [], text: true } }), {}, "malformed: left out");
});
