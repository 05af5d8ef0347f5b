//! Command-line flags of `pushdesk-tray`, the core. [`CoreFlags`] are the
//! ones the window (`pushdesk-desktop`) shares and passes on when it starts
//! the core.

use std::path::PathBuf;

use crate::paths;

/// `--server`, `--token`, `--data-dir`: which hub, and where the data lives.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct CoreFlags {
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
}

impl CoreFlags {
    /// `--data-dir`, or the OS default.
    pub fn data_dir(&self) -> anyhow::Result<PathBuf> {
        match &self.data_dir {
            Some(dir) => Ok(dir.clone()),
            None => paths::default_data_dir(),
        }
    }
}

/// `pushdesk-tray [--server URL] [--token T] [--data-dir DIR] [--open]`.
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
    /// Which hub, and where the data lives.
    #[command(flatten)]
    pub core: CoreFlags,
    /// Open the window once started.
    #[arg(long)]
    pub open: bool,
}
