//! [`HubLink`]: the app's one Socket.IO connection to the hub, owned by the
//! Rust core (never the webview), so a hidden or closed window never drops
//! it. It reconnects by itself, sends the newest notification id it has seen
//! on every (re)connect so our hub replays what was missed, and hands what
//! arrives to a [`LinkSink`]. Works against our hub and the seed's server.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use pushdesk_hub_model::events;
use pushdesk_socketio::{
    Bytes, Client, ClientBuilder, ConnectionState, Payload, Socket, SocketEvent, Value, json,
    placeholder,
};
use serde::Serialize;
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};

/// How long a request waits for the hub's ack.
pub const ACK_TIMEOUT: Duration = Duration::from_secs(5);

/// The connection as the UI shows it (`ui/src/core/status.ts`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "lowercase")]
pub enum UiStatus {
    /// First attempt under way.
    Connecting,
    /// The namespace is connected.
    Connected,
    /// Lost or refused for now; trying again.
    Reconnecting {
        /// Attempt number (1 = first retry).
        attempt: u32,
        /// Why the previous attempt ended.
        #[serde(skip_serializing_if = "Option::is_none")]
        error: Option<String>,
    },
    /// Stopped; no retries until the user reconnects.
    Disconnected {
        /// Why.
        reason: String,
        /// The hub refused us (a token, say).
        refused: bool,
    },
}

impl UiStatus {
    /// A short line for the tray menu.
    pub fn label(&self) -> String {
        match self {
            Self::Connecting => "Connecting…".into(),
            Self::Connected => "Connected".into(),
            Self::Reconnecting { attempt, .. } => format!("Reconnecting (attempt {attempt})…"),
            Self::Disconnected { reason, .. } => format!("Disconnected: {reason}"),
        }
    }
}

/// Where to connect and how.
#[derive(Clone)]
pub struct Target {
    /// Hub URL.
    pub server: String,
    /// Access token.
    pub token: Option<String>,
    /// Extra CA certificate (PEM file).
    pub ca_cert: Option<PathBuf>,
    /// Accept any certificate.
    pub insecure: bool,
    /// The channels to follow (sent in the auth payload; a seed server ignores it).
    pub channels: Vec<String>,
    /// The newest notification id seen from this hub, asked on every attempt.
    pub last_id: Arc<dyn Fn() -> Option<u64> + Send + Sync>,
    /// The history epoch `last_id` belongs to (our hub's `welcome.epoch`),
    /// asked on every attempt: a hub with another one replays from the start.
    pub epoch: Arc<dyn Fn() -> Option<String> + Send + Sync>,
    /// The epoch of our replica of the shared text (`auth.text_epoch`).
    pub text_epoch: Arc<dyn Fn() -> Option<u32> + Send + Sync>,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("server", &self.server)
            .field("token", &self.token.as_ref().map(|_| "…"))
            .field("ca_cert", &self.ca_cert)
            .field("insecure", &self.insecure)
            .finish_non_exhaustive()
    }
}

/// Receives what the hub sends (called from the link's task; must not block).
pub trait LinkSink: Send + Sync + 'static {
    /// The connection changed.
    fn status(&self, status: UiStatus);
    /// `count_update`.
    fn count(&self, count: u64);
    /// `text_update` (never an echo of our own text).
    fn text(&self, text: String);
    /// `text_sync`: a Yjs sync message of the shared text.
    fn text_sync(&self, message: Bytes);
    /// `text_reset`: the shared text's document of a new epoch.
    fn text_reset(&self, message: Bytes);
    /// `send_notification`, as received.
    fn notification(&self, payload: Value);
    /// Our hub's `welcome {last_id, text, epoch, text_epoch}`; `yjs`: it
    /// syncs the text over `text_sync`; `epoch`: its history's (none from
    /// older hubs); `text_epoch`: its text document's.
    fn welcome(&self, last_id: u64, yjs: bool, epoch: Option<String>, text_epoch: Option<u32>);
    /// The hub closed our connection (a client it found too slow or too
    /// busy): Socket.IO does not reconnect after that by itself, so the
    /// owner starts a new link after a pause (it replays what it missed).
    fn closed_by_hub(&self) {}
}

