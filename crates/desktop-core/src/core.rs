//! [`Core`]: the app's state and the rules that tie its parts together.
//! The [`HubLink`] feeds it (it is the link's [`LinkSink`]); it keeps the
//! local [`History`], decides what reaches the OS [`Alerts`], tells the
//! window process and the tray through [`Views`] and answers the window's
//! commands. Closing the window changes nothing here.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, Weak};
use std::time::{SystemTime, UNIX_EPOCH};

use pushdesk_hub_model::{Notification, NotificationClicked, NotificationClosed, events};
use serde::Serialize;
use serde_json::Value;
use tokio::sync::mpsc;
use tracing::{info, warn};

use crate::alerts::{AlertEvent, Alerts};
use crate::history::{Entry, History, Outcome};
use crate::link::{HubLink, LinkSink, SendResult, Target, UiStatus, text_request};
use crate::settings::{Settings, SettingsFile};
use crate::shared_text::LocalText;
use crate::{lock, ui_events};
use pushdesk_socketio::Bytes;

/// What the webview needs to draw itself (also after it was re-created).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    /// The connection.
    pub status: UiStatus,
    /// Users online, once the hub said.
    pub count: Option<u64>,
    /// The shared text.
    pub text: String,
    /// Which hub ("embedded hub (http://127.0.0.1:…)" or its URL).
    pub server: String,
    /// Do Not Disturb.
    pub do_not_disturb: bool,
    /// Notifications that arrived while the window was not looked at.
    pub unread: u64,
    /// The notification to show (after a click), once.
    pub focus: Option<String>,
    /// Problems worth showing (settings file unusable, notifier missing).
    pub warnings: Vec<String>,
}

/// Where the app connects: our embedded hub or one the user chose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HubChoice {
    /// The in-process hub (first run, no server configured).
    Embedded,
    /// A hub URL.
    Remote(String),
}

/// Flags that override the saved settings for this run.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--server` (`embedded` for the built-in hub).
    pub server: Option<String>,
    /// `--token`.
    pub token: Option<String>,
}

/// The shared text of the current hub.
struct TextState {
    /// The replica (used once the hub speaks Yjs).
    local: LocalText,
    /// The hub syncs the text as a Yjs document (its welcome said so, or
    /// a document of it was saved before).
    yjs: bool,
    /// A seed hub: the window's last write while offline, sent on connect.
    pending: Option<String>,
}

struct Live {
    status: UiStatus,
    count: Option<u64>,
    text: String,
    server: String,
    /// Identity of the current hub in the history (ids are per hub).
    hub_key: String,
    unread: u64,
    focus: Option<String>,
    warnings: Vec<String>,
}

/// Tells the views (the window process, the tray) what changed.
/// `pushdesk-tray` implements it ([`crate::app`]); tests can record.
pub trait Views: Send + Sync + 'static {
    /// Sends an event to the webview (if a window is open).
    fn emit(&self, event: &str, payload: Value);
    /// The status line, count and unread changed (tray).
    fn summary(&self, snapshot: &Snapshot);
    /// Opens (or focuses) the main window.
    fn open_window(&self);
    /// Whether the user is looking at the window.
    fn window_focused(&self) -> bool;
    /// Opens a checked http(s) URL in the default browser.
    fn open_url(&self, url: &str);
    /// Start at login on or off.
    fn autostart(&self, on: bool) -> Result<(), String>;
}

/// A shared view (the app keeps a handle to the views it gives the core).
impl<T: Views + ?Sized> Views for Arc<T> {
    fn emit(&self, event: &str, payload: Value) {
        (**self).emit(event, payload);
    }
    fn summary(&self, snapshot: &Snapshot) {
        (**self).summary(snapshot);
    }
    fn open_window(&self) {
        (**self).open_window();
    }
    fn window_focused(&self) -> bool {
        (**self).window_focused()
    }
    fn open_url(&self, url: &str) {
        (**self).open_url(url);
    }
    fn autostart(&self, on: bool) -> Result<(), String> {
        (**self).autostart(on)
    }
}

