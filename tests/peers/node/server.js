#!/usr/bin/env node
// Reference Socket.IO peer for Pushdesk's end-to-end tests.
//
// Namespace "/" behaves exactly like the seed's Flask-SocketIO app (global
// user count and shared text, notifications broadcast to everyone), plus a few
// test helpers. "/admin" accepts anyone and echoes; "/secure" needs
// auth {token: "s3cret"}. Any other namespace is refused (Node's default).
//
// Flags:
//   --port N                  port to listen on, 127.0.0.1 only (default 0 = any free port)
//   --recovery                enable connectionStateRecovery (2 min, skipMiddlewares)
//   --transports T            "polling" or "websocket" (default: both)
//   --ping-interval MS        Engine.IO pingInterval
//   --ping-timeout MS         Engine.IO pingTimeout
//   --exit-on-stdin-eof       exit when stdin closes (the test process went away)
//   --tls-cert F --tls-key F  serve HTTPS/WSS with this PEM certificate and key
//
// Once listening it prints exactly one line to stdout: `LISTENING <port>`.
"use strict";

const fs = require("node:fs");
const http = require("node:http");
const { Server } = require("socket.io");

function usage(message) {
  process.stderr.write(`server.js: ${message}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { tlsCert: null, tlsKey: null, port: 0, recovery: false, transports: null, pingInterval: null, pingTimeout: null, exitOnStdinEof: false };
  const number = (flag, value) => {
    const n = Number(value);
    if (value === undefined || !Number.isInteger(n) || n < 0) usage(`${flag} needs a non-negative integer`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    switch (flag) {
      case "--port": opts.port = number(flag, argv[++i]); break;
      case "--recovery": opts.recovery = true; break;
      case "--transports": {
        const t = argv[++i];
        if (t !== "polling" && t !== "websocket") usage("--transports must be polling or websocket");
        opts.transports = [t];
        break;
      }
      case "--ping-interval": opts.pingInterval = number(flag, argv[++i]); break;
      case "--ping-timeout": opts.pingTimeout = number(flag, argv[++i]); break;
      case "--exit-on-stdin-eof": opts.exitOnStdinEof = true; break;
      case "--tls-cert": opts.tlsCert = argv[++i]; break;
      case "--tls-key": opts.tlsKey = argv[++i]; break;
      default: usage(`unknown argument ${flag}`);
    }
  }
  return opts;
}

const opts = parseArgs(process.argv.slice(2));

const serverOptions = { cors: { origin: "*" } };
if (opts.recovery) {
  serverOptions.connectionStateRecovery = { maxDisconnectionDuration: 2 * 60 * 1000, skipMiddlewares: true };
}
if (opts.transports) serverOptions.transports = opts.transports;
if (opts.pingInterval !== null) serverOptions.pingInterval = opts.pingInterval;
if (opts.pingTimeout !== null) serverOptions.pingTimeout = opts.pingTimeout;

if ((opts.tlsCert === null) !== (opts.tlsKey === null)) usage("--tls-cert and --tls-key go together");
const httpServer = opts.tlsCert
  ? require("node:https").createServer({ cert: fs.readFileSync(opts.tlsCert), key: fs.readFileSync(opts.tlsKey) })
  : http.createServer();
const io = new Server(httpServer, serverOptions);

// Splits a handler's arguments into (data args, ack callback or null).
function split(args) {
  const last = args[args.length - 1];
  return typeof last === "function" ? [args.slice(0, -1), last] : [args, null];
}

// Calls the ack callback with the same arguments it came with.
function echo(...all) {
  const [args, ack] = split(all);
  if (ack) ack(...args);
}

// ---- "/": the seed's semantics -------------------------------------------

let userCount = 0;
let text = "";
let missedCounter = 0;

io.on("connection", (socket) => {
  userCount += 1;
  io.emit("count_update", { user_count: userCount });
  socket.emit("text_update", { text });

  socket.on("disconnect", () => {
    userCount -= 1;
    io.emit("count_update", { user_count: userCount });
  });

  socket.on("text_update_request", (json) => {
    text = json.text;
    socket.broadcast.emit("text_update", { text });
  });

  socket.on("send_notification_request", (json) => {
    // Test hook: a server-side disconnect of the sender (the desktop core
    // can only send notifications; see crates/desktop-core/tests/hub_closed.rs).
    if (json && json.text === "__disconnect_me__") {
      socket.disconnect(true);
      return;
    }
    io.emit("send_notification", {
      title: json.text,
      body: "this is push notification.",
      icon: "images/icon.png",
      tag: "",
      data1: json.num,
    });
  });

  // ---- test helpers ------------------------------------------------------

  socket.on("echo", echo);

  socket.on("echo_event", (...all) => {
    const [args, ack] = split(all);
    socket.emit("echo_event", ...args);
    if (ack) ack();
  });

  socket.on("ask_ack", (...all) => {
    const [args, ack] = split(all);
    socket.emit("need_ack", ...args, (...ackArgs) => socket.emit("got_ack", ...ackArgs));
    if (ack) ack();
  });

  socket.on("kick", (...all) => {
    const [, ack] = split(all);
    if (ack) ack();
    socket.disconnect(true);
  });

  socket.on("drop_transport", (...all) => {
    const [, ack] = split(all);
    if (ack) ack();
    socket.conn.close();
    setTimeout(() => {
      missedCounter += 1;
      io.emit("missed", { n: missedCounter });
    }, 200);
  });

  socket.on("broadcast", (msg, ack) => {
    try {
      io.emit(msg.name, msg.data);
    } catch (err) {
      process.stderr.write(`broadcast refused: ${err.message}\n`);
    }
    if (typeof ack === "function") ack();
  });

  socket.on("binary_hello", (...all) => {
    const [, ack] = split(all);
    socket.emit("binary_hello", Buffer.from([1, 2, 3]), { nested: Buffer.from([4, 5]) }, "text");
    if (ack) ack();
  });
});

// ---- "/admin" and "/secure" ----------------------------------------------

io.of("/admin").on("connection", (socket) => {
  socket.on("echo", echo);
});

const secure = io.of("/secure");
secure.use((socket, next) => {
  if (socket.handshake.auth && socket.handshake.auth.token === "s3cret") return next();
  const err = new Error("not authorized");
  err.data = { code: 401 };
  next(err);
});
secure.on("connection", (socket) => {
  socket.on("echo", echo);
  // Acks with the auth payload this connection was admitted with.
  socket.on("whoami", (ack) => typeof ack === "function" && ack(socket.handshake.auth));
});

// ---- start ---------------------------------------------------------------

httpServer.on("error", (err) => {
  process.stderr.write(`server.js: ${err.message}\n`);
  process.exit(1);
});

httpServer.listen(opts.port, "127.0.0.1", () => {
  process.stdout.write(`LISTENING ${httpServer.address().port}\n`);
});

if (opts.exitOnStdinEof) {
  process.stdin.on("end", () => process.exit(0));
  process.stdin.on("error", () => process.exit(0));
  process.stdin.resume();
}

for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => process.exit(0));
}
