#!/usr/bin/env node
// socket.io-client 4.8 side of the receive benchmark (scripts/bench-listen.sh).
//   usage: node bench-listen.js URL COUNT [--print]
// With --print: writes one line per `send_notification`, exactly as
// `pushdesk listen --json` does ({"event":"send_notification","data":…}),
// to stdout, and exits after COUNT of them. Without: only counts them, then
// prints one JSON line {"client":…,"events":N,"seconds":S,"rate":R}
// (from the first event to the COUNT-th).
"use strict";

const { io } = require("socket.io-client");

const [url, countArg, mode] = process.argv.slice(2);
const count = Number(countArg);
if (!url || !Number.isInteger(count) || count < 1) {
  process.stderr.write("usage: node bench-listen.js URL COUNT [--print]\n");
  process.exit(2);
}
const print = mode === "--print";

const socket = io(url, { transports: ["websocket"], reconnection: false });
let seen = 0;
let first = 0n;
socket.on("send_notification", (data) => {
  if (seen === 0) first = process.hrtime.bigint();
  seen += 1;
  if (print) {
    process.stdout.write(JSON.stringify({ event: "send_notification", data }) + "\n");
  }
  if (seen === count) {
    const seconds = Number(process.hrtime.bigint() - first) / 1e9;
    socket.close();
    if (!print) {
      process.stdout.write(JSON.stringify({ client: "socket.io-client", events: seen, seconds, rate: seen / seconds }) + "\n");
    }
    process.exitCode = 0;
  }
});
socket.on("connect_error", (err) => {
  process.stderr.write(`connect_error: ${err.message}\n`);
  process.exit(1);
});
