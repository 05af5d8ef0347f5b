// The shared text as a Yjs document (one Y.Text named "text"), pure: no DOM.
// Owns the Y.Doc; turns the field's new value into the smallest splice;
// applies the hub's updates keeping the selection on the same characters
// (Y.RelativePosition); holds them during an IME composition; and speaks the
// y-protocols sync messages that `text_sync` carries, through a send function.
//
// * Connect: we send step 1 (our state vector); the hub answers step 2 (what
//   we lack) and its step 1, which we answer with step 2 (what it lacks:
//   edits made offline merge, they never replace). Then each local change
//   goes out as an update, batched by the caller's `schedule`.
// * A local change over the size limit, or without the right to edit, never
//   reaches the document: the field goes back to the document's text.
// * The hub refusing one of our edits (an ack `{ok:false}`) means it does not
//   have what we show: the document is dropped and the hub's is loaded again
//   (its full state, step 1 from an empty document), so the field shows what
//   was saved. Local input is refused until it has arrived.
// * Epochs: when the hub's document has outgrown its text the hub cuts it and
//   starts a new one from the text (`text_reset`: the new epoch, the state
//   vector to diff ours against, the new document). We send what it lacks of
//   ours (`text_rebase`: our unsent edits, which the hub merges), take the new
//   document. Until the hub has acked the rebase (it sends the rebased edit
//   first) the field keeps showing our old document and typing goes on in
//   it; the new document takes the hub's updates unseen. Then, if we typed
//   meanwhile, a rebase with that goes too; once one is acked with nothing
//   typed since, the new document (now with all of ours) is shown, the caret
//   kept. So no keystroke ever lands on a text that lacks our own last ones.
//   The rebase is kept until acked and sent again on every connect (the hub
//   takes one twice as once); our epoch goes in the handshake's auth, so a
//   page that was offline across a cut is sent the reset on its return.

import * as decoding from "lib0/decoding";
import * as encoding from "lib0/encoding";
import * as syncProtocol from "y-protocols/sync";
import * as Y from "yjs";

import type { SendResult } from "./ack.js";
import { mapSelection, type Selection } from "./caret.js";

/** The name of the document's one text type (the hub's too). */
export const TEXT_NAME = "text";
/** The hub refuses a text longer than this, in UTF-8 bytes. */
export const MAX_TEXT_BYTES = 65536;
/** y-websocket's outer message type for sync messages (1, awareness, is not used yet). */
const MESSAGE_SYNC = 0;

/** The origin of the transactions that apply the hub's updates (they are never sent back). */
const REMOTE = Symbol("pushdesk remote");
/** The origin of our own edits. */
const LOCAL = Symbol("pushdesk local");

export const NO_TEXT_RIGHT = "this token may not change the shared text";

/** Where the text is shown and edited: the textarea, or a stand-in in tests. */
export interface TextField {
  /** What it shows now. */
  readonly value: string;
  /** Its selection now (UTF-16 offsets into `value`). */
  readonly selection: Selection;
  /** Shows this text with this selection. */
  show(value: string, selection: Selection): void;
}

export interface CrdtTextOptions {
  /** Sends one `text_sync` message; resolves with the hub's ack. */
  send: (message: Uint8Array) => Promise<SendResult>;
  /** Sends one `text_rebase` message; resolves with the hub's ack (without it, none is sent). */
  sendRebase?: (message: Uint8Array) => Promise<SendResult>;
  /** Our document's epoch changed (the transport names it in its next handshake's auth). */
  onEpoch?: (epoch: number) => void;
  /** A message for the user ("" clears it). */
  notify?: (message: string) => void;
  /** Runs `flush` later (batching local updates); without it each change is sent at once. */
  schedule?: (flush: () => void) => void;
  /** The size limit in UTF-8 bytes (default MAX_TEXT_BYTES). */
  maxBytes?: number;
}

/** Delete `remove` code units at `index`, then insert `insert` there. */
export interface Splice {
  index: number;
  remove: number;
  insert: string;
}

