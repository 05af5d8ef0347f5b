#!/usr/bin/env node
// socket.io-client side of the acked-echo benchmark (scripts/bench-client.sh).
// Usage: node bench-echo.js URL IN_FLIGHT SECONDS
// Emits "echo" with a small payload and waits for the ack, keeping IN_FLIGHT
// requests outstanding, for SECONDS (after a 1 s warm-up). Prints one JSON line:
// {"client":"socket.io-client","in_flight":N,"acks":N,"seconds":S,"rate":R,"cpu_us_per_ack":C}
// (cpu: user + system time of this process during the measured window).
"use strict";

const { io } = require("socket.io-client");

const [url, inFlightArg, secondsArg] = process.argv.slice(2);
const inFlight = Number(inFlightArg || 1);
const seconds = Number(secondsArg || 5);
if (!url || !Number.isInteger(inFlight) || inFlight < 1 || !(seconds > 0)) {
  process.stderr.write("usage: node bench-echo.js URL IN_FLIGHT SECONDS\n");
  process.exit(2);
}

const socket = io(url, { transports: ["websocket"], reconnection: false });
const payload = { title: "bench", n: 0 };

socket.on("connect", () => {
  let counting = false;
  let acks = 0;
  let stopped = false;
  let started = 0;
  let cpu = null;
  const send = () => {
    if (stopped) return;
    socket.emit("echo", payload, () => {
      if (counting) acks += 1;
      send();
    });
  };
  for (let i = 0; i < inFlight; i++) send();
  setTimeout(() => {
    counting = true;
    started = process.hrtime.bigint();
    cpu = process.cpuUsage();
    setTimeout(() => {
      stopped = true;
      const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
      const used = process.cpuUsage(cpu);
      const cpuUs = used.user + used.system;
      process.stdout.write(JSON.stringify({ client: "socket.io-client", in_flight: inFlight, acks, seconds: elapsed, rate: acks / elapsed, cpu_us_per_ack: cpuUs / acks }) + "\n");
      socket.close();
      process.exit(0);
    }, seconds * 1000);
  }, 1000);
});
socket.on("connect_error", (err) => {
  process.stderr.write(`connect_error: ${err.message}\n`);
  process.exit(1);
});
