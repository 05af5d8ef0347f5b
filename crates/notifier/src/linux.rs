//! Linux and the BSDs: `org.freedesktop.Notifications` (the XDG desktop
//! notification spec) over ONE zbus connection.
//!
//! `Notify` carries `replaces_id` (from [`TagSlots`]) for the tag rule, the
//! actions `["default", "Open"]` when the caller handles clicks and one
//! pair per button (`ActionInvoked` reports the button's id), the
//! `urgency` hint and the `image-path` hint for an already-cached icon. The
//! `ActionInvoked` and `NotificationClosed` signals are received on the same
//! connection and turned into [`NotifierEvent`]s by notification id; when
//! the daemon goes away or is replaced, every notification we knew about is
//! reported closed ([`CloseReason::Undefined`]) and forgotten, since a new
//! daemon reuses ids.
//!
//! The body is text from the network. A daemon that reads it as markup
//! ([`body_is_markup`]) gets it escaped ([`crate::markup::escape`]), so a
//! `<b>`, `<a href>` or `<img src>` from a hub shows as the characters it
//! is. The summary is plain text by the spec and is sent as it comes.
//!
//! Why not notify-rust here (checked against notify-rust 4.19 and dunst
//! 1.9): notify-rust opens a new D-Bus connection for every notification
//! (`Connection::session()` in each `show`) and learns about a click only by
//! waiting on that notification's own connection (`wait_for_action`, which
//! blocks a thread, or `wait_for_action_async`, a task), each waiter ending
//! only on that id's action or close. dunst sends `ActionInvoked` and
//! `NotificationClosed` as unicast signals to the connection that sent the
//! latest `Notify` for that id (seen with `dbus-monitor`: `destination=` the
//! replacing connection), so after a tag replace from a new connection the
//! old waiter never ends. A tray app running for months would leak a thread
//! (or task) and a bus connection per replaced notification. notify-rust
//! also cannot target a bus address (tests use a private bus) and unwraps
//! bus errors in its action handler.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_stream_shim::next;
use tracing::{debug, info, warn};
use zbus::zvariant::Value;

use crate::EventSender;
use crate::error::{Error, Result};
use crate::models::{CloseReason, DEFAULT_ACTION, NotificationSpec, NotifierEvent, Urgency};
use crate::tags::TagSlots;

/// How long one call to the daemon may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

#[zbus::proxy(
    interface = "org.freedesktop.Notifications",
    default_service = "org.freedesktop.Notifications",
    default_path = "/org/freedesktop/Notifications",
    gen_blocking = false
)]
trait Notifications {
    /// `Notify`: shows (or replaces) a notification, returns its id.
    #[allow(clippy::too_many_arguments)]
    fn notify(
        &self,
        app_name: &str,
        replaces_id: u32,
        app_icon: &str,
        summary: &str,
        body: &str,
        actions: &[&str],
        hints: HashMap<&str, Value<'_>>,
        expire_timeout: i32,
    ) -> zbus::Result<u32>;

    /// `CloseNotification`.
    fn close_notification(&self, id: u32) -> zbus::Result<()>;

    /// `GetCapabilities`: optional features of the daemon.
    fn get_capabilities(&self) -> zbus::Result<Vec<String>>;

    /// `GetServerInformation`: name, vendor, version, spec version.
    fn get_server_information(&self) -> zbus::Result<(String, String, String, String)>;

    /// A notification left the screen.
    #[zbus(signal)]
    fn notification_closed(&self, id: u32, reason: u32) -> zbus::Result<()>;

    /// The user invoked an action.
    #[zbus(signal)]
    fn action_invoked(&self, id: u32, action_key: String) -> zbus::Result<()>;
}

type Slots = Arc<Mutex<TagSlots<u32>>>;

fn lock(slots: &Slots) -> std::sync::MutexGuard<'_, TagSlots<u32>> {
    // The bookkeeping stays consistent even if a holder panicked.
    slots.lock().unwrap_or_else(|p| p.into_inner())
}

/// The XDG backend: one connection, one listener task.
pub(crate) struct Backend {
    proxy: NotificationsProxy<'static>,
    app_name: String,
    slots: Slots,
    events: EventSender,
    /// Held across `Notify` so that replaces happen in call order.
    show_lock: tokio::sync::Mutex<()>,
    /// The daemon reads the body as markup: escape it. Updated when another
    /// daemon takes over.
    body_markup: Arc<AtomicBool>,
    listener: JoinHandle<()>,
}

impl Drop for Backend {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

impl Backend {
    /// On the session bus.
    pub(crate) async fn new(app_name: &str, events: EventSender) -> Result<Self> {
        let conn = zbus::Connection::session()
            .await
            .map_err(|e| Error::Bus(e.to_string()))?;
        Self::on(conn, app_name, events).await
    }

