//! Pushdesk's native notifier: shows hub notifications as the OS's own,
//! replaces by tag, and reports show, click, close and error events, like
//! the browser's Notification API. Used by the desktop app and by
//! `pushdesk listen`.
//!
//! # Modules
//!
//! * [`models`]: [`NotificationSpec`] (what to show), [`NotifierEvent`]
//!   and [`CloseReason`] (what happened to it).
//! * [`error`]: [`Error`], [`IconError`], [`Refused`].
//! * [`tags`]: [`TagSlots`], the pure tag → platform handle bookkeeping
//!   every backend uses (Web Notifications tag rule). Pure.
//! * [`shown`]: [`ShownOnce`], each hub id shown once in bounded memory. Pure.
//! * [`urls`]: [`openable_url`] (click URLs: http/https only) and
//!   [`resolve_icon`] (icon paths resolved against the hub URL). Pure.
//! * [`guard`]: which addresses an icon may come from (public ones, or
//!   the hub's own host). Pure but for the resolver.
//! * [`icon`]: [`IconCache`], icons fetched over http(s) with size and time
//!   limits into a cache directory.
//! * [`markup`]: text escaped for XML-like markup. Pure.
//! * one backend per OS, chosen at compile time, each a `Backend` type:
//!   `linux` (every Unix but macOS: `org.freedesktop.Notifications` over
//!   one zbus connection), `windows` (WinRT toasts), `macos`
//!   (`UNUserNotificationCenter`).
//!
//! # Example
//!
//! ```no_run
//! use pushdesk_notifier::{NotificationSpec, Notifier, NotifierEvent};
//!
//! # async fn run() -> Result<(), pushdesk_notifier::Error> {
//! let (notifier, mut events) = Notifier::new("Pushdesk").await?;
//! let mut spec = NotificationSpec::new(42, "Build finished");
//! spec.body = "all green".into();
//! spec.tag = Some("ci".into()); // a later "ci" notification replaces this one
//! notifier.show(&spec).await?;
//! while let Some(event) = events.recv().await {
//!     if let NotifierEvent::Clicked { key, .. } = event {
//!         println!("clicked {key}");
//!     }
//! }
//! # Ok(()) }
//! ```

pub mod error;
pub mod guard;
pub mod icon;
pub mod markup;
pub mod models;
pub mod shown;
pub mod tags;
pub mod urls;

#[cfg(all(unix, not(target_os = "macos")))]
mod linux;
#[cfg(target_os = "macos")]
mod macos;
#[cfg(windows)]
mod windows;

#[cfg(all(unix, not(target_os = "macos")))]
use linux::Backend;
#[cfg(target_os = "macos")]
use macos::Backend;
#[cfg(windows)]
use windows::Backend;

use std::sync::Arc;

use tokio::sync::mpsc;

pub use error::{Error, IconError, Refused, Result};
pub use icon::{IconCache, IconOptions};
pub use models::{Action, CloseReason, DEFAULT_ACTION, NotificationSpec, NotifierEvent, Urgency};
pub use shown::ShownOnce;
pub use tags::TagSlots;
pub use urls::{openable_url, resolve_icon};

/// How many events wait for the reader before new ones are dropped (and
/// logged): a reader that stops reading never blocks or grows the notifier.
pub const EVENT_QUEUE: usize = 1024;

/// Shows native notifications. Cheap to clone; the platform connection and
/// its listener end when the last clone is dropped (then the events end).
#[derive(Clone)]
pub struct Notifier {
    backend: Arc<Backend>,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier").finish_non_exhaustive()
    }
}

impl Notifier {
    /// Connects to the platform's notification service as `app_name` (the
    /// name shown with each notification; on Windows the AppUserModelID of
    /// the installed app) and returns the notifier and its events.
    ///
    /// On Linux this connects to the session bus and checks that a
    /// notification daemon answers: [`Error::Bus`] without a bus,
    /// [`Error::NoDaemon`] without a daemon.
    pub async fn new(app_name: &str) -> Result<(Notifier, NotifierEvents)> {
        let (events, rx) = EventSender::channel();
        let backend = Backend::new(app_name, events).await?;
        Ok((Self::wrap(backend), rx))
    }

    /// Like [`Notifier::new`], on the D-Bus at `address` (e.g. a private bus
    /// in tests: `unix:path=/tmp/dbus-…`) instead of the session bus.
    #[cfg(all(unix, not(target_os = "macos")))]
    pub async fn with_bus_address(
        app_name: &str,
        address: &str,
    ) -> Result<(Notifier, NotifierEvents)> {
        let (events, rx) = EventSender::channel();
        let backend = Backend::with_bus_address(app_name, address, events).await?;
        Ok((Self::wrap(backend), rx))
    }

    fn wrap(backend: Backend) -> Self {
        Self {
            backend: Arc::new(backend),
        }
    }

    /// Shows `spec` (replacing the notification on screen with the same
    /// non-empty tag). Then [`NotifierEvent::Shown`]; on failure the error
    /// is returned and also sent as [`NotifierEvent::Error`].
    pub async fn show(&self, spec: &NotificationSpec) -> Result<()> {
        self.backend.show(spec).await
    }

    /// The daemon's id for notification `key` while it is on screen (for
    /// diagnostics and tests: `CloseNotification`, `dbus-monitor`).
    #[cfg(all(unix, not(target_os = "macos")))]
    pub fn xdg_id(&self, key: u64) -> Option<u32> {
        self.backend.xdg_id(key)
    }

    /// Closes notification `key` if it is still on screen (then
    /// [`NotifierEvent::Closed`] with [`CloseReason::ClosedByCall`]).
    /// Unknown keys are ignored.
    pub async fn close(&self, key: u64) -> Result<()> {
        self.backend.close(key).await
    }
}

/// The notifier's events, in the order the platform reported them. Ends
/// (`None`) when the [`Notifier`] is dropped.
#[derive(Debug)]
pub struct NotifierEvents {
    rx: mpsc::Receiver<NotifierEvent>,
}

impl NotifierEvents {
    /// The next event; `None` once the notifier is gone.
    pub async fn recv(&mut self) -> Option<NotifierEvent> {
        self.rx.recv().await
    }

    /// The next event if one is waiting.
    pub fn try_recv(&mut self) -> Option<NotifierEvent> {
        self.rx.try_recv().ok()
    }
}

/// The backends' side of [`NotifierEvents`].
#[derive(Debug, Clone)]
pub(crate) struct EventSender {
    tx: mpsc::Sender<NotifierEvent>,
}

impl EventSender {
    fn channel() -> (EventSender, NotifierEvents) {
        let (tx, rx) = mpsc::channel(EVENT_QUEUE);
        (EventSender { tx }, NotifierEvents { rx })
    }

    /// Queues `event`; never waits. A full queue drops it (logged).
    pub(crate) fn emit(&self, event: NotifierEvent) {
        match self.tx.try_send(event) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(event)) => {
                tracing::warn!(?event, "notifier event dropped: nobody reads the events");
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }
}
