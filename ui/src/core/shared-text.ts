// The shared text's synchronization rules, pure (the view owns the textarea).
//
// * Local edits go to the hub (the view throttles the sends); the hub sends
//   them to everyone else (the seed's include_self=False).
// * A remote update replaces the text, unless the user is composing with an
//   IME: then the latest remote text is held, and applied at compositionend
//   only if the composition changed nothing. Nothing is sent mid-composition;
//   the composed result is sent when it ends.
// * Local edits the hub has not got yet (typed offline, or waiting for the
//   throttle) win over a remote update: they are sent and the remote text is
//   dropped (last writer wins, and the last writer is us).
// * On a (re)connect the hub sends its text once; if our offline edits were
//   sent before that arrived, that stale text is ignored.

export class SharedTextSync {
  #online = false;
  #composing = false;
  /** The text when the composition started. */
  #base = "";
  /** The newest remote text that arrived mid-composition. */
  #held: string | null = null;
  /** The textarea's value as we last saw it. */
  #local = "";
  /** The hub's text as far as we know (what we last sent or received). */
  #server = "";
  /** The text the textarea was last set to or sent as: what unsent edits were made on. */
  #synced = "";
  /** No text_update yet on this connection. */
  #awaitingInitial = true;
  /** We sent our text on this connection before its first text_update arrived. */
  #initialSuperseded = false;

  get composing(): boolean {
    return this.#composing;
  }

  /** Connection up or down. After going up, call `flush()`. */
  setOnline(online: boolean): void {
    if (online === this.#online) return;
    this.#online = online;
    if (!online) {
      this.#awaitingInitial = true;
      this.#initialSuperseded = false;
    }
  }

  /** The user changed the text. Returns true if there is something to send. */
  input(value: string): boolean {
    this.#local = value;
    return this.pending();
  }

  /** Whether a send is due (online, not composing, text differs from the hub's). */
  pending(): boolean {
    return this.#online && !this.#composing && this.#local !== this.#server;
  }

  /** What the edits to send next were made on (read before `flush()`). */
  get synced(): string {
    return this.#synced;
  }

  /** The text to send now, or null. */
  flush(): string | null {
    if (!this.pending()) return null;
    this.#server = this.#local;
    this.#synced = this.#local;
    if (this.#awaitingInitial) this.#initialSuperseded = true;
    return this.#local;
  }

  /** A `text_update` from the hub. Returns the text to put in the textarea, or null to leave it. */
  remote(text: string): string | null {
    if (this.#awaitingInitial) {
      this.#awaitingInitial = false;
      if (this.#initialSuperseded) {
        this.#initialSuperseded = false;
        return null; // older than what we already sent
      }
    }
    const unsent = this.#local !== this.#server;
    this.#server = text;
    if (this.#composing) {
      this.#held = text;
      return null;
    }
    if (unsent) return null; // ours is newer: flush() sends it
    this.#local = text;
    this.#synced = text;
    return text;
  }

  /** `compositionstart`, with the textarea's value then. Flush before calling this. */
  compositionStart(value: string): void {
    this.#composing = true;
    this.#base = value;
    this.#local = value;
    this.#held = null;
  }

  /**
   * `compositionend`, with the textarea's value then. Returns the held remote
   * text to apply (the composition changed nothing), or null; afterwards
   * `pending()` tells whether the composed text must be sent.
   */
  compositionEnd(value: string): string | null {
    const held = this.#held;
    this.#composing = false;
    this.#held = null;
    this.#local = value;
    if (held !== null && value === this.#base) {
      this.#local = held;
      this.#synced = held;
      return held === value ? null : held;
    }
    return null;
  }
}
