// HubTransport over Socket.IO (socket.io-client 4.8, bundled), for browsers.

import { io, type Socket } from "socket.io-client";

import {
  buildNotificationRequest,
  historyFromAck,
  interpretAck,
  interpretSubscribeAck,
  type SendResult,
  type SubscribeResult,
} from "../core/ack.js";
import { DEFAULT_CHANNEL, channelDiff } from "../core/channels.js";
import type { ConnectionStatus } from "../core/status.js";
import { parseWelcome } from "../core/welcome.js";
import {
  Listeners,
  type HubTransport,
  type HubWelcome,
  type NotificationDraft,
  type TextSyncChannel,
  type Unsubscribe,
} from "./hub-transport.js";

export interface SocketIoOptions {
  /** The hub, e.g. `http://127.0.0.1:5000` (the page's origin by default). */
  url: string;
  /** The auth payload, asked for again on every (re)connect: `{token, last_id}`. */
  auth?: () => Record<string, unknown>;
  /**
   * The channels to follow (`*`: all), sent as `auth.channels` (left out
   * when it is just `default`, which is what a handshake without it means).
   * `setChannels()` changes them.
   */
  channels?: string[];
  /** How long to wait for an ack (ms). */
  ackTimeoutMs?: number;
  /**
   * WebSocket first, long-polling as the fallback. For a hub on another
   * origin: a WebSocket needs no CORS headers, long-polling does.
   */
  preferWebSocket?: boolean;
}

/** socket.io-client's disconnect reasons, for people. */
const REASONS: Record<string, string> = {
  "io server disconnect": "closed by the hub",
  "io client disconnect": "",
};

export class SocketIoTransport implements HubTransport {
  readonly #socket: Socket;
  readonly #ackTimeoutMs: number;
  readonly #status = new Listeners<ConnectionStatus>();
  readonly #count = new Listeners<number>();
  readonly #text = new Listeners<string>();
  readonly #notification = new Listeners<unknown>();
  readonly #welcome = new Listeners<HubWelcome>();
  readonly #textSync = new Listeners<Uint8Array>();
  readonly #textReset = new Listeners<Uint8Array>();
  /** The epoch of our shared-text document, for the handshake (null: none yet). */
  #textEpoch: number | null = null;
  /** The current reconnection attempt (socket.io-client counts from 1). */
  #attempt = 0;
  /** The channels to ask for on the next handshake. */
  #wanted: string[];
  /** What the last handshake asked for. */
  #asked: string[];
  /** What this connection follows (from the handshake, `welcome` and acks); null while not connected. */
  #subscribed: string[] | null = null;
  /** setChannels() calls, one after the other. */
  #channelChanges: Promise<unknown> = Promise.resolve();

