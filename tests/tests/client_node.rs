//! The client against the Node reference server (`socket.io` 4.8 from npm),
//! started for real on 127.0.0.1: the seed's events, acks both ways, binary,
//! namespaces, connect errors, server-initiated disconnects, restarts,
//! connection state recovery, and every transport mode.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod common;

use std::time::Duration;

use common::*;
use pushdesk_e2e::{NodeOptions, NodePeer, NodeTransports};
use pushdesk_socketio::{
    Bytes, ClientBuilder, ConnectionState, DisconnectReason, Error, Payload, ReconnectPolicy,
    SocketEvent, TransportKind, TransportMode, json, placeholder,
};

async fn node() -> NodePeer {
    NodePeer::start(NodeOptions::default())
        .await
        .expect("node peer starts")
}

#[tokio::test]
async fn seed_events_end_to_end() {
    bounded(async {
        let server = node().await;
        let (_a, sa, mut ea) = ClientBuilder::new(server.url()).connect().unwrap();
        connected(&mut ea).await;
        let (ev, _) = event_named(&mut ea, "count_update").await;
        assert_eq!(ev.payload.first(), Some(&json!({"user_count": 1})));
        let (ev, _) = event_named(&mut ea, "text_update").await;
        assert_eq!(ev.payload.first(), Some(&json!({"text": ""})));

        let (b, sb, mut eb) = ClientBuilder::new(server.url()).connect().unwrap();
        connected(&mut eb).await;
        event_with(&mut ea, "count_update", &json!({"user_count": 2})).await;

        // include_self=False: B gets A's text, A does not get its own back.
        sa.emit("text_update_request", json!({"text": "日本語の入力 🎌"})).unwrap();
        event_with(&mut eb, "text_update", &json!({"text": "日本語の入力 🎌"})).await;
        // An acked round trip after the request: anything A would have got came first.
        sa.emit_with_ack("echo", json!("marker"), WAIT).await.unwrap();
        while let Some(ev) = ea.try_next() {
            if let SocketEvent::Event(ev) = ev {
                assert_ne!(ev.name, "text_update", "the sender must not get its own text back");
            }
        }

        // send_notification_request → send_notification to everyone, seed shape.
        sb.emit("send_notification_request", json!({"text": "hello", "num": 3})).unwrap();
        let expected = json!({"title": "hello", "body": "this is push notification.", "icon": "images/icon.png", "tag": "", "data1": 3});
        for events in [&mut ea, &mut eb] {
            let (ev, _) = event_named(events, "send_notification").await;
            assert_eq!(ev.payload.first(), Some(&expected));
        }

        // B leaves: A sees the count drop.
        b.disconnect().await;
        assert!(matches!(b.state(), ConnectionState::Disconnected { reason: DisconnectReason::IoClientDisconnect }));
        event_with(&mut ea, "count_update", &json!({"user_count": 1})).await;
    })
    .await;
}

#[tokio::test]
async fn acks_both_ways_and_ack_timeout() {
    bounded(async {
        let server = node().await;
        let (_c, s, mut e) = ClientBuilder::new(server.url()).connect().unwrap();
        connected(&mut e).await;

        let reply = s
            .emit_with_ack(
                "echo",
                vec![json!(1), json!({"a": [true, null]}), json!("x")],
                WAIT,
            )
            .await
            .unwrap();
        assert_eq!(
            reply.args,
            vec![json!(1), json!({"a": [true, null]}), json!("x")]
        );

        // The server asks us for an ack; we answer; it reports what we said.
        s.emit("ask_ack", json!({"q": 42})).unwrap();
        let (mut need, _) = event_named(&mut e, "need_ack").await;
        assert!(need.wants_ack());
        assert_eq!(need.payload.first(), Some(&json!({"q": 42})));
        assert!(need.ack(vec![json!("pong"), json!(7)]));
        assert!(!need.ack(json!("twice")), "an ack is answered once");
        let (got, _) = event_named(&mut e, "got_ack").await;
        assert_eq!(got.payload.args, vec![json!("pong"), json!(7)]);

        // No handler on the server: the ack never comes.
        let started = tokio::time::Instant::now();
        let err = s
            .emit_with_ack("nobody_listens", (), Duration::from_millis(300))
            .await
            .unwrap_err();
        assert!(matches!(err, Error::AckTimeout(_)), "{err}");
        assert!(started.elapsed() >= Duration::from_millis(300));
        // The connection is still fine afterwards.
        assert!(s.emit_with_ack("echo", json!(2), WAIT).await.is_ok());
    })
    .await;
}