const isHigh = (c: number): boolean => c >= 0xd800 && c <= 0xdbff;
const isLow = (c: number): boolean => c >= 0xdc00 && c <= 0xdfff;

/**
 * The smallest change from `before` to `after`, or null when they are equal.
 * Offsets are UTF-16 code units; the change never starts or ends between the
 * halves of a surrogate pair. When an insertion or deletion could sit in
 * several places ("aa" → "aaa"), `caret` (where the caret is in `after`)
 * picks the one that ends there; without it, the latest.
 */
export function spliceBetween(before: string, after: string, caret?: number): Splice | null {
  if (before === after) return null;
  const shorter = Math.min(before.length, after.length);
  let maxPrefix = 0;
  while (maxPrefix < shorter && before.charCodeAt(maxPrefix) === after.charCodeAt(maxPrefix)) maxPrefix++;
  let maxSuffix = 0;
  while (
    maxSuffix < shorter &&
    before.charCodeAt(before.length - 1 - maxSuffix) === after.charCodeAt(after.length - 1 - maxSuffix)
  ) {
    maxSuffix++;
  }
  let prefix = maxPrefix;
  if (caret !== undefined && maxPrefix + maxSuffix >= shorter) {
    // A pure insertion or deletion that could slide: the one ending at the caret.
    const inserted = Math.max(0, after.length - before.length);
    prefix = Math.max(shorter - maxSuffix, Math.min(maxPrefix, caret - inserted));
  }
  if (prefix > 0 && isHigh(before.charCodeAt(prefix - 1))) prefix--;
  let suffix = Math.min(maxSuffix, shorter - prefix);
  if (suffix > 0 && isLow(before.charCodeAt(before.length - suffix))) suffix--;
  return {
    index: prefix,
    remove: before.length - suffix - prefix,
    insert: after.slice(prefix, after.length - suffix),
  };
}

/**
 * Our change (`base` → `ours`) made again on `theirs` (`base` with what
 * others did meanwhile): the splice to apply to `theirs`, or null when we
 * changed nothing. Where the two changes overlap, ours is inserted beside
 * theirs and none of their text is removed. `caret`: where our caret is in
 * `ours` (places an insertion that could slide).
 */
export function carrySplice(base: string, ours: string, theirs: string, caret?: number): Splice | null {
  const mine = spliceBetween(base, ours, caret);
  if (mine === null) return null;
  const other = spliceBetween(base, theirs);
  if (other === null) return mine;
  const shift = other.insert.length - other.remove;
  if (other.index + other.remove <= mine.index && !(other.remove === 0 && other.index === mine.index && mine.remove > 0)) {
    return { ...mine, index: mine.index + shift };
  }
  if (other.index >= mine.index + mine.remove) return mine;
  // Overlapping: ours goes where it started, or after their change; theirs stays whole.
  const index = mine.index < other.index ? mine.index : other.index + other.insert.length;
  return { index, remove: 0, insert: mine.insert };
}