  constructor(options: SocketIoOptions) {
    this.#ackTimeoutMs = options.ackTimeoutMs ?? 5000;
    this.#wanted = options.channels && options.channels.length > 0 ? [...options.channels] : [DEFAULT_CHANNEL];
    this.#asked = this.#wanted;
    const auth = options.auth;
    this.#socket = io(options.url, {
      autoConnect: false,
      ...(options.preferWebSocket ? { transports: ["websocket", "polling"], tryAllTransports: true } : {}),
      // Fresh auth (token, last seen notification id, channels) on every attempt.
      auth: (cb: (data: object) => void) => cb(this.#auth(auth)),
    });
    this.#wire();
  }

  #auth(auth: (() => Record<string, unknown>) | undefined): Record<string, unknown> {
    const data = auth ? { ...auth() } : {};
    this.#asked = [...this.#wanted];
    const justDefault = this.#asked.length === 1 && this.#asked[0] === DEFAULT_CHANNEL;
    if (!justDefault) data["channels"] = [...this.#asked];
    // The shared text as a Yjs document (`text_sync`), if the hub can; others ignore it.
    data["text"] = "yjs";
    if (this.#textEpoch !== null) data["text_epoch"] = this.#textEpoch;
    return data;
  }

  #wire(): void {
    const s = this.#socket;
    const manager = s.io;

    s.on("connect", () => {
      this.#attempt = 0;
      this.#subscribed = [...this.#asked];
      this.#status.emit({ state: "connected" });
    });
    s.on("disconnect", (reason) => {
      this.#subscribed = null;
      // The client reconnects by itself unless one side closed on purpose.
      if (s.active) this.#status.emit({ state: "reconnecting", attempt: 0 });
      else this.#status.emit({ state: "disconnected", reason: REASONS[reason] ?? reason });
    });
    s.on("connect_error", (err: Error & { data?: unknown }) => {
      if (s.active) return; // a transport error: the manager retries (reconnect_attempt follows)
      // The hub refused us (middleware): no retry until connect() is called again.
      const data = err.data;
      const detail =
        typeof data === "object" && data !== null && typeof (data as { message?: unknown }).message === "string"
          ? (data as { message: string }).message
          : err.message;
      this.#status.emit({ state: "disconnected", reason: detail, refused: true });
    });
    manager.on("reconnect_attempt", (attempt) => {
      this.#attempt = attempt;
      this.#status.emit({ state: "reconnecting", attempt });
    });
    manager.on("reconnect_error", (err) => {
      this.#status.emit({ state: "reconnecting", attempt: this.#attempt, error: err.message });
    });
    manager.on("reconnect_failed", () => this.#status.emit({ state: "disconnected", reason: "gave up reconnecting" }));

    s.on("count_update", (msg: unknown) => {
      const n = (msg as { user_count?: unknown } | null)?.user_count;
      const count = typeof n === "number" ? n : typeof n === "string" ? Number(n) : NaN;
      if (Number.isFinite(count) && count >= 0) this.#count.emit(Math.floor(count));
    });
    s.on("text_update", (msg: unknown) => {
      const text = (msg as { text?: unknown } | null)?.text;
      if (typeof text === "string") this.#text.emit(text);
    });
    for (const [event, listeners] of [
      ["text_sync", this.#textSync],
      ["text_reset", this.#textReset],
    ] as const) {
      s.on(event, (msg: unknown) => {
        // socket.io-client hands binary over as an ArrayBuffer (a Buffer in Node).
        if (msg instanceof ArrayBuffer) listeners.emit(new Uint8Array(msg));
        else if (ArrayBuffer.isView(msg)) listeners.emit(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength));
      });
    }
    s.on("send_notification", (msg: unknown) => this.#notification.emit(msg));
    s.on("welcome", (msg: unknown) => {
      const w = parseWelcome(msg);
      if (w.channels !== undefined && s.connected) this.#subscribed = [...w.channels];
      this.#welcome.emit(w);
    });
  }

  connect(): void {
    if (this.#socket.connected) return;
    this.#status.emit({ state: "connecting" });
    this.#socket.connect();
  }

  disconnect(): void {
    this.#socket.disconnect();
  }

  onStatus(cb: (status: ConnectionStatus) => void): Unsubscribe {
    return this.#status.add(cb);
  }
  onCount(cb: (count: number) => void): Unsubscribe {
    return this.#count.add(cb);
  }
  onText(cb: (text: string) => void): Unsubscribe {
    return this.#text.add(cb);
  }
  onNotification(cb: (payload: unknown) => void): Unsubscribe {
    return this.#notification.add(cb);
  }
  onWelcome(cb: (welcome: HubWelcome) => void): Unsubscribe {
    return this.#welcome.add(cb);
  }

  #request(event: string, payload: unknown): Promise<SendResult> {
    // Offline emits would sit in socket.io's buffer and be dropped at the
    // timeout anyway: say so at once instead.
    if (!this.#socket.connected) return Promise.resolve({ status: "offline" });
    return new Promise((resolve) => {
      this.#socket.timeout(this.#ackTimeoutMs).emit(event, payload, (err: unknown, response: unknown) => {
        resolve(interpretAck(err, response));
      });
    });
  }

  sendText(text: string): Promise<SendResult> {
    return this.#request("text_update_request", { text });
  }

  readonly textSync: TextSyncChannel = {
    send: (message) => this.#request("text_sync", message),
    on: (cb) => this.#textSync.add(cb),
    onReset: (cb) => this.#textReset.add(cb),
    sendRebase: (message) => this.#request("text_rebase", message),
    setEpoch: (epoch) => {
      this.#textEpoch = epoch;
    },
  };

  sendNotification(draft: NotificationDraft): Promise<SendResult> {
    return this.#request("send_notification_request", buildNotificationRequest(draft));
  }

  setChannels(channels: string[]): Promise<SubscribeResult> {
    const wanted = channels.length > 0 ? [...channels] : [DEFAULT_CHANNEL];
    const change = this.#channelChanges.then(() => this.#changeChannels(wanted));
    this.#channelChanges = change.catch(() => undefined);
    return change;
  }

  /** `subscribe` what is new, then `unsubscribe` what is no longer wanted. */
  async #changeChannels(wanted: string[]): Promise<SubscribeResult> {
    // The next handshake (also one in the middle of this) asks for them.
    this.#wanted = wanted;
    const current = this.#subscribed;
    if (current === null || !this.#socket.connected) return { status: "offline" };
    const { subscribe, unsubscribe } = channelDiff(current, wanted);
    let now = current;
    for (const [event, list] of [
      ["subscribe", subscribe],
      ["unsubscribe", unsubscribe],
    ] as const) {
      if (list.length === 0) continue;
      const result = await this.#subscription(event, list);
      if (result.status === "accepted") {
        now = result.channels ?? (event === "subscribe" ? [...now, ...list.filter((c) => !now.includes(c))] : now.filter((c) => !list.includes(c)));
        if (this.#subscribed !== null) this.#subscribed = now;
        continue;
      }
      // Refused: the next handshake asks for what is followed now, not for
      // what the hub refused. Unanswered (a hub without channels, or a slow
      // one) or offline: for what the user wants.
      if (result.status === "rejected") this.#wanted = now;
      return result;
    }
    this.#wanted = now;
    return { status: "accepted", channels: now };
  }

  #subscription(event: "subscribe" | "unsubscribe", channels: string[]): Promise<SubscribeResult> {
    if (!this.#socket.connected) return Promise.resolve({ status: "offline" });
    return new Promise((resolve) => {
      this.#socket.timeout(this.#ackTimeoutMs).emit(event, { channels }, (err: unknown, response: unknown) => {
        resolve(interpretSubscribeAck(err, response));
      });
    });
  }

  requestHistory(limit: number): Promise<unknown[] | null> {
    if (!this.#socket.connected) return Promise.resolve(null);
    return new Promise((resolve) => {
      this.#socket.timeout(this.#ackTimeoutMs).emit("history_request", { limit }, (err: unknown, response: unknown) => {
        resolve(historyFromAck(err, response));
      });
    });
  }
}
