#!/usr/bin/env node
// A stand-in for `pushdesk serve`, for developing and testing the web UI
// before (and besides) the real hub: serves ui/dist at "/" with the hub's
// strict CSP, and speaks the seed's events plus the hub's extensions on the
// same port (socket.io 4.8):
//
//   count_update, text_update (to the new client, and to everyone but the
//   sender on text_update_request), send_notification_request →
//   send_notification to everyone; acks {ok:true,id} / {ok:false,error}
//   with increasing ids, timestamps, `welcome {last_id}`, a replay after
//   auth.last_id, history_request {limit} → {ok:true, notifications:[…]}.
// Channels: a notification's `channel` (left out for `default`), the
// handshake's auth.channels (absent: ["default"]; "*": all), subscribe /
// unsubscribe {channels} → {ok:true, channels:[all followed]} / {ok:false,
// error}, `welcome {channels, rights}`, history and replays of the followed
// channels only.
//
// Unlike the hub it accepts any `url` (a third-party server might), so the
// UI's own link check is what keeps a non-http URL from becoming a link.
//
//   --port N        port on 127.0.0.1 (0: any free one)
//   --seed          behave exactly like the seed's Flask app: no acks, ids,
//                   history or welcome
//   --dist DIR      what to serve (default: ui/dist of this repository)
//   --token T       require auth {token: T}, refusing others as the hub does
//   --read P,…      channel patterns every client may read (default *: all;
//                   `ops`, `ops-*`: `*` is any run of channel-name characters)
//   --write P,…     channel patterns every client may send to (default *)
//
// Prints `LISTENING <port>` once ready.

import { createReadStream, statSync } from "node:fs";
import { createServer } from "node:http";
import { dirname, extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

import { Server } from "socket.io";

const here = dirname(fileURLToPath(import.meta.url));
const opts = { port: 0, seed: false, dist: resolve(here, "../../ui/dist"), token: null, read: ["*"], write: ["*"] };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === "--port") opts.port = Number(argv[++i]);
  else if (a === "--seed") opts.seed = true;
  else if (a === "--dist") opts.dist = resolve(argv[++i]);
  else if (a === "--token") opts.token = argv[++i];
  else if (a === "--read") opts.read = argv[++i].split(",").filter((p) => p !== "");
  else if (a === "--write") opts.write = argv[++i].split(",").filter((p) => p !== "");
  else {
    process.stderr.write(`standin-hub: unknown argument ${a}\n`);
    process.exit(2);
  }
}
if (![...opts.read, ...opts.write].every((p) => /^[A-Za-z0-9_*-]{1,64}$/.test(p))) {
  process.stderr.write("standin-hub: --read and --write take channel patterns (A-Z a-z 0-9 _ - *)\n");
  process.exit(2);
}
if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) {
  process.stderr.write("standin-hub: --port needs a port number\n");
  process.exit(2);
}

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: http: https:",
  "connect-src 'self' ws: wss: http: https:",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'none'",
].join("; ");

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".json": "application/json",
};

function serveStatic(req, res) {
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.writeHead(405).end();
    return;
  }
  let path;
  try {
    path = decodeURIComponent(new URL(req.url, "http://x").pathname);
  } catch {
    res.writeHead(400).end();
    return;
  }
  if (path === "/") path = "/index.html";
  const file = normalize(join(opts.dist, path));
  let stat = null;
  try {
    stat = file.startsWith(opts.dist + sep) ? statSync(file) : null;
  } catch {
    stat = null;
  }
  if (!stat || !stat.isFile()) {
    res.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("not found");
    return;
  }
  res.writeHead(200, {
    "content-type": TYPES[extname(file)] ?? "application/octet-stream",
    "content-length": stat.size,
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-cache",
  });
  if (req.method === "HEAD") res.end();
  else createReadStream(file).pipe(res);
}

const http = createServer(serveStatic);
const io = new Server(http, { serveClient: false });

if (opts.token !== null) {
  io.use((socket, next) => {
    const token = socket.handshake.auth?.token;
    if (token === opts.token) next();
    else if (typeof token !== "string") next(new Error('authentication required: send {"token": …} in the auth payload'));
    else next(new Error("invalid token"));
  });
}

const DEFAULT_CHANNEL = "default";
const CHANNEL = /^[A-Za-z0-9_-]{1,64}$/;

/** As the hub: `*` in a pattern is any run of characters; the subscription `*` matches only the pattern `*`. */
function patternMatches(pattern, channel) {
  if (channel === "*") return pattern === "*";
  return new RegExp(`^${pattern.split("*").join(".*")}$`).test(channel);
}

/** May a client with these patterns read (follow) this channel, or `*`? */
function allowed(patterns, channel) {
  return patterns.some((p) => patternMatches(p, channel));
}

/** `{channels}` of subscribe/unsubscribe or the handshake: a list of names or `*`, or an error. */
function channelList(value) {
  if (!Array.isArray(value) || value.length === 0 || value.length > 64) return { error: "`channels` must be a list of 1 to 64 channel names" };
  for (const c of value) {
    if (c !== "*" && (typeof c !== "string" || !CHANNEL.test(c))) return { error: `not a channel name: ${JSON.stringify(c)}` };
  }
  return { channels: [...new Set(value)] };
}

function follows(socket, channel) {
  const subs = socket.data.channels ?? [DEFAULT_CHANNEL];
  return subs.includes("*") || subs.includes(channel);
}

function channelOf(n) {
  return n.channel ?? DEFAULT_CHANNEL;
}