/// Why a request was not accepted (the UI's `SendResult`, `ui/src/core/ack.ts`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum SendResult {
    /// Accepted (`{ok:true, id?}`), or acked with something else.
    Accepted {
        /// The notification id the hub gave.
        #[serde(skip_serializing_if = "Option::is_none")]
        id: Option<String>,
    },
    /// Refused by the hub.
    Rejected {
        /// Its reason.
        error: String,
    },
    /// No ack in time (the seed's server never acks).
    Unacknowledged,
    /// Not connected: nothing sent.
    Offline,
}

impl SendResult {
    /// What an ack payload means. Pure.
    pub fn from_ack(args: &[Value]) -> Self {
        let Some(Value::Object(r)) = args.first() else {
            return Self::Accepted { id: None };
        };
        if r.get("ok") == Some(&Value::Bool(false)) {
            let error = r
                .get("error")
                .and_then(Value::as_str)
                .filter(|e| !e.is_empty())
                .unwrap_or("refused by the hub");
            return Self::Rejected {
                error: error.chars().take(500).collect(),
            };
        }
        let id = match r.get("id") {
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(Value::String(s)) if !s.is_empty() && s.len() <= 256 => Some(s.clone()),
            _ => None,
        };
        Self::Accepted { id }
    }
}

/// A running connection. Dropping it does not stop it: call [`HubLink::stop`].
#[derive(Debug)]
pub struct HubLink {
    client: Client,
    socket: Socket,
    task: JoinHandle<()>,
}

