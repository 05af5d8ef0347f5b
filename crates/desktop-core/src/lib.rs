//! The Pushdesk desktop core: the process that lives in the tray. It owns
//! the hub connection, the local history and the native notifications, and
//! links no GUI toolkit, so the app closed to the tray is small. The window
//! is a separate process (`pushdesk-desktop`, Tauri) that the core starts
//! when the user opens it and that exits when it closes; it is only a view
//! and talks to the core over a local socket ([`ipc`]).
//!
//! * [`args`]: command-line flags of `pushdesk-tray`.
//! * [`paths`]: where the data directory and the core's address file are.
//! * [`settings`]: the user's settings, saved as JSON.
//! * [`private_file`]: how a file with a secret is written (0600, atomic).
//! * [`history`]: the local notification history (SQLite), exactly once per id.
//! * [`link`]: the Socket.IO connection to the hub, reconnecting, with replay.
//! * [`shared_text`]: the core's replica of the shared text (a Yjs peer of
//!   the hub, a hub to the window), so offline edits merge. Pure.
//! * [`alerts`]: native notifications (via `pushdesk-notifier`) and icons.
//! * [`core`]: the state and the rules tying those together ([`Core`]).
//! * [`draft`]: the send form's notification, as the hub's request. Pure.
//! * [`ui_events`]: names of the events the core tells the window.
//! * [`ipc`]: the messages between the core and the window. Pure.
//! * [`service`]: the core's end of [`ipc`]: serves one window at a time.
//! * [`client`]: the window's end of [`ipc`].
//! * [`tray`]: the tray icon and its menu (one type, a backend per OS).
//! * [`app`]: `pushdesk-tray` itself: single instance, views, tray, quit.

pub mod alerts;
pub mod app;
pub mod args;
pub mod client;
pub mod core;
pub mod draft;
pub mod history;
pub mod ipc;
pub mod link;
pub mod paths;
pub mod private_file;
pub mod service;
pub mod settings;
pub mod shared_text;
pub mod tray;
pub mod ui_events;

pub use crate::args::CoreFlags;
pub use crate::client::{CoreClient, FromCore};
pub use crate::core::{Core, Snapshot, Views};
pub use crate::draft::Draft;

/// The version, as `--version` prints it.
pub const VERSION: &str = git_version::git_version!(
    prefix = concat!(env!("CARGO_PKG_VERSION"), " (commit "),
    args = [
        "--always",
        "--abbrev=12",
        "--dirty=-modified",
        "--exclude=*"
    ],
    suffix = ")",
    fallback = concat!(env!("CARGO_PKG_VERSION"), " (commit unknown)")
);

/// Logs to stderr, filtered by `RUST_LOG` (default `info`); both the tray
/// and the window process start with it.
pub fn init_logging() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}

/// Locks a mutex; a panic while one of our short locks was held leaves
/// consistent data, so a poisoned lock is used as is.
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
