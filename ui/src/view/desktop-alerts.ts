// Optional browser notifications (Web Notifications API, as the seed's page
// shows them), opt-in with a checkbox. The desktop app shows native ones from
// its Rust core instead and leaves this off.

import type { HubNotification } from "../core/notification.js";
import { safeHttpUrl } from "../core/url.js";
import { byId } from "./dom.js";

const PREF_KEY = "pushdesk.desktopAlerts";

export class DesktopAlerts {
  readonly #toggle = byId<HTMLInputElement>("desktop-alerts");
  readonly #label = byId("desktop-alerts-label");
  readonly #supported = typeof Notification === "function";

  constructor() {
    if (!this.#supported) return;
    this.#label.hidden = false;
    this.#toggle.checked = readPref() && Notification.permission === "granted";
    this.#toggle.addEventListener("change", () => void this.#changed());
  }

  async #changed(): Promise<void> {
    if (!this.#toggle.checked) {
      writePref(false);
      return;
    }
    let permission: NotificationPermission = Notification.permission;
    if (permission === "default") {
      try {
        permission = await Notification.requestPermission();
      } catch {
        permission = "denied";
      }
    }
    this.#toggle.checked = permission === "granted";
    writePref(this.#toggle.checked);
  }

  show(n: HubNotification): void {
    if (!this.#supported || !this.#toggle.checked || Notification.permission !== "granted") return;
    try {
      const options: NotificationOptions = { body: n.body, data: { id: n.id } };
      if (n.tag !== "") options.tag = n.tag;
      const shown = new Notification(n.title !== "" ? n.title : "Pushdesk", options);
      const url = safeHttpUrl(n.url);
      shown.addEventListener("click", () => {
        window.focus();
        if (url !== null) window.open(url, "_blank", "noopener,noreferrer");
        shown.close();
      });
    } catch (e) {
      // Some browsers only allow notifications from a service worker.
      console.warn("pushdesk: could not show a notification", e);
    }
  }
}

function readPref(): boolean {
  try {
    return localStorage.getItem(PREF_KEY) === "1";
  } catch {
    return false;
  }
}

function writePref(on: boolean): void {
  try {
    localStorage.setItem(PREF_KEY, on ? "1" : "0");
  } catch {
    // storage disabled: the choice lasts for this page only
  }
}
