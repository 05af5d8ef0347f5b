//! The Windows and macOS tray: tray-icon on a tao event loop, which owns
//! the main thread as those systems require; the core runs on a Tokio
//! runtime beside it.

use std::future::Future;

use tao::event::{Event, StartCause};
use tao::event_loop::{ControlFlow, EventLoopBuilder, EventLoopProxy};
use tracing::warn;
use tray_icon::menu::{CheckMenuItem, Menu, MenuEvent, MenuItem, PredefinedMenuItem};
use tray_icon::{MouseButton, MouseButtonState, TrayIcon, TrayIconBuilder, TrayIconEvent};

use super::{ActionSender, TrayAction, TrayText, icon_rgba};
use crate::core::Snapshot;

enum UserEvent {
    Update(TrayText),
    Menu(MenuEvent),
    Icon(TrayIconEvent),
    Exit(bool),
}

/// The tray icon (it lives on the main thread; this sends it updates).
pub struct Tray {
    proxy: EventLoopProxy<UserEvent>,
}

impl std::fmt::Debug for Tray {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tray").finish_non_exhaustive()
    }
}

impl Tray {
    /// Shows the current connection, count, unread and Do Not Disturb.
    pub fn update(&self, snapshot: &Snapshot) {
        let _ = self
            .proxy
            .send_event(UserEvent::Update(TrayText::of(snapshot)));
    }
}

struct Shown {
    icon: TrayIcon,
    status: MenuItem,
    dnd: CheckMenuItem,
    open_id: tray_icon::menu::MenuId,
    dnd_id: tray_icon::menu::MenuId,
    quit_id: tray_icon::menu::MenuId,
}

fn build() -> Result<Shown, String> {
    let open = MenuItem::new("Open Pushdesk", true, None);
    let status = MenuItem::new("Connecting…", false, None);
    let dnd = CheckMenuItem::new("Do Not Disturb", true, false, None);
    let quit = MenuItem::new("Quit", true, None);
    let menu = Menu::new();
    menu.append_items(&[
        &open,
        &status,
        &PredefinedMenuItem::separator(),
        &dnd,
        &PredefinedMenuItem::separator(),
        &quit,
    ])
    .map_err(|e| e.to_string())?;
    let mut builder = TrayIconBuilder::new()
        .with_menu(Box::new(menu))
        .with_menu_on_left_click(false)
        .with_tooltip("Pushdesk");
    if let Some((w, h, rgba)) = icon_rgba()
        && let Ok(icon) = tray_icon::Icon::from_rgba(rgba, w, h)
    {
        builder = builder.with_icon(icon);
    }
    let icon = builder.build().map_err(|e| e.to_string())?;
    Ok(Shown {
        icon,
        open_id: open.id().clone(),
        dnd_id: dnd.id().clone(),
        quit_id: quit.id().clone(),
        status,
        dnd,
    })
}

/// Runs the tray's event loop on this (the main) thread and `body` on a
/// Tokio runtime beside it; the process exits when `body` returns.
pub fn run_with_tray<F, Fut>(actions: ActionSender, body: F) -> anyhow::Result<()>
where
    F: FnOnce(Option<Tray>) -> Fut + Send + 'static,
    Fut: Future<Output = anyhow::Result<()>>,
{
    #[allow(unused_mut)]
    let mut event_loop = EventLoopBuilder::<UserEvent>::with_user_event().build();
    // A menu-bar item, not a Dock icon: the window process has the Dock.
    #[cfg(target_os = "macos")]
    tao::platform::macos::EventLoopExtMacOS::set_activation_policy(
        &mut event_loop,
        tao::platform::macos::ActivationPolicy::Accessory,
    );
    let proxy = event_loop.create_proxy();
    let menu_proxy = proxy.clone();
    MenuEvent::set_event_handler(Some(move |e| {
        let _ = menu_proxy.send_event(UserEvent::Menu(e));
    }));
    let icon_proxy = proxy.clone();
    TrayIconEvent::set_event_handler(Some(move |e| {
        let _ = icon_proxy.send_event(UserEvent::Icon(e));
    }));
    let body_proxy = proxy.clone();
    std::thread::spawn(move || {
        let result = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(anyhow::Error::from)
            .and_then(|rt| {
                rt.block_on(body(Some(Tray {
                    proxy: body_proxy.clone(),
                })))
            });
        if let Err(e) = &result {
            eprintln!("pushdesk-tray: {e:#}");
        }
        let _ = body_proxy.send_event(UserEvent::Exit(result.is_ok()));
    });
    let mut shown: Option<Shown> = None;
    event_loop.run(move |event, _, control_flow| {
        *control_flow = ControlFlow::Wait;
        match event {
            Event::NewEvents(StartCause::Init) => match build() {
                Ok(s) => shown = Some(s),
                Err(e) => warn!(error = %e, "no tray icon"),
            },
            Event::UserEvent(UserEvent::Update(text)) => {
                if let Some(s) = &shown {
                    s.status.set_text(&text.status);
                    s.dnd.set_checked(text.dnd);
                    let _ = s.icon.set_tooltip(Some(&text.tooltip));
                    s.icon.set_title(text.title.as_deref());
                }
            }
            Event::UserEvent(UserEvent::Menu(e)) => {
                if let Some(s) = &shown {
                    let action = if e.id == s.open_id {
                        Some(TrayAction::Open)
                    } else if e.id == s.dnd_id {
                        Some(TrayAction::DoNotDisturb(s.dnd.is_checked()))
                    } else if e.id == s.quit_id {
                        Some(TrayAction::Quit)
                    } else {
                        None
                    };
                    if let Some(action) = action {
                        let _ = actions.send(action);
                    }
                }
            }
            Event::UserEvent(UserEvent::Icon(TrayIconEvent::Click {
                button: MouseButton::Left,
                button_state: MouseButtonState::Up,
                ..
            })) => {
                let _ = actions.send(TrayAction::Open);
            }
            Event::UserEvent(UserEvent::Exit(ok)) => std::process::exit(i32::from(!ok)),
            _ => {}
        }
    })
}