impl HubLink {
    /// Connects to `target` (retrying forever with backoff) and feeds `sink`.
    pub fn start(target: &Target, sink: Arc<dyn LinkSink>) -> anyhow::Result<Self> {
        let token = target.token.clone();
        let last_id = target.last_id.clone();
        let epoch = target.epoch.clone();
        let text_epoch = target.text_epoch.clone();
        let channels = Value::from(target.channels.clone());
        let mut builder = ClientBuilder::new(&target.server).auth_fn(move || {
            let mut auth = serde_json::Map::new();
            if let Some(t) = &token {
                auth.insert("token".into(), Value::String(t.clone()));
            }
            auth.insert("channels".into(), channels.clone());
            // The shared text as a Yjs document, if the hub can (others ignore it).
            auth.insert("text".into(), Value::from(events::TEXT_MODE_YJS));
            if let Some(e) = text_epoch() {
                auth.insert(events::TEXT_EPOCH.into(), Value::from(e));
            }
            if let Some(id) = last_id() {
                auth.insert("last_id".into(), Value::from(id));
                if let Some(epoch) = epoch() {
                    auth.insert("epoch".into(), Value::from(epoch));
                }
            }
            Value::Object(auth)
        });
        if let Some(path) = &target.ca_cert {
            let pem = std::fs::read(path)
                .map_err(|e| anyhow::anyhow!("reading CA certificate {}: {e}", path.display()))?;
            builder = builder.add_root_certificate_pem(pem);
        }
        let builder = builder.danger_accept_invalid_certs(target.insecure);
        sink.status(UiStatus::Connecting);
        let (client, socket, mut events) = builder.connect()?;
        let mut states = client.watch_state();
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    event = events.next() => {
                        let Some(event) = event else {
                            // The client stopped: its last state says why
                            // (the watch may not have been read yet).
                            let state = states.borrow_and_update().clone();
                            on_state(state, &mut events, sink.as_ref());
                            break;
                        };
                        dispatch(event, sink.as_ref());
                    }
                    changed = states.changed() => {
                        if changed.is_err() { break; }
                        let state = states.borrow_and_update().clone();
                        debug!(%state, "hub connection");
                        if on_state(state, &mut events, sink.as_ref()) {
                            break;
                        }
                    }
                }
            }
        });
        Ok(Self {
            client,
            socket,
            task,
        })
    }

    /// Emits `event` and waits for the ack (bounded by [`ACK_TIMEOUT`]).
    pub async fn request(&self, event: &str, payload: Value) -> SendResult {
        if !self.socket.is_connected() {
            return SendResult::Offline;
        }
        match self.socket.emit_with_ack(event, payload, ACK_TIMEOUT).await {
            Ok(reply) => SendResult::from_ack(&reply.args),
            Err(pushdesk_socketio::Error::AckTimeout(_)) => SendResult::Unacknowledged,
            Err(e) => {
                debug!(error = %e, event, "request failed");
                SendResult::Offline
            }
        }
    }

    /// Whether the socket is connected now.
    pub fn is_connected(&self) -> bool {
        self.socket.is_connected()
    }

    /// Sends a `text_sync` message and waits for the ack; `Offline` when not connected.
    pub async fn text_sync(&self, message: Vec<u8>) -> SendResult {
        self.binary_request(events::TEXT_SYNC, message).await
    }

    /// Sends a `text_rebase` message and waits for the ack; `Offline` when not connected.
    pub async fn text_rebase(&self, message: Vec<u8>) -> SendResult {
        self.binary_request(events::TEXT_REBASE, message).await
    }

    /// Emits `event` with one binary argument and waits for the ack.
    async fn binary_request(&self, event: &str, message: Vec<u8>) -> SendResult {
        if !self.socket.is_connected() {
            return SendResult::Offline;
        }
        let payload = Payload::with_binary(vec![placeholder(0)], vec![Bytes::from(message)]);
        match self.socket.emit_with_ack(event, payload, ACK_TIMEOUT).await {
            Ok(reply) => SendResult::from_ack(&reply.args),
            Err(pushdesk_socketio::Error::AckTimeout(_)) => SendResult::Unacknowledged,
            Err(e) => {
                debug!(error = %e, event, "not sent");
                SendResult::Offline
            }
        }
    }

    /// Sends a `text_sync` message without waiting (handshake replies).
    pub fn send_text_sync(&self, message: Vec<u8>) {
        let payload = Payload::with_binary(vec![placeholder(0)], vec![Bytes::from(message)]);
        if self.socket.is_connected()
            && let Err(e) = self.socket.emit(events::TEXT_SYNC, payload)
        {
            debug!(error = %e, "text_sync not sent");
        }
    }

    /// Emits without waiting (reports such as `notification_clicked`); dropped
    /// when not connected.
    pub fn report(&self, event: &str, payload: Value) {
        if self.socket.is_connected()
            && let Err(e) = self.socket.emit(event, payload)
        {
            debug!(error = %e, event, "report not sent");
        }
    }

    /// Disconnects and stops.
    pub async fn stop(&self) {
        self.client.disconnect().await;
        self.task.abort();
    }
}

/// Reports a connection state to `sink`; returns whether the client has
/// stopped (a refusal was already reported by the namespace).
fn on_state(
    state: ConnectionState,
    events: &mut pushdesk_socketio::Events,
    sink: &dyn LinkSink,
) -> bool {
    match state {
        ConnectionState::Reconnecting { attempt, error, .. } => {
            sink.status(UiStatus::Reconnecting {
                attempt,
                error: (!error.is_empty()).then_some(error),
            });
            false
        }
        ConnectionState::Disconnected { reason } => {
            while let Some(event) = events.try_next() {
                dispatch(event, sink);
            }
            match reason {
                pushdesk_socketio::DisconnectReason::ConnectError => {}
                pushdesk_socketio::DisconnectReason::IoServerDisconnect => {
                    sink.status(UiStatus::Reconnecting {
                        attempt: 0,
                        error: Some("the hub closed the connection".into()),
                    });
                    sink.closed_by_hub();
                }
                reason => sink.status(UiStatus::Disconnected {
                    reason: reason.to_string(),
                    refused: false,
                }),
            }
            true
        }
        ConnectionState::Connecting | ConnectionState::Connected { .. } => false,
    }
}

