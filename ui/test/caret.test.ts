import assert from "node:assert/strict";
import { test } from "node:test";

import { mapOffset, mapSelection } from "../src/core/caret.js";

test("text changed after the caret: same offset", () => {
  assert.equal(mapOffset("hello world", "hello world, and more", 5), 5);
  assert.equal(mapOffset("hello world", "hello", 5), 5);
  assert.equal(mapOffset("日本語テキスト", "日本語のテキスト", 3), 3);
});

test("text changed before the caret: stays in front of the same text", () => {
  assert.equal(mapOffset("hello world", "oh, hello world", 6), 10);
  assert.equal(mapOffset("hello world", "world", 6), 0);
  assert.equal(mapOffset("abc|def".replace("|", ""), "XXabcdef", 3), 5);
});

test("both sides changed: clamped to the new length", () => {
  assert.equal(mapOffset("hello world", "something else entirely", 6), 6);
  assert.equal(mapOffset("hello world", "bye", 8), 3);
  assert.equal(mapOffset("", "new", 0), 0);
  assert.equal(mapOffset("abc", "", 2), 0);
});

test("offsets out of range are clamped first", () => {
  assert.equal(mapOffset("abc", "abcdef", 99), 3);
  assert.equal(mapOffset("abc", "abcdef", -4), 0);
});

test("never between the halves of a surrogate pair", () => {
  // "a😀b": the emoji is two UTF-16 units (1 and 2).
  const after = "x😀";
  assert.equal(mapOffset("abcdefgh", after, 2), 1);
  assert.equal(mapOffset("zz", "😀😀", 1), 0);
});

test("selections map both ends and never invert", () => {
  assert.deepEqual(mapSelection("hello world", "hello brave world", { start: 0, end: 5 }), { start: 0, end: 5 });
  assert.deepEqual(mapSelection("hello world", "oh hello world", { start: 6, end: 11 }), { start: 9, end: 14 });
  assert.deepEqual(mapSelection("abcdef", "zz", { start: 1, end: 4 }), { start: 1, end: 2 });
  const s = mapSelection("aXb", "ab", { start: 1, end: 2 });
  assert.ok(s.start <= s.end);
});
