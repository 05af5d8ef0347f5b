// Entry point. In the desktop app (Tauri) the Rust core owns the hub
// connection; in a browser the page talks Socket.IO itself. Each loads only
// its own code (socket.io-client is not in the desktop's path).

import "./styles.css";

const inTauri = typeof window === "object" && "__TAURI_INTERNALS__" in window;

if (inTauri) {
  void import("./desktop.js").then((m) => m.startDesktop());
} else {
  void import("./browser.js").then((m) => m.startBrowser());
}
