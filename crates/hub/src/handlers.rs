//! The hub's Socket.IO behaviour, generic over the socketioxide adapter so
//! the same code runs on one node and across nodes over Redis.
//!
//! Seed events, with the seed's semantics: `count_update` to everyone on
//! every connect and disconnect, `text_update` to a new client, the text
//! from `text_update_request` to everyone but the sender, and
//! `send_notification_request` → `send_notification` to everyone.
//! Extensions: notifications get an id and a timestamp and are kept for
//! replay; requests are acknowledged (`{ok, id}` / `{ok:false, error}`);
//! `welcome {last_id}` tells a client where the history stands;
//! `history_request {limit}`; `notification_clicked` / `notification_closed`.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use pushdesk_hub_model::{Ack, Notification, NotificationRequest, events, limits};
use serde_json::{Value, json};
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, Data, SocketRef};
use socketioxide::handler::ConnectHandler as _;
use socketioxide_core::adapter::DefinedAdapter;
use tracing::{debug, info, warn};

use crate::access::token_accepted;
use crate::config::Limits;
use crate::ratelimit::TokenBucket;
use crate::store::Store;

/// The room of sockets that receive live notifications. A reconnecting
/// client joins it only after its replay, so replays come first, in order.
pub const LIVE_ROOM: &str = "live";

/// Most notifications one `history_request` returns.
pub const HISTORY_MAX: usize = 200;

/// What every handler shares.
pub struct HubState {
    /// Count, text, history.
    pub store: Store,
    /// Accepted tokens (empty: none required).
    pub tokens: Vec<String>,
    /// Per-connection limits.
    pub limits: Limits,
    /// Serializes "store + broadcast" against "replay + join", so a
    /// reconnecting client sees every notification exactly once, in order.
    pub publish_lock: tokio::sync::Mutex<()>,
}

/// Per-connection rate limits.
struct Conn {
    notify: TokenBucket,
    text: TokenBucket,
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Installs the handlers on the `/` namespace. The result initializes the
/// adapter: nothing for one node, a future to await for Redis.
pub fn register<A: Adapter + DefinedAdapter>(io: &SocketIo<A>, state: Arc<HubState>) -> A::InitRes {
    let auth_state = state.clone();
    let check_token = move |Data(auth): Data<Value>| {
        let state = auth_state.clone();
        async move {
            let token = auth.get("token").and_then(Value::as_str);
            if token_accepted(token, &state.tokens) {
                Ok(())
            } else if token.is_none() {
                Err("authentication required: send {\"token\": …} in the auth payload")
            } else {
                Err("invalid token")
            }
        }
    };
    // socketioxide acknowledges the CONNECT, calls this closure, and spawns
    // the future it returns. A client may emit right after the ack, so the
    // events are registered here, synchronously, and not in the spawned
    // future, which could run too late and leave an early request unanswered.
    let on_connect = move |s: SocketRef<A>, io: SocketIo<A>, Data(auth): Data<Value>| {
        let now = Instant::now();
        let conn = Arc::new(Mutex::new(Conn {
            notify: TokenBucket::new(state.limits.notify_burst, state.limits.notify_per_sec, now),
            text: TokenBucket::new(state.limits.text_burst, state.limits.text_per_sec, now),
        }));
        register_events(&s, &state, &conn);
        let presence = Arc::new(Mutex::new(Presence::Pending));
        let (st, p) = (state.clone(), presence.clone());
        s.on_disconnect(move |io: SocketIo<A>| async move {
            let was_counted = {
                let mut p = p.lock().unwrap_or_else(PoisonError::into_inner);
                std::mem::replace(&mut *p, Presence::Gone) == Presence::Counted
            };
            if was_counted {
                match st.store.user_disconnected().await {
                    Ok(count) => broadcast_count(&io, count).await,
                    Err(e) => warn!(error = %e, "user count unavailable"),
                }
            }
        });
        greet(s, io, auth, state.clone(), presence)
    };
    io.ns("/", on_connect.with(check_token))
}

/// Whether a connection is in the user count, so a socket that leaves
/// before its greeting counted it is never counted (or uncounted) twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Presence {
    Pending,
    Counted,
    Gone,
}

/// Counts the newcomer, sends it the text, replays what it missed, then
/// lets it hear live notifications.
async fn greet<A: Adapter>(
    s: SocketRef<A>,
    io: SocketIo<A>,
    auth: Value,
    state: Arc<HubState>,
    presence: Arc<Mutex<Presence>>,
) {
    match state.store.user_connected().await {
        Ok(count) => {
            let gone = {
                let mut p = presence.lock().unwrap_or_else(PoisonError::into_inner);
                if *p == Presence::Gone {
                    true
                } else {
                    *p = Presence::Counted;
                    false
                }
            };
            let count = if gone {
                state.store.user_disconnected().await.unwrap_or(count)
            } else {
                count
            };
            broadcast_count(&io, count).await;
            if gone {
                return;
            }
        }
        Err(e) => warn!(error = %e, "user count unavailable"),
    }
    let text = state.store.text().await.unwrap_or_else(|e| {
        warn!(error = %e, "shared text unavailable");
        String::new()
    });
    let _ = s.emit(events::TEXT_UPDATE, &json!({ "text": text }));

    // Replay what a returning client missed, then let it hear live ones.
    let last_seen = auth.get("last_id").and_then(Value::as_u64);
    let _guard = state.publish_lock.lock().await;
    let last_id = state.store.last_id().await.unwrap_or(0);
    let _ = s.emit(
        "welcome",
        &json!({ "last_id": last_id, "version": env!("CARGO_PKG_VERSION") }),
    );
    if let Some(after) = last_seen {
        match state.store.since(after, state.limits.replay_max).await {
            Ok(missed) => {
                debug!(sid = %s.id, after, count = missed.len(), "replaying");
                for n in &missed {
                    let _ = s.emit(events::SEND_NOTIFICATION, n);
                }
            }
            Err(e) => warn!(error = %e, "replay failed"),
        }
    }
    s.join(LIVE_ROOM);
}

