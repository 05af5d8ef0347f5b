// The channels this page follows, per hub, in localStorage (like the token).

import { DEFAULT_CHANNEL, formatChannelList, parseSubscriptions } from "../core/channels.js";

export class ChannelStore {
  readonly #key: string;
  #memory: string[] = [DEFAULT_CHANNEL];

  constructor(serverUrl: string) {
    this.#key = `pushdesk.channels:${serverUrl}`;
  }

  /** The stored list; `["default"]` when there is none (or it is unusable). */
  get(): string[] {
    let stored: string | null = null;
    try {
      stored = localStorage.getItem(this.#key);
    } catch {
      return [...this.#memory];
    }
    if (stored === null) return [...this.#memory];
    const parsed = parseSubscriptions(stored);
    return parsed.ok ? parsed.channels : [DEFAULT_CHANNEL];
  }

  set(channels: readonly string[]): void {
    this.#memory = channels.length > 0 ? [...channels] : [DEFAULT_CHANNEL];
    const isDefault = this.#memory.length === 1 && this.#memory[0] === DEFAULT_CHANNEL;
    try {
      if (isDefault) localStorage.removeItem(this.#key);
      else localStorage.setItem(this.#key, formatChannelList(this.#memory));
    } catch {
      // storage disabled: keep it in memory
    }
  }
}