    /// On the bus at `address`.
    pub(crate) async fn with_bus_address(
        app_name: &str,
        address: &str,
        events: EventSender,
    ) -> Result<Self> {
        let conn = zbus::connection::Builder::address(address)
            .map_err(|e| Error::Bus(format!("{address}: {e}")))?
            .build()
            .await
            .map_err(|e| Error::Bus(format!("{address}: {e}")))?;
        Self::on(conn, app_name, events).await
    }

    async fn on(conn: zbus::Connection, app_name: &str, events: EventSender) -> Result<Self> {
        let proxy = NotificationsProxy::builder(&conn)
            .cache_properties(zbus::proxy::CacheProperties::No)
            .build()
            .await
            .map_err(|e| Error::Bus(e.to_string()))?;
        // Subscribe before the first Notify so no signal is missed.
        let actions = proxy
            .receive_action_invoked()
            .await
            .map_err(|e| Error::Bus(e.to_string()))?;
        let closes = proxy
            .receive_notification_closed()
            .await
            .map_err(|e| Error::Bus(e.to_string()))?;
        let owners = proxy
            .inner()
            .receive_owner_changed()
            .await
            .map_err(|e| Error::Bus(e.to_string()))?;
        let body_markup = Arc::new(AtomicBool::new(daemon_reads_markup(&proxy).await?));
        let slots: Slots = Arc::default();
        let listener = tokio::spawn(listen(
            proxy.clone(),
            Signals {
                actions,
                closes,
                owners,
            },
            slots.clone(),
            body_markup.clone(),
            events.clone(),
        ));
        Ok(Self {
            proxy,
            app_name: app_name.to_owned(),
            slots,
            events,
            show_lock: tokio::sync::Mutex::new(()),
            body_markup,
            listener,
        })
    }

    pub(crate) async fn show(&self, spec: &NotificationSpec) -> Result<()> {
        let result = self.notify(spec).await;
        match &result {
            Ok(()) => self.events.emit(NotifierEvent::Shown { key: spec.key }),
            Err(e) => self.events.emit(NotifierEvent::Error {
                key: spec.key,
                message: e.to_string(),
            }),
        }
        result
    }

    async fn notify(&self, spec: &NotificationSpec) -> Result<()> {
        let mut hints: HashMap<&str, Value<'_>> = HashMap::new();
        hints.insert(
            "urgency",
            Value::U8(match spec.urgency {
                Urgency::Low => 0,
                Urgency::Normal => 1,
                Urgency::Critical => 2,
            }),
        );
        let icon = spec.icon.as_ref().and_then(|p| p.to_str());
        if let Some(path) = icon {
            hints.insert("image-path", Value::from(path));
        }
        // Pairs of (id, label): the body's click, then the buttons.
        let mut actions: Vec<&str> = Vec::new();
        if spec.has_default_action {
            actions.extend([DEFAULT_ACTION, "Open"]);
        }
        for button in spec.buttons() {
            actions.extend([button.id.as_str(), button.title.as_str()]);
        }
        let body: Cow<'_, str> = if self.body_markup.load(Ordering::Relaxed) {
            Cow::Owned(crate::markup::escape(&spec.body))
        } else {
            Cow::Borrowed(&spec.body)
        };
        let _order = self.show_lock.lock().await;
        let replaces = lock(&self.slots).replaces(spec.tag()).copied().unwrap_or(0);
        let id = call(self.proxy.notify(
            &self.app_name,
            replaces,
            "",
            &spec.title,
            &body,
            &actions,
            hints,
            expire_timeout(spec.expires_in),
        ))
        .await?;
        debug!(key = spec.key, id, replaces, "notify");
        let replaced = lock(&self.slots).shown(spec.key, spec.tag(), id);
        if let Some(old) = replaced {
            self.events.emit(NotifierEvent::Closed {
                key: old,
                reason: CloseReason::Replaced,
            });
        }
        Ok(())
    }

    pub(crate) fn xdg_id(&self, key: u64) -> Option<u32> {
        lock(&self.slots).handle_of(key).copied()
    }

    pub(crate) async fn close(&self, key: u64) -> Result<()> {
        let id = lock(&self.slots).handle_of(key).copied();
        let Some(id) = id else {
            return Ok(());
        };
        // The daemon answers with NotificationClosed (reason 3), which
        // reports the close and forgets the id.
        call(self.proxy.close_notification(id)).await
    }
}

/// Runs a call to the daemon with [`CALL_TIMEOUT`] and clear errors.
async fn call<T>(fut: impl std::future::Future<Output = zbus::Result<T>>) -> Result<T> {
    match tokio::time::timeout(CALL_TIMEOUT, fut).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(map_error(&e)),
        Err(_) => Err(Error::Platform(format!(
            "the notification daemon did not answer within {CALL_TIMEOUT:?}"
        ))),
    }
}

fn map_error(e: &zbus::Error) -> Error {
    let text = e.to_string();
    let no_daemon = ["ServiceUnknown", "NameHasNoOwner", "Spawn."]
        .iter()
        .any(|needle| text.contains(needle));
    if no_daemon {
        Error::NoDaemon(format!(
            "org.freedesktop.Notifications is not on the bus ({text})"
        ))
    } else if matches!(e, zbus::Error::InputOutput(_)) {
        Error::Bus(text)
    } else {
        Error::Platform(text)
    }
}