fn dispatch(event: SocketEvent, sink: &dyn LinkSink) {
    match event {
        SocketEvent::Connected { sid, .. } => {
            info!(%sid, "connected to the hub");
            sink.status(UiStatus::Connected);
        }
        SocketEvent::ConnectError(data) => {
            let reason = data.get("message").and_then(Value::as_str).map_or_else(
                || {
                    data.as_str()
                        .map_or_else(|| data.to_string(), str::to_owned)
                },
                str::to_owned,
            );
            warn!(%reason, "the hub refused the connection");
            sink.status(UiStatus::Disconnected {
                reason,
                refused: true,
            });
        }
        SocketEvent::Disconnected(reason) => {
            info!(%reason, "left the hub");
            if reason.will_reconnect() {
                sink.status(UiStatus::Reconnecting {
                    attempt: 0,
                    error: Some(reason.to_string()),
                });
            }
        }
        SocketEvent::Event(ev) if ev.name == events::TEXT_SYNC => {
            match ev.payload.first().and_then(|v| ev.payload.attachment(v)) {
                Some(message) => sink.text_sync(message.clone()),
                None => debug!("text_sync without a binary argument"),
            }
        }
        SocketEvent::Event(ev) if ev.name == events::TEXT_RESET => {
            match ev.payload.first().and_then(|v| ev.payload.attachment(v)) {
                Some(message) => sink.text_reset(message.clone()),
                None => debug!("text_reset without a binary argument"),
            }
        }
        SocketEvent::Event(ev) => {
            let first = ev.payload.args.into_iter().next().unwrap_or(Value::Null);
            match ev.name.as_str() {
                events::COUNT_UPDATE => {
                    // Seed servers send an int; be lenient about numeric strings.
                    let n = first.get("user_count").and_then(|v| {
                        v.as_u64()
                            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
                    });
                    if let Some(n) = n {
                        sink.count(n);
                    }
                }
                events::TEXT_UPDATE => {
                    if let Some(text) = first.get("text").and_then(Value::as_str) {
                        sink.text(text.to_owned());
                    }
                }
                events::SEND_NOTIFICATION => sink.notification(first),
                "welcome" => {
                    if let Some(id) = first.get("last_id").and_then(Value::as_u64) {
                        let yjs = first.get("text").and_then(Value::as_str)
                            == Some(events::TEXT_MODE_YJS);
                        let epoch = first
                            .get("epoch")
                            .and_then(Value::as_str)
                            .map(str::to_owned);
                        let text_epoch = first
                            .get(events::TEXT_EPOCH)
                            .and_then(Value::as_u64)
                            .and_then(|e| u32::try_from(e).ok());
                        sink.welcome(id, yjs, epoch, text_epoch);
                    }
                }
                other => debug!(event = other, "ignored event"),
            }
        }
    }
}

/// A `text_update_request` payload.
pub fn text_request(text: &str) -> Value {
    json!({ "text": text })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acks_mean_what_the_ui_expects() {
        assert_eq!(
            SendResult::from_ack(&[json!({"ok": true, "id": 7})]),
            SendResult::Accepted {
                id: Some("7".into())
            }
        );
        assert_eq!(
            SendResult::from_ack(&[json!({"ok": false, "error": "too long"})]),
            SendResult::Rejected {
                error: "too long".into()
            }
        );
        assert_eq!(
            SendResult::from_ack(&[json!({"ok": false})]),
            SendResult::Rejected {
                error: "refused by the hub".into()
            }
        );
        assert_eq!(SendResult::from_ack(&[]), SendResult::Accepted { id: None });
        assert_eq!(
            serde_json::to_value(SendResult::Accepted { id: None }).expect("json"),
            json!({"status": "accepted"})
        );
        assert_eq!(
            serde_json::to_value(UiStatus::Reconnecting {
                attempt: 2,
                error: None
            })
            .expect("json"),
            json!({"state": "reconnecting", "attempt": 2})
        );
    }
}
