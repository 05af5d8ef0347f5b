// Which way the shared text travels on a connection, pure: as full text
// (`text_update`, what the seed's server, older hubs and the desktop app
// speak) or as a Yjs document (`text_sync`, a hub whose `welcome` says
// `text: "yjs"`). Until a connection's way is known nothing is sent, so a
// Yjs hub never gets a full-text write that would replace merged edits.
// socket.io-client hands over what a server sends before its CONNECT ack
// (the seed's Flask app sends `text_update` there) before `connect`: what
// arrives while not connected decides the connection about to open.

import type { HubWelcome } from "./welcome.js";

export type TextMode = "legacy" | "crdt";

export class TextModeChooser {
  readonly #canSync: boolean;
  #connected = false;
  #decided = false;
  #mode: TextMode = "legacy";
  /** What arrived before the connection was up (the first word wins). */
  #early: TextMode | null = null;

  /** `canSync`: the transport has `text_sync` (and asks for it in its handshake). */
  constructor(canSync: boolean) {
    this.#canSync = canSync;
  }

  /** How local edits are handled: this connection's way, else the last one's (legacy before any). */
  get mode(): TextMode {
    return this.#mode;
  }

  /** Whether this connection's way is known (sends may go out). */
  get decided(): boolean {
    return this.#connected && this.#decided;
  }

  /** Connection up or down. Returns the way it decides, or null. */
  online(up: boolean): TextMode | null {
    if (up === this.#connected) return null;
    this.#connected = up;
    this.#decided = false;
    const early = this.#early;
    this.#early = null;
    if (!up) return null;
    // Without text_sync the text is full text from the start.
    if (!this.#canSync) return this.#decide("legacy");
    return early !== null ? this.#decide(early) : null;
  }

  /** The hub's `welcome` (the first thing our hubs send). Returns the way it decides, or null. */
  welcome(w: HubWelcome): TextMode | null {
    return this.#heard(this.#canSync && w.text === "yjs" ? "crdt" : "legacy");
  }

  /** A `text_update` arrived: a hub that sends one speaks full text (the seed's sends no welcome). */
  textUpdate(): TextMode | null {
    return this.#heard("legacy");
  }

  #heard(mode: TextMode): TextMode | null {
    if (!this.#connected) {
      this.#early ??= mode;
      return null;
    }
    return this.#decided ? null : this.#decide(mode);
  }

  #decide(mode: TextMode): TextMode {
    this.#decided = true;
    this.#mode = mode;
    return mode;
  }
}
