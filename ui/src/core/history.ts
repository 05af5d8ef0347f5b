// The notification history: newest first, exactly once per id, one entry per
// non-empty tag and channel (a newer one replaces it, as Web Notifications
// do), capped. Pure: no DOM, no clock.

import { sortChannels } from "./channels.js";
import type { HubNotification } from "./notification.js";

export type AddOutcome =
  /** A new entry. */
  | "added"
  /** A new entry that took the place of the one with the same tag. */
  | "replaced"
  /** Already seen (same id): ignored. */
  | "duplicate"
  /** Older than the entry that holds its tag: ignored. */
  | "stale";

export class HistoryList {
  readonly #cap: number;
  readonly #seenCap: number;
  #entries: HubNotification[] = [];
  /** Ids ever accepted (insertion-ordered, trimmed to #seenCap), so replays stay out. */
  #seen = new Set<string>();
  #maxId: number | undefined;
  #epoch = 0;
  /** Every channel an accepted notification was in. */
  #channels = new Set<string>();

  constructor(cap = 200, seenCap = 5000) {
    this.#cap = Math.max(1, cap);
    this.#seenCap = Math.max(this.#cap, seenCap);
  }

  /** Newest first. */
  get entries(): readonly HubNotification[] {
    return this.#entries;
  }

  /** Every channel seen so far (also those whose entries are gone), `default` first. */
  get channels(): string[] {
    return sortChannels(this.#channels);
  }

  /** The highest numeric id seen (what a reconnecting client asks the hub to replay after). */
  get lastId(): number | undefined {
    return this.#maxId;
  }

  add(n: HubNotification): AddOutcome {
    if (n.id !== null) {
      if (this.#seen.has(n.id)) return "duplicate";
      this.#remember(n.id);
      if (n.numericId !== null && (this.#maxId === undefined || n.numericId > this.#maxId)) this.#maxId = n.numericId;
    }
    let outcome: AddOutcome = "added";
    if (n.tag !== "") {
      // A tag is a channel's own: the same tag in another channel is another entry.
      const i = this.#entries.findIndex((e) => e.tag === n.tag && e.channel === n.channel);
      const holder = this.#entries[i];
      if (holder !== undefined) {
        // A replay of an older notification must not replace a newer one.
        if (holder.numericId !== null && n.numericId !== null && n.numericId < holder.numericId) return "stale";
        this.#entries.splice(i, 1);
        outcome = "replaced";
      }
    }
    this.#channels.add(n.channel);
    this.#insert(n);
    if (this.#entries.length > this.#cap) this.#entries.length = this.#cap;
    return outcome;
  }

  /**
   * The hub says its newest id is `hubLastId`. If that is below ours, the hub
   * lost its history (restarted without its data): its ids start over, so
   * forget ours (entries stay, but no longer block or order new ones).
   * Returns true if ids were forgotten.
   */
  hubLastId(hubLastId: number): boolean {
    if (this.#maxId === undefined || hubLastId >= this.#maxId) return false;
    this.#seen.clear();
    this.#maxId = undefined;
    this.#epoch += 1;
    const prefix = `epoch${this.#epoch}:`;
    this.#entries = this.#entries.map((e) => ({ ...e, key: prefix + e.key, id: null, numericId: null }));
    return true;
  }

  clear(): void {
    this.#entries = [];
  }

  /**
   * Keeps only the entries `keep` accepts (e.g. of the channels still
   * followed). The ids of the others are forgotten, so that they can come
   * back (a `history_request` after following their channel again).
   * Returns how many were removed.
   */
  retain(keep: (n: HubNotification) => boolean): number {
    const before = this.#entries.length;
    this.#entries = this.#entries.filter((e) => {
      if (keep(e)) return true;
      if (e.id !== null) this.#seen.delete(e.id);
      return false;
    });
    return before - this.#entries.length;
  }

  /**
   * Newest first: a notification goes on top unless it carries a numeric id
   * lower than entries on top (a replayed older one), then it goes below them.
   */
  #insert(n: HubNotification): void {
    let i = 0;
    if (n.numericId !== null) {
      const id = n.numericId;
      while (i < this.#entries.length) {
        const e = this.#entries[i];
        if (e === undefined || e.numericId === null || e.numericId < id) break;
        i += 1;
      }
    }
    this.#entries.splice(i, 0, n);
  }

  #remember(id: string): void {
    this.#seen.add(id);
    if (this.#seen.size > this.#seenCap) {
      const oldest = this.#seen.values().next().value;
      if (oldest !== undefined) this.#seen.delete(oldest);
    }
  }
}

/** The entries of one channel (`null`: all of them), in the same order. */
export function filterByChannel(entries: readonly HubNotification[], channel: string | null): readonly HubNotification[] {
  return channel === null ? entries : entries.filter((e) => e.channel === channel);
}
