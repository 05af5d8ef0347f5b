import assert from "node:assert/strict";
import { test } from "node:test";

import { TextModeChooser } from "../src/core/text-mode.js";
import { parseWelcome } from "../src/core/welcome.js";

test("welcome.text: only \"yjs\" is kept", () => {
  assert.equal(parseWelcome({ last_id: 1, text: "yjs" }).text, "yjs");
  assert.equal(parseWelcome({ last_id: 1 }).text, undefined);
  assert.equal(parseWelcome({ text: "automerge" }).text, undefined);
  assert.equal(parseWelcome({ text: true }).text, undefined);
});

test("a hub whose welcome says yjs: the Yjs document", () => {
  const m = new TextModeChooser(true);
  assert.equal(m.online(true), null, "not known at connect");
  assert.equal(m.decided, false, "nothing may be sent yet");
  assert.equal(m.welcome(parseWelcome({ last_id: 0, text: "yjs" })), "crdt");
  assert.equal(m.decided, true);
  assert.equal(m.mode, "crdt");
  assert.equal(m.textUpdate(), null, "decided once per connection");
  assert.equal(m.mode, "crdt");
});

test("the seed's server (no welcome, a text_update) and hubs without yjs: full text", () => {
  const seed = new TextModeChooser(true);
  seed.online(true);
  assert.equal(seed.textUpdate(), "legacy");
  assert.equal(seed.welcome(parseWelcome({ text: "yjs" })), null, "too late: this connection is full text");
  assert.equal(seed.mode, "legacy");

  const older = new TextModeChooser(true);
  older.online(true);
  assert.equal(older.welcome(parseWelcome({ last_id: 3, channels: ["default"] })), "legacy");
});

test("a transport without text_sync (the desktop app): full text from the connect on", () => {
  const m = new TextModeChooser(false);
  assert.equal(m.online(true), "legacy");
  assert.equal(m.decided, true);
  assert.equal(m.welcome(parseWelcome({ text: "yjs" })), null);
  assert.equal(m.mode, "legacy");
});

test("each connection decides again; offline, edits follow the last connection's way", () => {
  const m = new TextModeChooser(true);
  m.online(true);
  m.welcome(parseWelcome({ text: "yjs" }));
  assert.equal(m.online(false), null);
  assert.equal(m.decided, false);
  assert.equal(m.mode, "crdt", "offline edits still go into the document");
  assert.equal(m.online(false), null, "repeated statuses change nothing");
  m.online(true);
  assert.equal(m.decided, false);
  assert.equal(m.mode, "crdt");
  assert.equal(m.textUpdate(), "legacy", "the hub went back to full text");
  assert.equal(m.mode, "legacy");
  assert.equal(m.welcome(parseWelcome({ text: "yjs" })), null, "decided once per connection");
});

test("what arrives before the connect decides the connection about to open", () => {
  // The seed's Flask app sends text_update before its CONNECT ack, and no welcome.
  const flask = new TextModeChooser(true);
  assert.equal(flask.textUpdate(), null);
  assert.equal(flask.decided, false);
  assert.equal(flask.online(true), "legacy");
  assert.equal(flask.decided, true);

  const hub = new TextModeChooser(true);
  hub.online(false); // "connecting"
  assert.equal(hub.welcome(parseWelcome({ text: "yjs" })), null);
  assert.equal(hub.textUpdate(), null, "the first word wins");
  assert.equal(hub.online(true), "crdt");

  // A reconnect: what came before the drop does not count for the next connection.
  hub.online(false);
  assert.equal(hub.online(true), null);
  assert.equal(hub.decided, false);
  hub.online(false);
  hub.textUpdate();
  hub.online(false); // "reconnecting" again: still heard
  assert.equal(hub.online(true), "legacy");
});
