//! Native desktop notifications for `pushdesk listen` (unless `--no-notify`):
//! each new hub notification is shown through [`pushdesk_notifier`], with
//! its icon fetched from the hub into the user's cache directory.
//!
//! Printing never waits for this: notifications go through a bounded queue
//! to one task. Without a notification service, one warning says so and
//! `listen` goes on printing.

use std::sync::atomic::{AtomicU64, Ordering};

use pushdesk_hub_model::Notification;
use pushdesk_notifier::{
    IconCache, NotificationSpec, Notifier, NotifierEvent, ShownOnce, resolve_icon,
};
use tokio::sync::mpsc;
use tracing::{debug, info, warn};
use url::Url;

/// Notifications waiting to be shown before new ones are dropped.
const QUEUE: usize = 256;

/// The sending side; dropping it ends the task.
pub struct Desktop {
    tx: mpsc::Sender<Notification>,
}

impl Desktop {
    /// Starts the notifier task for the hub at `server` (the URL icons are
    /// resolved against).
    pub fn start(server: &str) -> Desktop {
        let (tx, rx) = mpsc::channel(QUEUE);
        let base = Url::parse(server).ok();
        tokio::spawn(run(base, rx));
        Desktop { tx }
    }

    /// Queues `notification` for showing; never waits.
    pub fn show(&self, notification: Notification) {
        if let Err(mpsc::error::TrySendError::Full(n)) = self.tx.try_send(notification) {
            warn!(title = %n.title, "too many notifications at once: not shown natively");
        }
    }
}

async fn run(base: Option<Url>, mut rx: mpsc::Receiver<Notification>) {
    let (notifier, mut events) = match Notifier::new("Pushdesk").await {
        Ok(pair) => pair,
        Err(e) => {
            warn!(
                "native notifications are off: {e}. Events are still printed; pass --no-notify to silence this."
            );
            // Keep draining so the sender never sees a closed channel.
            while rx.recv().await.is_some() {}
            return;
        }
    };
    tokio::spawn(async move {
        while let Some(event) = events.recv().await {
            match event {
                NotifierEvent::Clicked { key, action } => {
                    info!(key, %action, "notification clicked")
                }
                NotifierEvent::Closed { key, reason } => {
                    debug!(key, ?reason, "notification closed")
                }
                NotifierEvent::Shown { key } => debug!(key, "notification shown"),
                NotifierEvent::Error { .. } => {} // logged where show failed
            }
        }
    });
    let icons = icon_cache();
    let mut once = ShownOnce::new();
    // Keys for notifications without a hub id (seed servers): high numbers
    // that hub ids never reach.
    static LOCAL: AtomicU64 = AtomicU64::new(1 << 63);
    let mut last_error: Option<String> = None;
    while let Some(n) = rx.recv().await {
        let key = match n.id {
            Some(id) if !once.first_time(id) => continue,
            Some(id) => id,
            None => LOCAL.fetch_add(1, Ordering::Relaxed),
        };
        let mut spec = NotificationSpec::new(key, n.title.clone());
        spec.body = n.body.clone();
        spec.tag = n.replace_key();
        spec.urgency = n.urgency;
        spec.has_default_action = true;
        if let (Some(base), Some(icons)) = (&base, &icons)
            && let Some(url) = resolve_icon(base, &n.icon)
        {
            match icons.fetch_for(&url, Some(base)).await {
                Ok(path) => spec.icon = Some(path),
                Err(e) => warn!("notification {key} shown without its icon: {e}"),
            }
        }
        match notifier.show(&spec).await {
            Ok(()) => last_error = None,
            Err(e) => {
                let message = e.to_string();
                if last_error.as_deref() != Some(message.as_str()) {
                    warn!("native notification failed: {message}");
                }
                last_error = Some(message);
            }
        }
    }
}

/// `~/.cache/pushdesk/icons` (or the OS's cache directory); `None` and a
/// note if there is none.
fn icon_cache() -> Option<IconCache> {
    let dir = dirs::cache_dir()?.join("pushdesk").join("icons");
    match IconCache::new(&dir) {
        Ok(cache) => Some(cache),
        Err(e) => {
            warn!("notification icons are off: {e}");
            None
        }
    }
}
