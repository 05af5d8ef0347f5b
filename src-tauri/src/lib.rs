//! `pushdesk-desktop`: the Pushdesk window (Tauri 2). It is only a view.
//! The tray process, `pushdesk-tray` (crate `pushdesk-desktop-core`), owns
//! the hub connection, the local history and the native notifications and
//! links no GUI toolkit. This process starts it if it is not running,
//! attaches to it, shows the webview (the same `ui/` as the browser build),
//! forwards the webview's commands to it and its events to the webview, and
//! exits when the window closes, so WebKit and GTK leave memory with it.
//!
//! * [`args`]: command-line flags (`--server`, `--token`, `--data-dir`, `--hidden`).
//! * [`commands`]: what the webview may call, forwarded to the core.
//! * [`window`]: the main window.

pub mod args;
pub mod commands;
pub mod window;

use std::ffi::OsString;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Parser as _;
use pushdesk_desktop_core::client::{Attach, CoreClient, FromCore};
use tauri::{Emitter as _, WindowEvent};
use tracing::{info, warn};

/// The version, as `--version` prints it (the same build as the tray's).
pub use pushdesk_desktop_core::VERSION;

/// Runs the window; returns when it closes.
pub fn main() -> ExitCode {
    let args = args::Args::parse();
    pushdesk_desktop_core::init_logging();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pushdesk-desktop: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// The flags the core is started with (the token goes by environment, not
/// on a command line other users can read).
fn core_args(args: &args::Args) -> Vec<OsString> {
    let mut out = Vec::new();
    if let Some(server) = &args.core.server {
        out.push("--server".into());
        out.push(server.into());
    }
    out
}

fn run(args: args::Args) -> anyhow::Result<()> {
    let data_dir = args.core.data_dir()?;
    if args.hidden {
        // The tray process only, no window (and an open one stays as it is).
        tauri::async_runtime::block_on(CoreClient::ensure_running(
            &data_dir,
            &core_args(&args),
            args.core.token.as_deref(),
        ))?;
        return Ok(());
    }
    let attach = tauri::async_runtime::block_on(CoreClient::connect_or_start(
        &data_dir,
        &core_args(&args),
        args.core.token.as_deref(),
    ))?;
    let (client, mut events) = match attach {
        Attach::Attached(client, events) => (Arc::new(client), events),
        Attach::HandedOver | Attach::Running => {
            info!("a window is already open; it was brought to the front");
            return Ok(());
        }
    };
    let focus_client = client.clone();
    let app = tauri::Builder::default()
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .manage(client)
        .invoke_handler(commands::handler())
        .setup(move |app| {
            window::open(app.handle());
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                while let Some(event) = events.recv().await {
                    match event {
                        FromCore::Event { name, payload } => {
                            if let Err(e) = handle.emit(&name, payload) {
                                warn!(error = %e, event = name, "emit to the webview");
                            }
                        }
                        FromCore::Show => {
                            let app = handle.clone();
                            let _ = handle.run_on_main_thread(move || window::open(&app));
                        }
                        FromCore::Quit => {
                            info!("the app quits");
                            handle.exit(0);
                            break;
                        }
                        FromCore::Lost => {
                            warn!("the Pushdesk core went away; closing the window");
                            handle.exit(1);
                            break;
                        }
                    }
                }
            });
            Ok(())
        })
        .on_window_event(move |_window, event| {
            if let WindowEvent::Focused(focused) = event {
                focus_client.focused(*focused);
            }
        })
        .build(tauri::generate_context!())?;
    // The window closing ends this process; the core stays in the tray.
    app.run(|_, _| {});
    Ok(())
}
