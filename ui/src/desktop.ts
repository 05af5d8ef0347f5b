// Entry point inside the desktop app: the Rust core owns the connection;
// this window mirrors it through Tauri commands and events.

import { invoke } from "@tauri-apps/api/core";

import { startApp } from "./app.js";
import { HistoryList } from "./core/history.js";
import { TauriTransport } from "./transport/tauri.js";
import { SettingsView, type DesktopSettings } from "./view/settings-view.js";
import { byId } from "./view/dom.js";

export async function startDesktop(): Promise<void> {
  document.documentElement.dataset["shell"] = "desktop";
  const transport = new TauriTransport();
  await transport.attach();
  const settings = new SettingsView({
    load: () => invoke<DesktopSettings>("get_settings"),
    save: (s) =>
      invoke("save_settings", { settings: s }).then(
        () => null,
        (e: unknown) => (typeof e === "string" ? e : "could not save the settings"),
      ),
  });
  transport.onDoNotDisturb((on) => settings.doNotDisturb(on));
  const warning = byId("warning");
  transport.onSnapshot((s) => {
    settings.doNotDisturb(s.doNotDisturb);
    if (s.warnings.length > 0) {
      warning.textContent = s.warnings.join(" ");
      warning.hidden = false;
    }
  });
  let serverLabel = "";
  transport.onSnapshot((s) => {
    serverLabel = s.server;
    byId("server").textContent = serverLabel;
  });
  // Ctrl+W (Cmd+W) closes the window to the tray, like the close button.
  document.addEventListener("keydown", (e) => {
    if ((e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey && e.key.toLowerCase() === "w") {
      e.preventDefault();
      void invoke("close_window");
    }
  });
  startApp({
    transport,
    history: new HistoryList(200),
    desktopAlerts: false,
    // The token form saves the token in the core's settings.
    onToken: (token) => {
      void invoke<DesktopSettings>("get_settings").then((s) => invoke("save_settings", { settings: { ...s, token } }));
    },
  });
}
