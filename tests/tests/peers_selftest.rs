//! Self-test of the peers: each one starts and answers an Engine.IO v4
//! handshake on loopback.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use std::time::Duration;

use futures_util::StreamExt as _;
use pushdesk_e2e::{
    FlaskSeed, NodeOptions, NodePeer, NodeTransports, SilentServer, SioxServer, http_get,
    polling_handshake,
};
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;

/// Generous: the first test to run may install node_modules or the venv.
const SETUP_BUDGET: Duration = Duration::from_secs(600);
const BUDGET: Duration = Duration::from_secs(30);

#[tokio::test]
async fn node_peer_answers_polling_handshake() {
    timeout(SETUP_BUDGET, async {
        let mut peer = NodePeer::start(NodeOptions::default())
            .await
            .expect("start node");
        let body = polling_handshake(peer.port()).await.expect("handshake");
        assert!(body.contains("\"pingInterval\":25000"), "{body}");
        assert_eq!(peer.url(), format!("http://127.0.0.1:{}", peer.port()));
        peer.kill().await.expect("kill");
        assert!(
            http_get(peer.port(), "/").await.is_err(),
            "still answering after kill"
        );
    })
    .await
    .expect("timed out");
}

#[tokio::test]
async fn node_peer_with_recovery_and_options() {
    timeout(SETUP_BUDGET, async {
        let opts = NodeOptions {
            recovery: true,
            ping_interval: Some(Duration::from_millis(700)),
            ping_timeout: Some(Duration::from_millis(400)),
            ..NodeOptions::default()
        };
        let peer = NodePeer::start(opts).await.expect("start node");
        let body = polling_handshake(peer.port()).await.expect("handshake");
        assert!(body.contains("\"pingInterval\":700"), "{body}");
        assert!(body.contains("\"pingTimeout\":400"), "{body}");
    })
    .await
    .expect("timed out");
}

#[tokio::test]
async fn node_peer_restarts_on_the_same_port() {
    timeout(SETUP_BUDGET, async {
        let mut peer = NodePeer::start(NodeOptions::default())
            .await
            .expect("start node");
        let port = peer.port();
        let first = polling_handshake(port).await.expect("handshake");
        peer.restart().await.expect("restart");
        assert_eq!(peer.port(), port);
        let second = polling_handshake(port)
            .await
            .expect("handshake after restart");
        assert_ne!(first, second, "a fresh server hands out a new sid");

        peer.kill().await.expect("kill");
        let again = NodePeer::start(peer.options().clone())
            .await
            .expect("start on same port");
        assert_eq!(again.port(), port);
    })
    .await
    .expect("timed out");
}

#[tokio::test]
async fn node_peer_transport_restrictions() {
    timeout(SETUP_BUDGET, async {
        let ws_only = NodePeer::start(NodeOptions {
            transports: NodeTransports::Websocket,
            ..NodeOptions::default()
        })
        .await
        .expect("start node (websocket only)");
        let resp = http_get(ws_only.port(), "/socket.io/?EIO=4&transport=polling")
            .await
            .expect("GET");
        assert_eq!(resp.status, 400, "{}", resp.text());

        let polling_only = NodePeer::start(NodeOptions {
            transports: NodeTransports::Polling,
            ..NodeOptions::default()
        })
        .await
        .expect("start node (polling only)");
        let body = polling_handshake(polling_only.port())
            .await
            .expect("handshake");
        assert!(body.contains("\"upgrades\":[]"), "{body}");
    })
    .await
    .expect("timed out");
}

#[tokio::test]
async fn flask_seed_answers_polling_handshake() {
    timeout(SETUP_BUDGET, async {
        let mut seed = FlaskSeed::start().await.expect("start flask seed");
        polling_handshake(seed.port()).await.expect("handshake");
        let page = http_get(seed.port(), "/").await.expect("GET /");
        assert_eq!(page.status, 200);
        assert!(page.text().contains("socket.emit('text_update_request'"));
        let old = http_get(seed.port(), "/socket.io/?EIO=3&transport=polling")
            .await
            .expect("GET EIO=3");
        assert_eq!(old.status, 400);
        seed.kill().await.expect("kill");
    })
    .await
    .expect("timed out");
}

#[tokio::test]
async fn siox_server_answers_polling_handshake() {
    timeout(BUDGET, async {
        let server = SioxServer::start().await.expect("start socketioxide");
        polling_handshake(server.port()).await.expect("handshake");
        server.shutdown().await.expect("shutdown");
    })
    .await
    .expect("timed out");
}

