//! [`Alerts`]: native notifications for the core. Wraps the per-OS
//! [`pushdesk_notifier::Notifier`] with what the app adds: icons resolved
//! against the hub's URL and fetched into a cache (never a local path from
//! the network), and the notifier's show/click/close/error reports turned
//! into [`AlertEvent`]s for the core. Without a notifier (no daemon on
//! D-Bus, say) every show fails with a clear message and the app goes on.

use std::path::PathBuf;

use pushdesk_hub_model::{CloseReason, Notification};
use pushdesk_notifier::{DEFAULT_ACTION, IconCache, NotificationSpec, Notifier, NotifierEvent};
use tokio::sync::mpsc;
use tracing::{debug, warn};

pub use pushdesk_notifier::openable_url;

/// What happened to a native notification, by history key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlertEvent {
    /// On screen.
    Shown {
        /// History key.
        key: u64,
    },
    /// The user clicked it: its body (`action` `None`) or a button.
    Clicked {
        /// History key.
        key: u64,
        /// The button's id.
        action: Option<String>,
    },
    /// It went away.
    Closed {
        /// History key.
        key: u64,
        /// Why.
        reason: CloseReason,
    },
    /// Showing it failed after the call returned.
    Failed {
        /// History key.
        key: u64,
        /// Why.
        message: String,
    },
}

/// How long a notification waits for its icon before it is shown without.
pub const ICON_BUDGET: std::time::Duration = std::time::Duration::from_millis(1500);

/// Native notifications and their icons.
pub struct Alerts {
    notifier: Option<Notifier>,
    icons: Option<IconCache>,
}

impl std::fmt::Debug for Alerts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Alerts")
            .field("notifier", &self.notifier.is_some())
            .finish_non_exhaustive()
    }
}

impl Alerts {
    /// Connects to the OS notifier. Without one, the warning says why and
    /// every [`Alerts::show`] fails.
    pub async fn start(
        app_name: &str,
        icon_dir: PathBuf,
    ) -> (Self, mpsc::UnboundedReceiver<AlertEvent>, Option<String>) {
        let icons = IconCache::new(icon_dir)
            .map_err(|e| warn!(error = %e, "no icon cache; notifications come without icons"))
            .ok();
        Self::with(Notifier::new(app_name).await, icons)
    }

    /// The same over a notifier connection and an icon cache made by the
    /// caller (tests: a private bus, other icon options).
    pub fn with(
        notifier: pushdesk_notifier::Result<(Notifier, pushdesk_notifier::NotifierEvents)>,
        icons: Option<IconCache>,
    ) -> (Self, mpsc::UnboundedReceiver<AlertEvent>, Option<String>) {
        let (tx, rx) = mpsc::unbounded_channel();
        match notifier {
            Ok((notifier, mut events)) => {
                tokio::spawn(async move {
                    while let Some(event) = events.recv().await {
                        let mapped = match event {
                            NotifierEvent::Shown { key } => AlertEvent::Shown { key },
                            NotifierEvent::Clicked { key, action } => {
                                debug!(key, %action, "notification clicked");
                                AlertEvent::Clicked {
                                    key,
                                    action: (action != DEFAULT_ACTION).then_some(action),
                                }
                            }
                            NotifierEvent::Closed { key, reason } => AlertEvent::Closed {
                                key,
                                reason: close_reason(reason),
                            },
                            NotifierEvent::Error { key, message } => {
                                AlertEvent::Failed { key, message }
                            }
                        };
                        if tx.send(mapped).is_err() {
                            break;
                        }
                    }
                });
                (
                    Self {
                        notifier: Some(notifier),
                        icons,
                    },
                    rx,
                    None,
                )
            }
            Err(e) => {
                let warning = format!("native notifications unavailable: {e}");
                warn!("{warning}");
                (
                    Self {
                        notifier: None,
                        icons,
                    },
                    rx,
                    Some(warning),
                )
            }
        }
    }

    /// Shows `n` under history `key`; its icon is fetched (bounded) from the
    /// hub first. The error is for people.
    pub async fn show(
        &self,
        key: u64,
        n: &Notification,
        hub: Option<&url::Url>,
    ) -> Result<(), String> {
        let Some(notifier) = &self.notifier else {
            return Err("no notification service".into());
        };
        let icon = match (hub, n.icon.as_str()) {
            (_, "") | (None, _) => None,
            (Some(hub), icon) => match pushdesk_notifier::resolve_icon(hub, icon) {
                Some(url) => match self.fetch_icon(&url, hub).await {
                    Ok(path) => Some(path),
                    Err(e) => {
                        debug!(%url, error = %e, "icon not fetched; shown without it");
                        None
                    }
                },
                None => {
                    debug!(icon, "icon refused (not http/https)");
                    None
                }
            },
        };
        let spec = NotificationSpec {
            key,
            title: if n.title.is_empty() {
                "Pushdesk".into()
            } else {
                n.title.clone()
            },
            body: n.body.clone(),
            tag: n.replace_key(),
            icon,
            urgency: n.urgency,
            has_default_action: true,
            actions: n.actions.clone(),
            // The rest of its ttl (by our clock against the hub's timestamp).
            expires_in: n.expires_at().map(|at| {
                std::time::Duration::from_millis(at.saturating_sub(crate::core::now_ms()))
            }),
        };
        notifier.show(&spec).await.map_err(|e| e.to_string())
    }

    /// Takes notification `key` off the screen (after a click, as the
    /// browser's page does); unknown keys are ignored.
    pub async fn close(&self, key: u64) {
        if let Some(notifier) = &self.notifier
            && let Err(e) = notifier.close(key).await
        {
            debug!(key, error = %e, "closing a notification");
        }
    }

    /// The icon's file, if it is cached or arrives within [`ICON_BUDGET`]:
    /// notifications are shown one after another, so a slow icon host must
    /// not hold up the ones behind. A fetch still under way goes on, and
    /// the next notification with that icon finds it cached.
    async fn fetch_icon(&self, url: &url::Url, hub: &url::Url) -> Result<PathBuf, String> {
        let Some(cache) = self.icons.clone() else {
            return Err("no icon cache".into());
        };
        let (url, hub) = (url.clone(), hub.clone());
        let fetch = tokio::spawn(async move {
            cache
                .fetch_for(&url, Some(&hub))
                .await
                .map_err(|e| e.to_string())
        });
        match tokio::time::timeout(ICON_BUDGET, fetch).await {
            Ok(Ok(result)) => result,
            Ok(Err(e)) => Err(format!("icon fetch failed: {e}")),
            Err(_) => Err(format!(
                "the icon host took over {} ms: shown without it (fetched for next time)",
                ICON_BUDGET.as_millis()
            )),
        }
    }
}

fn close_reason(r: pushdesk_notifier::CloseReason) -> CloseReason {
    match r {
        pushdesk_notifier::CloseReason::Expired => CloseReason::Expired,
        pushdesk_notifier::CloseReason::Dismissed => CloseReason::Dismissed,
        pushdesk_notifier::CloseReason::ClosedByCall => CloseReason::Closed,
        pushdesk_notifier::CloseReason::Undefined => CloseReason::Other,
        pushdesk_notifier::CloseReason::Replaced => CloseReason::Replaced,
    }
}
