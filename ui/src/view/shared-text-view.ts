// The shared textarea. With a hub that says `text: "yjs"` in its welcome,
// edits merge as a Yjs document over `text_sync` (core/crdt-text.ts);
// otherwise (the seed's server, older hubs, the desktop app) the full text
// goes back and forth (`text_update`, core/shared-text.ts), sends throttled.
// Either way remote edits never clobber an IME composition and the caret
// stays where it was; a token without the text right gets a read-only field.

import type { SendResult } from "../core/ack.js";
import { mapSelection, type Selection } from "../core/caret.js";
import { CrdtText, NO_TEXT_RIGHT, type TextField } from "../core/crdt-text.js";
import { SharedTextSync } from "../core/shared-text.js";
import { TextModeChooser, type TextMode } from "../core/text-mode.js";
import type { HubWelcome } from "../core/welcome.js";
import type { TextSyncChannel } from "../transport/hub-transport.js";
import { byId } from "./dom.js";

/** At most one text message per this many ms (the hub rate-limits per connection). */
const MIN_SEND_INTERVAL_MS = 50;

export class SharedTextView {
  readonly #ta = byId<HTMLTextAreaElement>("shared-text");
  readonly #error = byId("text-error");
  readonly #sync = new SharedTextSync();
  readonly #send: (text: string, base: string) => Promise<SendResult>;
  readonly #channel: TextSyncChannel | null;
  readonly #modes: TextModeChooser;
  #crdt: CrdtText | null = null;
  #editable = true;
  #composing = false;
  /** A `text_update` was shown: the textarea holds a hub's text, not only what was typed here. */
  #hadLegacyText = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #lastSendAt = -Infinity;
  #lastSyncAt = -Infinity;