/// The app's state and rules.
pub struct Core {
    data_dir: PathBuf,
    settings_file: SettingsFile,
    settings: Mutex<Settings>,
    overrides: Overrides,
    history: Mutex<History>,
    live: Mutex<Live>,
    link: Mutex<Option<Arc<HubLink>>>,
    text: Arc<Mutex<TextState>>,
    /// This core, for the tasks it spawns that call back into it.
    me: Weak<Core>,
    embedded: tokio::sync::Mutex<Option<pushdesk_hub::RunningHub>>,
    /// The embedded hub's one token, random per run and known only to this
    /// process: without it another local user, or a web page reaching
    /// 127.0.0.1, could read and send on the tray's hub.
    embedded_token: String,
    /// Held through [`Core::connect`]: two at once (a Reconnect during a
    /// settings save) would each start a link and one would be left running.
    connecting: tokio::sync::Mutex<()>,
    alerts: Alerts,
    incoming: mpsc::UnboundedSender<Value>,
    views: Box<dyn Views>,
}

impl std::fmt::Debug for Core {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Core")
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}

/// Unix milliseconds.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl Core {
    /// Opens the data directory (settings, history) and the notifier. Call
    /// [`Core::connect`] next.
    ///
    /// `notifier_name` is what the OS shows notifications as: the app's
    /// name, on Windows its AppUserModelID (the bundle identifier, which the
    /// installer registers).
    pub async fn open(
        data_dir: PathBuf,
        overrides: Overrides,
        views: Box<dyn Views>,
        notifier_name: &str,
    ) -> anyhow::Result<Arc<Self>> {
        std::fs::create_dir_all(&data_dir)?;
        let settings_file = SettingsFile::in_dir(&data_dir);
        let (settings, settings_warning) = settings_file.load();
        // A damaged history is moved aside, never a tray that will not start.
        let (history, history_warning) = History::open_or_recover(&data_dir)?;
        let (alerts, alert_events, alerts_warning) =
            Alerts::start(notifier_name, data_dir.join("icons")).await;
        let (incoming, incoming_rx) = mpsc::unbounded_channel();
        let warnings = settings_warning
            .into_iter()
            .chain(history_warning)
            .chain(alerts_warning)
            .collect();
        let core = Arc::new_cyclic(|me| Self {
            me: me.clone(),
            data_dir,
            settings_file,
            settings: Mutex::new(settings),
            overrides,
            history: Mutex::new(history),
            live: Mutex::new(Live {
                status: UiStatus::Connecting,
                count: None,
                text: String::new(),
                server: String::new(),
                hub_key: String::new(),
                unread: 0,
                focus: None,
                warnings,
            }),
            text: Arc::new(Mutex::new(TextState {
                local: LocalText::restore(None),
                yjs: false,
                pending: None,
            })),
            link: Mutex::new(None),
            embedded: tokio::sync::Mutex::new(None),
            embedded_token: pushdesk_hub::tokens::generate_token(),
            connecting: tokio::sync::Mutex::new(()),
            alerts,
            incoming,
            views,
        });
        // One worker shows notifications in the order they came.
        tokio::spawn(deliver_loop(core.clone(), incoming_rx));
        tokio::spawn(alert_loop(core.clone(), alert_events));
        Ok(core)
    }

    /// Which hub the settings and flags point at.
    pub fn choice(&self) -> HubChoice {
        let configured = self
            .overrides
            .server
            .clone()
            .or_else(|| lock(&self.settings).server.clone());
        match configured {
            Some(s) if s != "embedded" => HubChoice::Remote(s),
            _ => HubChoice::Embedded,
        }
    }

    /// (Re)connects to the chosen hub, starting the embedded one if needed.
    pub async fn connect(self: &Arc<Self>) -> anyhow::Result<()> {
        let _one_at_a_time = self.connecting.lock().await;
        let old = lock(&self.link).take();
        if let Some(old) = old {
            old.stop().await;
        }
        let settings = lock(&self.settings).clone();
        let (server, label, hub_key, token) = match self.choice() {
            HubChoice::Embedded => {
                let url = self.embedded_hub().await?;
                (
                    url.clone(),
                    format!("embedded hub ({url})"),
                    "embedded".to_owned(),
                    Some(self.embedded_token.clone()),
                )
            }
            HubChoice::Remote(url) => {
                let token = self.overrides.token.clone().or(settings.token.clone());
                (url.clone(), url.clone(), hub_key(&url), token)
            }
        };
        let saved = lock(&self.history).text_doc(&hub_key).unwrap_or_else(|e| {
            warn!(error = %e, "reading the saved shared text");
            None
        });
        let restored = {
            let mut text = lock(&self.text);
            *text = TextState {
                local: LocalText::restore(saved.as_deref()),
                yjs: saved.is_some(),
                pending: None,
            };
            text.local.shown();
            text.yjs.then(|| text.local.text())
        };
        {
            let mut live = lock(&self.live);
            if let Some(restored) = restored {
                live.text = restored;
            }
            live.server = label;
            live.hub_key = hub_key.clone();
            live.count = None;
            live.status = UiStatus::Connecting;
        }
        let me = Arc::downgrade(self);
        let key = hub_key.clone();
        let target = Target {
            server,
            token,
            ca_cert: settings.ca_cert.clone(),
            insecure: settings.accept_invalid_certs,
            channels: settings.channels.clone(),
            last_id: Arc::new({
                let (me, key) = (me.clone(), key.clone());
                move || {
                    let core = me.upgrade()?;
                    let id = lock(&core.history).last_id(&key);
                    id.unwrap_or_else(|e| {
                        warn!(error = %e, "reading the last id");
                        None
                    })
                }
            }),
            epoch: Arc::new({
                let me = me.clone();
                move || {
                    let core = me.upgrade()?;
                    let epoch = lock(&core.history).epoch(&key);
                    epoch.unwrap_or_else(|e| {
                        warn!(error = %e, "reading the history epoch");
                        None
                    })
                }
            }),
            text_epoch: Arc::new(move || {
                let core = me.upgrade()?;
                lock(&core.text).local.epoch()
            }),
        };
        match HubLink::start(&target, self.clone()) {
            Ok(link) => {
                *lock(&self.link) = Some(Arc::new(link));
                Ok(())
            }
            Err(e) => {
                self.status(UiStatus::Disconnected {
                    reason: e.to_string(),
                    refused: false,
                });
                Err(e)
            }
        }
    }

    async fn embedded_hub(&self) -> anyhow::Result<String> {
        let mut hub = self.embedded.lock().await;
        if let Some(running) = hub.as_ref() {
            return Ok(running.url());
        }
        let mut config = pushdesk_hub::HubConfig::new(
            std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
            self.data_dir.join("hub"),
        );
        config.tokens = vec![self.embedded_token.clone()];
        let running = pushdesk_hub::start(config).await?;
        let url = running.url();
        info!(%url, "embedded hub started");
        *hub = Some(running);
        Ok(url)
    }

    /// Stops the connection and the embedded hub (on quit).
    pub async fn shutdown(&self) {
        let link = lock(&self.link).take();
        if let Some(link) = link {
            link.stop().await;
        }
        if let Some(hub) = self.embedded.lock().await.take()
            && let Err(e) = hub.shutdown().await
        {
            warn!(error = %e, "embedded hub shutdown");
        }
    }

    fn current_link(&self) -> Option<Arc<HubLink>> {
        lock(&self.link).clone()
    }

    /// What the webview needs to draw itself; takes the pending focus.
    pub fn snapshot(&self, take_focus: bool) -> Snapshot {
        let dnd = lock(&self.settings).do_not_disturb;
        let mut live = lock(&self.live);
        Snapshot {
            status: live.status.clone(),
            count: live.count,
            text: live.text.clone(),
            server: live.server.clone(),
            do_not_disturb: dnd,
            unread: live.unread,
            focus: if take_focus {
                live.focus.take()
            } else {
                live.focus.clone()
            },
            warnings: live.warnings.clone(),
        }
    }

    fn changed(&self) {
        let snapshot = self.snapshot(false);
        self.views.summary(&snapshot);
    }

    /// The window wrote the shared text. With a Yjs hub the write is
    /// merged into the core's replica (also while the hub is away) and the
    /// change sent on; with a seed hub it is a `text_update_request`, or,
    /// offline, kept and sent on the next connect.
    pub async fn send_text(&self, text: String, base: Option<String>) -> SendResult {
        let link = self.current_link();
        let yjs = lock(&self.text).yjs;
        if !yjs {
            let Some(link) = link.filter(|l| l.is_connected()) else {
                lock(&self.text).pending = Some(text.clone());
                lock(&self.live).text = text;
                return SendResult::Accepted { id: None };
            };
            let result = link
                .request(events::TEXT_UPDATE_REQUEST, text_request(&text))
                .await;
            if matches!(
                result,
                SendResult::Accepted { .. } | SendResult::Unacknowledged
            ) {
                lock(&self.live).text = text;
            }
            return result;
        }
        let written = lock(&self.text).local.from_view(&text, base.as_deref());
        let (message, merged) = match written {
            Ok(write) => (write.message, write.merged),
            Err(e) => {
                return SendResult::Rejected {
                    error: e.to_string(),
                };
            }
        };
        self.text_changed(merged);
        let Some(message) = message else {
            return SendResult::Accepted { id: None };
        };
        match link {
            Some(link) => match link.text_sync(message).await {
                // Kept here and merged when the hub is back.
                SendResult::Offline => SendResult::Accepted { id: None },
                other => other,
            },
            None => SendResult::Accepted { id: None },
        }
    }

    /// The replica changed: save it, remember its text and, if `show`,
    /// tell the window.
    fn text_changed(&self, show: Option<String>) {
        let (snapshot, text) = {
            let state = lock(&self.text);
            (state.local.saved(), state.local.text())
        };
        let hub_key = lock(&self.live).hub_key.clone();
        if let Err(e) = lock(&self.history).save_text_doc(&hub_key, &snapshot) {
            warn!(error = %e, "saving the shared text failed");
        }
        lock(&self.live).text = text;
        if let Some(show) = show {
            self.views.emit(ui_events::TEXT, Value::String(show));
        }
    }

    /// Sends a `send_notification_request`.
    pub async fn send_notification(&self, request: Value) -> SendResult {
        let Some(link) = self.current_link() else {
            return SendResult::Offline;
        };
        link.request(events::SEND_NOTIFICATION_REQUEST, request)
            .await
    }

    /// The newest `limit` notifications as the UI shows them.
    pub fn history(&self, limit: usize) -> Vec<Value> {
        match lock(&self.history).recent(limit) {
            Ok(entries) => entries
                .into_iter()
                .map(|e| ui_payload(e.key, &e.payload, &e.outcome))
                .collect(),
            Err(e) => {
                warn!(error = %e, "reading history");
                Vec::new()
            }
        }
    }

    /// The saved settings.
    pub fn settings(&self) -> Settings {
        lock(&self.settings).clone()
    }

    /// Saves settings and applies them (reconnecting when the hub changed).
    pub async fn save_settings(self: &Arc<Self>, new: Settings) -> Result<(), String> {
        let new = new.validated().map_err(|e| e.to_string())?;
        self.settings_file
            .save(&new)
            .map_err(|e| format!("saving settings: {e}"))?;
        let old = std::mem::replace(&mut *lock(&self.settings), new.clone());
        self.changed();
        if old.start_at_login != new.start_at_login {
            self.views.autostart(new.start_at_login)?;
        }
        let reconnect = old.server != new.server
            || old.token != new.token
            || old.ca_cert != new.ca_cert
            || old.accept_invalid_certs != new.accept_invalid_certs
            || old.channels != new.channels;
        if reconnect {
            self.connect().await.map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// Do Not Disturb on or off (saved).
    pub fn set_dnd(&self, on: bool) {
        let settings = {
            let mut s = lock(&self.settings);
            s.do_not_disturb = on;
            s.clone()
        };
        if let Err(e) = self.settings_file.save(&settings) {
            warn!(error = %e, "saving settings");
        }
        self.views.emit(ui_events::DND, Value::Bool(on));
        self.changed();
    }

    /// The window is being looked at: nothing unread.
    pub fn seen(&self) {
        let had = std::mem::take(&mut lock(&self.live).unread);
        if had > 0 {
            self.changed();
        }
    }

    async fn deliver(self: &Arc<Self>, payload: Value) {
        let notification = match serde_json::from_value::<Notification>(payload.clone()) {
            Ok(n) => n,
            Err(e) => {
                warn!(error = %e, "ignoring a malformed notification");
                return;
            }
        };
        let hub_key = lock(&self.live).hub_key.clone();
        let recorded = lock(&self.history).record(&hub_key, notification.id, &payload, now_ms());
        let key = match recorded {
            Ok(Some(key)) => key,
            Ok(None) => return, // a replay of one already shown
            Err(e) => {
                // Still show it: losing the history row is better than losing the alert.
                warn!(error = %e, "history write failed");
                0
            }
        };
        let settings = self.settings();
        let outcome = if notification.is_expired(now_ms()) {
            // Its ttl passed before it got here (a replay after a long absence).
            Outcome::Suppressed("expired".into())
        } else if settings.do_not_disturb {
            Outcome::Suppressed("do not disturb".into())
        } else if notification.urgency < settings.min_urgency {
            Outcome::Suppressed(format!(
                "below the minimum urgency ({})",
                settings.min_urgency
            ))
        } else {
            let base = lock(&self.live).server.clone();
            let hub_url = self.current_hub_url(&base);
            match self.alerts.show(key, &notification, hub_url.as_ref()).await {
                Ok(()) => Outcome::Shown,
                Err(e) => Outcome::Failed(e),
            }
        };
        if key != 0
            && let Err(e) = lock(&self.history).set_outcome(key, &outcome)
        {
            warn!(error = %e, "history write failed");
        }
        if !self.views.window_focused() {
            lock(&self.live).unread += 1;
        }
        let outcome_text = match &outcome {
            Outcome::Pending => "pending".to_owned(),
            Outcome::Shown => "shown".to_owned(),
            Outcome::Suppressed(w) => format!("suppressed: {w}"),
            Outcome::Failed(w) => format!("error: {w}"),
        };
        self.views.emit(
            ui_events::NOTIFICATION,
            ui_payload(key, &payload, &outcome_text),
        );
        self.changed();
    }

    fn current_hub_url(&self, label: &str) -> Option<url::Url> {
        // The label is the URL, or "embedded hub (URL)".
        let url = label
            .strip_prefix("embedded hub (")
            .and_then(|s| s.strip_suffix(')'))
            .unwrap_or(label);
        url::Url::parse(url).ok()
    }

    /// Sends `event` about history `entry` to the hub (`notification_clicked`,
    /// `notification_closed`) when it came with a hub id and we are connected.
    fn report<T: serde::Serialize>(
        &self,
        entry: Option<&Entry>,
        event: &str,
        payload: impl FnOnce(u64) -> T,
    ) {
        if let Some(id) = entry.and_then(|e| hub_id(&e.payload))
            && let Some(link) = self.current_link()
        {
            link.report(
                event,
                serde_json::to_value(payload(id)).unwrap_or(Value::Null),
            );
        }
    }

    fn on_alert(&self, event: AlertEvent) {
        match event {
            AlertEvent::Shown { key } => self
                .views
                .emit(ui_events::ALERT, alert_json(key, "show", None)),
            AlertEvent::Clicked {
                key,
                action: Some(action),
            } => {
                // A button: the hub's to act on; no window, no URL.
                if let Err(e) = lock(&self.history).clicked(key, now_ms()) {
                    warn!(error = %e, "history write failed");
                }
                self.views
                    .emit(ui_events::ALERT, alert_json(key, "click", Some(&action)));
                let entry = lock(&self.history).get(key).ok().flatten();
                self.report(entry.as_ref(), events::NOTIFICATION_CLICKED, |id| {
                    NotificationClicked::action(id, action)
                });
            }
            AlertEvent::Clicked { key, action: None } => {
                let entry = lock(&self.history).get(key).ok().flatten();
                if let Err(e) = lock(&self.history).clicked(key, now_ms()) {
                    warn!(error = %e, "history write failed");
                }
                let Some(entry) = entry else { return };
                let id = ui_id(key, &entry.payload);
                lock(&self.live).focus = Some(id.clone());
                self.views.open_window();
                self.views.emit(ui_events::FOCUS, Value::String(id));
                self.views
                    .emit(ui_events::ALERT, alert_json(key, "click", None));
                if let Some(url) = entry.payload.get("url").and_then(Value::as_str) {
                    match crate::alerts::openable_url(url) {
                        Ok(url) => self.views.open_url(url.as_str()),
                        Err(e) => warn!(%url, error = %e, "not opening the notification's URL"),
                    }
                }
                self.report(
                    Some(&entry),
                    events::NOTIFICATION_CLICKED,
                    NotificationClicked::body,
                );
            }
            AlertEvent::Closed { key, reason } => {
                if let Err(e) = lock(&self.history).closed(key, reason.as_str()) {
                    warn!(error = %e, "history write failed");
                }
                self.views.emit(
                    ui_events::ALERT,
                    alert_json(key, "close", Some(reason.as_str())),
                );
                let entry = lock(&self.history).get(key).ok().flatten();
                self.report(entry.as_ref(), events::NOTIFICATION_CLOSED, |id| {
                    NotificationClosed::new(id, reason)
                });
            }
            AlertEvent::Failed { key, message } => {
                if let Err(e) =
                    lock(&self.history).set_outcome(key, &Outcome::Failed(message.clone()))
                {
                    warn!(error = %e, "history write failed");
                }
                self.views
                    .emit(ui_events::ALERT, alert_json(key, "error", Some(&message)));
            }
        }
    }
}

/// How long the core waits before a new link when the hub closed the
/// connection (Socket.IO clients do not reconnect after that by themselves;
/// a tray must, or it misses every alert until the user notices).
const RECONNECT_AFTER_HUB_CLOSED: std::time::Duration = std::time::Duration::from_secs(3);

/// Sends a `text_rebase` (the replica's edits of an older epoch) and, once
/// the hub has taken or refused it for good, forgets it (ending the switch
/// to the new document that waits for it); otherwise it is kept and sent
/// again on the next connect.
fn send_rebase(core: Weak<Core>, link: Arc<HubLink>, message: Vec<u8>) {
    tokio::spawn(async move {
        match link.text_rebase(message.clone()).await {
            SendResult::Accepted { .. } => {}
            SendResult::Rejected { error } => {
                warn!(%error, "the hub could not merge the text's edits of an older epoch");
            }
            SendResult::Unacknowledged | SendResult::Offline => return,
        }
        let Some(core) = core.upgrade() else { return };
        let ended = lock(&core.text).local.rebase_done(&message);
        if let Some(ended) = ended {
            core.text_changed(Some(ended.text));
            if let Some(update) = ended.message {
                // Unacknowledged: the document holds it, the next sync brings it.
                link.send_text_sync(update);
            }
        }
    });
}

/// Connected to a hub that may be a seed server (no `welcome`): once it
/// has had time to say it syncs Yjs and has not, a write made offline is
/// sent the seed's way.
fn send_pending_text_later(text: Arc<Mutex<TextState>>, link: Arc<HubLink>) {
    tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        let pending = {
            let mut state = lock(&text);
            if state.yjs {
                None
            } else {
                state.pending.take()
            }
        };
        if let Some(text) = pending {
            let _ = link
                .request(events::TEXT_UPDATE_REQUEST, text_request(&text))
                .await;
        }
    });
}

