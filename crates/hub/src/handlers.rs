//! The hub's Socket.IO behaviour, generic over the socketioxide adapter so
//! the same code runs on one node and across nodes over Redis.
//!
//! Seed events, with the seed's semantics: `count_update` to everyone on
//! every connect and disconnect, `text_update` to a new client, the text
//! from `text_update_request` to everyone but the sender, and
//! `send_notification_request` → `send_notification` to everyone. The
//! shared text is a CRDT document ([`crate::text`]): a seed client's
//! full-text write is merged, and clients that say `auth.text = "yjs"`
//! sync it incrementally over `text_sync`.
//! Extensions: notifications get an id and a timestamp and are kept for
//! replay; requests are acknowledged (`{ok, id}` / `{ok:false, error}`);
//! `welcome {last_id, channels, rights}` tells a client where the history
//! stands and what it follows; `history_request {limit}`;
//! `notification_clicked` / `notification_closed`.
//!
//! Channels: each socket follows a set of channels (the auth payload's
//! `channels`, `["default"]` when absent, so the seed's clients hear what
//! they always heard), changed with `subscribe` / `unsubscribe`. Each
//! channel is a socketioxide room (`ch:NAME`, `ch:*` for every channel),
//! so delivery works across nodes over Redis. What a socket may read,
//! publish to and whether it may change the text comes from its token
//! ([`Grant`]).

use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use pushdesk_hub_model::{Ack, Notification, NotificationRequest, events, limits};
use serde_json::{Value, json};
use socketioxide::SendError;
use socketioxide::SocketIo;
use socketioxide::adapter::Adapter;
use socketioxide::extract::{AckSender, Data, SocketRef};
use socketioxide::handler::ConnectHandler as _;
use socketioxide_core::adapter::DefinedAdapter;
use socketioxide_core::adapter::errors::{BroadcastError, SocketError};
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

use crate::config::Limits;
use crate::ratelimit::{KeyedBuckets, TokenBucket};
use crate::store::Store;
use crate::subscription::{self, Subscription};
use crate::text::{Out, TextHub};
use crate::tokens::{Credentials, Grant};

/// The room of the sockets that follow `channel` (or, for `*`, every
/// channel). A reconnecting client joins its rooms only after its replay,
/// so replays come first, in order.
pub fn room(channel: &str) -> String {
    format!("ch:{channel}")
}

/// Most notifications one `history_request` returns.
pub const HISTORY_MAX: usize = 200;

/// What every handler shares.
pub struct HubState {
    /// Count, text, history.
    pub store: Store,
    /// Accepted tokens and their rights.
    pub credentials: Arc<Credentials>,
    /// Per-connection limits.
    pub limits: Limits,
    /// Serializes "store + broadcast" against "replay + join", so a
    /// reconnecting client sees every notification exactly once, in order.
    pub publish_lock: tokio::sync::Mutex<()>,
    /// The shared text's document and the sockets sharing it.
    pub text: Arc<TextHub>,
    /// The id of the newest notification this node published: wakes the
    /// HTTP subscribers' streams.
    pub published: tokio::sync::watch::Sender<u64>,
    /// Notifications the store could not keep, sent live only: the HTTP
    /// subscribers' streams, which otherwise read the store, get them here.
    pub unstored: tokio::sync::broadcast::Sender<Notification>,
    /// Publishes per scoped token, over Socket.IO and HTTP together.
    pub per_token: KeyedBuckets,
    /// With Redis: wakes this node's [`crate::delivery::follow`] after a
    /// publish here (`None`: the publisher delivers, with the local store).
    pub follower: Option<Arc<tokio::sync::Notify>>,
    /// With Redis: the newest id this node has delivered to its sockets
    /// (a joining socket replays up to it).
    pub delivered: tokio::sync::watch::Sender<u64>,
}

