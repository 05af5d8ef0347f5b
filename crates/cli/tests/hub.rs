//! `pushdesk serve` as users run it: the real binary on 127.0.0.1, spoken to
//! over real sockets by our client, raw HTTP, and the `pushdesk` CLI.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use std::path::Path;
use std::time::Duration;

use pushdesk_e2e::{HubProcess, TempDir, http_get};
use pushdesk_socketio::{
    Client, ClientBuilder, Events, ReconnectPolicy, Socket, SocketEvent, Value, json,
};

const WAIT: Duration = Duration::from_secs(15);
const BIN: &str = env!("CARGO_BIN_EXE_pushdesk");

async fn bounded<F: std::future::Future<Output = ()>>(f: F) {
    tokio::time::timeout(Duration::from_secs(90), f)
        .await
        .expect("test within 90 s");
}

async fn hub(dir: &TempDir, extra: &[&str]) -> HubProcess {
    HubProcess::start(Path::new(BIN), dir.path(), extra)
        .await
        .expect("hub starts")
}

async fn hub_in(data_dir: &Path, extra: &[&str]) -> HubProcess {
    HubProcess::start(Path::new(BIN), data_dir, extra)
        .await
        .expect("hub starts")
}

fn fast() -> ReconnectPolicy {
    ReconnectPolicy {
        delay: Duration::from_millis(100),
        delay_max: Duration::from_millis(300),
        ..Default::default()
    }
}

async fn connect(url: &str) -> (Client, Socket, Events) {
    let (c, s, mut e) = ClientBuilder::new(url).reconnect(fast()).connect().unwrap();
    match next(&mut e).await {
        SocketEvent::Connected { .. } => {}
        other => panic!("expected Connected, got {other:?}"),
    }
    (c, s, e)
}

/// Connects with `auth` (a returning client's `last_id`, `epoch`), no reconnects.
fn resume(url: &str, auth: Value) -> (Client, Socket, Events) {
    ClientBuilder::new(url).auth(auth).connect().unwrap()
}

/// Connects and consumes the hub's greeting up to the initial `text_update`.
async fn connect_settled(url: &str) -> (Client, Socket, Events) {
    let (c, s, mut e) = connect(url).await;
    event(&mut e, "text_update").await;
    (c, s, e)
}

async fn next(e: &mut Events) -> SocketEvent {
    tokio::time::timeout(WAIT, e.next())
        .await
        .expect("an event in time")
        .expect("client running")
}

/// The next event called `name` (others skipped), as its first argument.
async fn event(e: &mut Events, name: &str) -> Value {
    loop {
        if let SocketEvent::Event(ev) = next(e).await
            && ev.name == name
        {
            return ev.payload.first().cloned().unwrap_or(Value::Null);
        }
    }
}

async fn event_where(e: &mut Events, name: &str, pred: impl Fn(&Value) -> bool) -> Value {
    loop {
        let v = event(e, name).await;
        if pred(&v) {
            return v;
        }
    }
}

async fn notify(s: &Socket, title: &str) -> Value {
    s.emit_with_ack(
        "send_notification_request",
        json!({"text": title, "num": 1}),
        WAIT,
    )
    .await
    .unwrap()
    .first()
    .cloned()
    .unwrap()
}

#[tokio::test]
async fn seed_events_with_seed_semantics_and_acks() {
    bounded(async {
        let dir = TempDir::new("hub").unwrap();
        let hub = hub(&dir, &[]).await;
        let (_a, sa, mut ea) = connect(&hub.url()).await;
        assert_eq!(event(&mut ea, "count_update").await, json!({"user_count": 1}));
        assert_eq!(event(&mut ea, "text_update").await, json!({"text": ""}));
        let (b, sb, mut eb) = connect_settled(&hub.url()).await;
        event_where(&mut ea, "count_update", |v| v == &json!({"user_count": 2})).await;

        // include_self=False for text, with an ack for us.
        let ack = sa.emit_with_ack("text_update_request", json!({"text": "日本語 ✓"}), WAIT).await.unwrap();
        assert_eq!(ack.first(), Some(&json!({"ok": true})));
        assert_eq!(event(&mut eb, "text_update").await, json!({"text": "日本語 ✓"}));

        // Seed request → seed-shaped broadcast with our id and timestamp; the sender gets {ok, id}.
        let ack = sb.emit_with_ack("send_notification_request", json!({"text": "hello", "num": "3"}), WAIT).await.unwrap();
        let id = ack.first().and_then(|v| v["id"].as_u64()).expect("an id");
        assert_eq!(ack.first().unwrap()["ok"], json!(true));
        for e in [&mut ea, &mut eb] {
            let n = event(e, "send_notification").await;
            assert_eq!(n["title"], json!("hello"));
            assert_eq!(n["body"], json!("this is push notification."));
            assert_eq!(n["icon"], json!("images/icon.png"));
            assert_eq!(n["tag"], json!(""));
            assert_eq!(n["data1"], json!("3"));
            assert_eq!(n["id"], json!(id));
            assert!(n["timestamp"].as_u64().is_some());
        }
        // Ids increase.
        let second = notify(&sb, "again").await;
        assert!(second["id"].as_u64().unwrap() > id);

        // Our extensions pass through; the seed page's texts come back as text.
        let ack = sa
            .emit_with_ack("send_notification_request", json!({"text": "ext", "body": "b", "tag": "build", "url": "https://example.com/x", "urgency": "critical", "data": {"k": 1}}), WAIT)
            .await
            .unwrap();
        assert_eq!(ack.first().unwrap()["ok"], json!(true));
        let n = event_where(&mut eb, "send_notification", |v| v["title"] == json!("ext")).await;
        assert_eq!((n["tag"].clone(), n["url"].clone(), n["urgency"].clone(), n["data"].clone()), (json!("build"), json!("https://example.com/x"), json!("critical"), json!({"k": 1})));

        b.disconnect().await;
        event_where(&mut ea, "count_update", |v| v == &json!({"user_count": 1})).await;

        // Health says who is there and where the history stands.
        let health: Value = serde_json::from_slice(&http_get(hub.port(), "/health").await.unwrap().body).unwrap();
        assert_eq!(health["status"], json!("ok"));
        assert_eq!(health["user_count"], json!(1));
        assert!(health["last_id"].as_u64().unwrap() >= 3);
    })
    .await;
}

