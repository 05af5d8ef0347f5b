//! Heartbeat: a server that stops pinging is declared dead after
//! pingInterval + pingTimeout, and the client reconnects by itself.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

mod common;

use std::time::Duration;

use common::*;
use pushdesk_e2e::SilentServer;
use pushdesk_socketio::{ClientBuilder, DisconnectReason, SocketEvent, TransportMode};

#[tokio::test]
async fn silent_server_is_detected_and_reconnected() {
    bounded(async {
        let server = SilentServer::start().await.expect("silent server starts");
        let (client, _s, mut e) = ClientBuilder::new(server.url())
            .transport(TransportMode::WebSocket)
            .reconnect(fast_reconnect())
            .connect()
            .unwrap();
        connected(&mut e).await;
        let started = tokio::time::Instant::now();
        match next(&mut e).await {
            SocketEvent::Disconnected(reason) => assert_eq!(reason, DisconnectReason::PingTimeout),
            other => panic!("expected a ping timeout, got {other:?}"),
        }
        // 300 ms interval + 200 ms timeout announced by the server.
        assert!(
            started.elapsed() >= Duration::from_millis(400),
            "declared dead too early: {:?}",
            started.elapsed()
        );
        connected(&mut e).await;
        server.wait_for_connections(2, WAIT).await.unwrap();
        client.disconnect().await;
    })
    .await;
}

#[tokio::test]
async fn answers_pings_and_stays_connected_across_many_intervals() {
    use pushdesk_e2e::{NodeOptions, NodePeer};
    use pushdesk_socketio::json;
    bounded(async {
        // The server pings every 200 ms and drops us 200 ms after an unanswered ping;
        // we must answer each one and reset our own deadline on each.
        let server = NodePeer::start(NodeOptions {
            ping_interval: Some(Duration::from_millis(200)),
            ping_timeout: Some(Duration::from_millis(200)),
            ..Default::default()
        })
        .await
        .unwrap();
        let (client, s, mut e) = ClientBuilder::new(server.url())
            .transport(TransportMode::WebSocket)
            .reconnect(fast_reconnect())
            .connect()
            .unwrap();
        connected(&mut e).await;
        tokio::time::sleep(Duration::from_millis(2000)).await;
        while let Some(ev) = e.try_next() {
            assert!(
                !matches!(
                    ev,
                    SocketEvent::Disconnected(_) | SocketEvent::Connected { .. }
                ),
                "connection bounced: {ev:?}"
            );
        }
        assert!(s.emit_with_ack("echo", json!("alive"), WAIT).await.is_ok());
        client.disconnect().await;
    })
    .await;
}