/// Asks the daemon who it is and whether it reads the body as markup.
async fn daemon_reads_markup(proxy: &NotificationsProxy<'_>) -> Result<bool> {
    let (name, vendor, version, _spec) = call(proxy.get_server_information()).await?;
    let capabilities = call(proxy.get_capabilities()).await?;
    let markup = body_is_markup(&name, &capabilities);
    info!(%name, %vendor, %version, ?capabilities, body_markup = markup, "notification daemon");
    Ok(markup)
}

/// Whether a daemon named `name` with `capabilities` parses the body as
/// markup: it lists `body-markup` (the spec's way), or it is dunst, which
/// parses the body as Pango markup without listing it (dunst 1.9 with its
/// default `markup = full`: `<b>` shows bold, `<img>` as "[image]", a bare
/// `&` breaks the parse; its maintainers ask clients to escape).
pub(crate) fn body_is_markup(name: &str, capabilities: &[String]) -> bool {
    capabilities.iter().any(|c| c == "body-markup") || name.eq_ignore_ascii_case("dunst")
}

/// The daemon's signal streams, subscribed before the first `Notify`.
struct Signals {
    actions: ActionInvokedStream,
    closes: NotificationClosedStream,
    owners: zbus::proxy::OwnerChangedStream<'static>,
}

/// Turns the daemon's signals into events until the backend is dropped.
async fn listen(
    proxy: NotificationsProxy<'static>,
    signals: Signals,
    slots: Slots,
    body_markup: Arc<AtomicBool>,
    events: EventSender,
) {
    let Signals {
        mut actions,
        mut closes,
        mut owners,
    } = signals;
    loop {
        tokio::select! {
            Some(signal) = next(&mut actions) => {
                let Ok(args) = signal.args() else { continue };
                let key = lock(&slots).key_of(&args.id);
                match key {
                    Some(key) => events.emit(NotifierEvent::Clicked { key, action: args.action_key.clone() }),
                    None => debug!(id = args.id, "action on a notification that is not ours"),
                }
            }
            Some(signal) = next(&mut closes) => {
                let Ok(args) = signal.args() else { continue };
                let key = lock(&slots).closed(&args.id);
                if let Some(key) = key {
                    events.emit(NotifierEvent::Closed { key, reason: CloseReason::from_xdg(args.reason) });
                }
            }
            Some(owner) = next(&mut owners) => {
                // The daemon went away or another one took over: the ids
                // we hold mean nothing any more.
                warn!(owner = ?owner.as_ref().map(|o| o.as_str()), "notification daemon changed");
                let gone = lock(&slots).clear();
                for key in gone {
                    events.emit(NotifierEvent::Closed { key, reason: CloseReason::Undefined });
                }
                if owner.is_some() {
                    // Escape for the newcomer when in doubt.
                    let markup = daemon_reads_markup(&proxy).await.unwrap_or(true);
                    body_markup.store(markup, Ordering::Relaxed);
                }
            }
            else => break,
        }
    }
}

/// XDG `expire_timeout` in ms: `-1` is the daemon's default; at least 1 ms
/// (0 would mean never).
fn expire_timeout(expires_in: Option<std::time::Duration>) -> i32 {
    expires_in.map_or(-1, |d| {
        i32::try_from(d.as_millis()).unwrap_or(i32::MAX).max(1)
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_rest_of_the_ttl_becomes_the_expire_timeout() {
        use std::time::Duration;
        assert_eq!(super::expire_timeout(None), -1);
        assert_eq!(
            super::expire_timeout(Some(Duration::from_millis(1500))),
            1500
        );
        assert_eq!(
            super::expire_timeout(Some(Duration::ZERO)),
            1,
            "0 would mean never"
        );
        assert_eq!(
            super::expire_timeout(Some(Duration::from_secs(u64::MAX / 4))),
            i32::MAX
        );
    }

    use super::body_is_markup;

    #[test]
    fn markup_when_listed_or_dunst() {
        let caps = |list: &[&str]| list.iter().map(|c| (*c).to_owned()).collect::<Vec<_>>();
        assert!(body_is_markup(
            "gnome-shell",
            &caps(&["actions", "body", "body-markup"])
        ));
        assert!(body_is_markup("dunst", &caps(&["actions", "body"])));
        assert!(!body_is_markup(
            "Notification Daemon",
            &caps(&["actions", "body"])
        ));
        assert!(!body_is_markup("mako", &[]));
    }
}

/// `StreamExt::next` without another dependency: zbus streams implement
/// `futures_core::Stream`.
mod tokio_stream_shim {
    use std::future::poll_fn;
    use std::pin::Pin;

    use zbus::export::futures_core::Stream;

    pub(super) async fn next<S: Stream + Unpin>(stream: &mut S) -> Option<S::Item> {
        poll_fn(|cx| Pin::new(&mut *stream).poll_next(cx)).await
    }
}