/** The length of `text` in UTF-8 bytes (a lone surrogate counts as U+FFFD, 3 bytes). */
export function utf8Length(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (isHigh(c) && i + 1 < text.length && isLow(text.charCodeAt(i + 1))) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** A `text_reset`: the hub's document of a new epoch. */
export interface TextReset {
  epoch: number;
  /** The state vector to diff our document against (null: ours cannot be merged). */
  base: Uint8Array | null;
  doc: Uint8Array;
}

/** Reads a `text_reset` (lib0: varUint epoch, varUint has-base, base?, doc); null when malformed. */
export function decodeReset(message: Uint8Array): TextReset | null {
  try {
    const d = decoding.createDecoder(message);
    const epoch = decoding.readVarUint(d);
    const base = decoding.readVarUint(d) === 0 ? null : decoding.readVarUint8Array(d);
    const doc = decoding.readVarUint8Array(d);
    if (decoding.hasContent(d)) return null;
    return { epoch, base, doc };
  } catch {
    return null;
  }
}

/** A `text_rebase` (lib0: varUint from, varUint to, the update). */
export function encodeRebase(from: number, to: number, update: Uint8Array): Uint8Array {
  const e = encoding.createEncoder();
  encoding.writeVarUint(e, from);
  encoding.writeVarUint(e, to);
  encoding.writeVarUint8Array(e, update);
  return encoding.toUint8Array(e);
}

/** One y-protocols sync message: varUint(0), then what `write` adds. */
/** A move to a new epoch's document, under way until a rebase with all of ours is acked. */
interface Switch {
  /** The new epoch's document: the hub's updates go here, unseen. */
  next: Y.Doc;
  nextText: Y.Text;
  /** The epoch our old document is of, and the state vector the hub's cut had of it. */
  from: number;
  base: Uint8Array;
  /** The rebase that carries all of the old document the hub lacks, as last sent. */
  sent: Uint8Array;
  /** The old document's text when `sent` was made. */
  sentText: string;
  /** Typed since `sent` was made. */
  dirty: boolean;
  /** `sent` was acked mid-composition: the switch goes on once it ends. */
  waiting: boolean;
}

function syncMessage(write: (encoder: encoding.Encoder) => void): Uint8Array {
  const encoder = encoding.createEncoder();
  encoding.writeVarUint(encoder, MESSAGE_SYNC);
  write(encoder);
  return encoding.toUint8Array(encoder);
}

export class CrdtText {
  readonly #field: TextField;
  readonly #send: (message: Uint8Array) => Promise<SendResult>;
  readonly #sendRebase: ((message: Uint8Array) => Promise<SendResult>) | null;
  readonly #onEpoch: (epoch: number) => void;
  readonly #notify: (message: string) => void;
  readonly #schedule: ((flush: () => void) => void) | null;
  readonly #maxBytes: number;
  #doc: Y.Doc;
  #text: Y.Text;
  #online = false;
  #editable = true;
  #composing = false;
  /** Messages from the hub that arrived mid-composition, in order. */
  #held: { reset: boolean; message: Uint8Array }[] = [];
  /** Our document's epoch (null: not known yet, it takes the hub's). */
  #epoch: number | null = null;
  /** `text_rebase` messages sent and not yet acknowledged. */
  #rebases: Uint8Array[] = [];
  /** Moving to a new epoch's document (see the module comment). */
  #switch: Switch | null = null;
  /** Local updates not sent yet. */
  #outbox: Uint8Array[] = [];
  #flushScheduled = false;
  /** Bumped when the document is replaced: acks for the old one are ignored. */
  #generation = 0;
  /** This document has local changes (a refusal can be about one of them). */
  #changed = false;
  /** While the hub's document is loaded again: the text the field keeps showing. */
  #reloading: string | null = null;
  /** Messages sent so far, and how many when an error was shown (older acks leave it). */
  #sent = 0;
  #errorAt = 0;

  constructor(field: TextField, options: CrdtTextOptions) {
    this.#field = field;
    this.#send = options.send;
    this.#sendRebase = options.sendRebase ?? null;
    this.#onEpoch = options.onEpoch ?? (() => undefined);
    this.#notify = options.notify ?? (() => undefined);
    this.#schedule = options.schedule ?? null;
    this.#maxBytes = options.maxBytes ?? MAX_TEXT_BYTES;
    this.#doc = new Y.Doc();
    this.#text = this.#wire(this.#doc);
  }

  /** The document's text. */
  get text(): string {
    return this.#text.toString();
  }

  get composing(): boolean {
    return this.#composing;
  }

  /** Whether the hub's document is being loaded again (after a refusal). */
  get reloading(): boolean {
    return this.#reloading !== null;
  }

  #wire(doc: Y.Doc): Y.Text {
    doc.on("update", (update: Uint8Array, origin: unknown) => {
      if (origin === REMOTE || doc !== this.#doc) return;
      this.#changed = true;
      if (this.#switch !== null) {
        // An edit of the old document: it goes in the next rebase.
        this.#switch.dirty = true;
        return;
      }
      if (!this.#online) return; // the step 2 of the next connection carries it
      this.#outbox.push(update);
      if (this.#schedule === null) this.flush();
      else if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        this.#schedule(() => this.flush());
      }
    });
    return doc.getText(TEXT_NAME);
  }

  /** Our document's epoch (null until the hub named one). */
  get epoch(): number | null {
    return this.#epoch;
  }

  /** The hub's `welcome` named its document's epoch: ours, if we had none. */
  welcomed(epoch: number | undefined): void {
    if (this.#epoch === null && epoch !== undefined) {
      this.#epoch = epoch;
      this.#onEpoch(epoch);
    }
  }

  /** Connected to a hub that speaks `text_sync`: opens the sync with step 1. */
  connect(): void {
    this.#online = true;
    // Whatever is waiting goes in the step 2 that answers the hub's step 1.
    this.#outbox = [];
    const moving = this.#switch;
    if (moving !== null && moving.dirty) this.#renewRebase(moving);
    for (const rebase of this.#rebases) this.#postRebase(rebase);
    // Mid-switch the hub syncs with the new document (ours go in rebases).
    const current = moving?.next ?? this.#doc;
    this.#post(
      syncMessage((e) => syncProtocol.writeSyncStep1(e, current)),
      "step1",
    );
  }

  /** The connection is gone: local changes wait in the document for the next one. */
  disconnect(): void {
    this.#online = false;
    this.#outbox = [];
  }

  /** Whether this token may edit (`welcome.rights.text`). */
  setEditable(editable: boolean): void {
    this.#editable = editable;
    // Edits the hub will never take (made before we knew): show the hub's text.
    if (!editable && this.#changed) this.#reload();
  }

  /** The field's value changed (an `input` event). Mid-composition it waits for compositionend. */
  input(): void {
    if (!this.#composing) this.#commit();
  }

  compositionStart(): void {
    if (this.#composing) return;
    this.#commit();
    this.#composing = true;
  }

  /** The composition ended: its text goes into the document first, then what the hub sent meanwhile. */
  compositionEnd(): void {
    if (!this.#composing) return;
    this.#composing = false;
    this.#commit();
    this.#releaseHeld();
    const moving = this.#switch;
    if (moving?.waiting === true) {
      moving.waiting = false;
      this.#endSwitch(moving);
    }
  }

  /** Applies what arrived mid-composition, in order: sync messages in runs, resets one by one. */
  #releaseHeld(): void {
    const held = this.#held;
    this.#held = [];
    let run: Uint8Array[] = [];
    for (const h of held) {
      if (!h.reset) {
        run.push(h.message);
        continue;
      }
      if (run.length > 0) this.#applyRemote(run);
      run = [];
      this.#takeReset(h.message);
    }
    if (run.length > 0) this.#applyRemote(run);
  }

  /** A `text_reset` from the hub; mid-composition it waits, as every remote change does. */
  reset(message: Uint8Array): void {
    if (this.#composing) this.#held.push({ reset: true, message });
    else this.#takeReset(message);
  }

  /**
   * Moves to the hub's new document; what it lacks of ours goes in a rebase.
   * When there is anything of ours to merge, the old document stays shown
   * until the hub has it all (see the module comment).
   */
  #takeReset(message: Uint8Array): void {
    const reset = decodeReset(message);
    if (reset === null) return;
    const field = this.#field;
    // A local change not yet taken belongs to the old document: take it first.
    if (this.#reloading === null && field.value !== this.text) this.#commit();
    const moving = this.#switch;
    if (moving !== null) {
      // Cut again before the last move ended: the new document's (which has
      // only the hub's updates) moves on too; the old one's rebase goes on.
      if (reset.base === null) {
        moving.next.destroy();
        this.#switch = null;
      } else {
        const rebase = encodeRebase(this.#epoch ?? 0, reset.epoch, Y.encodeStateAsUpdate(moving.next, reset.base));
        this.#queueRebase(rebase);
        moving.next.destroy();
        moving.next = new Y.Doc();
        moving.nextText = this.#wire(moving.next);
        this.#load(moving.next, reset.doc);
        this.#setEpoch(reset.epoch);
        return;
      }
    }
    const mergeable = reset.base !== null && this.#reloading === null;
    // Always sent: it also tells the hub that our messages are now of the
    // new epoch. Empty when the hub cannot merge ours (or has them: a reload).
    const unsent = mergeable && reset.base !== null ? Y.encodeStateAsUpdate(this.#doc, reset.base) : new Uint8Array(0);
    if (reset.base === null && this.#changed) this.#error("Not saved: edits made on a text too old to merge");
    const rebase = encodeRebase(this.#epoch ?? 0, reset.epoch, unsent);
    if (mergeable && reset.base !== null && this.#sendRebase !== null) {
      const next = new Y.Doc();
      const nextText = this.#wire(next);
      this.#load(next, reset.doc);
      this.#switch = { next, nextText, from: this.#epoch ?? 0, base: reset.base, sent: rebase, sentText: this.text, dirty: false, waiting: false };
      this.#outbox = []; // in the rebase
      this.#setEpoch(reset.epoch);
      this.#queueRebase(rebase);
      return;
    }
    this.#queueRebase(rebase);
    const before = field.value;
    const selection = field.selection;
    this.#doc.destroy();
    this.#generation++;
    this.#doc = new Y.Doc();
    this.#text = this.#wire(this.#doc);
    this.#load(this.#doc, reset.doc);
    this.#changed = false;
    this.#outbox = [];
    this.#reloading = null;
    this.#setEpoch(reset.epoch);
    const text = this.text;
    if (text !== before) field.show(text, mapSelection(before, text, selection));
  }

  #load(doc: Y.Doc, update: Uint8Array): void {
    try {
      Y.applyUpdate(doc, update, REMOTE);
    } catch {
      // a malformed document: the next handshake brings the hub's
    }
  }

  #setEpoch(epoch: number): void {
    this.#epoch = epoch;
    this.#onEpoch(epoch);
  }

  /** Keeps a rebase until acked, and sends it now if online. */
  #queueRebase(rebase: Uint8Array): void {
    this.#rebases.push(rebase);
    if (this.#online) this.#postRebase(rebase);
  }

  /** The switch's rebase, made again with all of the old document (what was typed since, too). */
  #renewRebase(moving: Switch): Uint8Array {
    const rebase = encodeRebase(moving.from, this.#epoch ?? 0, Y.encodeStateAsUpdate(this.#doc, moving.base));
    this.#rebases = this.#rebases.filter((r) => r !== moving.sent);
    this.#rebases.push(rebase);
    moving.sent = rebase;
    moving.sentText = this.text;
    moving.dirty = false;
    return rebase;
  }

  /**
   * The hub has what the switch's rebase carried: the new document, which
   * has it too, is shown. What was typed since the rebase was made (within
   * its round trip) is done again on the new document, as a new edit there,
   * so the switch ends after one round trip however fast the typing.
   */
  #endSwitch(moving: Switch): void {
    this.#switch = null;
    const field = this.#field;
    if (this.#reloading === null && field.value !== this.text) this.#commit();
    const before = field.value;
    const selection = field.selection;
    const ours = this.text;
    this.#doc.destroy();
    this.#generation++;
    this.#doc = moving.next;
    this.#text = moving.nextText;
    this.#changed = false;
    this.#outbox = [];
    const carried = moving.dirty ? carrySplice(moving.sentText, ours, this.text, selection.end) : null;
    if (carried !== null) {
      const text = this.#text;
      this.#doc.transact(() => {
        if (carried.remove > 0) text.delete(carried.index, carried.remove);
        if (carried.insert !== "") text.insert(carried.index, carried.insert);
      }, LOCAL);
    }
    const text = this.text;
    if (text !== before) field.show(text, mapSelection(before, text, selection));
  }

  #postRebase(rebase: Uint8Array): void {
    if (this.#sendRebase === null) return;
    void this.#sendRebase(rebase).then((result) => {
      if (result.status !== "accepted" && result.status !== "rejected") return; // sent again on connect
      this.#rebases = this.#rebases.filter((r) => r !== rebase);
      if (result.status === "rejected") this.#error(`Not saved: ${result.error}`);
      const moving = this.#switch;
      if (moving === null || moving.sent !== rebase) return;
      if (this.#composing) {
        moving.waiting = true;
        return;
      }
      this.#endSwitch(moving);
    });
  }

  /** Sends the local updates waiting now, as one update message. */
  flush(): void {
    this.#flushScheduled = false;
    const outbox = this.#outbox;
    this.#outbox = [];
    if (!this.#online || outbox.length === 0) return;
    const update = outbox.length === 1 && outbox[0] !== undefined ? outbox[0] : Y.mergeUpdates(outbox);
    this.#post(
      syncMessage((e) => syncProtocol.writeUpdate(e, update)),
      "update",
    );
  }

  /** A `text_sync` message from the hub. */
  receive(message: Uint8Array): void {
    let type: number;
    try {
      const decoder = decoding.createDecoder(message);
      if (decoding.readVarUint(decoder) !== MESSAGE_SYNC) return; // awareness: not used yet
      type = decoding.readVarUint(decoder);
    } catch {
      return; // not a message
    }
    if (type === syncProtocol.messageYjsSyncStep1) {
      this.#answerStep1(message);
      return;
    }
    if (type !== syncProtocol.messageYjsSyncStep2 && type !== syncProtocol.messageYjsUpdate) return;
    if (this.#composing) this.#held.push({ reset: false, message });
    else this.#applyRemote([message]);
  }

  /** The hub's state vector: answer with what it lacks (nothing changes here, so also mid-composition). */
  #answerStep1(message: Uint8Array): void {
    const decoder = decoding.createDecoder(message);
    decoding.readVarUint(decoder);
    const encoder = encoding.createEncoder();
    encoding.writeVarUint(encoder, MESSAGE_SYNC);
    try {
      syncProtocol.readSyncMessage(decoder, encoder, this.#switch?.next ?? this.#doc, REMOTE);
    } catch {
      return;
    }
    // A token that may not edit is refused any step 2, even an empty one.
    if (this.#editable && encoding.length(encoder) > 1) this.#post(encoding.toUint8Array(encoder), "step2");
  }

  /** Applies the hub's step 2 / update messages and shows the result, the selection on the same characters. */
  #applyRemote(messages: Uint8Array[]): void {
    const moving = this.#switch;
    if (moving !== null) {
      // The new document's updates: taken, shown when the switch ends.
      for (const message of messages) {
        const decoder = decoding.createDecoder(message);
        decoding.readVarUint(decoder);
        try {
          syncProtocol.readSyncMessage(decoder, encoding.createEncoder(), moving.next, REMOTE);
        } catch {
          // a malformed message changes nothing
        }
      }
      return;
    }
    const field = this.#field;
    // The field shows the document (local input goes in as it comes); if it
    // does not, that is a local change not yet taken: take it first.
    if (this.#reloading === null && field.value !== this.text) this.#commit();
    const before = field.value;
    const selection = field.selection;
    const anchors = this.#reloading === null ? this.#anchor(selection) : null;
    let gotState = false;
    for (const message of messages) {
      const decoder = decoding.createDecoder(message);
      decoding.readVarUint(decoder);
      try {
        const type = syncProtocol.readSyncMessage(decoder, encoding.createEncoder(), this.#doc, REMOTE);
        if (type === syncProtocol.messageYjsSyncStep2) gotState = true;
      } catch {
        // a malformed message changes nothing
      }
    }
    const text = this.text;
    if (anchors === null) {
      // Loading the hub's document again: shown once its state is all here.
      if (!gotState) return;
      this.#reloading = null;
      if (text !== before) field.show(text, mapSelection(before, text, selection));
      return;
    }
    if (text === before) return;
    field.show(text, this.#resolve(anchors, before, text, selection));
  }

  /**
   * The selection's ends as positions that follow their characters. A caret
   * keeps to the character before it (text inserted at the caret goes after
   * it, as caret.ts does); a selection's ends keep to the text inside it.
   */
  #anchor(selection: Selection): [Y.RelativePosition, Y.RelativePosition] {
    const length = this.#text.length;
    const start = Math.max(0, Math.min(selection.start, length));
    const end = Math.max(start, Math.min(selection.end, length));
    if (start === end) {
      const caret = Y.createRelativePositionFromTypeIndex(this.#text, start, -1);
      return [caret, caret];
    }
    return [
      Y.createRelativePositionFromTypeIndex(this.#text, start, 0),
      Y.createRelativePositionFromTypeIndex(this.#text, end, -1),
    ];
  }

  #resolve(anchors: [Y.RelativePosition, Y.RelativePosition], before: string, after: string, selection: Selection): Selection {
    const [startPos, endPos] = anchors.map((rel) => Y.createAbsolutePositionFromRelativePosition(rel, this.#doc));
    if (!startPos || !endPos) return mapSelection(before, after, selection);
    const start = Math.min(startPos.index, after.length);
    const end = Math.min(Math.max(endPos.index, start), after.length);
    return { start, end };
  }

  /** Takes the field's value into the document, or puts the field back when it may not. */
  #commit(): void {
    const field = this.#field;
    const value = field.value;
    const current = this.#reloading ?? this.text;
    if (value === current) return;
    const refusal =
      this.#reloading !== null
        ? "the shared text is being loaded again"
        : !this.#editable
          ? NO_TEXT_RIGHT
          : value.length * 3 > this.#maxBytes && utf8Length(value) > this.#maxBytes
            ? `the text would be over ${this.#maxBytes} bytes`
            : null;
    if (refusal !== null) {
      field.show(current, mapSelection(value, current, field.selection));
      this.#error(`Not saved: ${refusal}`);
      return;
    }
    const splice = spliceBetween(current, value, field.selection.end);
    if (splice === null) return;
    const text = this.#text;
    this.#doc.transact(() => {
      if (splice.remove > 0) text.delete(splice.index, splice.remove);
      if (splice.insert !== "") text.insert(splice.index, splice.insert);
    }, LOCAL);
  }

  /**
   * Sends a message. `kind`: step 1 carries no edit; a step 2 may carry
   * offline ones; an update is a local edit, and once one is saved an
   * earlier error is over.
   */
  #post(message: Uint8Array, kind: "step1" | "step2" | "update"): void {
    const generation = this.#generation;
    const seq = ++this.#sent;
    void this.#send(message).then((result) => {
      if (generation !== this.#generation) return;
      if (result.status === "rejected") {
        this.#error(`Not saved: ${result.error}`);
        if (kind !== "step1" && this.#changed) this.#reload();
      } else if (kind === "update" && seq > this.#errorAt) {
        this.#notify("");
      }
    });
  }

  #error(message: string): void {
    this.#errorAt = this.#sent;
    this.#notify(message);
  }

  /** Drops this document and loads the hub's again; the field keeps its text until it is here. */
  #reload(): void {
    if (this.#reloading === null) this.#reloading = this.text;
    // The hub's document is loaded whole; what it has of ours is in it.
    this.#switch?.next.destroy();
    this.#switch = null;
    this.#doc.destroy();
    this.#generation++;
    this.#doc = new Y.Doc();
    this.#text = this.#wire(this.#doc);
    this.#changed = false;
    this.#outbox = [];
    this.#held = []; // for the old document; the hub's state has them
    if (this.#online) this.connect();
  }
}