#[tokio::test]
async fn silent_server_opens_and_never_pings() {
    timeout(BUDGET, async {
        let server = SilentServer::start().await.expect("start silent server");
        assert_eq!(server.connections(), 0);
        let (mut ws, _) = tokio_tungstenite::connect_async(server.ws_url())
            .await
            .expect("websocket handshake");
        let open = ws.next().await.expect("open packet").expect("frame");
        let Message::Text(open) = open else {
            panic!("open packet not text: {open:?}")
        };
        assert!(open.starts_with("0{") && open.contains("\"sid\""), "{open}");
        assert!(open.contains("\"pingInterval\":300"), "{open}");
        server
            .wait_for_connections(1, Duration::from_secs(5))
            .await
            .expect("counted");

        use futures_util::SinkExt as _;
        ws.send(Message::text("40")).await.expect("send 40");
        let ack = ws.next().await.expect("connect ack").expect("frame");
        assert!(
            ack.to_text().expect("text").starts_with("40{\"sid\":"),
            "{ack:?}"
        );
        // Nothing else arrives: no ping within well over pingInterval + pingTimeout.
        let silence = timeout(Duration::from_millis(1200), ws.next()).await;
        assert!(silence.is_err(), "unexpected frame: {silence:?}");
    })
    .await
    .expect("timed out");
}

/// Runs `peers/node/probe.js` (the reference JS client) against `url` and
/// returns what it observed.
async fn probe(url: &str, helpers: bool) -> serde_json::Value {
    let mut cmd = tokio::process::Command::new("node");
    cmd.arg("probe.js")
        .arg(url)
        .current_dir(pushdesk_e2e::node_peer_dir())
        .kill_on_drop(true);
    if helpers {
        cmd.arg("--helpers");
    }
    let out = timeout(BUDGET, cmd.output())
        .await
        .expect("probe.js timed out")
        .expect("run probe.js");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "probe.js failed: {stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.trim()).expect("probe.js output is JSON")
}

/// What the reference client sees from any seed-compatible server: A connects,
/// then B; A changes the text and sends a notification; B leaves.
///
/// `in_order`: whether B must get A's two updates in the order A sent them.
/// The seed's Flask-SocketIO server (threading mode) handles each incoming
/// event on its own thread, so it may broadcast them either way round.
fn assert_seed_semantics(seen: &serde_json::Value, in_order: bool) {
    let notification = serde_json::json!(["send_notification", {
        "title": "title", "body": "this is push notification.",
        "icon": "images/icon.png", "tag": "", "data1": 3
    }]);
    let a = serde_json::json!([
        ["count_update", {"user_count": 1}],
        ["text_update", {"text": ""}],
        ["count_update", {"user_count": 2}],
        notification,
        ["count_update", {"user_count": 1}],
    ]);
    let b = serde_json::json!([
        ["count_update", {"user_count": 2}],
        ["text_update", {"text": ""}],
        ["text_update", {"text": "hi"}],
        notification,
    ]);
    assert_eq!(seen["a"], a, "client A");
    if in_order {
        assert_eq!(seen["b"], b, "client B");
    } else {
        let (Some(got), Some(want)) = (seen["b"].as_array(), b.as_array()) else {
            panic!("client B saw {}", seen["b"]);
        };
        assert_eq!(got.len(), want.len(), "client B: {got:?}");
        assert_eq!(got[..2], want[..2], "client B");
        let mut tail = got[2..].to_vec();
        let mut expected = want[2..].to_vec();
        tail.sort_by_key(ToString::to_string);
        expected.sort_by_key(ToString::to_string);
        assert_eq!(tail, expected, "client B (either order)");
    }
}

fn assert_helpers(seen: &serde_json::Value) {
    let echo = serde_json::json!([1, {"x": {"bin": [9]}}, "s"]);
    assert_eq!(
        seen["echo"], echo,
        "echo acks every argument, binary included"
    );
    let ask = serde_json::json!([["need_ack", {"q": 1}], ["got_ack", "yes", {"q": 1}]]);
    assert_eq!(seen["ask_ack"], ask);
    assert_eq!(seen["admin_echo"], serde_json::json!(["adm"]));
    assert_eq!(seen["kick"], "io server disconnect");
}

#[tokio::test]
async fn reference_client_against_node_peer() {
    timeout(SETUP_BUDGET, async {
        let peer = NodePeer::start(NodeOptions::default())
            .await
            .expect("start node");
        let seen = probe(&peer.url(), true).await;
        assert_seed_semantics(&seen, true);
        assert_helpers(&seen);
    })
    .await
    .expect("timed out");
}

#[tokio::test]
async fn reference_client_against_siox_server() {
    timeout(SETUP_BUDGET, async {
        pushdesk_e2e::ensure_node_modules().expect("node_modules for probe.js");
        let server = SioxServer::start().await.expect("start socketioxide");
        let seen = probe(&server.url(), true).await;
        assert_seed_semantics(&seen, true);
        assert_helpers(&seen);
    })
    .await
    .expect("timed out");
}

#[tokio::test]
async fn reference_client_against_flask_seed() {
    timeout(SETUP_BUDGET, async {
        pushdesk_e2e::ensure_node_modules().expect("node_modules for probe.js");
        let seed = FlaskSeed::start().await.expect("start flask seed");
        assert_seed_semantics(&probe(&seed.url(), false).await, false);
    })
    .await
    .expect("timed out");
}