#[tokio::test]
async fn bad_input_gets_an_error_and_others_never_notice() {
    bounded(async {
        let dir = TempDir::new("hub").unwrap();
        let hub = hub(&dir, &[]).await;
        let (_a, sa, _ea) = connect_settled(&hub.url()).await;
        let (_b, _sb, mut eb) = connect_settled(&hub.url()).await;
        let rejected = |v: &Value| {
            v["ok"] == json!(false) && v["error"].as_str().is_some_and(|e| !e.is_empty())
        };
        for bad in [
            json!("not an object"),
            json!({"num": 1}),
            json!({"text": 42}),
            json!({"text": "x".repeat(300)}),
            json!({"text": "t", "url": "javascript:alert(1)"}),
            json!({"text": "t", "url": "file:///etc/passwd"}),
            json!({"text": "t", "urgency": 7}),
            json!(null),
        ] {
            let ack = sa
                .emit_with_ack("send_notification_request", bad.clone(), WAIT)
                .await
                .unwrap();
            assert!(rejected(ack.first().unwrap()), "{bad} → {ack:?}");
        }
        for bad in [
            json!({"text": 1}),
            json!({}),
            json!({"text": "y".repeat(70_000)}),
        ] {
            let ack = sa
                .emit_with_ack("text_update_request", bad.clone(), WAIT)
                .await
                .unwrap();
            assert!(rejected(ack.first().unwrap()), "{ack:?}");
        }
        // No ack requested, garbage: just dropped.
        sa.emit("send_notification_request", json!([1, 2, 3]))
            .unwrap();
        sa.emit("text_update_request", json!("zzz")).unwrap();
        sa.emit("no_such_event", json!({})).unwrap();
        // B saw no notification and no text from any of that, and the hub still works for both.
        let ok = notify(&sa, "fine").await;
        assert_eq!(ok["ok"], json!(true));
        loop {
            match next(&mut eb).await {
                SocketEvent::Event(ev) if ev.name == "send_notification" => {
                    assert_eq!(
                        ev.payload.first().unwrap()["title"],
                        json!("fine"),
                        "a rejected request reached others"
                    );
                    break;
                }
                SocketEvent::Event(ev) => {
                    assert_ne!(ev.name, "text_update", "a rejected text reached others")
                }
                SocketEvent::Disconnected(r) => panic!("B was disconnected: {r:?}"),
                _ => {}
            }
        }
    })
    .await;
}

#[tokio::test]
async fn notification_rate_is_limited_per_connection() {
    bounded(async {
        let dir = TempDir::new("hub").unwrap();
        let hub = hub(&dir, &[]).await;
        let (_a, sa, _ea) = connect(&hub.url()).await;
        let mut refused = 0;
        for i in 0..40 {
            let ack = notify(&sa, &format!("n{i}")).await;
            if ack["ok"] == json!(false) {
                assert!(ack["error"].as_str().unwrap().contains("slow down"));
                refused += 1;
            }
        }
        assert!(refused > 0, "40 notifications at once must hit the limit");
        // Another connection has its own budget.
        let (_b, sb, _eb) = connect(&hub.url()).await;
        assert_eq!(notify(&sb, "other").await["ok"], json!(true));
    })
    .await;
}

#[tokio::test]
async fn a_reconnecting_client_gets_what_it_missed_once_in_order() {
    bounded(async {
        let dir = TempDir::new("hub").unwrap();
        let hub = hub(&dir, &[]).await;
        let (_s, ss, _se) = connect(&hub.url()).await;
        let first = notify(&ss, "before").await["id"].as_u64().unwrap();

        // A listener that last saw `first`: everything after it, then live ones.
        let missed: Vec<u64> = {
            let mut ids = Vec::new();
            for i in 0..5 {
                ids.push(
                    notify(&ss, &format!("missed {i}")).await["id"]
                        .as_u64()
                        .unwrap(),
                );
            }
            ids
        };
        let (c, _s2, mut e) = ClientBuilder::new(hub.url())
            .auth(json!({"last_id": first}))
            .reconnect(fast())
            .connect()
            .unwrap();
        let live = tokio::spawn({
            let ss = ss.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(200)).await;
                notify(&ss, "live").await["id"].as_u64().unwrap()
            }
        });
        let mut got = Vec::new();
        while got.len() < missed.len() + 1 {
            let n = event(&mut e, "send_notification").await;
            got.push(n["id"].as_u64().unwrap());
        }
        let live = live.await.unwrap();
        let mut expected = missed.clone();
        expected.push(live);
        assert_eq!(got, expected, "replay in order, each once, then live");
        c.disconnect().await;
    })
    .await;
}

