// The desktop app's settings panel: which hub, token, TLS trust, Do Not
// Disturb, minimum urgency, channels to follow, start at login. Saved by the
// Rust core, which checks everything again.

import { DEFAULT_CHANNEL, asSubscriptions, formatChannelList, parseSubscriptions } from "../core/channels.js";
import { byId } from "./dom.js";

/** src-tauri/src/settings.rs `Settings`. */
export interface DesktopSettings {
  server: string | null;
  token: string | null;
  caCert: string | null;
  acceptInvalidCerts: boolean;
  doNotDisturb: boolean;
  minUrgency: "low" | "normal" | "critical";
  startAtLogin: boolean;
  /** The channels to follow (`*`: all); a core from before channels leaves it out: `["default"]`. */
  channels: string[];
}

export interface SettingsBackend {
  load(): Promise<DesktopSettings>;
  /** Resolves with an error message, or null when saved. */
  save(settings: DesktopSettings): Promise<string | null>;
}

function orNull(s: string): string | null {
  const t = s.trim();
  return t === "" ? null : t;
}

export class SettingsView {
  readonly #panel = byId("settings");
  readonly #form = byId<HTMLFormElement>("settings-form");
  readonly #server = byId<HTMLInputElement>("settings-server");
  readonly #token = byId<HTMLInputElement>("settings-token");
  readonly #ca = byId<HTMLInputElement>("settings-ca");
  readonly #insecure = byId<HTMLInputElement>("settings-insecure");
  readonly #dnd = byId<HTMLInputElement>("settings-dnd");
  readonly #urgency = byId<HTMLSelectElement>("settings-urgency");
  readonly #login = byId<HTMLInputElement>("settings-login");
  readonly #channels = byId<HTMLInputElement>("settings-channels");
  readonly #result = byId<HTMLOutputElement>("settings-result");

  constructor(backend: SettingsBackend) {
    this.#panel.hidden = false;
    void backend.load().then((s) => this.#fill(s));
    this.#form.addEventListener("submit", (e) => {
      e.preventDefault();
      const channels = parseSubscriptions(this.#channels.value);
      if (!channels.ok) {
        this.#result.textContent = `Channels: ${channels.error}`;
        this.#channels.focus();
        return;
      }
      this.#channels.value = formatChannelList(channels.channels);
      this.#result.textContent = "Saving…";
      void backend.save(this.#read(channels.channels)).then((error) => {
        this.#result.textContent = error === null ? "Saved" : error;
      });
    });
  }

  /** Do Not Disturb changed elsewhere (the tray). */
  doNotDisturb(on: boolean): void {
    this.#dnd.checked = on;
  }

  #fill(s: DesktopSettings): void {
    this.#server.value = s.server ?? "";
    this.#token.value = s.token ?? "";
    this.#ca.value = s.caCert ?? "";
    this.#insecure.checked = s.acceptInvalidCerts;
    this.#dnd.checked = s.doNotDisturb;
    this.#urgency.value = s.minUrgency;
    this.#login.checked = s.startAtLogin;
    const channels = asSubscriptions((s as { channels?: unknown }).channels);
    this.#channels.value = formatChannelList(channels !== null && channels.length > 0 ? channels : [DEFAULT_CHANNEL]);
  }

  #read(channels: string[]): DesktopSettings {
    const u = this.#urgency.value;
    return {
      server: orNull(this.#server.value),
      token: orNull(this.#token.value),
      caCert: orNull(this.#ca.value),
      acceptInvalidCerts: this.#insecure.checked,
      doNotDisturb: this.#dnd.checked,
      minUrgency: u === "normal" || u === "critical" ? u : "low",
      startAtLogin: this.#login.checked,
      channels,
    };
  }
}
