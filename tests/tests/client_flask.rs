//! The client against the seed's own Flask-SocketIO app (seed 000, run
//! unchanged from a venv): Flask emits `count_update` and `text_update`
//! BEFORE its CONNECT ack, and refuses namespaces with a bare string.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod common;

use common::*;
use pushdesk_e2e::FlaskSeed;
use pushdesk_socketio::{ClientBuilder, SocketEvent, TransportKind, TransportMode, json};

#[tokio::test]
async fn seed_app_five_events_end_to_end() {
    bounded(async {
        let server = FlaskSeed::start().await.expect("flask seed starts");
        let (_a, sa, mut ea) = ClientBuilder::new(server.url()).connect().unwrap();
        // Events sent before the CONNECT ack are delivered, right after Connected.
        connected(&mut ea).await;
        let (ev, skipped) = event_named(&mut ea, "count_update").await;
        assert!(skipped.is_empty());
        assert_eq!(ev.payload.first(), Some(&json!({"user_count": 1})));
        let (ev, skipped) = event_named(&mut ea, "text_update").await;
        assert!(skipped.is_empty());
        assert_eq!(ev.payload.first(), Some(&json!({"text": ""})));

        let (b, sb, mut eb) = ClientBuilder::new(server.url()).connect().unwrap();
        connected(&mut eb).await;
        event_with(&mut ea, "count_update", &json!({"user_count": 2})).await;

        sa.emit("text_update_request", json!({"text": "共有テキスト"})).unwrap();
        event_with(&mut eb, "text_update", &json!({"text": "共有テキスト"})).await;

        // A third client gets the stored text on connect.
        let (_c, _sc, mut ec) = ClientBuilder::new(server.url()).connect().unwrap();
        connected(&mut ec).await;
        event_with(&mut ec, "text_update", &json!({"text": "共有テキスト"})).await;

        sb.emit("send_notification_request", json!({"text": "通知", "num": ""})).unwrap();
        let expected = json!({"title": "通知", "body": "this is push notification.", "icon": "images/icon.png", "tag": "", "data1": ""});
        for events in [&mut ea, &mut eb, &mut ec] {
            let (ev, _) = event_named(events, "send_notification").await;
            assert_eq!(ev.payload.first(), Some(&expected));
        }
        // Nothing came back to A from its own text update.
        while let Some(ev) = ea.try_next() {
            if let SocketEvent::Event(ev) = ev {
                assert_ne!(ev.name, "text_update");
            }
        }
        b.disconnect().await;
        event_with(&mut ea, "count_update", &json!({"user_count": 2})).await;
    })
    .await;
}

#[tokio::test]
async fn refused_namespace_with_a_bare_string() {
    bounded(async {
        let server = FlaskSeed::start().await.expect("flask seed starts");
        let (client, _s, mut e) = ClientBuilder::new(server.url()).connect().unwrap();
        connected(&mut e).await;
        let (_nope, mut nope_events) = client.socket("/nope");
        match next(&mut nope_events).await {
            SocketEvent::ConnectError(data) => assert_eq!(data, json!("Unable to connect")),
            other => panic!("expected a connect error, got {other:?}"),
        }
    })
    .await;
}

#[tokio::test]
async fn seed_app_over_polling_and_upgrade() {
    bounded(async {
        let server = FlaskSeed::start().await.expect("flask seed starts");
        for (mode, kind) in [
            (TransportMode::Polling, TransportKind::Polling),
            (TransportMode::PollingThenUpgrade, TransportKind::WebSocket),
        ] {
            let (client, s, mut e) = ClientBuilder::new(server.url())
                .transport(mode)
                .connect()
                .unwrap();
            connected(&mut e).await;
            event_named(&mut e, "text_update").await;
            s.emit(
                "send_notification_request",
                json!({"text": format!("{mode:?}"), "num": 1}),
            )
            .unwrap();
            let (ev, _) = event_named(&mut e, "send_notification").await;
            assert_eq!(
                ev.payload.first().and_then(|v| v.get("title")),
                Some(&json!(format!("{mode:?}")))
            );
            state_where(&client, |st| {
                *st == pushdesk_socketio::ConnectionState::Connected { transport: kind }
            })
            .await;
            client.disconnect().await;
        }
    })
    .await;
}
