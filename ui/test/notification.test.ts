import assert from "node:assert/strict";
import { test } from "node:test";

import { normalizeNotification } from "../src/core/notification.js";

test("the desktop app's delivery outcome is kept as text, clipped", () => {
  const n = normalizeNotification({ title: "t", id: "local-3", delivery: "error: no notification service" }, 1);
  assert.ok(n !== null);
  assert.equal(n.delivery, "error: no notification service");
  assert.equal(n.id, "local-3");
  assert.equal(n.key, "id:local-3");
  const long = normalizeNotification({ title: "t", delivery: "x".repeat(1000) }, 1);
  assert.ok(long !== null && long.delivery.length <= 257);
});

test("browsers get no delivery text (the hub sends none)", () => {
  const n = normalizeNotification({ title: "t", body: "b" }, 1);
  assert.equal(n?.delivery, "");
  const odd = normalizeNotification({ title: "t", delivery: { html: "<b>" } }, 1);
  assert.equal(odd?.delivery, "");
});