#[tokio::test]
async fn binary_attachments_both_ways() {
    bounded(async {
        let server = node().await;
        let (_c, s, mut e) = ClientBuilder::new(server.url()).connect().unwrap();
        connected(&mut e).await;

        let a = Bytes::from_static(&[0, 1, 2, 255]);
        let b = Bytes::from(vec![9u8; 100_000]);
        let payload = Payload::with_binary(
            vec![
                placeholder(0),
                json!({"nested": placeholder(1), "n": 5}),
                json!("text"),
            ],
            vec![a.clone(), b.clone()],
        );
        let reply = s
            .emit_with_ack("echo", payload.clone(), WAIT)
            .await
            .unwrap();
        assert_eq!(reply.binary.len(), 2);
        assert_eq!(reply.attachment(&reply.args[0]), Some(&a));
        assert_eq!(reply.attachment(&reply.args[1]["nested"]), Some(&b));
        assert_eq!(reply.args[1]["n"], json!(5));
        assert_eq!(reply.args[2], json!("text"));

        s.emit("binary_hello", ()).unwrap();
        let (ev, _) = event_named(&mut e, "binary_hello").await;
        assert_eq!(
            ev.payload
                .attachment(&ev.payload.args[0])
                .map(|b| b.to_vec()),
            Some(vec![1, 2, 3])
        );
        assert_eq!(
            ev.payload
                .attachment(&ev.payload.args[1]["nested"])
                .map(|b| b.to_vec()),
            Some(vec![4, 5])
        );
        assert_eq!(ev.payload.args[2], json!("text"));
    })
    .await;
}

#[tokio::test]
async fn namespaces_multiplex_and_connect_errors() {
    bounded(async {
        let server = node().await;
        let (client, root, mut root_events) = ClientBuilder::new(server.url())
            .auth(json!({"token": "wrong"}))
            .connect()
            .unwrap();
        connected(&mut root_events).await;

        let (admin, mut admin_events) = client.socket("/admin");
        connected(&mut admin_events).await;
        let reply = admin
            .emit_with_ack("echo", json!("from admin"), WAIT)
            .await
            .unwrap();
        assert_eq!(reply.first(), Some(&json!("from admin")));

        // Middleware refusal: an object with message and data.
        let (_secure, mut secure_events) = client.socket("/secure");
        match next(&mut secure_events).await {
            SocketEvent::ConnectError(data) => assert_eq!(
                data,
                json!({"message": "not authorized", "data": {"code": 401}})
            ),
            other => panic!("expected a connect error, got {other:?}"),
        }
        // Unknown namespace: Node's own refusal.
        let (_nope, mut nope_events) = client.socket("/nope");
        match next(&mut nope_events).await {
            SocketEvent::ConnectError(data) => {
                assert_eq!(data["message"], json!("Invalid namespace"))
            }
            other => panic!("expected a connect error, got {other:?}"),
        }
        // The other namespaces are unaffected.
        assert!(root.emit_with_ack("echo", json!(1), WAIT).await.is_ok());
        assert!(admin.emit_with_ack("echo", json!(2), WAIT).await.is_ok());

        // The right token, evaluated per connection.
        let (c2, _s, mut e2) = ClientBuilder::new(format!("{}/secure", server.url()))
            .auth_fn(|| json!({"token": "s3cret"}))
            .connect()
            .unwrap();
        connected(&mut e2).await;
        c2.disconnect().await;
    })
    .await;
}

#[tokio::test]
async fn server_initiated_disconnect_is_final() {
    bounded(async {
        let server = node().await;
        let (client, s, mut e) = ClientBuilder::new(server.url())
            .reconnect(fast_reconnect())
            .connect()
            .unwrap();
        connected(&mut e).await;
        s.emit("kick", ()).unwrap();
        loop {
            match next(&mut e).await {
                SocketEvent::Disconnected(reason) => {
                    assert_eq!(reason, DisconnectReason::IoServerDisconnect);
                    assert!(!reason.will_reconnect());
                    break;
                }
                SocketEvent::Event(_) => {}
                other => panic!("unexpected {other:?}"),
            }
        }
        let state = state_where(&client, |s| {
            matches!(s, ConnectionState::Disconnected { .. })
        })
        .await;
        assert_eq!(
            state,
            ConnectionState::Disconnected {
                reason: DisconnectReason::IoServerDisconnect
            }
        );
        // It stays down: no reconnection within several backoff periods.
        tokio::time::sleep(Duration::from_millis(800)).await;
        assert!(matches!(
            client.state(),
            ConnectionState::Disconnected { .. }
        ));
        assert!(matches!(s.emit("x", ()), Err(Error::Closed) | Ok(())));
    })
    .await;
}

