//! The Tauri commands the webview may call (granted by
//! `capabilities/main.json`, nothing else). Each is a thin call into
//! [`Core`]; input from the webview is checked here or there.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::Value;
use tauri::State;

use crate::core::{Core, Snapshot};
use crate::link::SendResult;
use crate::settings::Settings;

/// Most history entries one call returns.
pub const MAX_HISTORY: usize = 500;

/// What the send form collects (`ui/src/core/ack.ts` `NotificationDraft`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Draft {
    /// Title (sent as `text`, as the seed's servers read it).
    pub title: String,
    /// Body.
    pub body: String,
    /// Replacement tag.
    pub tag: String,
    /// URL to open on click.
    pub url: String,
}

impl Draft {
    /// The `send_notification_request` payload: `text` = title, `num`, and
    /// only the optional fields that are set. Pure.
    pub fn request(&self) -> Value {
        let mut req = serde_json::Map::new();
        req.insert("text".into(), Value::String(self.title.clone()));
        req.insert("num".into(), Value::Null);
        if !self.body.is_empty() {
            req.insert("body".into(), Value::String(self.body.clone()));
        }
        for (key, value) in [("tag", &self.tag), ("url", &self.url)] {
            let v = value.trim();
            if !v.is_empty() {
                req.insert(key.into(), Value::String(v.to_owned()));
            }
        }
        Value::Object(req)
    }
}

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
pub fn hub_state(core: State<'_, Arc<Core>>) -> Snapshot {
    core.seen();
    core.snapshot(true)
}

/// Sets the shared text.
#[tauri::command]
pub async fn send_text(core: State<'_, Arc<Core>>, text: String) -> Result<SendResult, String> {
    Ok(core.send_text(text).await)
}

/// Broadcasts a notification.
#[tauri::command]
pub async fn send_notification(
    core: State<'_, Arc<Core>>,
    draft: Draft,
) -> Result<SendResult, String> {
    Ok(core.send_notification(draft.request()).await)
}

/// The newest notifications, newest first.
#[tauri::command]
pub fn history(core: State<'_, Arc<Core>>, limit: usize) -> Vec<Value> {
    core.history(limit.min(MAX_HISTORY))
}

/// The saved settings.
#[tauri::command]
pub fn get_settings(core: State<'_, Arc<Core>>) -> Settings {
    core.settings()
}

/// Saves and applies settings; a refusal says why.
#[tauri::command]
pub async fn save_settings(core: State<'_, Arc<Core>>, settings: Settings) -> Result<(), String> {
    core.inner().save_settings(settings).await
}

/// Do Not Disturb on or off.
#[tauri::command]
pub fn set_dnd(core: State<'_, Arc<Core>>, on: bool) {
    core.set_dnd(on);
}

/// Closes the window to the tray (Ctrl+W): the webview is released, the
/// connection stays.
#[tauri::command]
pub fn close_window<R: tauri::Runtime>(window: tauri::WebviewWindow<R>) {
    if let Err(e) = window.close() {
        tracing::warn!(error = %e, "closing the window");
    }
}

/// Connects again (after a refusal, or to retry now).
#[tauri::command]
pub async fn reconnect(core: State<'_, Arc<Core>>) -> Result<(), String> {
    core.inner().connect().await.map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_draft_becomes_the_seed_compatible_request() {
        let d = Draft {
            title: "Hi".into(),
            body: String::new(),
            tag: "  build ".into(),
            url: String::new(),
        };
        assert_eq!(
            d.request(),
            json!({"text": "Hi", "num": null, "tag": "build"})
        );
    }
}
