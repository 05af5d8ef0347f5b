//! The hub beside other real parts: two `pushdesk serve` nodes sharing a
//! real Redis, HTTPS/WSS with a certificate from a private CA, and
//! `pushdesk send`/`text` against the seed's own Flask-SocketIO app.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use std::path::Path;
use std::time::Duration;

use pushdesk_e2e::{FlaskSeed, HubProcess, RedisServer, TempDir};
use pushdesk_socketio::{ClientBuilder, Events, SocketEvent, Value, json};

const WAIT: Duration = Duration::from_secs(15);
const BIN: &str = env!("CARGO_BIN_EXE_pushdesk");

async fn bounded<F: std::future::Future<Output = ()>>(f: F) {
    tokio::time::timeout(Duration::from_secs(90), f)
        .await
        .expect("test within 90 s");
}

async fn event_where(e: &mut Events, name: &str, pred: impl Fn(&Value) -> bool) -> Value {
    loop {
        let ev = tokio::time::timeout(WAIT, e.next())
            .await
            .expect("an event in time")
            .expect("client running");
        if let SocketEvent::Event(ev) = ev
            && ev.name == name
            && let Some(v) = ev.payload.first()
            && pred(v)
        {
            return v.clone();
        }
    }
}

/// Runs `pushdesk ARGS`, asserts it succeeded (showing its stderr if not),
/// and returns its stdout.
async fn run_ok(args: &[&str]) -> String {
    let out = tokio::process::Command::new(BIN)
        .args(args)
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "pushdesk {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn connected(e: &mut Events) {
    loop {
        match tokio::time::timeout(WAIT, e.next())
            .await
            .expect("connect in time")
        {
            Some(SocketEvent::Connected { .. }) => return,
            Some(SocketEvent::ConnectError(err)) => panic!("refused: {err}"),
            Some(_) => {}
            None => panic!("client stopped"),
        }
    }
}

#[tokio::test]
async fn two_nodes_over_redis_share_count_text_and_notifications() {
    bounded(async {
        let mut redis = RedisServer::start_durable().await.unwrap();
        let (da, db) = (
            TempDir::new("node-a").unwrap(),
            TempDir::new("node-b").unwrap(),
        );
        let node_a = HubProcess::start(Path::new(BIN), da.path(), &["--redis", &redis.url()])
            .await
            .unwrap();
        let node_b = HubProcess::start(Path::new(BIN), db.path(), &["--redis", &redis.url()])
            .await
            .unwrap();

        let (_ca, sa, mut ea) = ClientBuilder::new(node_a.url()).connect().unwrap();
        connected(&mut ea).await;
        let (_cb, sb, mut eb) = ClientBuilder::new(node_b.url()).connect().unwrap();
        connected(&mut eb).await;
        // The count covers both nodes.
        event_where(&mut ea, "count_update", |v| v == &json!({"user_count": 2})).await;

        // Text set through A reaches B (not A), and a newcomer on B gets it.
        sa.emit_with_ack("text_update_request", json!({"text": "from A"}), WAIT)
            .await
            .unwrap();
        event_where(&mut eb, "text_update", |v| v == &json!({"text": "from A"})).await;
        let (_cc, _sc, mut ec) = ClientBuilder::new(node_b.url()).connect().unwrap();
        event_where(&mut ec, "text_update", |v| v == &json!({"text": "from A"})).await;
        event_where(&mut ea, "count_update", |v| v == &json!({"user_count": 3})).await;

        // A notification sent on B reaches A with the shared id sequence.
        let ack = sb
            .emit_with_ack(
                "send_notification_request",
                json!({"text": "cluster", "num": 1}),
                WAIT,
            )
            .await
            .unwrap();
        let id = ack.first().unwrap()["id"].as_u64().unwrap();
        let n = event_where(&mut ea, "send_notification", |v| {
            v["title"] == json!("cluster")
        })
        .await;
        assert_eq!(n["id"], json!(id));
        let ack = sa
            .emit_with_ack(
                "send_notification_request",
                json!({"text": "second", "num": 1}),
                WAIT,
            )
            .await
            .unwrap();
        assert!(ack.first().unwrap()["id"].as_u64().unwrap() > id);

        // Replay from either node sees the shared history.
        let (_cd, _sd, mut ed) = ClientBuilder::new(node_a.url())
            .auth(json!({"last_id": 0}))
            .connect()
            .unwrap();
        event_where(&mut ed, "send_notification", |v| {
            v["title"] == json!("cluster")
        })
        .await;
        event_where(&mut ed, "send_notification", |v| {
            v["title"] == json!("second")
        })
        .await;

        // Redis restarts (with its data): each node's pub/sub reconnects and
        // subscribes again, and each node goes on delivering from the
        // history. A notification sent on A (retried while Redis is away)
        // reaches B's client, and a user joining B is counted on A.
        redis.restart().await.unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let ack = sa
                .emit_with_ack(
                    "send_notification_request",
                    json!({"text": "after the restart", "num": 1}),
                    WAIT,
                )
                .await;
            if matches!(&ack, Ok(a) if a.first().is_some_and(|v| v["ok"] == json!(true))) {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "no publish after the restart: {ack:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        event_where(&mut eb, "send_notification", |v| {
            v["title"] == json!("after the restart")
        })
        .await;
        let (_ce, _se, mut ee) = ClientBuilder::new(node_b.url()).connect().unwrap();
        connected(&mut ee).await;
        event_where(&mut ea, "count_update", |v| v == &json!({"user_count": 5})).await;
    })
    .await;
}