#[tokio::test]
async fn reconnects_after_server_restart_and_flushes_the_offline_buffer() {
    bounded(async {
        let mut server = node().await;
        let (client, s, mut e) = ClientBuilder::new(server.url())
            .reconnect(fast_reconnect())
            .connect()
            .unwrap();
        connected(&mut e).await;

        server.kill().await.unwrap();
        loop {
            match next(&mut e).await {
                SocketEvent::Disconnected(reason) => {
                    assert!(reason.will_reconnect(), "{reason:?}");
                    break;
                }
                SocketEvent::Event(_) => {}
                other => panic!("unexpected {other:?}"),
            }
        }
        let state = state_where(
            &client,
            |s| matches!(s, ConnectionState::Reconnecting { attempt, .. } if *attempt >= 2),
        )
        .await;
        assert!(matches!(state, ConnectionState::Reconnecting { .. }));

        // Given up on while down: never sent, even once the server is back.
        let gave_up = s
            .emit_with_ack("echo_event", json!("gave up"), Duration::from_millis(200))
            .await;
        assert!(matches!(gave_up, Err(Error::AckTimeout(_))), "{gave_up:?}");
        // Emitted while down: buffered, sent once the namespace is back.
        s.emit("echo_event", json!("sent while offline")).unwrap();
        let pending_ack = tokio::spawn({
            let s = s.clone();
            async move {
                s.emit_with_ack(
                    "echo",
                    json!("acked after restart"),
                    Duration::from_secs(30),
                )
                .await
            }
        });

        server.restart().await.unwrap();
        let (_, recovered) = connected(&mut e).await;
        assert!(!recovered, "this server has no recovery");
        // In order: had the timed-out one been sent, its echo came first.
        loop {
            if let SocketEvent::Event(ev) = next(&mut e).await
                && ev.name == "echo_event"
            {
                assert_eq!(ev.payload.first(), Some(&json!("sent while offline")));
                break;
            }
        }
        let reply = pending_ack.await.unwrap().unwrap();
        assert_eq!(reply.first(), Some(&json!("acked after restart")));
        assert!(matches!(client.state(), ConnectionState::Connected { .. }));
    })
    .await;
}