impl LinkSink for Core {
    fn status(&self, status: UiStatus) {
        if status == UiStatus::Connected
            && lock(&self.text).pending.is_some()
            && let Some(link) = self.current_link()
        {
            send_pending_text_later(self.text.clone(), link);
        }
        lock(&self.live).status = status.clone();
        self.views.emit(
            ui_events::STATUS,
            serde_json::to_value(&status).unwrap_or(Value::Null),
        );
        self.changed();
    }

    fn closed_by_hub(&self) {
        let me = self.me.clone();
        tokio::spawn(async move {
            tokio::time::sleep(RECONNECT_AFTER_HUB_CLOSED).await;
            let Some(core) = me.upgrade() else { return };
            if matches!(lock(&core.live).status, UiStatus::Connected) {
                return;
            }
            info!("reconnecting after the hub closed the connection");
            if let Err(e) = core.connect().await {
                warn!(error = %e, "reconnecting failed");
            }
        });
    }

    fn count(&self, count: u64) {
        lock(&self.live).count = Some(count);
        self.views.emit(ui_events::COUNT, Value::from(count));
        self.changed();
    }

    fn text(&self, text: String) {
        if lock(&self.text).yjs {
            return; // a Yjs hub sends none; a stray one must not replace the document
        }
        lock(&self.live).text = text.clone();
        self.views.emit(ui_events::TEXT, Value::String(text));
    }

