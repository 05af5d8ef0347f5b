// The UI against the seed's own Flask-SocketIO app (tests/peers/python), a
// real reference peer: page served by the stand-in, `?server=` → Flask.
// Skipped when that peer's venv is missing (the Rust e2e tests create it;
// or set PUSHDESK_FLASK_PYTHON to a python with flask-socketio).

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";

import { REPO, eventually, freePort, historyRows, launchBrowser, openPage, sendNotification, startHub, tid } from "./harness.mjs";

const peer = join(REPO, "tests", "peers", "python");
const python = process.env.PUSHDESK_FLASK_PYTHON || join(peer, ".venv", "bin", "python");
const skip = existsSync(python) ? false : `no Flask peer (${python}); run the Rust e2e tests once or set PUSHDESK_FLASK_PYTHON`;

let browser;
before(async () => {
  if (!skip) browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
});

async function startFlask() {
  const port = await freePort();
  const child = spawn(python, [join(peer, "seed_app.py"), String(port)], { cwd: peer, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  for (const s of [child.stdout, child.stderr]) s.on("data", (d) => (output = (output + d).slice(-10000)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`Flask peer exited: ${output}`);
    try {
      const res = await fetch(`${url}/socket.io/?EIO=4&transport=polling`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.ok) break;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`Flask peer not ready: ${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    async close() {
      if (child.exitCode !== null) return;
      const gone = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await gone;
    },
  };
}

test("the seed's Flask app: count, text, notifications", { timeout: 60_000, skip }, async () => {
  const flask = await startFlask();
  const home = await startHub();
  try {
    const path = `/?server=${encodeURIComponent(flask.url)}`;
    const a = await openPage(browser, home.url, { path });
    const b = await openPage(browser, home.url, { path });
    for (const p of [a, b]) await eventually(() => tid(p.page, "user-count").textContent(), (t) => t === "2", { message: "count 2" });

    await tid(a.page, "shared-text").fill("日本語テキスト from A");
    await eventually(() => tid(b.page, "shared-text").inputValue(), (v) => v === "日本語テキスト from A", { message: "text on B" });

    // Flask-SocketIO answers an ack request with an empty ack: "Sent".
    const result = await sendNotification(b.page, { title: "from Flask", body: "ignored by the seed", tag: "ignored too" });
    assert.equal(result, "Sent");
    for (const p of [a, b]) {
      const rows = await eventually(() => historyRows(p.page), (r) => r.length === 1, { message: "the notification" });
      assert.equal(rows[0].title, "from Flask");
      assert.equal(rows[0].body, "this is push notification.");
    }
    // A page opened later gets the text (Flask sends it before its CONNECT ack).
    const c = await openPage(browser, home.url, { path });
    await eventually(() => tid(c.page, "shared-text").inputValue(), (v) => v === "日本語テキスト from A", { message: "text on a new page" });
    for (const p of [a, b, c]) {
      p.assertClean();
      await p.close();
    }
  } finally {
    await home.close();
    await flask.close();
  }
});
