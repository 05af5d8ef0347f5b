// HubTransport over Tauri commands and events, for the desktop app. The
// Rust core owns the connection (it lives on while the window is closed);
// this only mirrors it. A re-created window draws itself from `hub_state`.

import { invoke } from "@tauri-apps/api/core";
import { listen, type UnlistenFn } from "@tauri-apps/api/event";

import type { SendResult } from "../core/ack.js";
import type { ConnectionStatus } from "../core/status.js";
import { parseWelcome } from "../core/welcome.js";
import { Listeners, type HubTransport, type HubWelcome, type NotificationDraft, type Unsubscribe } from "./hub-transport.js";

/** What `hub_state` answers (src-tauri/src/core.rs `Snapshot`). */
export interface DesktopSnapshot {
  status: ConnectionStatus;
  count: number | null;
  text: string;
  server: string;
  doNotDisturb: boolean;
  unread: number;
  focus: string | null;
  warnings: string[];
}

/** Event names (src-tauri/src/ui_events.rs). */
export const EVENTS = {
  status: "hub://status",
  count: "hub://count",
  text: "hub://text",
  notification: "hub://notification",
  welcome: "hub://welcome",
  focus: "hub://focus",
  dnd: "hub://dnd",
  alert: "hub://alert",
} as const;

export class TauriTransport implements HubTransport {
  readonly #status = new Listeners<ConnectionStatus>();
  readonly #count = new Listeners<number>();
  readonly #text = new Listeners<string>();
  readonly #notification = new Listeners<unknown>();
  readonly #welcome = new Listeners<HubWelcome>();
  readonly #focus = new Listeners<string>();
  readonly #snapshot = new Listeners<DesktopSnapshot>();
  readonly #dnd = new Listeners<boolean>();
  /** The core keeps the text (a Yjs replica) and merges it when the hub is back. */
  readonly textKeptOffline = true;
  #started = false;
  #unlisten: UnlistenFn[] = [];

  /** Subscribes to the core's events; then `connect()` draws the current state. */
  async attach(): Promise<void> {
    const on = async <T>(name: string, cb: (payload: T) => void): Promise<void> => {
      this.#unlisten.push(await listen<T>(name, (e) => cb(e.payload)));
    };
    await on<ConnectionStatus>(EVENTS.status, (s) => this.#status.emit(s));
    await on<number>(EVENTS.count, (n) => this.#count.emit(n));
    await on<string>(EVENTS.text, (t) => this.#text.emit(t));
    await on<unknown>(EVENTS.notification, (p) => this.#notification.emit(p));
    // `{last_id}`, and `channels` / `rights` from a hub with channels.
    await on<unknown>(EVENTS.welcome, (payload) => {
      const w = parseWelcome(payload);
      if (w.lastId !== undefined || w.channels !== undefined || w.rights !== undefined) this.#welcome.emit(w);
    });
    await on<string>(EVENTS.focus, (id) => this.#focus.emit(id));
    await on<boolean>(EVENTS.dnd, (on) => this.#dnd.emit(on));
  }

  connect(): void {
    if (this.#started) {
      // The Reconnect button, or a new token: the core connects again.
      void invoke("reconnect").catch((e: unknown) => console.error("pushdesk: reconnect", e));
      return;
    }
    this.#started = true;
    void invoke<DesktopSnapshot>("hub_state").then((s) => {
      this.#snapshot.emit(s);
      this.#status.emit(s.status);
      if (s.count !== null) this.#count.emit(s.count);
      this.#text.emit(s.text);
      if (s.focus !== null) this.#focus.emit(s.focus);
    });
  }

  disconnect(): void {
    for (const un of this.#unlisten) un();
    this.#unlisten = [];
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
  onFocus(cb: (id: string) => void): Unsubscribe {
    return this.#focus.add(cb);
  }
  /** The core's state, once on start. */
  onSnapshot(cb: (s: DesktopSnapshot) => void): Unsubscribe {
    return this.#snapshot.add(cb);
  }
  onDoNotDisturb(cb: (on: boolean) => void): Unsubscribe {
    return this.#dnd.add(cb);
  }

  sendText(text: string, base?: string): Promise<SendResult> {
    return invoke<SendResult>("send_text", { text, base }).catch(() => ({ status: "offline" }) as const);
  }

  sendNotification(draft: NotificationDraft): Promise<SendResult> {
    return invoke<SendResult>("send_notification", { draft }).catch(() => ({ status: "offline" }) as const);
  }

  /** The desktop's own history (kept by the core, also while the window was closed). */
  requestHistory(limit: number): Promise<unknown[] | null> {
    return invoke<unknown[]>("history", { limit }).catch(() => null);
  }
}
