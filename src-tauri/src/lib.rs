//! `pushdesk-desktop`: the Pushdesk desktop app (Tauri 2). Its Rust core
//! owns the hub connection, the local history and the native
//! notifications; the webview (the same `ui/` as the browser build) is only
//! a view that talks to the core through commands and events, and is
//! destroyed when the window closes so the app in the tray stays small.
//!
//! * [`args`]: command-line flags (`--server`, `--token`, `--data-dir`, `--hidden`).
//! * [`settings`]: the user's settings, saved as JSON.
//! * [`history`]: the local notification history (SQLite), exactly once per id.
//! * [`link`]: the Socket.IO connection to the hub, reconnecting, with replay.
//! * [`alerts`]: native notifications (via `pushdesk-notifier`) and icons.
//! * [`core`]: the state and the rules tying those together.
//! * [`commands`]: what the webview may call.
//! * [`ui_events`]: what the core tells the webview.
//! * [`window`]: the main window, created on demand.
//! * [`tray`]: the tray icon and menu.

pub mod alerts;
pub mod args;
pub mod commands;
pub mod core;
pub mod history;
pub mod link;
pub mod settings;
pub mod tray;
pub mod ui_events;
pub mod window;

use std::process::ExitCode;
use std::sync::{Arc, OnceLock};

use clap::Parser as _;
use serde_json::Value;
use tauri::{AppHandle, Emitter as _, Manager as _, RunEvent, WindowEvent, Wry};
use tauri_plugin_autostart::ManagerExt as _;
use tauri_plugin_opener::OpenerExt as _;
use tracing::{info, warn};

use crate::core::{Core, Overrides, Snapshot, Views};
use crate::tray::{Tray, TrayAction};

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

/// The views of a running Tauri app: webview events, tray, window, browser.
struct TauriViews {
    app: AppHandle<Wry>,
    tray: OnceLock<Tray<Wry>>,
}

impl Views for TauriViews {
    fn emit(&self, event: &str, payload: Value) {
        if let Err(e) = self.app.emit(event, payload) {
            warn!(error = %e, event, "emit to the webview");
        }
    }

    fn summary(&self, snapshot: &Snapshot) {
        if let Some(tray) = self.tray.get() {
            tray.update(snapshot);
        }
    }

    fn open_window(&self) {
        let app = self.app.clone();
        let _ = self.app.run_on_main_thread(move || window::open(&app));
    }

    fn window_focused(&self) -> bool {
        window::focused(&self.app)
    }

    fn open_url(&self, url: &str) {
        if let Err(e) = self.app.opener().open_url(url, None::<&str>) {
            warn!(%url, error = %e, "could not open the browser");
        }
    }

    fn autostart(&self, on: bool) -> Result<(), String> {
        let launcher = self.app.autolaunch();
        let result = if on {
            launcher.enable()
        } else {
            launcher.disable()
        };
        result.map_err(|e| format!("start at login: {e}"))
    }
}

/// Runs the app; returns when the user quits.
pub fn main() -> ExitCode {
    let args = args::Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pushdesk-desktop: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: args::Args) -> anyhow::Result<()> {
    let overrides = Overrides {
        server: args.server.clone(),
        token: args.token.clone(),
    };
    let hidden = args.hidden;
    let data_dir_flag = args.data_dir.clone();
    let app = tauri::Builder::default()
        // First: a second launch hands over to this one and exits.
        .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
            window::open(app);
        }))
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            Some(vec!["--hidden"]),
        ))
        // Used from Rust only (checked http/https URLs); the webview has no opener permission.
        .plugin(tauri_plugin_opener::init())
        .invoke_handler(commands::handler())
        .setup(move |app| {
            let handle = app.handle().clone();
            let data_dir = match data_dir_flag {
                Some(dir) => dir,
                None => app.path().app_data_dir()?,
            };
            info!(data_dir = %data_dir.display(), "starting");
            let views = Arc::new(TauriViews {
                app: handle.clone(),
                tray: OnceLock::new(),
            });
            let notifier_name = if cfg!(windows) {
                app.config().identifier.clone()
            } else {
                app.package_info().name.clone()
            };
            let core = tauri::async_runtime::block_on(Core::open(
                data_dir,
                overrides,
                Box::new(SharedViews(views.clone())),
                &notifier_name,
            ))?;
            app.manage(core.clone());
            let dnd = core.settings().do_not_disturb;
            let tray_core = core.clone();
            match Tray::create(&handle, dnd, move |app, action| match action {
                TrayAction::Open => window::open(app),
                TrayAction::DoNotDisturb(on) => tray_core.set_dnd(on),
                TrayAction::Quit => app.exit(0),
            }) {
                Ok(tray) => {
                    let _ = views.tray.set(tray);
                }
                // No tray on this desktop: the window is the way in.
                Err(e) => warn!(error = %e, "no tray icon"),
            }
            let connecting = core.clone();
            tauri::async_runtime::spawn(async move {
                if let Err(e) = connecting.connect().await {
                    warn!(error = %e, "could not connect");
                }
            });
            if !hidden {
                window::open(&handle);
            }
            Ok(())
        })
        .on_window_event(|window, event| {
            if let WindowEvent::Focused(true) = event
                && let Some(core) = window.app_handle().try_state::<Arc<Core>>()
            {
                core.seen();
            }
        })
        .build(tauri::generate_context!())?;
    app.run(|app, event| match event {
        // The last window closed: stay in the tray. Quit asks with a code.
        RunEvent::ExitRequested {
            code: None, api, ..
        } => api.prevent_exit(),
        RunEvent::Exit => {
            if let Some(core) = app.try_state::<Arc<Core>>() {
                let core = core.inner().clone();
                tauri::async_runtime::block_on(core.shutdown());
            }
        }
        _ => {}
    });
    Ok(())
}

/// `Views` behind an `Arc`, so the tray can be filled in after the core exists.
struct SharedViews(Arc<TauriViews>);

impl Views for SharedViews {
    fn emit(&self, event: &str, payload: Value) {
        self.0.emit(event, payload);
    }
    fn summary(&self, snapshot: &Snapshot) {
        self.0.summary(snapshot);
    }
    fn open_window(&self) {
        self.0.open_window();
    }
    fn window_focused(&self) -> bool {
        self.0.window_focused()
    }
    fn open_url(&self, url: &str) {
        self.0.open_url(url);
    }
    fn autostart(&self, on: bool) -> Result<(), String> {
        self.0.autostart(on)
    }
}
