#!/usr/bin/env node
// Drives a Socket.IO server with the reference JS client (socket.io-client
// 4.8) through the seed's events, and with --helpers through the test helpers
// (echo with binary, ask_ack, kick, /admin). Prints one JSON line describing
// what was observed, for peers_selftest.rs to check.
//   usage: node probe.js URL [--helpers]
"use strict";

const { io } = require("socket.io-client");

const url = process.argv[2];
const helpers = process.argv.includes("--helpers");
const opts = { transports: ["websocket"], reconnection: false, forceNew: true };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Connects and records every event (name + args) the socket receives.
async function client(nsp = "") {
  const socket = io(url + nsp, opts);
  socket.log = [];
  // An ack callback (a function) is left out of the record.
  socket.onAny((event, ...args) => socket.log.push([event, ...args.filter((x) => typeof x !== "function")]));
  await new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", reject);
  });
  return socket;
}

// Buffers become {bin: [...]} so the JSON output shows them unambiguously.
const plain = (v) =>
  Buffer.isBuffer(v) || v instanceof ArrayBuffer
    ? { bin: [...Buffer.from(v)] }
    : Array.isArray(v)
      ? v.map(plain)
      : v && typeof v === "object"
        ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]))
        : v;

async function main() {
  const out = {};
  const a = await client();
  await sleep(200);
  const b = await client();
  await sleep(200);
  a.emit("text_update_request", { text: "hi" });
  a.emit("send_notification_request", { text: "title", num: 3 });
  await sleep(300);
  b.disconnect();
  await sleep(300);
  out.a = plain(a.log);
  out.b = plain(b.log);

  if (helpers) {
    out.echo = plain(await new Promise((r) => a.emit("echo", 1, { x: Buffer.from([9]) }, "s", (...args) => r(args))));
    a.on("need_ack", (...args) => args.pop()("yes", ...args));
    a.log = [];
    a.emit("ask_ack", { q: 1 });
    await sleep(300);
    out.ask_ack = plain(a.log);
    const admin = await client("/admin");
    out.admin_echo = await new Promise((r) => admin.emit("echo", "adm", (...args) => r(args)));
    admin.disconnect();
    const reason = new Promise((r) => a.once("disconnect", r));
    a.emit("kick");
    out.kick = await Promise.race([reason, sleep(2000).then(() => "no disconnect")]);
  }
  a.disconnect();
  console.log(JSON.stringify(out));
}

const watchdog = setTimeout(() => {
  console.error("probe.js: timed out");
  process.exit(1);
}, 15000);
main().then(
  () => {
    clearTimeout(watchdog);
    process.exit(0);
  },
  (err) => {
    console.error(`probe.js: ${err && err.stack ? err.stack : err}`);
    process.exit(1);
  },
);
