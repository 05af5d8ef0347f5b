import assert from "node:assert/strict";
import { test } from "node:test";

import { SharedTextSync } from "../src/core/shared-text.js";

function online(): SharedTextSync {
  const s = new SharedTextSync();
  s.setOnline(true);
  assert.equal(s.remote(""), ""); // the connect-time text_update
  return s;
}

test("local edits are sent once each", () => {
  const s = online();
  assert.equal(s.input("a"), true);
  assert.equal(s.flush(), "a");
  assert.equal(s.flush(), null);
  assert.equal(s.input("a"), false, "unchanged");
});

test("remote updates replace the text when idle", () => {
  const s = online();
  assert.equal(s.remote("from a peer"), "from a peer");
  assert.equal(s.pending(), false, "no echo back");
});

test("mid-composition: remote text is held, never applied, nothing is sent", () => {
  const s = online();
  s.compositionStart("");
  assert.equal(s.input("にほんご"), false, "nothing sent while composing");
  assert.equal(s.remote("peer text"), null);
  assert.equal(s.remote("peer text 2"), null);
  // The composition produced text: ours stands and is sent.
  assert.equal(s.compositionEnd("日本語"), null);
  assert.equal(s.flush(), "日本語");
});

test("a composition that changed nothing lets the held text in", () => {
  const s = online();
  s.input("base");
  s.flush();
  s.compositionStart("base");
  s.input("baseに");
  assert.equal(s.remote("peer"), null);
  s.input("base"); // cancelled
  assert.equal(s.compositionEnd("base"), "peer");
  assert.equal(s.pending(), false);
});

test("a held text equal to ours needs nothing", () => {
  const s = online();
  s.compositionStart("");
  s.remote("");
  assert.equal(s.compositionEnd(""), null);
  assert.equal(s.pending(), false);
});

test("unsent local edits win over a remote update", () => {
  const s = online();
  s.input("mine");
  assert.equal(s.remote("theirs"), null);
  assert.equal(s.flush(), "mine");
});

test("offline edits survive the reconnect (hub sends its text first, as Flask does)", () => {
  const s = online();
  s.setOnline(false);
  assert.equal(s.input("typed offline"), false, "not sent while offline");
  assert.equal(s.remote("stale hub text"), null, "connect-time text does not clobber");
  s.setOnline(true);
  assert.equal(s.flush(), "typed offline");
});

test("offline edits survive the reconnect (connect first, then the hub's text, as Node does)", () => {
  const s = online();
  s.setOnline(false);
  s.input("typed offline");
  s.setOnline(true);
  assert.equal(s.flush(), "typed offline");
  assert.equal(s.remote("stale hub text"), null, "older than what we sent");
  assert.equal(s.remote("a peer, later"), "a peer, later");
});

test("a fresh page takes the hub's text", () => {
  const s = new SharedTextSync();
  s.setOnline(true);
  assert.equal(s.flush(), null, "an empty page has nothing to say");
  assert.equal(s.remote("hub text"), "hub text");
});
