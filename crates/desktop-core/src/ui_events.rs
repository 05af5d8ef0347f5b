//! Names of the events the core sends the webview: the window process
//! emits them as Tauri events (`ui/src/transport/tauri.ts` listens to the
//! same names).

/// The connection changed: a `UiStatus`.
pub const STATUS: &str = "hub://status";
/// `count_update`: a number.
pub const COUNT: &str = "hub://count";
/// `text_update`: a string.
pub const TEXT: &str = "hub://text";
/// A new notification (payload as received, plus `id` and `delivery`).
pub const NOTIFICATION: &str = "hub://notification";
/// Our hub's `welcome {last_id}`.
pub const WELCOME: &str = "hub://welcome";
/// Show this notification in the history (after a click): its UI id.
pub const FOCUS: &str = "hub://focus";
/// Do Not Disturb changed: a bool.
pub const DND: &str = "hub://dnd";
/// A native notification was shown, clicked, closed or failed:
/// `{key, kind: "show" | "click" | "close" | "error", detail}`.
pub const ALERT: &str = "hub://alert";
