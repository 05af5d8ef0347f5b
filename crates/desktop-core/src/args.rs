//! Command-line flags of `pushdesk-tray`, the core. The window
//! (`pushdesk-desktop`) starts it with the flags it was given.

use std::path::PathBuf;

/// `pushdesk-tray [--server URL] [--token T] [--data-dir DIR]`.
#[derive(Debug, Clone, Default, clap::Parser)]
#[command(
    name = "pushdesk-tray",
    version = crate::VERSION,
    about = "Pushdesk in the tray: keeps the hub connection and shows native notifications.",
    long_about = "Pushdesk in the tray: keeps a connection to a Pushdesk hub (or the seed's \
Flask-SocketIO server), turns broadcast notifications into native ones and keeps a local \
history. With no hub configured it starts an embedded hub on 127.0.0.1. Open the window from \
the tray or by starting pushdesk-desktop; Quit is in the tray menu. One runs per data directory."
)]
pub struct Args {
    /// Hub URL (http, https, ws or wss) for this run, instead of the saved
    /// setting. `embedded` starts the built-in hub.
    #[arg(long, env = "PUSHDESK_SERVER", value_name = "URL")]
    pub server: Option<String>,
    /// Access token for the hub, sent in the Socket.IO auth payload.
    #[arg(long, env = "PUSHDESK_TOKEN", hide_env_values = true, value_name = "T")]
    pub token: Option<String>,
    /// Where settings, the local history and the embedded hub's data live
    /// (default: the OS data directory, e.g. ~/.local/share/dev.pushdesk.desktop).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Open the window once started.
    #[arg(long)]
    pub open: bool,
}