    fn text_sync(&self, message: Bytes) {
        let outcome = lock(&self.text).local.from_hub(&message);
        match outcome {
            Ok(done) => {
                if let Some(link) = self.current_link() {
                    for reply in done.replies {
                        link.send_text_sync(reply);
                    }
                }
                if done.text.is_some() {
                    self.text_changed(done.text);
                }
            }
            Err(e) => warn!(error = %e, "a text_sync message from the hub was refused"),
        }
    }

    fn text_reset(&self, message: Bytes) {
        let outcome = lock(&self.text).local.from_reset(&message);
        match outcome {
            Ok(taken) => {
                // Saved either way: the epoch moved.
                self.text_changed(taken.show);
                if let Some(link) = self.current_link() {
                    send_rebase(self.me.clone(), link, taken.rebase);
                }
            }
            Err(e) => warn!(error = %e, "a text_reset from the hub was refused"),
        }
    }

    fn notification(&self, payload: Value) {
        let _ = self.incoming.send(payload);
    }

    fn welcome(&self, last_id: u64, yjs: bool, epoch: Option<String>, text_epoch: Option<u32>) {
        let (step1, pending, rebases) = {
            let mut state = lock(&self.text);
            let newly = yjs && !state.yjs;
            state.yjs = yjs;
            state.local.welcomed(text_epoch);
            if newly {
                // A text written while offline, before we knew: merge it now.
                if let Some(text) = state.pending.take() {
                    let _ = state.local.from_view(&text, None);
                }
            }
            let step1 = yjs.then(|| state.local.step1().ok()).flatten();
            let rebases = if yjs {
                state.local.rebases()
            } else {
                Vec::new()
            };
            (step1, None::<String>, rebases)
        };
        if let Some(link) = self.current_link() {
            for rebase in rebases {
                send_rebase(self.me.clone(), link.clone(), rebase);
            }
            if let Some(step1) = step1 {
                link.send_text_sync(step1);
            }
            if let Some(text) = pending {
                let link = link.clone();
                tokio::spawn(async move {
                    link.request(events::TEXT_UPDATE_REQUEST, text_request(&text))
                        .await
                });
            }
        }
        let hub_key = lock(&self.live).hub_key.clone();
        if let Err(e) = lock(&self.history).welcomed(&hub_key, last_id, epoch.as_deref()) {
            warn!(error = %e, "history write failed");
        }
        self.views.emit(
            ui_events::WELCOME,
            serde_json::json!({ "last_id": last_id }),
        );
    }
}