#[tokio::test]
async fn offline_buffer_is_bounded() {
    bounded(async {
        let port = pushdesk_e2e::free_port();
        let (client, s, _e) = ClientBuilder::new(format!("http://127.0.0.1:{port}"))
            .reconnect(fast_reconnect())
            .send_buffer(2)
            .connect()
            .unwrap();
        s.emit("a", ()).unwrap();
        // A timed-out emit leaves the buffer: its slot is free again.
        let late = s
            .emit_with_ack("x", (), Duration::from_millis(100))
            .await
            .unwrap_err();
        assert!(matches!(late, Error::AckTimeout(_)), "{late}");
        // (The client's task drops it just after: wait for the slot.)
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while let Err(Error::BufferFull(_)) = s.emit("b", ()) {
            assert!(
                std::time::Instant::now() < deadline,
                "the slot never came back"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let err = s.emit("c", ()).unwrap_err();
        assert!(matches!(err, Error::BufferFull(2)), "{err}");
        assert!(err.to_string().contains("send buffer full"));
        // Nobody listens there: attempts keep failing, spaced out, never back to back.
        let state = state_where(
            &client,
            |s| matches!(s, ConnectionState::Reconnecting { attempt, .. } if *attempt >= 3),
        )
        .await;
        if let ConnectionState::Reconnecting { delay, .. } = state {
            assert!(delay >= Duration::from_millis(50));
        }
        client.disconnect().await;
        assert!(matches!(
            client.state(),
            ConnectionState::Disconnected {
                reason: DisconnectReason::IoClientDisconnect
            }
        ));
        assert!(matches!(s.emit("d", ()), Err(Error::Closed)));
    })
    .await;
}

#[tokio::test]
async fn connection_state_recovery_delivers_missed_packets() {
    bounded(async {
        let server = NodePeer::start(NodeOptions {
            recovery: true,
            ..Default::default()
        })
        .await
        .unwrap();
        // Reconnect only after the server's "missed" broadcast (200 ms after the drop).
        let policy = ReconnectPolicy {
            delay: Duration::from_millis(600),
            delay_max: Duration::from_millis(600),
            randomization: 0.0,
            ..Default::default()
        };
        let (_c, s, mut e) = ClientBuilder::new(server.url())
            .reconnect(policy)
            .connect()
            .unwrap();
        let (sid, recovered) = connected(&mut e).await;
        assert!(!recovered);
        // Offsets the server appends are consumed, not shown as arguments.
        let (ev, _) = event_named(&mut e, "count_update").await;
        assert_eq!(ev.payload.args, vec![json!({"user_count": 1})]);

        s.emit("drop_transport", ()).unwrap();
        let mut saw_disconnect = false;
        loop {
            match next(&mut e).await {
                SocketEvent::Disconnected(reason) => {
                    assert!(reason.will_reconnect());
                    saw_disconnect = true;
                }
                SocketEvent::Connected {
                    sid: new_sid,
                    recovered,
                } => {
                    assert!(saw_disconnect);
                    assert!(recovered, "the session must be recovered");
                    assert_eq!(new_sid, sid, "a recovered session keeps its sid");
                    break;
                }
                SocketEvent::Event(_) => {}
                other => panic!("unexpected {other:?}"),
            }
        }
        let (missed, _) = event_named(&mut e, "missed").await;
        assert_eq!(missed.payload.args, vec![json!({"n": 1})]);
    })
    .await;
}

async fn exercise(url: String, mode: TransportMode, expect: TransportKind) {
    let (client, s, mut e) = ClientBuilder::new(url).transport(mode).connect().unwrap();
    connected(&mut e).await;
    event_named(&mut e, "text_update").await;
    s.emit("text_update_request", json!({"text": "over polling"}))
        .unwrap();
    let bin = Payload::with_binary(
        vec![placeholder(0), json!("é")],
        vec![Bytes::from_static(&[0xde, 0xad, 0xbe, 0xef])],
    );
    for i in 0..20 {
        let reply = s.emit_with_ack("echo", bin.clone(), WAIT).await.unwrap();
        assert_eq!(reply, bin, "round trip {i}");
    }
    state_where(&client, |s| {
        *s == ConnectionState::Connected { transport: expect }
    })
    .await;
    // Still works after the (possible) upgrade.
    let reply = s.emit_with_ack("echo", json!("after"), WAIT).await.unwrap();
    assert_eq!(reply.first(), Some(&json!("after")));
    client.disconnect().await;
}

#[tokio::test]
async fn polling_only_transport() {
    bounded(async {
        let server = NodePeer::start(NodeOptions {
            transports: NodeTransports::Polling,
            ..Default::default()
        })
        .await
        .unwrap();
        exercise(server.url(), TransportMode::Polling, TransportKind::Polling).await;
        // Auto falls back to polling where WebSocket is refused.
        exercise(server.url(), TransportMode::Auto, TransportKind::Polling).await;
    })
    .await;
}

#[tokio::test]
async fn polling_upgrades_to_websocket() {
    bounded(async {
        let server = node().await;
        exercise(
            server.url(),
            TransportMode::PollingThenUpgrade,
            TransportKind::WebSocket,
        )
        .await;
    })
    .await;
}

#[tokio::test]
async fn auth_is_evaluated_again_on_every_reconnect() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    bounded(async {
        let mut server = node().await;
        let calls = Arc::new(AtomicU64::new(0));
        let counter = calls.clone();
        let (_client, s, mut e) = ClientBuilder::new(format!("{}/secure", server.url()))
            .reconnect(fast_reconnect())
            .auth_fn(
                move || json!({"token": "s3cret", "n": counter.fetch_add(1, Ordering::SeqCst) + 1}),
            )
            .connect()
            .unwrap();
        connected(&mut e).await;
        let first = s.emit_with_ack("whoami", (), WAIT).await.unwrap();
        assert_eq!(first.first(), Some(&json!({"token": "s3cret", "n": 1})));

        server.kill().await.unwrap();
        server.restart().await.unwrap();
        loop {
            if let SocketEvent::Connected { .. } = next(&mut e).await {
                break;
            }
        }
        // The server admitted the reconnection with a freshly computed payload.
        let again = s.emit_with_ack("whoami", (), WAIT).await.unwrap();
        let n = again.first().and_then(|v| v["n"].as_u64()).unwrap();
        assert!(n >= 2, "auth was not re-evaluated: {again:?}");
        assert_eq!(n, calls.load(Ordering::SeqCst));
    })
    .await;
}
