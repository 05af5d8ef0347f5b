//! The client against socketioxide (the Rust server our hub is built on),
//! in process.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod common;

use common::*;
use pushdesk_e2e::SioxServer;
use pushdesk_socketio::{ClientBuilder, TransportMode, json};

#[tokio::test]
async fn seed_events_acks_and_namespaces() {
    bounded(async {
        let server = SioxServer::start().await.expect("socketioxide starts");
        for mode in [TransportMode::WebSocket, TransportMode::Polling] {
            let (client, s, mut e) = ClientBuilder::new(server.url())
                .transport(mode)
                .connect()
                .unwrap();
            connected(&mut e).await;
            let (ev, _) = event_named(&mut e, "count_update").await;
            assert!(
                ev.payload
                    .first()
                    .and_then(|v| v.get("user_count"))
                    .is_some()
            );
            event_named(&mut e, "text_update").await;

            let (b, sb, mut eb) = ClientBuilder::new(server.url())
                .transport(mode)
                .connect()
                .unwrap();
            connected(&mut eb).await;
            s.emit(
                "text_update_request",
                json!({"text": format!("hi {mode:?}")}),
            )
            .unwrap();
            event_with(
                &mut eb,
                "text_update",
                &json!({"text": format!("hi {mode:?}")}),
            )
            .await;

            sb.emit("send_notification_request", json!({"text": "n", "num": 1}))
                .unwrap();
            let (ev, _) = event_named(&mut e, "send_notification").await;
            assert_eq!(
                ev.payload.first().and_then(|v| v.get("data1")),
                Some(&json!(1))
            );

            let reply = s
                .emit_with_ack("echo", vec![json!("a"), json!({"b": 2})], WAIT)
                .await
                .unwrap();
            assert_eq!(reply.args, vec![json!("a"), json!({"b": 2})]);

            s.emit("ask_ack", json!("q")).unwrap();
            let (mut need, _) = event_named(&mut e, "need_ack").await;
            assert!(need.ack(json!("answer")));
            let (got, _) = event_named(&mut e, "got_ack").await;
            assert_eq!(got.payload.first(), Some(&json!("answer")));

            let (admin, mut ae) = client.socket("/admin");
            connected(&mut ae).await;
            let reply = admin
                .emit_with_ack("echo", json!("admin"), WAIT)
                .await
                .unwrap();
            assert_eq!(reply.first(), Some(&json!("admin")));
            b.disconnect().await;
            client.disconnect().await;
        }
    })
    .await;
}
