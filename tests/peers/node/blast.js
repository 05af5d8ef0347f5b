#!/usr/bin/env node
// Blasting server of the receive benchmark (scripts/bench-listen.sh): on
// every connection to "/", sends COUNT `send_notification` events as fast
// as it can, each shaped like the hub's notification (the seed's five keys
// plus `id` and `timestamp`; ids 1..COUNT per connection, so a listener's
// duplicate filter lets every one through). Nothing else is sent.
//
// By default (raw) it speaks Engine.IO v4 / Socket.IO v5 over WebSocket
// itself and sends frames encoded once at start-up, byte for byte what
// socket.io 4.8 would send (`42["send_notification",{…}]`, one text frame
// each), many frames per write: a socket.io server spends ~7 µs per emit
// (one write syscall each), so it, not the client, would set the rate.
// With --socketio it is a socket.io 4.8 server calling socket.emit (in
// chunks of 1000 per event-loop turn), to check the clients against the
// real thing.
//   usage: node blast.js [--port N] [--count COUNT] [--socketio]
// Once listening it prints exactly one line to stdout: `LISTENING <port>`.
"use strict";

const crypto = require("node:crypto");
const http = require("node:http");

let port = 0;
let count = 100000;
let socketio = false;
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const n = Number(argv[i + 1]);
  if (argv[i] === "--socketio") { socketio = true; continue; }
  if (argv[i] === "--port" && Number.isInteger(n) && n >= 0) port = n;
  else if (argv[i] === "--count" && Number.isInteger(n) && n > 0) count = n;
  else {
    process.stderr.write(`blast.js: bad argument ${argv[i]}\nusage: node blast.js [--port N] [--count COUNT] [--socketio]\n`);
    process.exit(2);
  }
  i++;
}

const base = Date.now();
const notification = (i) => ({
  title: `Build #${i} finished`,
  body: "this is push notification.",
  icon: "images/icon.png",
  tag: "",
  data1: i,
  id: i,
  timestamp: base + i,
});

const httpServer = http.createServer();

if (socketio) {
  const { Server } = require("socket.io");
  const io = new Server(httpServer, { transports: ["websocket"] });
  const CHUNK = 1000;
  io.on("connection", (socket) => {
    let i = 0;
    const chunk = () => {
      if (!socket.connected) return;
      const end = Math.min(i + CHUNK, count);
      while (i < end) socket.emit("send_notification", notification(++i));
      if (i < count) setImmediate(chunk);
    };
    chunk();
  });
} else {
  // One unmasked WebSocket text frame (server to client).
  const frame = (text) => {
    const payload = Buffer.from(text);
    let head;
    if (payload.length < 126) head = Buffer.from([0x81, payload.length]);
    else if (payload.length < 65536) {
      head = Buffer.from([0x81, 126, 0, 0]);
      head.writeUInt16BE(payload.length, 2);
    } else {
      head = Buffer.alloc(10);
      head[0] = 0x81;
      head[1] = 127;
      head.writeBigUInt64BE(BigInt(payload.length), 2);
    }
    return Buffer.concat([head, payload]);
  };
  // The events, encoded once, 1000 frames per buffer (one write each).
  const chunks = [];
  for (let i = 1; i <= count; i += 1000) {
    const frames = [];
    for (let j = i; j < Math.min(i + 1000, count + 1); j++) {
      frames.push(frame("42" + JSON.stringify(["send_notification", notification(j)])));
    }
    chunks.push(Buffer.concat(frames));
  }
  const id = () => crypto.randomBytes(15).toString("base64url");
  httpServer.on("upgrade", (req, sock) => {
    const key = req.headers["sec-websocket-key"];
    if (!req.url.startsWith("/socket.io/") || !req.url.includes("transport=websocket") || !key) {
      sock.destroy();
      return;
    }
    sock.on("error", () => sock.destroy());
    const accept = crypto.createHash("sha1").update(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest("base64");
    sock.setNoDelay(true);
    sock.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    sock.write(frame("0" + JSON.stringify({ sid: id(), upgrades: [], pingInterval: 300000, pingTimeout: 60000, maxPayload: 1000000 })));
    let k = 0;
    const pump = () => {
      while (k < chunks.length) {
        if (!sock.write(chunks[k++])) {
          sock.once("drain", pump);
          return;
        }
      }
    };
    // Client frames are small and masked; read just enough to see CONNECT.
    let pending = Buffer.alloc(0);
    sock.on("data", (data) => {
      pending = Buffer.concat([pending, data]);
      while (pending.length >= 2) {
        const opcode = pending[0] & 0x0f;
        let len = pending[1] & 0x7f;
        let at = 2;
        if (len === 126) { if (pending.length < 4) return; len = pending.readUInt16BE(2); at = 4; }
        else if (len === 127) { sock.destroy(); return; }
        const masked = (pending[1] & 0x80) !== 0;
        if (pending.length < at + (masked ? 4 : 0) + len) return;
        const mask = masked ? pending.subarray(at, at + 4) : null;
        at += masked ? 4 : 0;
        const body = Buffer.from(pending.subarray(at, at + len));
        if (mask) for (let b = 0; b < body.length; b++) body[b] ^= mask[b & 3];
        pending = pending.subarray(at + len);
        if (opcode === 0x8) { sock.end(); return; }
        const text = body.toString();
        if (opcode === 0x1 && text.startsWith("40")) {
          sock.write(frame("40" + JSON.stringify({ sid: id() })));
          pump();
        } else if (opcode === 0x1 && text.startsWith("41")) {
          sock.end();
          return;
        }
      }
    });
  });
}

httpServer.listen(port, "127.0.0.1", () => {
  process.stdout.write(`LISTENING ${httpServer.address().port}\n`);
});
