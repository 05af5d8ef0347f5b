//! Helpers shared by the client tests: bounded waits on events and states.
#![allow(dead_code)]

use std::time::Duration;

use pushdesk_socketio::{
    Client, ConnectionState, Event, Events, ReconnectPolicy, SocketEvent, Value,
};

/// The longest any single wait in these tests may take.
pub const WAIT: Duration = Duration::from_secs(15);

/// Reconnection fast enough for tests (100 ms → 400 ms), jitter included.
pub fn fast_reconnect() -> ReconnectPolicy {
    ReconnectPolicy {
        delay: Duration::from_millis(100),
        delay_max: Duration::from_millis(400),
        ..ReconnectPolicy::default()
    }
}

/// The next namespace event, failing the test after [`WAIT`].
pub async fn next(events: &mut Events) -> SocketEvent {
    tokio::time::timeout(WAIT, events.next())
        .await
        .expect("timed out waiting for an event")
        .expect("client stopped")
}

/// Expects the namespace's next event to be `Connected`; returns (sid, recovered).
pub async fn connected(events: &mut Events) -> (String, bool) {
    match next(events).await {
        SocketEvent::Connected { sid, recovered } => (sid, recovered),
        SocketEvent::Event(_) => panic!("an event was delivered before Connected"),
        other => panic!("expected Connected, got {other:?}"),
    }
}

/// Waits for the event `name`, returning it and every event skipped on the way.
pub async fn event_named(events: &mut Events, name: &str) -> (Event, Vec<SocketEvent>) {
    let mut skipped = Vec::new();
    loop {
        match next(events).await {
            SocketEvent::Event(ev) if ev.name == name => return (ev, skipped),
            other => skipped.push(other),
        }
    }
}

/// Waits for the event `name` whose first argument equals `first`.
pub async fn event_with(events: &mut Events, name: &str, first: &Value) -> Event {
    loop {
        let (ev, _) = event_named(events, name).await;
        if ev.payload.first() == Some(first) {
            return ev;
        }
    }
}

/// Waits until the client's state satisfies `pred`.
pub async fn state_where(
    client: &Client,
    pred: impl Fn(&ConnectionState) -> bool,
) -> ConnectionState {
    let mut rx = client.watch_state();
    tokio::time::timeout(WAIT, async {
        loop {
            let s = rx.borrow_and_update().clone();
            if pred(&s) {
                return s;
            }
            if rx.changed().await.is_err() {
                return rx.borrow().clone();
            }
        }
    })
    .await
    .expect("timed out waiting for a connection state")
}

/// Runs a test body with an overall time bound.
pub async fn bounded<F: std::future::Future<Output = ()>>(f: F) {
    tokio::time::timeout(Duration::from_secs(60), f)
        .await
        .expect("test exceeded 60 s");
}