async fn deliver_loop(core: Arc<Core>, mut rx: mpsc::UnboundedReceiver<Value>) {
    while let Some(payload) = rx.recv().await {
        core.deliver(payload).await;
    }
}

async fn alert_loop(core: Arc<Core>, mut rx: mpsc::UnboundedReceiver<AlertEvent>) {
    while let Some(event) = rx.recv().await {
        let clicked = match &event {
            AlertEvent::Clicked { key, .. } => Some(*key),
            _ => None,
        };
        core.on_alert(event);
        // Handled: off the screen, as the seed's page closes a clicked one.
        if let Some(key) = clicked {
            core.alerts.close(key).await;
        }
    }
}

/// The id the UI knows a notification by: the hub's, or `local-KEY`.
pub fn ui_id(key: u64, payload: &Value) -> String {
    match payload.get("id") {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => format!("local-{key}"),
    }
}

fn hub_id(payload: &Value) -> Option<u64> {
    payload.get("id").and_then(Value::as_u64)
}

/// The payload as the UI gets it: with an id (ours when the hub gave none)
/// and what happened to it on this desktop.
pub fn ui_payload(key: u64, payload: &Value, outcome: &str) -> Value {
    let mut p = match payload {
        Value::Object(m) => m.clone(),
        _ => serde_json::Map::new(),
    };
    if !p.contains_key("id") {
        p.insert("id".into(), Value::String(ui_id(key, payload)));
    }
    p.insert("delivery".into(), Value::String(outcome.to_owned()));
    Value::Object(p)
}

