//! The tray icon and its menu: Open, the connection and user count, Do Not
//! Disturb, Quit; a left click opens the window; the unread count shows in
//! the tooltip and the status line. One type, [`Tray`], whose backend is
//! picked at compile time: a StatusNotifierItem over D-Bus on Linux (no
//! GTK), tray-icon on a tao event loop on Windows and macOS.

use tokio::sync::mpsc;

use crate::core::Snapshot;
use crate::link::UiStatus;

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
pub use linux::{Tray, run_with_tray};

#[cfg(not(target_os = "linux"))]
mod other;
#[cfg(not(target_os = "linux"))]
pub use other::{Tray, run_with_tray};

/// What the user picked in the tray.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrayAction {
    /// Open the window.
    Open,
    /// Do Not Disturb toggled to this.
    DoNotDisturb(bool),
    /// Quit the app.
    Quit,
}

/// Where the tray sends what the user picked.
pub type ActionSender = mpsc::UnboundedSender<TrayAction>;

/// The icon (32×32 PNG).
pub(crate) const ICON_PNG: &[u8] = include_bytes!("../../../src-tauri/icons/32x32.png");

/// What the tray shows, from a snapshot. Pure.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrayText {
    /// The disabled status item: "Connected · 3 online".
    pub status: String,
    /// The tooltip: "Pushdesk: Connected · 3 online, 2 unread".
    pub tooltip: String,
    /// The unread count as a title beside the icon, where shown.
    pub title: Option<String>,
    /// Do Not Disturb.
    pub dnd: bool,
}

impl TrayText {
    /// The tray's texts for `s`.
    pub fn of(s: &Snapshot) -> Self {
        let status = summary_line(s);
        let tooltip = if s.unread > 0 {
            format!("Pushdesk: {status}, {} unread", s.unread)
        } else {
            format!("Pushdesk: {status}")
        };
        Self {
            status,
            tooltip,
            title: (s.unread > 0).then(|| s.unread.to_string()),
            dnd: s.do_not_disturb,
        }
    }
}

/// "Connected · 3 online". Pure.
pub fn summary_line(s: &Snapshot) -> String {
    match s.count {
        Some(n) if matches!(s.status, UiStatus::Connected) => {
            format!("{} · {n} online", s.status.label())
        }
        _ => s.status.label(),
    }
}

/// The icon as 8-bit RGBA rows, with its width and height.
pub(crate) fn icon_rgba() -> Option<(u32, u32, Vec<u8>)> {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(ICON_PNG));
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().ok()?;
    let mut buf = vec![0; reader.output_buffer_size()?];
    let info = reader.next_frame(&mut buf).ok()?;
    buf.truncate(info.buffer_size());
    let rgba = match info.color_type {
        png::ColorType::Rgba => buf,
        png::ColorType::Rgb => buf
            .chunks_exact(3)
            .flat_map(|p| [p[0], p[1], p[2], 255])
            .collect(),
        _ => return None,
    };
    Some((info.width, info.height, rgba))
}
