// HubTransport over Socket.IO (socket.io-client 4.8, bundled), for browsers.

import { io, type Socket } from "socket.io-client";

import { buildNotificationRequest, historyFromAck, interpretAck, type SendResult } from "../core/ack.js";
import type { ConnectionStatus } from "../core/status.js";
import { Listeners, type HubTransport, type HubWelcome, type NotificationDraft, type Unsubscribe } from "./hub-transport.js";

export interface SocketIoOptions {
  /** The hub, e.g. `http://127.0.0.1:5000` (the page's origin by default). */
  url: string;
  /** The auth payload, asked for again on every (re)connect: `{token, last_id}`. */
  auth?: () => Record<string, unknown>;
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
  /** The current reconnection attempt (socket.io-client counts from 1). */
  #attempt = 0;

  constructor(options: SocketIoOptions) {
    this.#ackTimeoutMs = options.ackTimeoutMs ?? 5000;
    const auth = options.auth;
    this.#socket = io(options.url, {
      autoConnect: false,
      ...(options.preferWebSocket ? { transports: ["websocket", "polling"], tryAllTransports: true } : {}),
      // Fresh auth (token, last seen notification id) on every attempt.
      ...(auth ? { auth: (cb: (data: object) => void) => cb(auth()) } : {}),
    });
    this.#wire();
  }

  #wire(): void {
    const s = this.#socket;
    const manager = s.io;

    s.on("connect", () => {
      this.#attempt = 0;
      this.#status.emit({ state: "connected" });
    });
    s.on("disconnect", (reason) => {
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
    s.on("send_notification", (msg: unknown) => this.#notification.emit(msg));
    s.on("welcome", (msg: unknown) => {
      const m = (typeof msg === "object" && msg !== null ? msg : {}) as { last_id?: unknown; version?: unknown };
      const w: HubWelcome = {};
      if (typeof m.last_id === "number" && Number.isSafeInteger(m.last_id) && m.last_id >= 0) w.lastId = m.last_id;
      if (typeof m.version === "string") w.version = m.version.slice(0, 64);
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

  sendNotification(draft: NotificationDraft): Promise<SendResult> {
    return this.#request("send_notification_request", buildNotificationRequest(draft));
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