impl HubState {
    /// A hub's shared state over `store`.
    pub fn new(
        store: Store,
        text: Arc<TextHub>,
        credentials: Arc<Credentials>,
        limits: Limits,
    ) -> Self {
        Self {
            text,
            store,
            credentials,
            per_token: KeyedBuckets::new(limits.notify_burst, limits.notify_per_sec),
            publish_lock: tokio::sync::Mutex::new(()),
            published: tokio::sync::watch::Sender::new(0),
            unstored: tokio::sync::broadcast::Sender::new(64),
            follower: None,
            delivered: tokio::sync::watch::Sender::new(0),
            limits,
        }
    }

    /// Takes a publish from `grant`'s bucket if it is a scoped token.
    pub fn token_may_publish(&self, grant: &Grant) -> bool {
        !grant.scoped || self.per_token.try_take(&grant.name, Instant::now())
    }
}

/// A socket's token and the channels it follows (in its extensions).
struct Session {
    grant: Arc<Grant>,
    channels: Mutex<Subscription>,
    /// Syncs the text as a Yjs document (`auth.text = "yjs"`).
    yjs: bool,
}

impl Session {
    fn channels(&self) -> Subscription {
        self.channels
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// Per-connection rate limits.
struct Conn {
    notify: TokenBucket,
    text: TokenBucket,
}

pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Installs the handlers on the `/` namespace. The result initializes the
/// adapter: nothing for one node, a future to await for Redis.
pub fn register<A: Adapter + DefinedAdapter>(io: &SocketIo<A>, state: Arc<HubState>) -> A::InitRes {
    // The event handlers are installed by the middleware, because
    // socketioxide sends the CONNECT ack only once the middleware is done,
    // while it runs the connect handler on a task of its own afterwards: a
    // client that emits right after the ack would otherwise race the
    // handlers' registration and its request could be dropped unanswered.
    let admit_state = state.clone();
    let admit = move |s: SocketRef<A>, io: SocketIo<A>, Data(auth): Data<Value>| {
        let state = admit_state.clone();
        async move {
            let token = auth.get("token").and_then(Value::as_str);
            let grant = state.credentials.check(token).map_err(|e| match e {
                crate::tokens::AuthError::Missing => {
                    "authentication required: send {\"token\": …} in the auth payload".to_owned()
                }
                other => other.to_string(),
            })?;
            let channels = subscription::initial(auth.get("channels"), &grant.rights)?;
            let yjs = auth.get("text").and_then(Value::as_str) == Some(events::TEXT_MODE_YJS);
            s.extensions.insert(Arc::new(Session {
                grant,
                channels: Mutex::new(channels),
                yjs,
            }));
            install(&s, &io, &state);
            Ok::<(), String>(())
        }
    };
    let on_connect = move |s: SocketRef<A>, io: SocketIo<A>, Data(auth): Data<Value>| {
        let presence = s
            .extensions
            .get::<Arc<Mutex<Presence>>>()
            .unwrap_or_default();
        greet(s, io, auth, state.clone(), presence)
    };
    io.ns("/", on_connect.with(admit))
}

/// Installs a newly admitted socket's handlers and its disconnect bookkeeping.
fn install<A: Adapter>(s: &SocketRef<A>, io: &SocketIo<A>, state: &Arc<HubState>) {
    let now = Instant::now();
    let conn = Arc::new(Mutex::new(Conn {
        notify: TokenBucket::new(state.limits.notify_burst, state.limits.notify_per_sec, now),
        text: TokenBucket::new(state.limits.text_burst, state.limits.text_per_sec, now),
    }));
    register_events(s, io, state, &conn);
    let presence = Arc::new(Mutex::new(Presence::Pending));
    s.extensions.insert(presence.clone());
    let st = state.clone();
    s.on_disconnect(move |s: SocketRef<A>, io: SocketIo<A>| async move {
        st.text.leave(s.id.as_str());
        let was_counted = {
            let mut p = presence.lock().unwrap_or_else(PoisonError::into_inner);
            std::mem::replace(&mut *p, Presence::Gone) == Presence::Counted
        };
        if was_counted {
            match st.store.user_disconnected().await {
                Ok(count) => broadcast_count(&io, count).await,
                Err(e) => warn!(error = %e, "user count unavailable"),
            }
        }
    });
}

/// Whether a connection is in the user count, so a socket that leaves
/// before its greeting counted it is never counted (or uncounted) twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Presence {
    #[default]
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
    let Some(session) = s.extensions.get::<Arc<Session>>() else {
        return;
    };
    // Replay what a returning client missed, then let it hear live ones.
    let channels = session.channels();
    let epoch = match state.store.epoch().await {
        Ok(epoch) => Some(epoch),
        Err(e) => {
            warn!(error = %e, "reading the history epoch");
            None
        }
    };
    let mut last_seen = auth.get("last_id").and_then(Value::as_u64);
    // A client whose ids come from another epoch (this hub's data was reset,
    // or Redis lost it) has seen none of these: it gets them from the start.
    let their_epoch = auth.get("epoch").and_then(Value::as_str);
    if last_seen.is_some()
        && their_epoch.is_some()
        && epoch.is_some()
        && their_epoch != epoch.as_deref()
    {
        debug!(sid = %s.id, "a client from another history epoch: replaying from the start");
        last_seen = Some(0);
    }
    let _guard = state.publish_lock.lock().await;
    // With Redis, what this node has delivered: the rest comes live.
    let upto = state.follower.as_ref().map(|_| *state.delivered.borrow());
    let last_id = match upto {
        Some(upto) => upto,
        None => state.store.last_id().await.unwrap_or(0),
    };
    let text_epoch = state.text.epoch();
    let _ = s.emit(
        "welcome",
        &json!({
            "last_id": last_id,
            "epoch": epoch,
            "version": env!("CARGO_PKG_VERSION"),
            "channels": channels.names(),
            "rights": session.grant.rights,
            "text": events::TEXT_MODE_YJS,
            events::TEXT_EPOCH: text_epoch,
        }),
    );
    // The text, after the welcome that says how it is synced: a Yjs peer
    // gets the hub's step 1 (or, its document being of an older epoch than
    // the one it names or was just welcomed with, the reset), a seed peer
    // the text.
    let their_text_epoch = auth
        .get(events::TEXT_EPOCH)
        .and_then(Value::as_u64)
        .and_then(|e| u32::try_from(e).ok())
        .unwrap_or(text_epoch);
    let sink = s.clone();
    state.text.join(
        s.id.as_str(),
        session.yjs,
        Some(their_text_epoch),
        Box::new(move |out| match out {
            Out::Sync(message) => {
                let _ = sink.emit(events::TEXT_SYNC, &message);
            }
            Out::Text(text) => {
                let _ = sink.emit(events::TEXT_UPDATE, &json!({ "text": text }));
            }
            Out::Reset(reset) => {
                let _ = sink.emit(events::TEXT_RESET, &reset);
            }
        }),
    );
    if !s.connected() {
        // Gone while greeted: its disconnect may have run before the join.
        state.text.leave(s.id.as_str());
    }

    let caught_up = match last_seen {
        Some(after) => replay(&s, &state, after, upto, &channels).await,
        None => true,
    };
    if caught_up {
        s.join(channels.rooms());
    }
}

/// How long replay waits, in all, for a slow client's send buffer to drain
/// before it gives up on the client (publishers wait meanwhile: replay runs
/// under the publish lock so nothing falls between replay and live).
const REPLAY_STALL: Duration = Duration::from_secs(2);

/// Sends `s` everything `channels` published after `after`, page by page
/// (`replay_max` at a time) until caught up, so a client that was away for
/// long skips nothing. When its send buffer is full, replay waits for it
/// to drain; a client that does not read for [`REPLAY_STALL`] is
/// disconnected rather than silently skipped: it reconnects and asks for
/// the rest after the last id it got. Stops after `upto` when given (with
/// Redis: what this node has delivered; the rest comes live). Returns
/// whether the socket may join its rooms (false: it is being disconnected).
async fn replay<A: Adapter>(
    s: &SocketRef<A>,
    state: &HubState,
    mut after: u64,
    upto: Option<u64>,
    channels: &Subscription,
) -> bool {
    let filter = channels.filter();
    let page = state.limits.replay_max.max(1);
    let mut sent = 0usize;
    let mut waited = Duration::ZERO;
    loop {
        let missed = match state.store.since_in(after, page, filter.as_deref()).await {
            Ok(missed) => missed,
            Err(e) => {
                warn!(error = %e, "replay failed");
                return true;
            }
        };
        let now = now_ms();
        let beyond = |n: &Notification| upto.is_some_and(|u| n.id.unwrap_or(0) > u);
        if missed.first().is_some_and(beyond) {
            break;
        }
        for n in missed.iter().take_while(|n| !beyond(n)) {
            if n.is_expired(now) {
                // Its ttl passed while the client was away: not shown late.
                after = n.id.unwrap_or(after);
                continue;
            }
            loop {
                match s.emit(events::SEND_NOTIFICATION, n) {
                    Ok(()) => break,
                    Err(SendError::Socket(SocketError::InternalChannelFull))
                        if waited < REPLAY_STALL =>
                    {
                        let pause = Duration::from_millis(5);
                        tokio::time::sleep(pause).await;
                        waited += pause;
                    }
                    Err(SendError::Socket(SocketError::InternalChannelFull)) => {
                        warn!(sid = %s.id, after, "a replaying client stopped reading: disconnecting it");
                        crate::delivery::drop_slow(s.clone());
                        return false;
                    }
                    Err(e) => {
                        debug!(sid = %s.id, error = %e, "replay stopped");
                        return false;
                    }
                }
            }
            after = n.id.unwrap_or(after);
            sent += 1;
        }
        if missed.len() < page {
            break;
        }
    }
    debug!(sid = %s.id, count = sent, "replayed");
    true
}

async fn broadcast_count<A: Adapter>(io: &SocketIo<A>, count: u64) {
    if let Err(e) = io
        .emit(events::COUNT_UPDATE, &json!({ "user_count": count }))
        .await
    {
        log_broadcast_error(&e, events::COUNT_UPDATE);
    }
}

/// Sockets that closed meanwhile are ordinary churn; anything else (a full
/// send buffer: a client too slow to keep up; an adapter error) is worth a warning.
fn log_broadcast_error(e: &BroadcastError, event: &str) {
    match e {
        BroadcastError::Socket(errors)
            if errors.iter().all(|e| matches!(e, SocketError::Closed)) =>
        {
            debug!(
                event,
                closed = errors.len(),
                "broadcast skipped closed sockets"
            );
        }
        other => warn!(event, error = %other, "broadcast failed for some clients"),
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

/// A notification request, queued so each connection's are published in the
/// order they arrived (socketioxide runs every event on a task of its own).
struct Work<A: Adapter> {
    notification: Box<Notification>,
    ack: AckSender<A>,
}

/// The newest shared text a seed connection wrote and the hub has not yet
/// merged, with the acks waiting on it. A burst of writes (the seed page
/// sends one per `input` and per `keyup`) collapses into the newest, merged
/// at the paced rate: each write is the client's whole text, so the newest
/// holds every change of the ones it replaces, and memory stays bounded.
struct PendingText<A: Adapter> {
    text: String,
    acks: Vec<AckSender<A>>,
}

/// Most acks held for superseded text updates; older ones are answered at once.
const MAX_WAITING_TEXT_ACKS: usize = 32;

/// Merges one seed connection's text writes in order, paced by its bucket.
async fn apply_text<A: Adapter>(
    slot: Arc<Mutex<Option<PendingText<A>>>>,
    wake: Arc<tokio::sync::Notify>,
    conn: Arc<Mutex<Conn>>,
    s: SocketRef<A>,
    state: Arc<HubState>,
) {
    // Started by the admitting middleware, before socketioxide marks the
    // socket connected: it ends once the socket has been connected and is
    // gone (or never connected within a minute).
    let started = Instant::now();
    let mut was_connected = false;
    loop {
        let pending = slot.lock().unwrap_or_else(PoisonError::into_inner).take();
        let Some(mut pending) = pending else {
            was_connected |= s.connected();
            if !s.connected()
                && (was_connected || started.elapsed() > std::time::Duration::from_secs(60))
            {
                return;
            }
            // A permit is stored if an update arrived since `take`: no lost wake-up.
            tokio::select! {
                () = wake.notified() => {}
                () = tokio::time::sleep(std::time::Duration::from_secs(30)) => {}
            }
            continue;
        };
        while !take(&conn, |c| &mut c.text) {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            // Anything newer that arrived meanwhile replaces what waits.
            if let Some(newer) = slot.lock().unwrap_or_else(PoisonError::into_inner).take() {
                pending.text = newer.text;
                pending.acks.extend(newer.acks);
            }
        }
        let result = match state.text.seed_write(s.id.as_str(), &pending.text) {
            Ok(None) => Ack::ok(),
            Ok(Some((epoch, update))) => stored(&state, epoch, update).await,
            Err(e) => Ack::rejected(e.to_string()),
        };
        for ack in pending.acks {
            reply(ack, &result);
        }
    }
}

/// Stores a text update the document took; the ack says whether it was stored.
async fn stored(state: &HubState, epoch: pushdesk_text::Epoch, update: Vec<u8>) -> Ack {
    match state.text.store_update(epoch, update).await {
        Ok(()) => Ack::ok(),
        Err(e) => {
            warn!(error = %e, "storing the shared text failed");
            Ack::rejected("the hub could not store the text (the others have it)")
        }
    }
}

/// Publishes one connection's notifications, in order.
async fn apply<A: Adapter>(
    mut queue: mpsc::UnboundedReceiver<Work<A>>,
    io: SocketIo<A>,
    state: Arc<HubState>,
) {
    while let Some(Work { notification, ack }) = queue.recv().await {
        match publish(&state, &io, *notification).await {
            Ok(n) => reply(ack, &Ack::accepted(n.id.unwrap_or_default())),
            Err(e) => reply(ack, &Ack::rejected(e)),
        }
    }
}

// The closures below run synchronously as each packet is read (socketioxide
// spawns only the future they return), so checking and queueing here keeps
// the arrival order.
fn register_events<A: Adapter>(
    s: &SocketRef<A>,
    io: &SocketIo<A>,
    state: &Arc<HubState>,
    conn: &Arc<Mutex<Conn>>,
) {
    // The workers start on a connection's first request: most connections
    // (an app listening in the tray) never send one and stay small.
    let queue = Arc::new(OnceLock::<mpsc::UnboundedSender<Work<A>>>::new());
    let slot = Arc::new(Mutex::new(None::<PendingText<A>>));
    let wake = Arc::new(tokio::sync::Notify::new());
    let text_worker = Arc::new(OnceLock::<()>::new());
    let (io2, st2, q) = (io.clone(), state.clone(), queue.clone());
    let notifications = move || {
        q.get_or_init(|| {
            let (tx, rx) = mpsc::unbounded_channel::<Work<A>>();
            tokio::spawn(apply(rx, io2.clone(), st2.clone()));
            tx
        })
        .clone()
    };
    // The socket is passed in, never captured: socketioxide keeps a
    // socket's handlers after it closes, so a handler holding its own
    // socket would keep every closed connection in memory for good.
    let (sl, wk, c, st3) = (slot.clone(), wake.clone(), conn.clone(), state.clone());
    let start_text_worker = move |s: &SocketRef<A>| {
        text_worker.get_or_init(|| {
            tokio::spawn(apply_text(
                sl.clone(),
                wk.clone(),
                c.clone(),
                s.clone(),
                st3.clone(),
            ));
        });
    };

    s.on(
        events::TEXT_UPDATE_REQUEST,
        move |s: SocketRef<A>, Data(data): Data<Value>, ack: AckSender<A>| {
            let may = s
                .extensions
                .get::<Arc<Session>>()
                .is_some_and(|session| session.grant.rights.text);
            match data.get("text").and_then(Value::as_str) {
                _ if !may => {
                    debug!(sid = %s.id, "text_update_request without the text right");
                    reply(
                        ack,
                        &Ack::rejected("this token may not change the shared text"),
                    );
                }
                None => {
                    debug!(sid = %s.id, "text_update_request without a string `text`");
                    reply(ack, &Ack::rejected("`text` must be a string"));
                }
                Some(text) if text.len() > limits::MAX_TEXT_BYTES => {
                    reply(
                        ack,
                        &Ack::rejected(format!("text is over {} bytes", limits::MAX_TEXT_BYTES)),
                    );
                }
                Some(text) => {
                    let mut slot = slot.lock().unwrap_or_else(PoisonError::into_inner);
                    let pending = slot.get_or_insert_with(|| PendingText {
                        text: String::new(),
                        acks: Vec::new(),
                    });
                    pending.text = text.to_owned();
                    if pending.acks.len() >= MAX_WAITING_TEXT_ACKS {
                        // Superseded before it was applied: a newer text of the same client wins.
                        reply(pending.acks.remove(0), &Ack::ok());
                    }
                    pending.acks.push(ack);
                    drop(slot);
                    start_text_worker(&s);
                    wake.notify_one();
                }
            }
            std::future::ready(())
        },
    );

    let (c, st_text) = (conn.clone(), state.clone());
    s.on(
        events::TEXT_SYNC,
        move |s: SocketRef<A>, Data(message): Data<bytes::Bytes>, ack: AckSender<A>| {
            let state = st_text.clone();
            let may = s
                .extensions
                .get::<Arc<Session>>()
                .is_some_and(|session| session.grant.rights.text);
            // A refused update would be lost to the hub while the client
            // keeps it, so a client over its rate is disconnected instead:
            // it reconnects and the handshake brings the hub what it lacks.
            let outcome = if take(&c, |c| &mut c.text) {
                Some(state.text.sync(s.id.as_str(), &message, may))
            } else {
                None
            };
            async move {
                match outcome {
                    None => {
                        debug!(sid = %s.id, "too many text_sync messages: disconnecting");
                        crate::delivery::disconnect_soon(s);
                    }
                    Some(Ok(synced)) => {
                        for reply in &synced.replies {
                            let _ = s.emit(events::TEXT_SYNC, reply);
                        }
                        let result = match synced.update {
                            Some((epoch, update)) => stored(&state, epoch, update).await,
                            None => Ack::ok(),
                        };
                        reply(ack, &result);
                    }
                    Some(Err(refused)) => {
                        debug!(sid = %s.id, error = %refused, "text_sync refused");
                        reply(ack, &Ack::rejected(refused.to_string()));
                    }
                }
            }
        },
    );

    let (c, st_rebase) = (conn.clone(), state.clone());
    s.on(
        events::TEXT_REBASE,
        move |s: SocketRef<A>, Data(message): Data<bytes::Bytes>, ack: AckSender<A>| {
            let state = st_rebase.clone();
            let may = s
                .extensions
                .get::<Arc<Session>>()
                .is_some_and(|session| session.grant.rights.text);
            // Taken here, as the packet is read: the peer's messages after
            // this one are of the epoch it moved to.
            let outcome = if take(&c, |c| &mut c.text) {
                Some(state.text.rebase(s.id.as_str(), &message, may))
            } else {
                None
            };
            async move {
                match outcome {
                    None => {
                        debug!(sid = %s.id, "too many text messages: disconnecting");
                        crate::delivery::disconnect_soon(s);
                    }
                    Some(Ok(Some((epoch, update)))) => {
                        let result = stored(&state, epoch, update).await;
                        reply(ack, &result);
                    }
                    Some(Ok(None)) => reply(ack, &Ack::ok()),
                    Some(Err(refused)) => {
                        debug!(sid = %s.id, error = %refused, "text_rebase refused");
                        reply(ack, &Ack::rejected(refused.to_string()));
                    }
                }
            }
        },
    );

    let (c, st_limit) = (conn.clone(), state.clone());
    s.on(
        events::SEND_NOTIFICATION_REQUEST,
        move |s: SocketRef<A>, Data(data): Data<Value>, ack: AckSender<A>| {
            let checked = serde_json::from_value::<NotificationRequest>(data)
                .map_err(|e| {
                    debug!(sid = %s.id, error = %e, "malformed send_notification_request");
                    Ack::rejected(format!("malformed request: {e}"))
                })
                .and_then(|request| {
                    request.validate().map_err(Ack::from)?;
                    let session = s
                        .extensions
                        .get::<Arc<Session>>()
                        .ok_or_else(|| Ack::rejected("not connected"))?;
                    if !session.grant.rights.can_write(request.channel()) {
                        return Err(Ack::rejected(format!(
                            "this token may not publish to channel {:?}",
                            request.channel()
                        )));
                    }
                    if !take(&c, |c| &mut c.notify) || !st_limit.token_may_publish(&session.grant) {
                        return Err(Ack::rejected("too many notifications: slow down"));
                    }
                    Ok(request)
                });
            match checked {
                Err(refusal) => reply(ack, &refusal),
                Ok(request) => {
                    let _ = notifications().send(Work {
                        notification: Box::new(Notification::from_request(request, 0, 0)),
                        ack,
                    });
                }
            }
            std::future::ready(())
        },
    );

    let st = state.clone();
    s.on(
        "history_request",
        move |s: SocketRef<A>, Data(data): Data<Value>, ack: AckSender<A>| {
            let st = st.clone();
            async move {
                let limit = data
                    .get("limit")
                    .and_then(Value::as_u64)
                    .map_or(50, |l| usize::try_from(l).unwrap_or(HISTORY_MAX))
                    .min(HISTORY_MAX);
                let channels = s
                    .extensions
                    .get::<Arc<Session>>()
                    .map(|session| session.channels())
                    .unwrap_or_default();
                let answer = match st
                    .store
                    .recent_in(limit, channels.filter().as_deref())
                    .await
                {
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

    for (name, subscribe) in [(events::SUBSCRIBE, true), (events::UNSUBSCRIBE, false)] {
        let st = state.clone();
        s.on(
            name,
            move |s: SocketRef<A>, Data(data): Data<Value>, ack: AckSender<A>| {
                let st = st.clone();
                async move {
                    let answer = change_subscription(&s, &st, &data, subscribe).await;
                    let _ = ack.send(&answer);
                }
            },
        );
    }

    for name in [events::NOTIFICATION_CLICKED, events::NOTIFICATION_CLOSED] {
        s.on(
            name,
            move |s: SocketRef<A>, Data(data): Data<Value>, ack: AckSender<A>| async move {
                let id = data.get("id").and_then(Value::as_u64);
                // Debug-quoted: text from the network stays on one log line.
                let action = data.get("action").and_then(Value::as_str).map(|a| {
                    a.chars()
                        .take(limits::MAX_ACTION_ID_CHARS)
                        .collect::<String>()
                });
                info!(sid = %s.id, event = name, id, action = ?action, "notification report");
                reply(ack, &Ack::ok());
            },
        );
    }
}

/// `subscribe` / `unsubscribe {channels, last_id?}`: checks the rights,
/// replays what the new channels published after `last_id` (if given),
/// joins or leaves their rooms. Answers `{ok, channels}` or `{ok:false, error}`.
async fn change_subscription<A: Adapter>(
    s: &SocketRef<A>,
    state: &HubState,
    data: &Value,
    subscribe: bool,
) -> Value {
    let Some(session) = s.extensions.get::<Arc<Session>>() else {
        return json!({ "ok": false, "error": "not connected" });
    };
    let requested = match subscription::parse(data.get("channels")) {
        Ok(r) => r,
        Err(e) => return json!({ "ok": false, "error": e }),
    };
    if subscribe && let Err(e) = subscription::check_read(&requested, &session.grant.rights) {
        return json!({ "ok": false, "error": e });
    }
    let _guard = state.publish_lock.lock().await;
    let mut current = session.channels();
    if subscribe {
        let added = current.add(&requested);
        let caught_up = match data.get("last_id").and_then(Value::as_u64) {
            Some(after) => {
                let upto = state.follower.as_ref().map(|_| *state.delivered.borrow());
                replay(s, state, after, upto, &added).await
            }
            None => true,
        };
        if caught_up {
            s.join(added.rooms());
        }
    } else {
        let removed = current.remove(&requested);
        s.leave(removed.rooms());
    }
    let names = current.names();
    *session
        .channels
        .lock()
        .unwrap_or_else(PoisonError::into_inner) = current;
    json!({ "ok": true, "channels": names })
}

/// Stores a notification (assigning its id and timestamp) and sends it to
/// every socket that follows its channel. Returns it as stored.
///
/// The store commits before anything is sent, so an `Ok` (the sender's ack)
/// means the notification is in the history. When the store fails (a full
/// disk, a read-only database, Redis gone), the notification still goes to
/// the sockets connected now, without an `id` (it has none to be replayed
/// or de-duplicated by), and the sender gets an error saying it was not
/// stored: live delivery must not depend on the disk, and the sender must
/// not believe a replay would bring it back.
pub async fn publish<A: Adapter>(
    state: &HubState,
    io: &SocketIo<A>,
    notification: Notification,
) -> Result<Notification, String> {
    // With Redis the followers deliver in id order; no lock is needed here.
    let _guard = match state.follower {
        Some(_) => None,
        None => Some(state.publish_lock.lock().await),
    };
    let now = now_ms();
    let stored = match state.store.publish(notification.clone(), now).await {
        Ok(stored) => stored,
        Err(e) => {
            warn!(error = %e, "storing a notification failed; delivering it live only");
            let mut live = notification;
            live.id = None;
            live.timestamp = Some(now);
            broadcast_notification(io, &live).await;
            let _ = state.unstored.send(live);
            return Err(NOT_STORED.to_owned());
        }
    };
    match &state.follower {
        Some(follower) => follower.notify_one(),
        None => {
            crate::delivery::deliver_local(io, &stored);
            state.published.send_replace(stored.id.unwrap_or_default());
        }
    }
    Ok(stored)
}

/// The sender's error when the store failed (the notification went live).
const NOT_STORED: &str = "the hub could not store the notification: it was delivered to the \
     clients connected now, but it is not in the history and will not be replayed";

/// Sends `n` to every socket that follows its channel, on every node (the
/// adapter): for a notification the store could not keep, so that no
/// follower will read it from the history.
async fn broadcast_notification<A: Adapter>(io: &SocketIo<A>, n: &Notification) {
    if let Err(e) = io
        .within(vec![
            room(&n.channel),
            room(pushdesk_hub_model::ALL_CHANNELS),
        ])
        .emit(events::SEND_NOTIFICATION, n)
        .await
    {
        log_broadcast_error(&e, events::SEND_NOTIFICATION);
    }
}
