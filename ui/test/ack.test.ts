import assert from "node:assert/strict";
import { test } from "node:test";

import {
  buildNotificationRequest,
  describeSendResult,
  historyFromAck,
  interpretAck,
  interpretSubscribeAck,
} from "../src/core/ack.js";
import { describeStatus, isAuthError } from "../src/core/status.js";
import { formatTime } from "../src/core/format.js";

test("the request is seed-compatible, with the title as `text` only", () => {
  assert.deepEqual(buildNotificationRequest({ title: "Build", body: "", tag: "", url: "", channel: "default" }), { text: "Build", num: null });
  assert.deepEqual(buildNotificationRequest({ title: "Build", body: "red", tag: " ci ", url: " https://ci.example/1 ", channel: "default" }), {
    text: "Build",
    num: null,
    body: "red",
    tag: "ci",
    url: "https://ci.example/1",
  });
});

test("`channel` is sent only when it is not `default`", () => {
  const draft = { title: "Build", body: "", tag: "", url: "" };
  assert.equal("channel" in buildNotificationRequest({ ...draft, channel: "default" }), false, "seed servers get what they always got");
  assert.equal("channel" in buildNotificationRequest({ ...draft, channel: "" }), false);
  assert.equal("channel" in buildNotificationRequest({ ...draft, channel: " default " }), false);
  assert.deepEqual(buildNotificationRequest({ ...draft, channel: " ops " }), { text: "Build", num: null, channel: "ops" });
});

test("subscribe acks", () => {
  assert.deepEqual(interpretSubscribeAck(null, { ok: true, channels: ["default", "ops", "ops", "bad name", 3] }), {
    status: "accepted",
    channels: ["default", "ops"],
  });
  assert.deepEqual(interpretSubscribeAck(null, { ok: true, channels: ["*"] }), { status: "accepted", channels: ["*"] });
  assert.deepEqual(interpretSubscribeAck(null, { ok: true }), { status: "accepted", channels: null });
  assert.deepEqual(interpretSubscribeAck(null, undefined), { status: "accepted", channels: null });
  assert.deepEqual(interpretSubscribeAck(null, { ok: false, error: "token may not read channel x" }), {
    status: "rejected",
    error: "token may not read channel x",
  });
  assert.deepEqual(interpretSubscribeAck(new Error("operation has timed out"), undefined), { status: "unacknowledged" });
});

test("acks", () => {
  assert.deepEqual(interpretAck(null, { ok: true, id: 12 }), { status: "accepted", id: "12" });
  assert.deepEqual(interpretAck(null, { ok: true }), { status: "accepted" });
  assert.deepEqual(interpretAck(null, undefined), { status: "accepted" }, "Flask acks with no arguments");
  assert.deepEqual(interpretAck(null, { ok: false, error: "title is too long" }), { status: "rejected", error: "title is too long" });
  assert.deepEqual(interpretAck(null, { ok: false }), { status: "rejected", error: "refused by the hub" });
  assert.deepEqual(interpretAck(new Error("operation has timed out"), undefined), { status: "unacknowledged" });
  assert.equal(describeSendResult({ status: "accepted", id: "3" }), "Sent (#3)");
  assert.equal(describeSendResult({ status: "unacknowledged" }), "Sent (no acknowledgement)");
  assert.equal(describeSendResult({ status: "rejected", error: "no" }), "Refused: no");
  assert.equal(describeSendResult({ status: "offline" }), "Not connected: not sent");
});

test("history acks", () => {
  assert.deepEqual(historyFromAck(null, { ok: true, notifications: [{ id: 1 }] }), [{ id: 1 }]);
  assert.equal(historyFromAck(null, { ok: false, error: "x" }), null);
  assert.equal(historyFromAck(new Error("timeout"), undefined), null);
  assert.equal(historyFromAck(null, { ok: true, notifications: "nope" }), null);
  assert.equal(historyFromAck(null, null), null);
});

test("status sentences", () => {
  assert.equal(describeStatus({ state: "connected" }), "Connected");
  assert.equal(describeStatus({ state: "reconnecting", attempt: 3 }), "Reconnecting (attempt 3)…");
  assert.equal(describeStatus({ state: "reconnecting", attempt: 0 }), "Reconnecting…");
  assert.equal(describeStatus({ state: "disconnected", reason: "invalid token", refused: true }), "Disconnected: invalid token");
  assert.equal(isAuthError("authentication required: send {\"token\": …} in the auth payload"), true);
  assert.equal(isAuthError("invalid token"), true);
  assert.equal(isAuthError("Invalid namespace"), false);
});

test("times", () => {
  const now = new Date(2026, 10, 21, 15, 30, 0).getTime();
  assert.equal(formatTime(new Date(2026, 10, 21, 9, 5, 7).getTime(), now), "09:05:07");
  assert.equal(formatTime(new Date(2026, 10, 20, 23, 59, 0).getTime(), now), "2026-11-20 23:59");
});
