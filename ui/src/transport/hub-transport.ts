// How the UI talks to a hub. The browser build uses Socket.IO directly
// (SocketIoTransport); the desktop app will implement the same interface
// over Tauri commands and events, its Rust core owning the connection.

import type { NotificationDraft, SendResult, SubscribeResult } from "../core/ack.js";
import type { ConnectionStatus } from "../core/status.js";
import type { HubRights, HubWelcome } from "../core/welcome.js";

export type { ConnectionStatus, HubRights, HubWelcome, NotificationDraft, SendResult, SubscribeResult };

/** Call to stop listening. */
export type Unsubscribe = () => void;

/**
 * The shared text as a Yjs document: `text_sync` events, each one
 * y-protocols sync message (see core/crdt-text.ts). The hub uses it when its
 * `welcome` says `text: "yjs"`; then it sends no `text_update`.
 */
export interface TextSyncChannel {
  /** Emits `text_sync` with this message; resolves with the hub's ack (`{ok:true}` / `{ok:false, error}`). */
  send(message: Uint8Array): Promise<SendResult>;
  /** `text_sync` messages from the hub. */
  on(cb: (message: Uint8Array) => void): Unsubscribe;
  /** `text_reset` messages from the hub: its document of a new epoch (see core/crdt-text.ts). */
  onReset(cb: (message: Uint8Array) => void): Unsubscribe;
  /** Emits `text_rebase` with this message; resolves with the hub's ack. */
  sendRebase(message: Uint8Array): Promise<SendResult>;
  /** The epoch of our document, named as `auth.text_epoch` in every later handshake. */
  setEpoch(epoch: number): void;
}

export interface HubTransport {
  /** Starts (or restarts, after a refusal) the connection. Reconnects by itself after drops. */
  connect(): void;
  /** Closes the connection; no reconnecting until `connect()`. */
  disconnect(): void;

  onStatus(cb: (status: ConnectionStatus) => void): Unsubscribe;
  /** `count_update {user_count}`. */
  onCount(cb: (count: number) => void): Unsubscribe;
  /** `text_update {text}`: the shared text from the hub (never an echo of our own). */
  onText(cb: (text: string) => void): Unsubscribe;
  /** `send_notification`: the payload as received, unvalidated (see core/notification.ts). */
  onNotification(cb: (payload: unknown) => void): Unsubscribe;
  onWelcome(cb: (welcome: HubWelcome) => void): Unsubscribe;
  /** Show this notification (by id) in the history: the desktop app, after a click on it. */
  onFocus?(cb: (id: string) => void): Unsubscribe;

  /**
   * `text_update_request {text}`. Resolves with the hub's ack, if any.
   * `base`: the text these edits were made on (the desktop core merges by it).
   */
  sendText(text: string, base?: string): Promise<SendResult>;
  /** `send_notification_request`, acknowledged within a timeout. */
  sendNotification(draft: NotificationDraft): Promise<SendResult>;
  /** `history_request {limit}`: the newest notifications, or null when the hub can't say. */
  requestHistory(limit: number): Promise<unknown[] | null>;
  /**
   * Follow these channels (`*`: all) from now on: on the next handshake
   * (`auth.channels`) and, when connected, at once (`subscribe` /
   * `unsubscribe` for the difference). When the hub refuses, what was
   * followed before stays. Only transports where the page picks its
   * channels have it (the desktop app's are in its settings).
   */
  setChannels?(channels: string[]): Promise<SubscribeResult>;
  /**
   * The shared text over `text_sync` (Yjs), for hubs that speak it. A
   * transport that has it asks for it in every handshake; without it (the
   * desktop app, for now) the text is `text_update` only.
   */
  readonly textSync?: TextSyncChannel;
  /**
   * The shared text is written to a local replica that merges it with the
   * hub's when it can (the desktop app's core): edits are taken while the
   * hub is away, not held back.
   */
  readonly textKeptOffline?: boolean;
}

/** A tiny typed listener list for transports. */
export class Listeners<T> {
  #set = new Set<(value: T) => void>();

  add(cb: (value: T) => void): Unsubscribe {
    this.#set.add(cb);
    return () => {
      this.#set.delete(cb);
    };
  }

  emit(value: T): void {
    for (const cb of this.#set) {
      try {
        cb(value);
      } catch (e) {
        console.error("pushdesk: listener failed", e);
      }
    }
  }
}