if (!opts.seed) {
  io.use((socket, next) => {
    const asked = socket.handshake.auth?.channels;
    if (asked === undefined) {
      socket.data.channels = [DEFAULT_CHANNEL];
      return next();
    }
    const list = channelList(asked);
    if (list.error) return next(new Error(list.error));
    const refused = list.channels.find((c) => !allowed(opts.read, c));
    if (refused !== undefined) return next(new Error(`token may not read channel ${refused}`));
    socket.data.channels = list.channels;
    next();
  });
}

let userCount = 0;
let text = "";
let lastId = 0;
const history = [];
const HISTORY_KEEP = 1000;

function reply(ack, value) {
  if (typeof ack === "function") ack(value);
}

function isObject(v) {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

io.on("connection", (socket) => {
  userCount += 1;
  io.emit("count_update", { user_count: userCount });
  socket.emit("text_update", { text });
  socket.on("disconnect", () => {
    userCount -= 1;
    io.emit("count_update", { user_count: userCount });
  });

  if (opts.seed) {
    socket.on("text_update_request", (json) => {
      text = json.text;
      socket.broadcast.emit("text_update", { text });
    });
    socket.on("send_notification_request", (json) => {
      io.emit("send_notification", { title: json.text, body: "this is push notification.", icon: "images/icon.png", tag: "", data1: json.num });
    });
    return;
  }

  const rooms = () => (socket.data.channels ?? [DEFAULT_CHANNEL]).map((c) => `ch:${c}`);
  socket.join(rooms());
  socket.emit("welcome", {
    last_id: lastId,
    version: "standin",
    channels: socket.data.channels,
    rights: { read: opts.read, write: opts.write, text: true },
  });
  const after = socket.handshake.auth?.last_id;
  if (Number.isInteger(after)) for (const n of history) if (n.id > after && follows(socket, channelOf(n))) socket.emit("send_notification", n);

  for (const ev of ["subscribe", "unsubscribe"]) {
    socket.on(ev, (json, ack) => {
      if (!isObject(json)) return reply(ack, { ok: false, error: "malformed request: not an object" });
      const list = channelList(json.channels);
      if (list.error) return reply(ack, { ok: false, error: list.error });
      const current = socket.data.channels ?? [DEFAULT_CHANNEL];
      if (ev === "subscribe") {
        const refused = list.channels.find((c) => !allowed(opts.read, c));
        if (refused !== undefined) return reply(ack, { ok: false, error: `token may not read channel ${refused}` });
        socket.data.channels = [...current, ...list.channels.filter((c) => !current.includes(c))];
      } else {
        socket.data.channels = current.filter((c) => !list.channels.includes(c));
      }
      for (const room of socket.rooms) if (room.startsWith("ch:")) socket.leave(room);
      socket.join(rooms());
      reply(ack, { ok: true, channels: socket.data.channels });
    });
  }

  socket.on("text_update_request", (json, ack) => {
    if (!isObject(json) || typeof json.text !== "string") return reply(ack, { ok: false, error: "`text` must be a string" });
    text = json.text;
    socket.broadcast.emit("text_update", { text });
    reply(ack, { ok: true });
  });

  socket.on("send_notification_request", (json, ack) => {
    if (!isObject(json)) return reply(ack, { ok: false, error: "malformed request: not an object" });
    // Like the hub: `title` is an alias of `text`, and both at once is an error.
    if ("text" in json && "title" in json) return reply(ack, { ok: false, error: "malformed request: duplicate field `text`" });
    const title = "text" in json ? json.text : json.title;
    if (typeof title !== "string") return reply(ack, { ok: false, error: "malformed request: `text` must be a string" });
    if ([...title].length > 256) return reply(ack, { ok: false, error: "title is over 256 characters" });
    for (const f of ["body", "tag", "url", "channel"]) {
      if (json[f] !== undefined && typeof json[f] !== "string") return reply(ack, { ok: false, error: `malformed request: \`${f}\` must be a string` });
    }
    const channel = json.channel ?? DEFAULT_CHANNEL;
    if (!CHANNEL.test(channel)) return reply(ack, { ok: false, error: `not a channel name: ${JSON.stringify(channel)}` });
    if (!allowed(opts.write, channel)) return reply(ack, { ok: false, error: `token may not write channel ${channel}` });
    lastId += 1;
    const n = {
      title,
      body: json.body ?? "this is push notification.",
      icon: "images/icon.png",
      tag: json.tag ?? "",
      data1: json.num ?? null,
      id: lastId,
      timestamp: Date.now(),
    };
    if (json.url !== undefined) n.url = json.url;
    if (channel !== DEFAULT_CHANNEL) n.channel = channel;
    history.push(n);
    if (history.length > HISTORY_KEEP) history.shift();
    io.to([`ch:${channel}`, "ch:*"]).emit("send_notification", n);
    reply(ack, { ok: true, id: lastId });
  });

  socket.on("history_request", (json, ack) => {
    const asked = isObject(json) && Number.isInteger(json.limit) && json.limit >= 0 ? json.limit : 50;
    const limit = Math.min(asked, 200);
    const only = isObject(json) && Array.isArray(json.channels) ? json.channels : null;
    const mine = history.filter((n) => follows(socket, channelOf(n)) && (only === null || only.includes("*") || only.includes(channelOf(n))));
    reply(ack, { ok: true, notifications: limit === 0 ? [] : mine.slice(-limit) });
  });

  for (const ev of ["notification_clicked", "notification_closed"]) socket.on(ev, (_json, ack) => reply(ack, { ok: true }));
});

http.listen(opts.port, "127.0.0.1", () => {
  process.stdout.write(`LISTENING ${http.address().port}\n`);
});

for (const sig of ["SIGTERM", "SIGINT"]) {
  process.on(sig, () => {
    io.close();
    process.exit(0);
  });
}
