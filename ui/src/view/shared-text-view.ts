// The shared textarea: sends local edits (throttled), applies remote ones
// without clobbering an IME composition and keeping the caret where it was.

import type { SendResult } from "../core/ack.js";
import { mapSelection } from "../core/caret.js";
import { SharedTextSync } from "../core/shared-text.js";
import { byId } from "./dom.js";

/** At most one text_update_request per this many ms (the hub rate-limits per connection). */
const MIN_SEND_INTERVAL_MS = 50;

export class SharedTextView {
  readonly #ta = byId<HTMLTextAreaElement>("shared-text");
  readonly #error = byId("text-error");
  readonly #sync = new SharedTextSync();
  readonly #send: (text: string) => Promise<SendResult>;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #lastSendAt = -Infinity;

  constructor(send: (text: string) => Promise<SendResult>) {
    this.#send = send;
    const ta = this.#ta;
    ta.addEventListener("input", () => {
      if (this.#sync.input(ta.value)) this.#schedule();
    });
    ta.addEventListener("compositionstart", () => {
      this.#flushNow();
      this.#sync.compositionStart(ta.value);
    });
    ta.addEventListener("compositionend", () => {
      const held = this.#sync.compositionEnd(ta.value);
      if (held !== null) this.#apply(held);
      else this.#schedule();
    });
  }

  online(up: boolean): void {
    this.#sync.setOnline(up);
    this.#ta.dataset["online"] = String(up);
    if (up) this.#schedule();
  }

  /** A text_update from the hub. */
  remote(text: string): void {
    const apply = this.#sync.remote(text);
    if (apply !== null) this.#apply(apply);
    else this.#schedule();
  }

  #apply(text: string): void {
    const ta = this.#ta;
    const before = ta.value;
    if (before === text) return;
    const focused = document.activeElement === ta;
    const sel = mapSelection(before, text, { start: ta.selectionStart, end: ta.selectionEnd });
    const direction = ta.selectionDirection;
    const scrollTop = ta.scrollTop;
    ta.value = text;
    if (focused) ta.setSelectionRange(sel.start, sel.end, direction);
    ta.scrollTop = scrollTop;
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
    const text = this.#sync.flush();
    if (text === null) return;
    this.#lastSendAt = performance.now();
    void this.#send(text).then((result) => {
      const message = result.status === "rejected" ? `Not saved: ${result.error}` : "";
      this.#error.textContent = message;
      this.#error.hidden = message === "";
    });
  }
}
