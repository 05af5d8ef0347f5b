//! Where the desktop app keeps its data, and the files by which the window
//! finds the running core. Both processes use these, so they agree.

use std::path::{Path, PathBuf};

/// The app's identifier (the Tauri bundle identifier, the Windows
/// AppUserModelID and the data directory's name).
pub const IDENTIFIER: &str = "dev.pushdesk.desktop";

/// The core process's binary name.
pub const CORE_BIN: &str = "pushdesk-tray";

/// The window process's binary name.
pub const VIEW_BIN: &str = "pushdesk-desktop";

/// The default data directory: the OS data dir + [`IDENTIFIER`]
/// (`~/.local/share/dev.pushdesk.desktop` on Linux), what Tauri's
/// `app_data_dir` gives.
pub fn default_data_dir() -> anyhow::Result<PathBuf> {
    dirs::data_dir()
        .map(|d| d.join(IDENTIFIER))
        .ok_or_else(|| anyhow::anyhow!("no data directory (is $HOME set?); pass --data-dir"))
}

/// The running core's address and secret (`core.json`), readable only by
/// the user.
pub fn address_file(data_dir: &Path) -> PathBuf {
    data_dir.join("core.json")
}

/// The lock a running core holds: one core per data directory.
pub fn lock_file(data_dir: &Path) -> PathBuf {
    data_dir.join("core.lock")
}

/// A binary installed beside this one (the core starts the window and the
/// window the core; packages and `target/` put them in one directory).
pub fn sibling(name: &str) -> PathBuf {
    let file = format!("{name}{}", std::env::consts::EXE_SUFFIX);
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(&file)))
        .unwrap_or_else(|| PathBuf::from(file))
}
