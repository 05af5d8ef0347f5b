//! Command-line flags of `pushdesk-desktop`, for scripted starts and tests.
//! `--server` and `--token` override the saved settings for the run of the
//! tray process this window starts; a running one keeps its own.

use pushdesk_desktop_core::CoreFlags;

/// `pushdesk-desktop [--server URL] [--token T] [--data-dir DIR] [--hidden]`.
#[derive(Debug, Clone, Default, clap::Parser)]
#[command(
    name = "pushdesk-desktop",
    version = pushdesk_desktop_core::VERSION,
    about = "Pushdesk desktop app: live user count, shared text and native notifications from a hub.",
    long_about = "Pushdesk desktop app: keeps a connection to a Pushdesk hub (or the seed's \
Flask-SocketIO server) from the tray, shows the live user count and the shared text, and turns \
broadcast notifications into native ones. With no hub configured it starts an embedded hub on \
127.0.0.1. The connection lives in the tray process (pushdesk-tray), which this starts if it is \
not running; closing the window keeps it running there, and Quit is in the tray menu. A second \
launch brings the open window to the front."
)]
pub struct Args {
    /// Which hub, and where the data lives (passed on to the tray process).
    #[command(flatten)]
    pub core: CoreFlags,
    /// Start the tray process without opening the window.
    #[arg(long)]
    pub hidden: bool,
}
