//! The Tauri commands the webview may call (granted by
//! `capabilities/main.json`, nothing else). Each is checked for its types
//! here and forwarded to the core process, which does the work; only
//! `close_window` is this process's own.

use std::sync::Arc;

use pushdesk_desktop_core::Draft;
use pushdesk_desktop_core::client::CoreClient;
use pushdesk_desktop_core::ipc::Request;
use pushdesk_desktop_core::settings::Settings;
use serde_json::Value;
use tauri::State;

/// The core, as the commands reach it.
type Core<'a> = State<'a, Arc<CoreClient>>;

/// Every command, for `Builder::invoke_handler` (the app's and the tests').
/// `build.rs` lists the same names for the ACL.
pub fn handler<R: tauri::Runtime>() -> impl Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static
{
    tauri::generate_handler![
        hub_state,
        send_text,
        send_notification,
        history,
        get_settings,
        save_settings,
        set_dnd,
        reconnect,
        close_window,
    ]
}

/// Everything the webview needs to draw itself; takes a pending focus.
#[tauri::command]
pub async fn hub_state(core: Core<'_>) -> Result<Value, String> {
    core.call(Request::HubState).await
}

/// Sets the shared text.
#[tauri::command]
pub async fn send_text(
    core: Core<'_>,
    text: String,
    base: Option<String>,
) -> Result<Value, String> {
    core.call(Request::SendText { text, base }).await
}

/// Broadcasts a notification.
#[tauri::command]
pub async fn send_notification(core: Core<'_>, draft: Draft) -> Result<Value, String> {
    core.call(Request::SendNotification { draft }).await
}

/// The newest notifications, newest first (at most 500).
#[tauri::command]
pub async fn history(core: Core<'_>, limit: usize) -> Result<Value, String> {
    core.call(Request::History { limit }).await
}

/// The saved settings.
#[tauri::command]
pub async fn get_settings(core: Core<'_>) -> Result<Value, String> {
    core.call(Request::GetSettings).await
}

/// Saves and applies settings; a refusal says why.
#[tauri::command]
pub async fn save_settings(core: Core<'_>, settings: Settings) -> Result<Value, String> {
    core.call(Request::SaveSettings { settings }).await
}

/// Do Not Disturb on or off.
#[tauri::command]
pub async fn set_dnd(core: Core<'_>, on: bool) -> Result<Value, String> {
    core.call(Request::SetDnd { on }).await
}

/// Closes the window (Ctrl+W): this process ends, the tray stays.
#[tauri::command]
pub fn close_window<R: tauri::Runtime>(window: tauri::WebviewWindow<R>) {
    if let Err(e) = window.close() {
        tracing::warn!(error = %e, "closing the window");
    }
}

/// Connects again (after a refusal, or to retry now).
#[tauri::command]
pub async fn reconnect(core: Core<'_>) -> Result<Value, String> {
    core.call(Request::Reconnect).await
}
