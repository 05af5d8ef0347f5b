//! The main window. It is created on demand and destroyed when closed, so
//! the app in the tray holds no webview (WebKit's processes go with it);
//! the core keeps all state, and a new window draws itself from a snapshot.

use tauri::{AppHandle, Manager as _, Runtime, WebviewUrl, WebviewWindowBuilder};
use tracing::warn;

/// The main window's label (capabilities grant it the hub commands).
pub const MAIN: &str = "main";

/// Shows the main window, creating it if it was closed.
pub fn open<R: Runtime>(app: &AppHandle<R>) {
    if let Some(window) = app.get_webview_window(MAIN) {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
        return;
    }
    let built = WebviewWindowBuilder::new(app, MAIN, WebviewUrl::App("index.html".into()))
        .title("Pushdesk")
        .inner_size(980.0, 720.0)
        .min_inner_size(420.0, 360.0)
        .build();
    match built {
        Ok(window) => {
            let _ = window.set_focus();
        }
        Err(e) => warn!(error = %e, "could not open the window"),
    }
}

/// Whether the main window exists, is visible and has the focus.
pub fn focused<R: Runtime>(app: &AppHandle<R>) -> bool {
    app.get_webview_window(MAIN)
        .is_some_and(|w| w.is_visible().unwrap_or(false) && w.is_focused().unwrap_or(false))
}