async fn broadcast_count<A: Adapter>(io: &SocketIo<A>, count: u64) {
    if let Err(e) = io
        .emit(events::COUNT_UPDATE, &json!({ "user_count": count }))
        .await
    {
        warn!(error = %e, "count_update broadcast failed");
    }
}

/// Answers an ack (socketioxide sends nothing if the client asked for none).
fn reply<A: Adapter>(ack: AckSender<A>, result: &Ack) {
    let _ = ack.send(result);
}

fn take(bucket: &Mutex<Conn>, which: fn(&mut Conn) -> &mut TokenBucket) -> bool {
    let mut conn = bucket.lock().unwrap_or_else(PoisonError::into_inner);
    which(&mut conn).try_take(Instant::now())
}

fn register_events<A: Adapter>(s: &SocketRef<A>, state: &Arc<HubState>, conn: &Arc<Mutex<Conn>>) {
    let (st, c) = (state.clone(), conn.clone());
    s.on(
        events::TEXT_UPDATE_REQUEST,
        move |s: SocketRef<A>, Data(data): Data<Value>, ack: AckSender<A>| {
            let (st, c) = (st.clone(), c.clone());
            async move {
                let Some(text) = data.get("text").and_then(Value::as_str) else {
                    debug!(sid = %s.id, "text_update_request without a string `text`");
                    return reply(ack, &Ack::rejected("`text` must be a string"));
                };
                if text.len() > limits::MAX_TEXT_BYTES {
                    return reply(
                        ack,
                        &Ack::rejected(format!("text is over {} bytes", limits::MAX_TEXT_BYTES)),
                    );
                }
                if !take(&c, |c| &mut c.text) {
                    return reply(ack, &Ack::rejected("too many text updates: slow down"));
                }
                if let Err(e) = st.store.set_text(text).await {
                    warn!(error = %e, "storing the shared text failed");
                    return reply(ack, &Ack::rejected("the hub could not store the text"));
                }
                let _ = s
                    .broadcast()
                    .emit(events::TEXT_UPDATE, &json!({ "text": text }))
                    .await;
                reply(ack, &Ack::ok());
            }
        },
    );

    let (st, c) = (state.clone(), conn.clone());
    s.on(
        events::SEND_NOTIFICATION_REQUEST,
        move |s: SocketRef<A>, io: SocketIo<A>, Data(data): Data<Value>, ack: AckSender<A>| {
            let (st, c) = (st.clone(), c.clone());
            async move {
                let request: NotificationRequest = match serde_json::from_value(data) {
                    Ok(r) => r,
                    Err(e) => {
                        debug!(sid = %s.id, error = %e, "malformed send_notification_request");
                        return reply(ack, &Ack::rejected(format!("malformed request: {e}")));
                    }
                };
                if let Err(e) = request.validate() {
                    return reply(ack, &Ack::from(e));
                }
                if !take(&c, |c| &mut c.notify) {
                    return reply(ack, &Ack::rejected("too many notifications: slow down"));
                }
                match publish(&st, &io, Notification::from_request(request, 0, 0)).await {
                    Ok(id) => reply(ack, &Ack::accepted(id)),
                    Err(e) => reply(ack, &Ack::rejected(e)),
                }
            }
        },
    );

    let st = state.clone();
    s.on(
        "history_request",
        move |Data(data): Data<Value>, ack: AckSender<A>| {
            let st = st.clone();
            async move {
                let limit = data
                    .get("limit")
                    .and_then(Value::as_u64)
                    .map_or(50, |l| usize::try_from(l).unwrap_or(HISTORY_MAX))
                    .min(HISTORY_MAX);
                let answer = match st.store.recent(limit).await {
                    Ok(list) => json!({ "ok": true, "notifications": list }),
                    Err(e) => {
                        warn!(error = %e, "history unavailable");
                        json!({ "ok": false, "error": "history unavailable" })
                    }
                };
                let _ = ack.send(&answer);
            }
        },
    );

    for name in [events::NOTIFICATION_CLICKED, events::NOTIFICATION_CLOSED] {
        s.on(
            name,
            move |s: SocketRef<A>, Data(data): Data<Value>, ack: AckSender<A>| async move {
                let id = data.get("id").and_then(Value::as_u64);
                info!(sid = %s.id, event = name, id, "notification report");
                reply(ack, &Ack::ok());
            },
        );
    }
}

/// Stores a notification (assigning its id and timestamp) and sends it to
/// every live client. Returns the id.
pub async fn publish<A: Adapter>(
    state: &HubState,
    io: &SocketIo<A>,
    notification: Notification,
) -> Result<u64, String> {
    let _guard = state.publish_lock.lock().await;
    let stored = state
        .store
        .publish(notification, now_ms())
        .await
        .map_err(|e| {
            warn!(error = %e, "storing a notification failed");
            "the hub could not store the notification".to_owned()
        })?;
    let id = stored.id.unwrap_or_default();
    if let Err(e) = io
        .within(LIVE_ROOM)
        .emit(events::SEND_NOTIFICATION, &stored)
        .await
    {
        warn!(error = %e, id, "broadcast failed");
    }
    Ok(id)
}