#[tokio::test]
async fn serves_https_and_wss() {
    use rcgen::{CertificateParams, KeyPair, SanType};
    bounded(async {
        let dir = TempDir::new("tls").unwrap();
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        params
            .subject_alt_names
            .push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
        let cert = params.self_signed(&key).unwrap();
        let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
        std::fs::write(&cert_path, cert.pem()).unwrap();
        std::fs::write(&key_path, key.serialize_pem()).unwrap();
        let hub = HubProcess::start(
            Path::new(BIN),
            dir.path(),
            &[
                "--tls-cert",
                cert_path.to_str().unwrap(),
                "--tls-key",
                key_path.to_str().unwrap(),
            ],
        )
        .await
        .unwrap();
        assert!(hub.url().starts_with("https://"));
        let (c, s, mut e) = ClientBuilder::new(hub.url())
            .add_root_certificate_pem(cert.pem())
            .connect()
            .unwrap();
        connected(&mut e).await;
        let ack = s
            .emit_with_ack(
                "send_notification_request",
                json!({"text": "secure", "num": 1}),
                WAIT,
            )
            .await
            .unwrap();
        assert_eq!(ack.first().unwrap()["ok"], json!(true));
        c.disconnect().await;
        // The CLI with --ca-cert.
        run_ok(&[
            "send",
            "--server",
            &hub.url(),
            "--ca-cert",
            cert_path.to_str().unwrap(),
            "--title",
            "cli over tls",
        ])
        .await;
    })
    .await;
}

#[tokio::test]
async fn send_and_text_work_against_the_seed_flask_app() {
    bounded(async {
        let seed = FlaskSeed::start().await.unwrap();
        let (_c, _s, mut e) = ClientBuilder::new(seed.url()).connect().unwrap();
        connected(&mut e).await;
        run_ok(&["send", "--server", &seed.url(), "--title", "to the seed"]).await;
        let n = event_where(&mut e, "send_notification", |v| {
            v["title"] == json!("to the seed")
        })
        .await;
        assert_eq!(n["body"], json!("this is push notification."));

        run_ok(&["text", "--server", &seed.url(), "--set", "seed text"]).await;
        event_where(&mut e, "text_update", |v| {
            v == &json!({"text": "seed text"})
        })
        .await;
        assert_eq!(
            run_ok(&["text", "--server", &seed.url()]).await.trim_end(),
            "seed text"
        );
    })
    .await;
}
