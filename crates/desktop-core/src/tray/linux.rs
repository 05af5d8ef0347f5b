//! The Linux tray: a StatusNotifierItem with a D-Bus menu (ksni over zbus),
//! which desktop panels show without the app linking GTK.

use std::future::Future;

use ksni::TrayMethods as _;
use tracing::warn;

use super::{ActionSender, TrayAction, TrayText, icon_rgba};
use crate::core::Snapshot;

struct Item {
    actions: ActionSender,
    text: TrayText,
    icon: Vec<ksni::Icon>,
}

impl ksni::Tray for Item {
    fn id(&self) -> String {
        "pushdesk".into()
    }

    fn title(&self) -> String {
        match &self.text.title {
            Some(unread) => format!("Pushdesk ({unread})"),
            None => "Pushdesk".into(),
        }
    }

    fn icon_pixmap(&self) -> Vec<ksni::Icon> {
        self.icon.clone()
    }

    fn tool_tip(&self) -> ksni::ToolTip {
        ksni::ToolTip {
            title: "Pushdesk".into(),
            // The description may hold markup: ours is text.
            description: pushdesk_notifier::markup::escape(&self.text.tooltip),
            ..Default::default()
        }
    }

    fn activate(&mut self, _x: i32, _y: i32) {
        let _ = self.actions.send(TrayAction::Open);
    }

    fn menu(&self) -> Vec<ksni::MenuItem<Self>> {
        use ksni::menu::{CheckmarkItem, MenuItem, StandardItem};
        vec![
            StandardItem {
                label: "Open Pushdesk".into(),
                activate: Box::new(|this: &mut Self| {
                    let _ = this.actions.send(TrayAction::Open);
                }),
                ..Default::default()
            }
            .into(),
            StandardItem {
                label: self.text.status.clone(),
                enabled: false,
                ..Default::default()
            }
            .into(),
            MenuItem::Separator,
            CheckmarkItem {
                label: "Do Not Disturb".into(),
                checked: self.text.dnd,
                activate: Box::new(|this: &mut Self| {
                    this.text.dnd = !this.text.dnd;
                    let _ = this.actions.send(TrayAction::DoNotDisturb(this.text.dnd));
                }),
                ..Default::default()
            }
            .into(),
            MenuItem::Separator,
            StandardItem {
                label: "Quit".into(),
                activate: Box::new(|this: &mut Self| {
                    let _ = this.actions.send(TrayAction::Quit);
                }),
                ..Default::default()
            }
            .into(),
        ]
    }
}

/// The tray icon (a handle to its D-Bus service).
pub struct Tray {
    handle: ksni::Handle<Item>,
}

impl std::fmt::Debug for Tray {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tray").finish_non_exhaustive()
    }
}

impl Tray {
    /// Shows the current connection, count, unread and Do Not Disturb.
    pub fn update(&self, snapshot: &Snapshot) {
        let text = TrayText::of(snapshot);
        let handle = self.handle.clone();
        tokio::spawn(async move {
            handle.update(move |item: &mut Item| item.text = text).await;
        });
    }

    async fn spawn(actions: ActionSender) -> Result<Self, ksni::Error> {
        let icon = icon_rgba()
            .map(|(width, height, rgba)| {
                // RGBA → ARGB32 in network byte order.
                let data = rgba
                    .chunks_exact(4)
                    .flat_map(|p| [p[3], p[0], p[1], p[2]])
                    .collect();
                vec![ksni::Icon {
                    width: i32::try_from(width).unwrap_or(0),
                    height: i32::try_from(height).unwrap_or(0),
                    data,
                }]
            })
            .unwrap_or_default();
        let item = Item {
            actions,
            text: TrayText {
                status: "Connecting…".into(),
                tooltip: "Pushdesk".into(),
                ..TrayText::default()
            },
            icon,
        };
        // A panel that starts after us (login) still gets the icon.
        let handle = item.assume_sni_available(true).spawn().await?;
        Ok(Self { handle })
    }
}

/// Runs `body` on a Tokio runtime with the tray, if the session bus has
/// one, and returns what it returns.
pub fn run_with_tray<F, Fut>(actions: ActionSender, body: F) -> anyhow::Result<()>
where
    F: FnOnce(Option<Tray>) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let tray = match Tray::spawn(actions).await {
            Ok(tray) => Some(tray),
            // No tray on this desktop: starting the window is the way in.
            Err(e) => {
                warn!(error = %e, "no tray icon");
                None
            }
        };
        body(tray).await
    })
}