  constructor(send: (text: string, base: string) => Promise<SendResult>, channel?: TextSyncChannel) {
    this.#send = send;
    this.#channel = channel ?? null;
    this.#modes = new TextModeChooser(this.#channel !== null);
    const ta = this.#ta;
    ta.addEventListener("input", () => {
      if (this.#modes.mode === "crdt" && this.#crdt !== null) this.#crdt.input();
      else if (this.#sync.input(ta.value)) this.#schedule();
    });
    ta.addEventListener("compositionstart", () => {
      this.#composing = true;
      if (this.#modes.mode === "crdt" && this.#crdt !== null) {
        this.#crdt.compositionStart();
        return;
      }
      this.#flushNow();
      this.#sync.compositionStart(ta.value);
    });
    ta.addEventListener("compositionend", () => {
      this.#composing = false;
      if (this.#modes.mode === "crdt" && this.#crdt !== null) {
        this.#crdt.compositionEnd();
        return;
      }
      const held = this.#sync.compositionEnd(ta.value);
      if (held !== null) this.#apply(held);
      else this.#schedule();
    });
    // A read-only field takes nothing: say so when someone tries.
    ta.addEventListener("keydown", (e) => {
      if (ta.readOnly && isEditKey(e)) this.#showError(`Not saved: ${NO_TEXT_RIGHT}`);
    });
    for (const type of ["paste", "cut", "drop"]) {
      ta.addEventListener(type, () => {
        if (ta.readOnly) this.#showError(`Not saved: ${NO_TEXT_RIGHT}`);
      });
    }
    channel?.on((message) => {
      if (this.#modes.decided && this.#modes.mode === "crdt") this.#crdt?.receive(message);
    });
    channel?.onReset((message) => {
      if (this.#modes.decided && this.#modes.mode === "crdt") this.#crdt?.reset(message);
    });
  }

  online(up: boolean): void {
    this.#ta.dataset["online"] = String(up);
    const previous = this.#modes.mode;
    const mode = this.#modes.online(up);
    if (!up) {
      this.#sync.setOnline(false);
      this.#crdt?.disconnect();
    }
    this.#use(previous, mode);
  }

  /** The hub's `welcome`: what the token may do, and whether the text is a Yjs document. */
  welcome(w: HubWelcome): void {
    this.#editable = w.rights?.text !== false;
    this.#ta.readOnly = !this.#editable;
    this.#crdt?.setEditable(this.#editable);
    const previous = this.#modes.mode;
    this.#use(previous, this.#modes.welcome(w));
    this.#crdt?.welcomed(w.textEpoch);
  }

  /** A text_update from the hub (a hub that sends one speaks full text). */
  remote(text: string): void {
    const previous = this.#modes.mode;
    this.#use(previous, this.#modes.textUpdate());
    if (this.#modes.decided && this.#modes.mode === "crdt") return; // a Yjs hub sends none
    this.#hadLegacyText = true;
    const apply = this.#sync.remote(text);
    if (apply !== null) this.#apply(apply);
    else this.#schedule();
  }

  /** This connection's way is now known: `mode` (null: not yet), after `previous`. */
  #use(previous: TextMode, mode: TextMode | null): void {
    if (mode === "legacy") this.#useLegacy(previous);
    else if (mode === "crdt") this.#useCrdt(previous);
  }

  #useLegacy(previous: TextMode): void {
    if (previous === "crdt") {
      // The textarea has what the Yjs hub had: that is our text now.
      this.#sync.input(this.#ta.value);
      if (this.#composing) this.#sync.compositionStart(this.#ta.value);
    }
    this.#sync.setOnline(true);
    this.#schedule();
  }

  #useCrdt(previous: TextMode): void {
    // Nothing goes out as full text on this connection.
    this.#sync.setOnline(false);
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    let crdt = this.#crdt;
    if (crdt === null) {
      crdt = this.#createCrdt();
      this.#crdt = crdt;
      crdt.setEditable(this.#editable);
      // What was typed before the first connection merges into the hub's
      // text; a hub's full text (this page talked to an older hub) is
      // replaced by this one's, not added to it.
      if (this.#hadLegacyText) this.#show("", { start: 0, end: 0 });
      else crdt.input();
    } else {
      crdt.setEditable(this.#editable);
      // Edits made while a full-text hub was connected merge too.
      if (previous !== "crdt") crdt.input();
    }
    if (previous !== "crdt" && this.#composing) crdt.compositionStart();
    crdt.connect();
  }

  #createCrdt(): CrdtText {
    const channel = this.#channel;
    if (channel === null) throw new Error("no text_sync channel");
    const ta = this.#ta;
    const field: TextField = {
      get value() {
        return ta.value;
      },
      get selection() {
        return { start: ta.selectionStart, end: ta.selectionEnd };
      },
      show: (value, selection) => this.#show(value, selection),
    };
    return new CrdtText(field, {
      send: (message) => channel.send(message),
      sendRebase: (message) => channel.sendRebase(message),
      onEpoch: (epoch) => channel.setEpoch(epoch),
      notify: (message) => this.#showError(message),
      // Local updates made within one task (and within the hub's rate) go as one.
      schedule: (flush) => {
        const wait = Math.max(0, this.#lastSyncAt + MIN_SEND_INTERVAL_MS - performance.now());
        setTimeout(() => {
          this.#lastSyncAt = performance.now();
          flush();
        }, wait);
      },
    });
  }

  /** Full text from the hub (legacy): the caret mapped by comparing the texts. */
  #apply(text: string): void {
    const ta = this.#ta;
    const before = ta.value;
    if (before === text) return;
    this.#show(text, mapSelection(before, text, { start: ta.selectionStart, end: ta.selectionEnd }));
  }

  /** Shows `text`, the selection (when focused), its direction and the scroll position kept. */
  #show(text: string, selection: Selection): void {
    const ta = this.#ta;
    if (ta.value === text) return;
    const focused = document.activeElement === ta;
    const direction = ta.selectionDirection;
    const scrollTop = ta.scrollTop;
    ta.value = text;
    if (focused) ta.setSelectionRange(selection.start, selection.end, direction);
    ta.scrollTop = scrollTop;
  }

  #showError(message: string): void {
    this.#error.textContent = message;
    this.#error.hidden = message === "";
  }

  #schedule(): void {
    if (this.#timer !== undefined || !this.#sync.pending()) return;
    const wait = this.#lastSendAt + MIN_SEND_INTERVAL_MS - performance.now();
    if (wait <= 0) {
      this.#flushNow();
      return;
    }
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#flushNow();
    }, wait);
  }

  #flushNow(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    const base = this.#sync.synced;
    const text = this.#sync.flush();
    if (text === null) return;
    this.#lastSendAt = performance.now();
    void this.#send(text, base).then((result) => {
      this.#showError(result.status === "rejected" ? `Not saved: ${result.error}` : "");
    });
  }
}

/** Whether this key would change a textarea's text. */
function isEditKey(e: KeyboardEvent): boolean {
  if (e.isComposing) return true;
  if (e.ctrlKey || e.metaKey) return ["v", "x", "z", "y"].includes(e.key.toLowerCase());
  return e.key.length === 1 || e.key === "Enter" || e.key === "Backspace" || e.key === "Delete";
}
