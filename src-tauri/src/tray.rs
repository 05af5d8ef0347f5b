//! The tray icon and its menu: Open, the connection and user count, Do Not
//! Disturb, Quit. The unread count shows in the tooltip, and next to the
//! icon where the desktop shows a tray title (Linux, macOS).

use tauri::menu::{CheckMenuItem, Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIcon, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Runtime};

use crate::core::Snapshot;

/// Menu item ids.
const OPEN: &str = "open";
const STATUS: &str = "status";
const DND: &str = "dnd";
const QUIT: &str = "quit";

/// What the tray reports back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrayAction {
    /// Open the window.
    Open,
    /// Do Not Disturb toggled to this.
    DoNotDisturb(bool),
    /// Quit the app.
    Quit,
}

/// The tray and the items that change.
pub struct Tray<R: Runtime> {
    icon: TrayIcon<R>,
    status: MenuItem<R>,
    dnd: CheckMenuItem<R>,
}

impl<R: Runtime> std::fmt::Debug for Tray<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tray").finish_non_exhaustive()
    }
}

impl<R: Runtime> Tray<R> {
    /// Creates the tray icon; `on_action` gets what the user picks.
    pub fn create(
        app: &AppHandle<R>,
        dnd_on: bool,
        on_action: impl Fn(&AppHandle<R>, TrayAction) + Send + Sync + Clone + 'static,
    ) -> tauri::Result<Self> {
        let open = MenuItem::with_id(app, OPEN, "Open Pushdesk", true, None::<&str>)?;
        let status = MenuItem::with_id(app, STATUS, "Connecting…", false, None::<&str>)?;
        let dnd = CheckMenuItem::with_id(app, DND, "Do Not Disturb", true, dnd_on, None::<&str>)?;
        let quit = MenuItem::with_id(app, QUIT, "Quit", true, None::<&str>)?;
        let menu = Menu::with_items(
            app,
            &[
                &open,
                &status,
                &PredefinedMenuItem::separator(app)?,
                &dnd,
                &PredefinedMenuItem::separator(app)?,
                &quit,
            ],
        )?;
        let dnd_item = dnd.clone();
        let on_menu = on_action.clone();
        let mut builder = TrayIconBuilder::with_id("pushdesk")
            .tooltip("Pushdesk")
            .menu(&menu)
            .show_menu_on_left_click(false)
            .on_menu_event(move |app, event| match event.id().as_ref() {
                OPEN => on_menu(app, TrayAction::Open),
                DND => on_menu(
                    app,
                    TrayAction::DoNotDisturb(dnd_item.is_checked().unwrap_or(false)),
                ),
                QUIT => on_menu(app, TrayAction::Quit),
                _ => {}
            })
            .on_tray_icon_event(move |tray, event| {
                if let TrayIconEvent::Click {
                    button: MouseButton::Left,
                    button_state: MouseButtonState::Up,
                    ..
                } = event
                {
                    on_action(tray.app_handle(), TrayAction::Open);
                }
            });
        if let Some(icon) = app.default_window_icon() {
            builder = builder.icon(icon.clone());
        }
        let icon = builder.build(app)?;
        Ok(Self { icon, status, dnd })
    }

    /// Shows the current connection, count, unread and Do Not Disturb.
    pub fn update(&self, s: &Snapshot) {
        let line = summary_line(s);
        let _ = self.status.set_text(&line);
        let _ = self.dnd.set_checked(s.do_not_disturb);
        let tooltip = if s.unread > 0 {
            format!("Pushdesk: {line}, {} unread", s.unread)
        } else {
            format!("Pushdesk: {line}")
        };
        let _ = self.icon.set_tooltip(Some(&tooltip));
        let title = (s.unread > 0).then(|| s.unread.to_string());
        let _ = self.icon.set_title(title.as_deref());
    }
}

/// "Connected · 3 online". Pure.
pub fn summary_line(s: &Snapshot) -> String {
    match s.count {
        Some(n) if matches!(s.status, crate::link::UiStatus::Connected) => {
            format!("{} · {n} online", s.status.label())
        }
        _ => s.status.label(),
    }
}
