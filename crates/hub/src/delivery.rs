//! Notifications to this node's sockets: each one stored is sent to every
//! socket that follows its channel, in id order; a socket that cannot take
//! it (its send buffer is full: it stopped reading) is disconnected, so
//! that it reconnects and replays from the last id it got instead of
//! missing one silently.
//!
//! With the local store the publisher sends it right after the commit,
//! under the publish lock ([`crate::handlers::publish`]). With Redis every
//! node, the publisher's too, *follows the history* ([`follow`]): woken by
//! the stream every publish appends to (or by its own publish, or every
//! few seconds), it reads what was stored after what it has delivered and
//! sends it to its own sockets. Nothing acked is skipped by a node whose
//! connection to Redis broke and came back (it reads on from where it
//! was), and a socket joining replays up to what this node has delivered,
//! under the same lock, so nothing falls between its replay and the live
//! ones (the join race between nodes is gone: no node sends live what it
//! has not read from the history).

use std::sync::{Arc, Weak};
use std::time::Duration;

use pushdesk_hub_model::{Notification, events};
use socketioxide::adapter::Adapter;
use socketioxide::extract::SocketRef;
use socketioxide::{SendError, SocketError, SocketIo};
use tokio::sync::{Notify, mpsc};
use tracing::{debug, warn};

use crate::handlers::{HubState, room};

/// How many notifications one read of the history takes.
const PAGE: usize = 500;

/// How long a follower sleeps without a wake before it reads anyway.
const POLL: Duration = Duration::from_secs(5);

/// Sends `n` to this node's sockets that follow its channel; disconnects
/// those whose send buffer is full. Returns how many got it.
pub fn deliver_local<A: Adapter>(io: &SocketIo<A>, n: &Notification) -> usize {
    let sockets = io
        .local()
        .within(vec![
            room(&n.channel),
            room(pushdesk_hub_model::ALL_CHANNELS),
        ])
        .sockets();
    let mut sent = 0;
    for s in sockets {
        match s.emit(events::SEND_NOTIFICATION, n) {
            Ok(()) => sent += 1,
            Err(SendError::Socket(SocketError::InternalChannelFull)) => {
                warn!(sid = %s.id, id = ?n.id, "a client stopped reading: disconnecting it (it replays on reconnect)");
                drop_slow(s);
            }
            Err(e) => debug!(sid = %s.id, error = %e, "not sent to a closing socket"),
        }
    }
    sent
}

/// A socket that cannot take more (its send buffer is full): it leaves
/// every room at once, so nothing is sent past what it has (a client that
/// was only slow for a moment would otherwise see a gap), and is
/// disconnected as soon as the DISCONNECT packet fits in its buffer
/// (socketioxide refuses to disconnect a socket whose buffer is full); it
/// replays the rest after the last id it got when it comes back. One that
/// never reads again is closed by its transport's ping timeout.
pub fn drop_slow<A: Adapter>(s: SocketRef<A>) {
    s.leave_all();
    disconnect_soon(s);
}

/// Disconnects `s` now, or as soon as its send buffer has room for the
/// DISCONNECT packet (socketioxide's `disconnect` does nothing to a socket
/// whose buffer is full; a client flooding the hub fills it with acks).
pub fn disconnect_soon<A: Adapter>(s: SocketRef<A>) {
    if !matches!(
        s.clone().disconnect(),
        Err(SocketError::InternalChannelFull)
    ) {
        return;
    }
    tokio::spawn(async move {
        for _ in 0..600 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if !matches!(
                s.clone().disconnect(),
                Err(SocketError::InternalChannelFull)
            ) {
                return;
            }
        }
    });
}

/// With Redis: delivers to this node's sockets what any node stores,
/// reading the history after what it has delivered whenever `remote`
/// (the store's feed) or `local` (this node's publish) wakes it. Returns
/// when `remote` ends or the hub is gone.
pub async fn follow<A: Adapter>(
    state: Weak<HubState>,
    io: SocketIo<A>,
    mut remote: mpsc::Receiver<()>,
    local: Arc<Notify>,
) {
    let Some(hub) = state.upgrade() else { return };
    // Clients connecting from now on replay up to here; the rest is ours.
    let mut after = loop {
        match hub.store.last_id().await {
            Ok(id) => break id,
            Err(e) => {
                warn!(error = %e, "notifications: cannot read the history's last id; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    };
    hub.delivered.send_replace(after);
    drop(hub);
    loop {
        let Some(hub) = state.upgrade() else { return };
        after = catch_up(&hub, &io, after).await;
        drop(hub);
        tokio::select! {
            wake = remote.recv() => if wake.is_none() { return },
            () = local.notified() => {}
            () = tokio::time::sleep(POLL) => {}
        }
    }
}

/// Delivers everything stored after `after`; returns the last id
/// delivered (on a store error, what it got to: the next wake retries).
async fn catch_up<A: Adapter>(state: &HubState, io: &SocketIo<A>, mut after: u64) -> u64 {
    loop {
        let page = match state.store.since(after, PAGE).await {
            Ok(page) => page,
            Err(e) => {
                warn!(error = %e, after, "notifications: reading the history failed; retrying");
                return after;
            }
        };
        if let Some(last) = page.last().and_then(|n| n.id) {
            // Under the lock a joining socket replays under: it gets up to
            // `delivered` from its replay and the rest from here.
            let _guard = state.publish_lock.lock().await;
            let now = crate::handlers::now_ms();
            for n in &page {
                if !n.is_expired(now) {
                    deliver_local(io, n);
                }
            }
            after = last;
            state.delivered.send_replace(after);
            state.published.send_replace(after);
        }
        if page.len() < PAGE {
            return after;
        }
    }
}