fn alert_json(key: u64, kind: &str, detail: Option<&str>) -> Value {
    serde_json::json!({ "key": key, "kind": kind, "detail": detail })
}

/// A hub's identity in the history: scheme, host, port and path of its URL
/// (ids are per hub; a token or query string does not make another hub).
pub fn hub_key(server: &str) -> String {
    match url::Url::parse(server) {
        Ok(u) => {
            let scheme = match u.scheme() {
                "ws" => "http",
                "wss" => "https",
                s => s,
            };
            format!(
                "{scheme}://{}:{}{}",
                u.host_str().unwrap_or_default(),
                u.port_or_known_default().unwrap_or_default(),
                u.path().trim_end_matches('/')
            )
        }
        Err(_) => server.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn hubs_are_told_apart_by_url_not_by_token() {
        assert_eq!(hub_key("http://127.0.0.1:5000/"), "http://127.0.0.1:5000");
        assert_eq!(
            hub_key("ws://127.0.0.1:5000"),
            hub_key("http://127.0.0.1:5000")
        );
        assert_eq!(hub_key("https://hub.example"), "https://hub.example:443");
        assert_ne!(hub_key("http://a:1"), hub_key("http://a:2"));
    }

    #[test]
    fn the_ui_gets_an_id_for_every_notification() {
        let seed =
            json!({"title": "t", "body": "b", "tag": "", "icon": "images/icon.png", "data1": 1});
        let p = ui_payload(5, &seed, "shown");
        assert_eq!(p["id"], "local-5");
        assert_eq!(p["delivery"], "shown");
        let ours = json!({"title": "t", "id": 42});
        assert_eq!(ui_payload(6, &ours, "shown")["id"], 42);
        assert_eq!(ui_id(6, &ours), "42");
    }
}