#[tokio::test]
async fn history_survives_a_hub_restart() {
    bounded(async {
        let dir = TempDir::new("hub").unwrap();
        let mut hub = hub(&dir, &[]).await;
        let (_c, s, _e) = connect(&hub.url()).await;
        let a = notify(&s, "one").await["id"].as_u64().unwrap();
        let b = notify(&s, "two").await["id"].as_u64().unwrap();
        s.emit_with_ack("text_update_request", json!({"text": "kept"}), WAIT)
            .await
            .unwrap();
        hub.restart().await.unwrap();

        let (c2, s2, mut e2) = resume(&hub.url(), json!({"last_id": 0}));
        let mut ids = Vec::new();
        while ids.len() < 2 {
            ids.push(
                event(&mut e2, "send_notification").await["id"]
                    .as_u64()
                    .unwrap(),
            );
        }
        assert_eq!(ids, vec![a, b]);
        let c = notify(&s2, "three").await["id"].as_u64().unwrap();
        assert!(c > b, "ids continue after a restart");
        let history = s2
            .emit_with_ack("history_request", json!({"limit": 10}), WAIT)
            .await
            .unwrap();
        let titles: Vec<Value> = history.first().unwrap()["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["title"].clone())
            .collect();
        assert_eq!(titles, vec![json!("one"), json!("two"), json!("three")]);
        c2.disconnect().await;
        let (_c3, _s3, mut e3) = connect(&hub.url()).await;
        assert_eq!(event(&mut e3, "text_update").await, json!({"text": "kept"}));
    })
    .await;
}

#[tokio::test]
async fn tokens_are_checked() {
    bounded(async {
        let dir = TempDir::new("hub").unwrap();
        let hub = hub(&dir, &["--token", "s3cret", "--token", "other"]).await;
        for (auth, expect) in [
            (None, "authentication required"),
            (Some(json!({"token": "nope"})), "invalid token"),
        ] {
            let mut b = ClientBuilder::new(hub.url()).reconnect(ReconnectPolicy::disabled());
            if let Some(a) = auth {
                b = b.auth(a);
            }
            let (_c, _s, mut e) = b.connect().unwrap();
            match next(&mut e).await {
                SocketEvent::ConnectError(data) => {
                    assert!(data["message"].as_str().unwrap().contains(expect), "{data}")
                }
                other => panic!("expected a refusal, got {other:?}"),
            }
        }
        for token in ["s3cret", "other"] {
            let (c, _s, mut e) = resume(&hub.url(), json!({"token": token}));
            assert!(matches!(next(&mut e).await, SocketEvent::Connected { .. }));
            c.disconnect().await;
        }
    })
    .await;
}

#[tokio::test]
async fn foreign_browser_origins_are_refused() {
    bounded(async {
        let dir = TempDir::new("hub").unwrap();
        let hub = hub(&dir, &["--allow-origin", "https://app.example"]).await;
        let port = hub.port();
        let get = |origin: Option<String>| async move {
            let mut req = format!("GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
            if let Some(o) = origin {
                req.push_str(&format!("Origin: {o}\r\n"));
            }
            req.push_str("\r\n");
            raw_status(port, &req).await
        };
        assert_eq!(get(None).await, 200, "native clients send no Origin");
        assert_eq!(get(Some(format!("http://127.0.0.1:{port}"))).await, 200, "same origin");
        assert_eq!(get(Some("http://localhost:1420".into())).await, 200, "loopback");
        assert_eq!(get(Some("https://app.example".into())).await, 200, "allow-listed");
        assert_eq!(get(Some("https://evil.example".into())).await, 403);
        // The UI is served with a strict CSP.
        let ui = http_get(port, "/").await.unwrap();
        assert_eq!(ui.status, 200);
        assert!(ui.header("content-security-policy").unwrap().contains("script-src 'self'"));
    })
    .await;
}

async fn raw_status(port: u16, request: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    s.write_all(request.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(WAIT, s.read_to_end(&mut buf)).await;
    let head = String::from_utf8_lossy(&buf);
    head.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn send_listen_and_text_commands() {
    use tokio::io::AsyncBufReadExt;
    bounded(async {
        let dir = TempDir::new("hub").unwrap();
        let hub = hub(&dir, &[]).await;
        let url = hub.url();
        let run = |args: Vec<String>| async move {
            let out = tokio::process::Command::new(BIN)
                .args(&args)
                .env_remove("PUSHDESK_SERVER")
                .output()
                .await
                .unwrap();
            (
                out.status.success(),
                String::from_utf8_lossy(&out.stdout).into_owned(),
                String::from_utf8_lossy(&out.stderr).into_owned(),
            )
        };
        let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();

        let (ok, out, err) = run(s(&[
            "send",
            "--server",
            &url,
            "--title",
            "first",
            "--body",
            "b",
            "--tag",
            "t",
            "--url",
            "https://example.com",
        ]))
        .await;
        assert!(ok, "{err}");
        let first_id: u64 = out
            .trim()
            .strip_prefix("sent: id ")
            .unwrap()
            .parse()
            .unwrap();
        let (ok, _, err) = run(s(&[
            "send",
            "--server",
            &url,
            "--title",
            "bad",
            "--url",
            "javascript:x",
        ]))
        .await;
        assert!(!ok && err.contains("url"), "{err}");
        let (ok, _, err) = run(s(&[
            "send",
            "--server",
            "http://127.0.0.1:1",
            "--title",
            "x",
            "--timeout",
            "2",
        ]))
        .await;
        assert!(
            !ok && err.lines().count() >= 1 && err.contains("error:"),
            "{err}"
        );

        let (ok, _, err) = run(s(&["text", "--server", &url, "--set", "共有"])).await;
        assert!(ok, "{err}");
        let (ok, out, _) = run(s(&["text", "--server", &url])).await;
        assert!(ok);
        assert_eq!(out.trim_end(), "共有");

        // listen --since: the history after that id first, then live ones.
        run(s(&["send", "--server", &url, "--title", "second"])).await;
        let mut child = tokio::process::Command::new(BIN)
            .args([
                "listen",
                "--json",
                "--no-notify",
                "--server",
                &url,
                "--since",
                &first_id.to_string(),
            ])
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let mut titles = Vec::new();
        while titles.len() < 2 {
            let line = tokio::time::timeout(WAIT, lines.next_line())
                .await
                .unwrap()
                .unwrap()
                .unwrap();
            let v: Value = serde_json::from_str(&line).unwrap();
            if v["event"] == json!("send_notification") {
                titles.push(v["data"]["title"].as_str().unwrap().to_owned());
                if titles.len() == 1 {
                    let (ok, _, err) = run(s(&[
                        "send", "--server", &url, "--title", "third", "--action",
                        "approve=Approve", "--action", "reject=Reject",
                    ]))
                    .await;
                    assert!(ok, "{err}");
                } else {
                    // Its buttons came with it.
                    assert_eq!(
                        v["data"]["actions"],
                        json!([{"id": "approve", "title": "Approve"}, {"id": "reject", "title": "Reject"}])
                    );
                }
            }
        }
        assert_eq!(titles, vec!["second", "third"]);
        let (ok, _, err) = run(s(&["send", "--server", &url, "--title", "x", "--action", "approve"])).await;
        assert!(!ok && err.contains("ID=LABEL"), "{err}");
    })
    .await;
}

#[tokio::test]
async fn rapid_text_updates_end_on_the_last_one() {
    bounded(async {
        let dir = TempDir::new("hub").unwrap();
        let hub = hub(&dir, &[]).await;
        let (_a, sa, _ea) = connect_settled(&hub.url()).await;
        let (_b, _sb, mut eb) = connect_settled(&hub.url()).await;
        // Far past the text rate, without acks, like the seed page while typing.
        for i in 0..=200 {
            sa.emit("text_update_request", json!({"text": format!("draft {i}")}))
                .unwrap();
        }
        // B ends on the last one (whatever it saw on the way, in order).
        let mut last = -1i64;
        loop {
            let v = event(&mut eb, "text_update").await;
            let n: i64 = v["text"]
                .as_str()
                .unwrap()
                .trim_start_matches("draft ")
                .parse()
                .unwrap();
            assert!(n > last, "text updates went backwards: {n} after {last}");
            last = n;
            if n == 200 {
                break;
            }
        }
        // And the hub stored it.
        let (_c, _sc, mut ec) = connect(&hub.url()).await;
        assert_eq!(
            event(&mut ec, "text_update").await,
            json!({"text": "draft 200"})
        );
    })
    .await;
}

#[tokio::test]
async fn a_client_from_another_history_epoch_is_replayed_from_the_start() {
    bounded(async {
        // The hub a client knew: three notifications, seen up to id 3.
        let old_dir = TempDir::new("hub-old").unwrap();
        let old = hub(&old_dir, &[]).await;
        let (_c, s, mut e) = connect(&old.url()).await;
        let old_epoch = event(&mut e, "welcome").await["epoch"]
            .as_str()
            .unwrap()
            .to_owned();
        for i in 0..3 {
            notify(&s, &format!("old {i}")).await;
        }
        // The same hub after a restart keeps its epoch.
        drop((s, e));
        let mut old = old;
        old.restart().await.unwrap();
        let (_c, _s, mut e) = connect(&old.url()).await;
        assert_eq!(event(&mut e, "welcome").await["epoch"], old_epoch.as_str());

        // Its data wiped: ids start at 1 again under a new epoch.
        let new_dir = TempDir::new("hub-new").unwrap();
        let new = hub(&new_dir, &[]).await;
        let (_c, s, _e) = connect_settled(&new.url()).await;
        for i in 0..2 {
            assert_eq!(notify(&s, &format!("new {i}")).await["id"], i + 1);
        }
        // The client says where it was; the hub replays the new ones anyway.
        let (c, _s, mut e) = resume(&new.url(), json!({"last_id": 3, "epoch": old_epoch}));
        let welcome = event(&mut e, "welcome").await;
        let new_epoch = welcome["epoch"].as_str().unwrap().to_owned();
        assert_ne!(new_epoch, old_epoch);
        let mut titles = Vec::new();
        while titles.len() < 2 {
            titles.push(event(&mut e, "send_notification").await["title"].clone());
        }
        assert_eq!(titles, [json!("new 0"), json!("new 1")]);
        c.disconnect().await;
        // In the same epoch, only what came after.
        let (c, _s, mut e) = resume(&new.url(), json!({"last_id": 1, "epoch": new_epoch}));
        assert_eq!(event(&mut e, "send_notification").await["title"], "new 1");
        c.disconnect().await;
    })
    .await;
}

#[tokio::test]
async fn a_gap_larger_than_a_replay_page_and_the_send_buffer_is_replayed_whole() {
    bounded(async {
        let dir = TempDir::new("hub-gap").unwrap();
        let hub = hub(
            &dir,
            &["--notify-rate", "100000", "--notify-burst", "100000"],
        )
        .await;
        let (_c, s, _e) = connect_settled(&hub.url()).await;
        // More than one replay page (1000) and the per-socket send buffer (1024).
        const N: u64 = 2500;
        let mut pending = Vec::new();
        for i in 0..N {
            let s = s.clone();
            pending.push(tokio::spawn(async move {
                s.emit_with_ack(
                    "send_notification_request",
                    json!({"text": format!("n{i}")}),
                    WAIT,
                )
                .await
            }));
        }
        for p in pending {
            p.await.unwrap().unwrap();
        }
        // A client that was away since id 0 gets every one, in order, once.
        let (c, _s, mut e) = resume(&hub.url(), json!({"last_id": 0}));
        let mut ids = Vec::new();
        while ids.len() < N as usize {
            ids.push(
                event(&mut e, "send_notification").await["id"]
                    .as_u64()
                    .unwrap(),
            );
        }
        assert_eq!(ids, (1..=N).collect::<Vec<_>>());
        c.disconnect().await;
    })
    .await;
}

/// A client that stops reading for a moment while notifications keep coming
/// live: once its send buffer is full the hub stops sending to it and
/// disconnects it rather than skip one (a client that then reads on would
/// see a gap), and back after the last id it got it replays the rest:
/// every id, once, in order, also those published after it read again.
/// (A raw WebSocket: our client keeps reading into its own queue.)
#[tokio::test]
async fn a_client_that_stops_reading_for_a_moment_misses_nothing() {
    use futures_util::{SinkExt as _, StreamExt as _};
    use tokio_tungstenite::tungstenite::Message;
    bounded(async {
        let dir = TempDir::new("hub-slow-reader").unwrap();
        let hub = hub(
            &dir,
            &["--notify-rate", "100000", "--notify-burst", "100000"],
        )
        .await;
        let (_c, s, _e) = connect_settled(&hub.url()).await;
        let publish = |from: u64, to: u64| {
            let s = s.clone();
            async move {
                // About 4 KiB each, so the buffers fill soon.
                let body = "x".repeat(4000);
                let mut pending = Vec::new();
                for i in from..to {
                    let (s, body) = (s.clone(), body.clone());
                    pending.push(tokio::spawn(async move {
                        s.emit_with_ack(
                            "send_notification_request",
                            json!({"text": format!("n{i}"), "body": body}),
                            WAIT,
                        )
                        .await
                    }));
                }
                for p in pending {
                    p.await.unwrap().unwrap();
                }
            }
        };
        let ws_url = format!(
            "{}/socket.io/?EIO=4&transport=websocket",
            hub.url().replacen("http", "ws", 1)
        );
        let (mut ws, _) = tokio_tungstenite::connect_async(ws_url).await.unwrap();
        loop {
            match ws.next().await {
                Some(Ok(Message::Text(t))) if t.starts_with('0') => break,
                Some(Ok(_)) => {}
                other => panic!("no open packet: {other:?}"),
            }
        }
        ws.send(Message::text("40")).await.unwrap();
        loop {
            match tokio::time::timeout(WAIT, ws.next()).await.unwrap() {
                Some(Ok(Message::Text(t))) if t.starts_with("40") => break,
                Some(Ok(_)) => {}
                other => panic!("no connect ack: {other:?}"),
            }
        }
        // It reads nothing while more arrive than its send buffer (1024
        // packets) and the kernel's socket buffers hold...
        const FIRST: u64 = 3000;
        const MORE: u64 = 100;
        publish(0, FIRST).await;
        // ...then reads on (answering pings), while more are published.
        let mut ids: Vec<u64> = Vec::new();
        let mut disconnected = false;
        let mut published_more = false;
        loop {
            let idle = Duration::from_secs(3);
            match tokio::time::timeout(idle, ws.next()).await {
                Ok(Some(Ok(Message::Text(t)))) if t.starts_with("42") => {
                    let event: Value = serde_json::from_str(&t[2..]).unwrap();
                    if event[0] == "send_notification" {
                        ids.push(event[1]["id"].as_u64().unwrap());
                    }
                }
                Ok(Some(Ok(Message::Text(t)))) if t == "2" => {
                    let _ = ws.send(Message::text("3")).await;
                }
                Ok(Some(Ok(Message::Text(t)))) if t.starts_with("41") => {
                    disconnected = true;
                    break;
                }
                Ok(Some(Ok(Message::Close(_)) | Err(_)) | None) => {
                    disconnected = true;
                    break;
                }
                Ok(Some(Ok(_))) => {}
                Err(_) if !published_more => {
                    published_more = true;
                    publish(FIRST, FIRST + MORE).await;
                }
                Err(_) => break,
            }
        }
        assert!(
            disconnected,
            "the hub kept the connection after skipping: {} read",
            ids.len()
        );
        assert_eq!(
            ids,
            (1..=ids.len() as u64).collect::<Vec<_>>(),
            "nothing skipped before the disconnect"
        );
        if !published_more {
            publish(FIRST, FIRST + MORE).await;
        }
        // Back after the last id it got: the rest, in order, once.
        let last = ids.last().copied().unwrap_or(0);
        let (c, _s, mut e) = resume(&hub.url(), json!({"last_id": last}));
        while (ids.len() as u64) < FIRST + MORE {
            ids.push(
                event(&mut e, "send_notification").await["id"]
                    .as_u64()
                    .unwrap(),
            );
        }
        assert_eq!(ids, (1..=FIRST + MORE).collect::<Vec<_>>());
        c.disconnect().await;
    })
    .await;
}

#[tokio::test]
async fn a_notification_whose_ttl_passed_is_not_replayed() {
    bounded(async {
        let dir = TempDir::new("hub-ttl").unwrap();
        let hub = hub(&dir, &[]).await;
        let (_c, s, _e) = connect_settled(&hub.url()).await;
        for request in [
            json!({"text": "short-lived", "ttl": 200}),
            json!({"text": "kept"}),
            json!({"text": "long-lived", "ttl": 3_600_000}),
        ] {
            let ack = s
                .emit_with_ack("send_notification_request", request, WAIT)
                .await
                .unwrap();
            assert_eq!(ack.first().unwrap()["ok"], true, "{ack:?}");
        }
        tokio::time::sleep(Duration::from_millis(600)).await;
        let (c, _s, mut e) = resume(&hub.url(), json!({"last_id": 0}));
        let first = event(&mut e, "send_notification").await;
        assert_eq!(first["title"], "kept");
        assert_eq!(
            event(&mut e, "send_notification").await["title"],
            "long-lived"
        );
        c.disconnect().await;
    })
    .await;
}

/// Reads `listen --json` lines until a notification titled `want`; the
/// notification titles seen on the way are pushed to `titles`.
async fn until_title(
    lines: &mut tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
    titles: &mut Vec<String>,
    want: &str,
) {
    loop {
        let line = tokio::time::timeout(WAIT, lines.next_line())
            .await
            .expect("a line in time")
            .unwrap()
            .expect("listen still runs");
        let v: Value = serde_json::from_str(&line).unwrap();
        if v["event"] == "send_notification" {
            titles.push(v["data"]["title"].as_str().unwrap().to_owned());
            if titles.last().map(String::as_str) == Some(want) {
                return;
            }
        }
    }
}

#[tokio::test]
async fn listen_prints_a_wiped_hubs_new_notifications() {
    use tokio::io::AsyncBufReadExt as _;
    bounded(async {
        let dir = TempDir::new("hub-wiped").unwrap();
        let mut hub = hub(&dir, &[]).await;
        let url = hub.url();
        let mut child = tokio::process::Command::new(BIN)
            .args(["listen", "--json", "--no-notify", "--server", &url])
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut lines = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let mut titles = Vec::new();
        // Wait until listen is connected (its welcome), then publish.
        loop {
            let line = tokio::time::timeout(WAIT, lines.next_line())
                .await
                .unwrap()
                .unwrap()
                .unwrap();
            if line.contains("\"welcome\"") {
                break;
            }
        }
        let (_c, s, _e) = connect_settled(&url).await;
        notify(&s, "before 1").await;
        notify(&s, "before 2").await;
        until_title(&mut lines, &mut titles, "before 2").await;
        drop(s);

        // The data directory is wiped: the same hub hands out ids from 1 again.
        hub.kill().await.unwrap();
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let path = entry.unwrap().path();
            if path
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("pushdesk.sqlite3")
            {
                std::fs::remove_file(path).unwrap();
            }
        }
        hub.restart().await.unwrap();
        let (_c, s, _e) = connect_settled(&url).await;
        assert_eq!(notify(&s, "after 1").await["id"], 1);
        until_title(&mut lines, &mut titles, "after 1").await;
        assert_eq!(notify(&s, "after 2").await["id"], 2);
        until_title(&mut lines, &mut titles, "after 2").await;
        assert_eq!(titles, ["before 1", "before 2", "after 1", "after 2"]);
    })
    .await;
}

/// The next NDJSON line of an HTTP stream that satisfies `pred` (others skipped).
async fn stream_line(
    lines: &mut tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
    pred: impl Fn(&Value) -> bool,
) -> Value {
    loop {
        let line = tokio::time::timeout(WAIT, lines.next_line())
            .await
            .expect("a stream line in time")
            .unwrap()
            .expect("the stream goes on");
        let v: Value = serde_json::from_str(&line).unwrap();
        if pred(&v) {
            return v;
        }
    }
}

/// `prlimit --pid PID --fsize=SOFT:` on the running hub (the hard limit
/// untouched, so it can be raised again without privileges).
async fn set_file_size_limit(hub: &HubProcess, soft: &str) {
    let pid = hub.pid().expect("the hub runs").to_string();
    let out = tokio::process::Command::new("prlimit")
        .args(["--pid", &pid, &format!("--fsize={soft}:")])
        .output()
        .await
        .expect("prlimit (util-linux) runs");
    assert!(
        out.status.success(),
        "prlimit: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Stores nothing while every write of the hub's fails (a file size limit
/// of 1 byte: the kernel refuses each write past offset 1 with EFBIG, as a
/// full disk refuses it with ENOSPC; this works as any user, in any
/// container, unlike mounting a small filesystem): the senders, over
/// Socket.IO and HTTP, are told it was not stored, the connected client gets
/// it anyway, and once writes work again the history holds exactly the
/// acked notifications.
#[tokio::test]
async fn a_store_that_cannot_write_is_an_error_to_the_sender_and_live_delivery_goes_on() {
    bounded(async {
        let dir = TempDir::new("hub").unwrap();
        let hub = hub(&dir, &[]).await;
        let (_l, _ls, mut le) = connect_settled(&hub.url()).await;
        let (_s, ss, _se) = connect_settled(&hub.url()).await;
        // An HTTP subscriber (ntfy-style NDJSON stream) is a connected client too.
        let mut stream = tokio::process::Command::new("curl")
            .args(["-sN", "--max-time", "60"])
            .arg(format!("{}/default/json", hub.url()))
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("curl runs");
        let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(
            stream.stdout.take().unwrap(),
        ));
        let open = stream_line(&mut lines, |m| m["event"] == json!("open")).await;
        assert_eq!(open["topic"], json!("default"));
        let first = notify(&ss, "stored before").await;
        assert_eq!(first["ok"], json!(true), "{first}");
        event_where(&mut le, "send_notification", |n| {
            n["title"] == json!("stored before")
        })
        .await;

        set_file_size_limit(&hub, "1").await;
        let ack = notify(&ss, "not stored").await;
        assert_eq!(ack["ok"], json!(false), "the sender is told: {ack}");
        assert!(
            ack["error"]
                .as_str()
                .unwrap()
                .contains("not in the history"),
            "{ack}"
        );
        let live = event_where(&mut le, "send_notification", |n| {
            n["title"] == json!("not stored")
        })
        .await;
        assert_eq!(
            live.get("id"),
            None,
            "delivered live, with no id to replay it by: {live}"
        );
        let streamed = stream_line(&mut lines, |m| m["title"] == json!("not stored")).await;
        assert_eq!(
            streamed.get("id"),
            None,
            "streamed live, without an id: {streamed}"
        );

        let out = tokio::process::Command::new("curl")
            .args([
                "-s",
                "-S",
                "--max-time",
                "10",
                "-w",
                "\n%{http_code}",
                "-d",
                r#"{"title":"not stored either"}"#,
            ])
            .arg(format!("{}/api/v1/notifications", hub.url()))
            .output()
            .await
            .expect("curl runs");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let (body, code) = text.rsplit_once('\n').unwrap();
        assert!(code.trim().starts_with('5'), "a 5xx: {code} {body}");
        let body: Value = serde_json::from_str(body).expect("a JSON error");
        assert!(
            body["error"]
                .as_str()
                .unwrap()
                .contains("not in the history"),
            "{body}"
        );
        event_where(&mut le, "send_notification", |n| {
            n["title"] == json!("not stored either")
        })
        .await;

        set_file_size_limit(&hub, "unlimited").await;
        let after = notify(&ss, "stored after").await;
        assert_eq!(
            after["ok"],
            json!(true),
            "the hub survived and stores again: {after}"
        );
        let (c, _s2, mut e2) = resume(&hub.url(), json!({"last_id": 0}));
        let mut titles = Vec::new();
        while titles.len() < 2 {
            titles.push(event(&mut e2, "send_notification").await["title"].clone());
        }
        assert_eq!(titles, vec![json!("stored before"), json!("stored after")]);
        assert_eq!(
            after["id"].as_u64(),
            first["id"].as_u64().map(|i| i + 1),
            "no id spent on what was not stored"
        );
        c.disconnect().await;
    })
    .await;
}

/// An HTTP/1.1 keep-alive connection that has been answered once, so the
/// hub has accepted it and holds its slot.
async fn held_connection(port: u16) -> tokio::net::TcpStream {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    s.write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(WAIT, s.read(&mut buf))
        .await
        .expect("an answer in time")
        .unwrap();
    let head = String::from_utf8_lossy(&buf[..n]).into_owned();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    s
}

/// `curl` GET: the status and the body.
async fn curl_get(url: &str) -> (u16, String) {
    let out = tokio::process::Command::new("curl")
        .args(["-s", "-S", "--max-time", "10", "-w", "\n%{http_code}", url])
        .output()
        .await
        .expect("curl runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (code.trim().parse().unwrap_or(0), body.to_owned())
}

/// `--max-connections-per-ip 3`: with three connections open from
/// 127.0.0.1, a fourth (curl, a Socket.IO client) is refused with 429 and a
/// JSON error naming the cap while the three keep working; closing one
/// frees its slot.
#[tokio::test]
async fn connections_per_address_are_capped_with_a_clear_refusal() {
    bounded(async {
        let dir = TempDir::new("hub").unwrap();
        let hub = hub(&dir, &["--max-connections-per-ip", "3"]).await;
        let mut held = Vec::new();
        for _ in 0..3 {
            held.push(held_connection(hub.port()).await);
        }
        let (code, body) = curl_get(&format!("{}/health", hub.url())).await;
        assert_eq!(code, 429, "{body}");
        let body: Value = serde_json::from_str(&body).expect("a JSON error");
        assert!(
            body["error"]
                .as_str()
                .unwrap()
                .contains("at most 3 at once"),
            "{body}"
        );

        // A Socket.IO client is refused too, and its state says why.
        let (c, _s, mut e) = ClientBuilder::new(hub.url())
            .reconnect(ReconnectPolicy::disabled())
            .connect()
            .unwrap();
        while let Some(ev) = tokio::time::timeout(WAIT, e.next())
            .await
            .expect("the client stops in time")
        {
            assert!(
                !matches!(ev, SocketEvent::Connected { .. }),
                "a refused client must not connect"
            );
        }
        let state = format!("{:?}", c.state());
        assert!(state.contains("429"), "the client is told why: {state}");

        // The three held connections still work.
        {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let s = &mut held[0];
            s.write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                .await
                .unwrap();
            let mut buf = vec![0u8; 4096];
            let n = tokio::time::timeout(WAIT, s.read(&mut buf))
                .await
                .unwrap()
                .unwrap();
            assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
        }

        // A closed connection gives its slot back (once the hub has seen it close).
        drop(held.pop());
        loop {
            let (code, body) = curl_get(&format!("{}/health", hub.url())).await;
            if code == 200 {
                break;
            }
            assert_eq!(code, 429, "{body}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
}

/// A small tmpfs mounted over a directory, unmounted when dropped.
struct SmallDisk(std::path::PathBuf);

impl SmallDisk {
    /// Mounts a `size` tmpfs at `dir`; `None` where mounting is not allowed
    /// (not root, no CAP_SYS_ADMIN).
    fn mount(dir: &Path, size: &str) -> Option<SmallDisk> {
        let out = std::process::Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size}"),
                "pushdesk-test",
            ])
            .arg(dir)
            .output()
            .ok()?;
        if out.status.success() {
            Some(SmallDisk(dir.to_owned()))
        } else {
            eprintln!(
                "SKIPPED the real full disk: cannot mount a tmpfs here ({}); \
                 a_store_that_cannot_write_… covers the same path with a file size limit",
                String::from_utf8_lossy(&out.stderr).trim()
            );
            None
        }
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

/// Fills the filesystem of `dir` with one file until it is full.
fn fill(path: &Path) {
    use std::io::Write as _;
    let mut f = std::fs::File::create(path).unwrap();
    let chunk = vec![0u8; 64 * 1024];
    while f.write_all(&chunk).is_ok() {}
    let _ = f.flush();
}

/// A really full disk (a 2 MiB tmpfs under the data directory, filled up
/// while the hub runs): the sender gets an error, the connected client the
/// notification; once space is freed, the hub stores again. Skipped, with
/// a message, where a tmpfs cannot be mounted.
#[tokio::test]
async fn a_full_disk_is_an_error_to_the_sender_and_live_delivery_goes_on() {
    bounded(async {
        let dir = TempDir::new("hub").unwrap();
        let Some(disk) = SmallDisk::mount(dir.path(), "2m") else {
            return;
        };
        let data = dir.path().join("data");
        let hub = hub_in(&data, &["--notify-rate", "1000", "--notify-burst", "1000"]).await;
        let (_l, _ls, mut le) = connect_settled(&hub.url()).await;
        let (_s, ss, _se) = connect_settled(&hub.url()).await;
        assert_eq!(notify(&ss, "stored before").await["ok"], json!(true));

        let filler = dir.path().join("filler");
        fill(&filler);
        // Each notification's WAL frames need pages the disk no longer has;
        // publish until SQLite meets the full disk (the first may still fit
        // in space the WAL already holds).
        let mut ack = Value::Null;
        for i in 0..200 {
            let body = "x".repeat(4000);
            ack = ss
                .emit_with_ack(
                    "send_notification_request",
                    json!({"text": format!("full {i}"), "body": body}),
                    WAIT,
                )
                .await
                .unwrap()
                .first()
                .cloned()
                .unwrap();
            if ack["ok"] == json!(false) {
                let title = json!(format!("full {i}"));
                let live = event_where(&mut le, "send_notification", |n| n["title"] == title).await;
                assert_eq!(live.get("id"), None, "live, without an id: {live}");
                break;
            }
        }
        assert_eq!(
            ack["ok"],
            json!(false),
            "a full disk must be an error ack: {ack}"
        );
        assert!(
            ack["error"]
                .as_str()
                .unwrap()
                .contains("not in the history"),
            "{ack}"
        );

        std::fs::remove_file(&filler).unwrap();
        let after = notify(&ss, "stored after").await;
        assert_eq!(
            after["ok"],
            json!(true),
            "stores again once there is space: {after}"
        );
        drop(hub);
        drop(disk);
    })
    .await;
}
