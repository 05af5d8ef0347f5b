//! `pushdesk-tray`, the process that stays: one per data directory (a file
//! lock), it opens the [`Core`], serves the window ([`Service`]), shows the
//! [`Tray`], and starts the window process when the user asks for it. It
//! quits from the tray menu or on SIGTERM/Ctrl+C, telling the window first.

use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser as _;
use serde_json::Value;
use tokio::sync::mpsc;
use tracing::{info, warn};

use crate::args::Args;
use crate::core::{Core, Overrides, Snapshot, Views};
use crate::ipc::ToView;
use crate::service::Service;
use crate::tray::{self, Tray, TrayAction};
use crate::{lock, paths};

/// The name notifications are shown under: the app's name, on Windows its
/// AppUserModelID (the bundle identifier, which the installer registers).
pub const NOTIFIER_NAME: &str = if cfg!(windows) {
    paths::IDENTIFIER
} else {
    "Pushdesk"
};

/// How long a started window has to attach before another click starts one
/// again.
const WINDOW_START_GRACE: Duration = Duration::from_secs(10);

/// Runs `pushdesk-tray`; returns when the user quits.
pub fn main() -> ExitCode {
    let args = Args::parse();
    crate::init_logging();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pushdesk-tray: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> anyhow::Result<()> {
    let data_dir = args.core.data_dir()?;
    std::fs::create_dir_all(&data_dir)?;
    let lock = std::fs::File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(paths::lock_file(&data_dir))?;
    match lock.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            info!(data_dir = %data_dir.display(), "already running for this data directory");
            return Ok(());
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(e.into()),
    }
    info!(data_dir = %data_dir.display(), "starting");
    let overrides = Overrides {
        server: args.core.server.clone(),
        token: args.core.token.clone(),
    };
    let (actions, mut picked) = mpsc::unbounded_channel();
    tray::run_with_tray(actions, move |tray| async move {
        let _lock = lock;
        let service = Service::bind(&data_dir).await?;
        let views = Arc::new(ProcessViews {
            service: service.clone(),
            tray: Mutex::new(tray),
            data_dir: data_dir.clone(),
            window_started: Mutex::new(None),
        });
        let core = Core::open(data_dir, overrides, Box::new(views.clone()), NOTIFIER_NAME).await?;
        service.run(core.clone())?;
        views.summary(&core.snapshot(false));
        let connecting = core.clone();
        tokio::spawn(async move {
            if let Err(e) = connecting.connect().await {
                warn!(error = %e, "could not connect");
            }
        });
        if args.open {
            views.open_window();
        }
        loop {
            tokio::select! {
                action = picked.recv() => match action {
                    Some(TrayAction::Open) => views.open_window(),
                    Some(TrayAction::DoNotDisturb(on)) => core.set_dnd(on),
                    Some(TrayAction::Quit) | None => break,
                },
                () = terminated() => break,
            }
        }
        info!("quitting");
        service.send(ToView::Quit);
        service.stop();
        core.shutdown().await;
        Ok(())
    })
}

/// SIGTERM or Ctrl+C.
async fn terminated() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// The core's views in this process: the window process (through the
/// service), the tray, the browser and the OS's start-at-login.
struct ProcessViews {
    service: Arc<Service>,
    tray: Mutex<Option<Tray>>,
    data_dir: std::path::PathBuf,
    window_started: Mutex<Option<Instant>>,
}

impl Views for ProcessViews {
    fn emit(&self, event: &str, payload: Value) {
        self.service.send(ToView::Event {
            name: event.to_owned(),
            payload,
        });
    }

    fn summary(&self, snapshot: &Snapshot) {
        if let Some(tray) = lock(&self.tray).as_ref() {
            tray.update(snapshot);
        }
    }

    fn open_window(&self) {
        if self.service.send(ToView::Show) {
            return;
        }
        let mut started = lock(&self.window_started);
        if started.is_some_and(|t| t.elapsed() < WINDOW_START_GRACE) {
            // One is starting; it will show the pending focus.
            return;
        }
        let bin = paths::sibling(paths::VIEW_BIN);
        let mut command = std::process::Command::new(&bin);
        command
            .arg("--data-dir")
            .arg(&self.data_dir)
            .stdin(std::process::Stdio::null());
        match command.spawn() {
            Ok(mut child) => {
                info!(pid = child.id(), "window started");
                *started = Some(Instant::now());
                std::thread::spawn(move || {
                    let _ = child.wait();
                });
            }
            Err(e) => warn!(bin = %bin.display(), error = %e, "could not start the window"),
        }
    }

    fn window_focused(&self) -> bool {
        self.service.focused()
    }

    fn open_url(&self, url: &str) {
        if let Err(e) = open::that_detached(url) {
            warn!(%url, error = %e, "could not open the browser");
        }
    }

    fn autostart(&self, on: bool) -> Result<(), String> {
        let exe = std::env::current_exe().map_err(|e| format!("start at login: {e}"))?;
        let launcher = auto_launch::AutoLaunchBuilder::new()
            .set_app_name("Pushdesk")
            .set_app_path(&exe.to_string_lossy())
            .build()
            .map_err(|e| format!("start at login: {e}"))?;
        let result = if on {
            launcher.enable()
        } else {
            launcher.disable()
        };
        result.map_err(|e| format!("start at login: {e}"))
    }
}
