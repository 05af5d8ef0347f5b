//! Channels, scoped tokens and plain-HTTP publish/subscribe, end to end: the
//! real `pushdesk serve` binary, published to with real `curl` in each
//! style (ntfy headers, ntfy JSON, native JSON, Gotify JSON and form) and
//! with Apprise (a third-party library that targets ntfy and Gotify, from
//! PyPI), heard by `pushdesk listen --channel`, by Socket.IO clients
//! subscribed to channels, by ntfy-style NDJSON/SSE streams, and across two
//! nodes over a real Redis.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use pushdesk_e2e::{HubProcess, RedisServer, TempDir};
use pushdesk_socketio::{ClientBuilder, Events, Socket, SocketEvent, Value, json};
use tokio::io::{AsyncBufReadExt as _, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

const WAIT: Duration = Duration::from_secs(15);
const BIN: &str = env!("CARGO_BIN_EXE_pushdesk");

async fn bounded<F: std::future::Future<Output = ()>>(f: F) {
    tokio::time::timeout(Duration::from_secs(120), f)
        .await
        .expect("test within 120 s");
}

/// `curl ARGS… URL`: the status and the body.
async fn curl(args: &[&str]) -> (u16, String) {
    let out = Command::new("curl")
        .args(["-s", "-S", "--max-time", "10", "-w", "\n%{http_code}"])
        .args(args)
        .output()
        .await
        .expect("curl runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (code.trim().parse().unwrap_or(0), body.to_owned())
}

async fn pushdesk(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .env_remove("PUSHDESK_SERVER")
        .env_remove("PUSHDESK_TOKEN")
        .env_remove("PUSHDESK_TOKENS_FILE")
        .output()
        .await
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `pushdesk token add --tokens-file FILE ARGS…`: the new token.
async fn add_token(file: &Path, args: &[&str]) -> String {
    let f = file.to_str().expect("a UTF-8 path");
    let mut all = vec!["token", "add", "--tokens-file", f];
    all.extend(args);
    let (ok, out, err) = pushdesk(&all).await;
    assert!(ok, "{err}");
    out.trim().to_owned()
}

/// The Python of the test venv (the seed's peers and Apprise), made on first use.
async fn venv_python() -> std::path::PathBuf {
    tokio::task::spawn_blocking(pushdesk_e2e::ensure_python_venv)
        .await
        .expect("the venv task")
        .expect("the Python venv (tests/peers/python/requirements.txt)")
}

/// A process whose stdout is read line by line.
struct Lined {
    _child: Child,
    lines: Lines<BufReader<ChildStdout>>,
}

impl Lined {
    fn spawn(mut cmd: Command) -> Self {
        let mut child = cmd
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("spawns");
        let out = child.stdout.take().expect("stdout");
        Self {
            _child: child,
            lines: BufReader::new(out).lines(),
        }
    }

    async fn line(&mut self) -> String {
        tokio::time::timeout(WAIT, self.lines.next_line())
            .await
            .expect("a line in time")
            .expect("readable")
            .expect("still running")
    }

    /// Lines until one satisfies `pred`; that one.
    async fn until(&mut self, pred: impl Fn(&str) -> bool) -> String {
        loop {
            let l = self.line().await;
            if pred(&l) {
                return l;
            }
        }
    }
}

/// `pushdesk listen --json --no-notify --channel …`, once connected.
async fn listen(url: &str, channels: &[&str], token: Option<&str>) -> Lined {
    let mut cmd = Command::new(BIN);
    cmd.args(["listen", "--json", "--no-notify", "--server", url]);
    for c in channels {
        cmd.args(["--channel", c]);
    }
    if let Some(t) = token {
        cmd.args(["--token", t]);
    }
    let mut l = Lined::spawn(cmd);
    l.until(|l| l.contains("\"welcome\"")).await;
    l
}

/// The titles of the next `n` notifications a listener prints.
async fn titles(l: &mut Lined, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    while out.len() < n {
        let v: Value = serde_json::from_str(&l.line().await).unwrap();
        if v["event"] == "send_notification" {
            out.push(v["data"]["title"].as_str().unwrap().to_owned());
        }
    }
    out
}

/// A Socket.IO client with this auth, once the hub welcomed it.
async fn socket(url: &str, auth: Value) -> (pushdesk_socketio::Client, Socket, Events) {
    let (c, s, mut e) = ClientBuilder::new(url).auth(auth).connect().unwrap();
    event(&mut e, "welcome").await;
    (c, s, e)
}

async fn event(e: &mut Events, name: &str) -> Value {
    loop {
        let ev = tokio::time::timeout(WAIT, e.next())
            .await
            .expect("an event in time")
            .expect("client running");
        match ev {
            SocketEvent::Event(ev) if ev.name == name => {
                return ev.payload.first().cloned().unwrap_or(Value::Null);
            }
            SocketEvent::ConnectError(err) => panic!("refused: {err:?}"),
            _ => {}
        }
    }
}

/// Emits with an ack and returns the ack's first argument.
async fn ask(s: &Socket, name: &str, data: Value) -> Value {
    let reply = s.emit_with_ack(name, data, WAIT).await.expect("acked");
    reply.first().cloned().expect("an ack argument")
}

/// No `send_notification` arrives within a moment.
async fn quiet(e: &mut Events) {
    let got = tokio::time::timeout(Duration::from_millis(700), event(e, "send_notification")).await;
    assert!(got.is_err(), "unexpected notification: {got:?}");
}

async fn hub(dir: &TempDir, extra: &[&str]) -> HubProcess {
    HubProcess::start(Path::new(BIN), dir.path(), extra)
        .await
        .expect("hub starts")
}

#[tokio::test]
async fn every_publish_style_reaches_its_channel_and_only_it() {
    bounded(async {
        let dir = TempDir::new("channels").unwrap();
        let hub = hub(&dir, &[]).await;
        let url = hub.url();
        let mut listener = listen(&url, &["ops"], None).await;
        let (_c1, _s1, mut ops) = socket(&url, json!({"channels": ["ops"]})).await;
        // A seed-style client names no channel: it hears `default` only.
        let (_c2, _s2, mut seed) = socket(&url, json!({})).await;

        let (code, body) = curl(&[
            "-d",
            "Disk at 91%",
            "-H",
            "Title: ntfy headers",
            "-H",
            "Priority: 5",
            "-H",
            "Tags: warning,db",
            "-H",
            "Click: https://grafana.example/d/1",
            &format!("{url}/ops"),
        ])
        .await;
        assert_eq!(code, 200, "{body}");
        let answer: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(answer["topic"], "ops");
        assert_eq!(answer["event"], "message");
        let (code, body) = curl(&[
            "-d",
            r#"{"topic":"ops","title":"ntfy json","message":"m","priority":2}"#,
            &format!("{url}/"),
        ])
        .await;
        assert_eq!(code, 200, "{body}");
        let (code, body) = curl(&[
            "-H",
            "Content-Type: application/json",
            "-d",
            r#"{"title":"native","body":"b","channel":"ops","tag":"t1"}"#,
            &format!("{url}/api/v1/notifications"),
        ])
        .await;
        assert_eq!(code, 201, "{body}");
        let id = serde_json::from_str::<Value>(&body).unwrap()["id"]
            .as_u64()
            .unwrap();
        assert!(id > 0);
        let (ok, _, err) = pushdesk(&[
            "send",
            "--server",
            &url,
            "--channel",
            "ops",
            "--title",
            "cli",
        ])
        .await;
        assert!(ok, "{err}");
        let (code, body) =
            curl(&["-X", "PUT", "-d", "to default", &format!("{url}/default")]).await;
        assert_eq!(code, 200, "{body}");

        let want = ["ntfy headers", "ntfy json", "native", "cli"];
        assert_eq!(titles(&mut listener, 4).await, want);
        let first = event(&mut ops, "send_notification").await;
        assert_eq!(first["title"], "ntfy headers");
        assert_eq!(first["body"], "Disk at 91%");
        assert_eq!(first["channel"], "ops");
        assert_eq!(first["urgency"], "critical");
        assert_eq!(first["url"], "https://grafana.example/d/1");
        assert_eq!(first["data"]["tags"], json!(["warning", "db"]));
        for title in &want[1..] {
            assert_eq!(event(&mut ops, "send_notification").await["title"], *title);
        }
        let d = event(&mut seed, "send_notification").await;
        assert_eq!(
            d["title"], "default",
            "ntfy's untitled message takes the channel's name"
        );
        assert_eq!(d["body"], "to default");
        assert!(
            d.get("channel").is_none(),
            "the seed's shape for the default channel"
        );
        quiet(&mut seed).await;
        quiet(&mut ops).await;

        // Bad input: clear errors, nothing stored.
        let (code, body) = curl(&["-d", "x", "-H", "Priority: 9", &format!("{url}/ops")]).await;
        assert_eq!(code, 400, "{body}");
        assert!(body.contains("priority"), "{body}");
        let (code, body) = curl(&["-d", "x", &format!("{url}/bad.name")]).await;
        assert_eq!(code, 400, "{body}");
        let big = "x".repeat(5000);
        let (code, body) = curl(&["-d", &big, &format!("{url}/ops")]).await;
        assert_eq!(code, 413, "{body}");
        let huge = dir.path().join("huge.json");
        std::fs::write(&huge, "y".repeat(300 * 1024)).unwrap();
        let huge = format!("@{}", huge.display());
        let (code, _) = curl(&[
            "-H",
            "Content-Type: application/json",
            "--data-binary",
            &huge,
            &format!("{url}/api/v1/notifications"),
        ])
        .await;
        assert_eq!(code, 413);
        let (code, body) = curl(&["-d", "{not json", &format!("{url}/api/v1/notifications")]).await;
        assert_eq!(code, 400, "{body}");
        assert!(serde_json::from_str::<Value>(&body).unwrap()["error"].is_string());
        quiet(&mut ops).await;
        // The UI is still served at / and at its files.
        let (code, body) = curl(&[&format!("{url}/")]).await;
        assert_eq!(code, 200);
        assert!(
            body.contains("<html") || body.contains("<!doctype"),
            "{body}"
        );
    })
    .await;
}

#[tokio::test]
async fn ntfy_streams_replay_since_and_follow_live() {
    bounded(async {
        let dir = TempDir::new("streams").unwrap();
        let hub = hub(&dir, &[]).await;
        let url = hub.url();
        let mut ids = Vec::new();
        for (channel, title) in [("ops", "o1"), ("ci", "c1"), ("ops", "o2"), ("other", "x")] {
            let (code, body) = curl(&[
                "-H",
                &format!("Title: {title}"),
                "-d",
                "m",
                &format!("{url}/{channel}"),
            ])
            .await;
            assert_eq!(code, 200, "{body}");
            ids.push(
                serde_json::from_str::<Value>(&body).unwrap()["id"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            );
        }
        let poll = |q: &str| format!("{url}/ops,ci/json?poll=1&{q}");
        let lines = |body: String| -> Vec<Value> {
            body.lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect()
        };
        let (code, body) = curl(&[&poll("since=all")]).await;
        assert_eq!(code, 200);
        let all = lines(body);
        let got: Vec<&str> = all.iter().map(|m| m["title"].as_str().unwrap()).collect();
        assert_eq!(
            got,
            ["o1", "c1", "o2"],
            "both channels, in order, not `other`"
        );
        assert!(all.iter().all(|m| m["event"] == "message"));
        let (_, body) = curl(&[&poll(&format!("since={}", ids[0]))]).await;
        let got: Vec<String> = lines(body)
            .iter()
            .map(|m| m["title"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(got, ["c1", "o2"], "after an id");
        let (_, body) = curl(&[&poll("since=10m")]).await;
        assert_eq!(lines(body).len(), 3, "a duration");
        let (_, body) = curl(&[&format!("{url}/ops/raw?poll=1")]).await;
        assert_eq!(
            body, "m\nm\n",
            "a poll without since= returns everything kept"
        );
        let (_, body) = curl(&[&format!("{url}/ops/raw?poll=1&since=all")]).await;
        assert_eq!(body, "m\nm\n");
        let (code, _) = curl(&[&poll("since=yesterday")]).await;
        assert_eq!(code, 400);

        // Live: NDJSON and SSE both open, then hear what comes next, once.
        let mut nd = Command::new("curl");
        nd.args(["-sN", "--max-time", "60", &format!("{url}/ops/json")]);
        let mut nd = Lined::spawn(nd);
        let open: Value = serde_json::from_str(&nd.line().await).unwrap();
        assert_eq!(open["event"], "open");
        let mut sse = Command::new("curl");
        sse.args([
            "-sN",
            "--max-time",
            "60",
            &format!("{url}/ops,ci/sse?since={}", ids[2]),
        ]);
        let mut sse = Lined::spawn(sse);
        assert_eq!(sse.line().await, "event: open");
        curl(&["-H", "Title: live-ci", "-d", "m", &format!("{url}/ci")]).await;
        curl(&["-H", "Title: live-ops", "-d", "m", &format!("{url}/ops")]).await;
        let data = sse
            .until(|l| l.starts_with("data: ") && l.contains("\"message\""))
            .await;
        let m: Value = serde_json::from_str(data.trim_start_matches("data: ")).unwrap();
        assert_eq!(m["title"], "live-ci");
        let data = sse
            .until(|l| l.starts_with("data: ") && l.contains("\"message\""))
            .await;
        assert!(data.contains("live-ops"), "{data}");
        let m: Value = serde_json::from_str(&nd.line().await).unwrap();
        assert_eq!(
            m["title"], "live-ops",
            "the NDJSON stream skips ci and what came before"
        );
    })
    .await;
}

#[tokio::test]
async fn scoped_tokens_hold_on_http_and_socketio() {
    bounded(async {
        let dir = TempDir::new("tokens").unwrap();
        let file = dir.path().join("tokens.toml");
        let f = file.to_str().unwrap();
        let backups = add_token(&file, &["--name", "backups", "--read", "alerts-*", "--write", "backups"]).await;
        let full = add_token(&file, &["--name", "full", "--read", "*", "--write", "*", "--text"]).await;
        let nas = add_token(&file, &["--name", "nas", "--write", "nas"]).await;
        assert!(backups.starts_with("tk_") && backups.len() > 40);
        let stored = std::fs::read_to_string(&file).unwrap();
        assert!(!stored.contains(&backups), "the file keeps hashes only");
        let (ok, out, _) = pushdesk(&["token", "list", "--tokens-file", f]).await;
        assert!(ok && out.contains("backups\tread=alerts-*\twrite=backups\ttext=false"), "{out}");
        let (ok, _, err) = pushdesk(&["token", "add", "--tokens-file", f, "--name", "full", "--read", "*"]).await;
        assert!(!ok && err.contains("exists"), "{err}");

        let hub = hub(&dir, &["--tokens-file", f]).await;
        let url = hub.url();
        let bearer = |t: &str| format!("Authorization: Bearer {t}");

        // HTTP: write rights per channel, 401 without a known token, 403 by name.
        let (code, body) = curl(&["-H", &bearer(&backups), "-d", "ok", &format!("{url}/backups")]).await;
        assert_eq!(code, 200, "{body}");
        let (code, body) = curl(&["-H", &bearer(&backups), "-d", "no", &format!("{url}/alerts-db")]).await;
        assert_eq!(code, 403, "{body}");
        assert!(body.contains("alerts-db"), "refused by name: {body}");
        let (code, _) = curl(&["-d", "no", &format!("{url}/backups")]).await;
        assert_eq!(code, 401);
        let (code, _) = curl(&["-H", &bearer("pd_wrong"), "-d", "no", &format!("{url}/backups")]).await;
        assert_eq!(code, 401);
        let (code, body) = curl(&["-u", &format!(":{backups}"), "-d", "basic", &format!("{url}/backups")]).await;
        assert_eq!(code, 200, "Basic with the token as password: {body}");
        // Read rights on streams.
        let (code, _) = curl(&["-H", &bearer(&backups), &format!("{url}/alerts-x/json?poll=1")]).await;
        assert_eq!(code, 200);
        let (code, body) = curl(&["-H", &bearer(&backups), &format!("{url}/backups/json?poll=1")]).await;
        assert_eq!(code, 403, "{body}");

        // Gotify: the token's channel, JSON and form, token in the query or a header.
        let mut nas_listener = listen(&url, &["nas"], Some(&full)).await;
        let (code, body) = curl(&[
            "-H", "Content-Type: application/json",
            "-d", r#"{"title":"gotify json","message":"m","priority":8,"extras":{"client::notification":{"click":{"url":"https://nas.example"}}}}"#,
            &format!("{url}/message?token={nas}"),
        ])
        .await;
        assert_eq!(code, 200, "{body}");
        let g: Value = serde_json::from_str(&body).unwrap();
        assert!(g["id"].as_u64().is_some() && g["date"].is_string(), "{g}");
        // Gotify's own example: a multipart form (curl -F), token in the query.
        let (code, body) = curl(&["-F", "title=gotify multipart", "-F", "message=m2", "-F", "priority=5", &format!("{url}/message?token={nas}")]).await;
        assert_eq!(code, 200, "{body}");
        let (code, body) = curl(&["-H", &format!("X-Gotify-Key: {nas}"), "-d", "title=gotify form&message=m3", &format!("{url}/message")]).await;
        assert_eq!(code, 200, "{body}");
        // Without `channel` in the file, a token's Gotify channel is its one writable channel.
        let (code, body) = curl(&["-H", "Content-Type: application/json", "-d", r#"{"message":"m"}"#, &format!("{url}/message?token={backups}")]).await;
        assert_eq!(code, 200, "{body}");
        assert_eq!(
            titles(&mut nas_listener, 3).await,
            ["gotify json", "gotify multipart", "gotify form"]
        );

        // Socket.IO: subscriptions beyond the read rights are refused by name.
        let (_c, _s, mut e) = ClientBuilder::new(&url)
            .auth(json!({"token": backups, "channels": ["alerts-db", "backups"]}))
            .reconnect(pushdesk_socketio::ReconnectPolicy { max_attempts: Some(0), ..Default::default() })
            .connect()
            .unwrap();
        let refused = loop {
            match tokio::time::timeout(WAIT, e.next()).await.unwrap().unwrap() {
                SocketEvent::ConnectError(v) => break v.to_string(),
                SocketEvent::Connected { .. } => panic!("connected beyond its rights"),
                _ => {}
            }
        };
        assert!(refused.contains("backups"), "{refused}");
        let (_c, s, mut e) = socket(&url, json!({"token": backups, "channels": ["alerts-db"]})).await;
        let ack = ask(&s, "subscribe", json!({"channels": ["backups"]})).await;
        assert_eq!(ack["ok"], false);
        assert!(ack["error"].as_str().unwrap().contains("backups"));
        let ack = ask(&s, "subscribe", json!({"channels": ["alerts-web"]})).await;
        assert_eq!(ack, json!({"ok": true, "channels": ["alerts-db", "alerts-web"]}));
        let ack = ask(&s, "text_update_request", json!({"text": "mine"})).await;
        assert_eq!(ack["ok"], false, "no text right: {}", ack);
        let ack = ask(&s, "send_notification_request", json!({"text": "t", "channel": "alerts-db"})).await;
        assert_eq!(ack["ok"], false);
        let ack = ask(&s, "send_notification_request", json!({"text": "t", "channel": "backups"})).await;
        assert_eq!(ack["ok"], true);
        // Live delivery follows the subscription: alerts-web yes, backups no.
        let (code, _) = curl(&["-H", &bearer(&full), "-H", "Title: web down", "-d", "m", &format!("{url}/alerts-web")]).await;
        assert_eq!(code, 200);
        assert_eq!(event(&mut e, "send_notification").await["title"], "web down");
        let ack = ask(&s, "unsubscribe", json!({"channels": ["alerts-web"]})).await;
        assert_eq!(ack["channels"], json!(["alerts-db"]));
        curl(&["-H", &bearer(&full), "-d", "m", &format!("{url}/alerts-web")]).await;
        quiet(&mut e).await;
        let (_c, full_s, _e) = socket(&url, json!({"token": full})).await;
        let ack = ask(&full_s, "text_update_request", json!({"text": "shared"})).await;
        assert_eq!(ack["ok"], true);

        // A token added while the hub runs works at once.
        let late = add_token(&file, &["--name", "late", "--write", "late"]).await;
        let (code, body) = curl(&["-H", &bearer(&late), "-d", "m", &format!("{url}/late")]).await;
        assert_eq!(code, 200, "{body}");
        let (ok, _, err) = pushdesk(&["token", "remove", "--tokens-file", f, "late"]).await;
        assert!(ok, "{err}");
        tokio::time::sleep(Duration::from_millis(20)).await;
        let (code, _) = curl(&["-H", &bearer(&late), "-d", "m", &format!("{url}/late")]).await;
        assert_eq!(code, 401, "a removed token is refused");
    })
    .await;
}

#[tokio::test]
async fn two_nodes_over_redis_deliver_a_channel_to_the_other_node() {
    bounded(async {
        let redis = RedisServer::start().await.unwrap();
        let (da, db) = (
            TempDir::new("node-a").unwrap(),
            TempDir::new("node-b").unwrap(),
        );
        let a = hub(&da, &["--redis", &redis.url()]).await;
        let b = hub(&db, &["--redis", &redis.url()]).await;
        let (_c1, _s1, mut ops_b) = socket(&b.url(), json!({"channels": ["ops"]})).await;
        let (_c2, _s2, mut default_b) = socket(&b.url(), json!({})).await;
        let mut stream_b = Command::new("curl");
        stream_b.args(["-sN", "--max-time", "60", &format!("{}/ops/json", b.url())]);
        let mut stream_b = Lined::spawn(stream_b);
        stream_b.line().await; // open
        let (code, body) = curl(&[
            "-H",
            "Title: from a",
            "-d",
            "m",
            &format!("{}/ops", a.url()),
        ])
        .await;
        assert_eq!(code, 200, "{body}");
        let got = event(&mut ops_b, "send_notification").await;
        assert_eq!(got["title"], "from a");
        assert_eq!(got["channel"], "ops");
        quiet(&mut default_b).await;
        let m: Value = serde_json::from_str(&stream_b.line().await).unwrap();
        assert_eq!(
            m["title"], "from a",
            "node b's HTTP stream hears node a's publish"
        );
        // Replay per channel after a reconnect, from the shared history.
        let last = got["id"].as_u64().unwrap();
        curl(&[
            "-H",
            "Title: missed",
            "-d",
            "m",
            &format!("{}/ops", a.url()),
        ])
        .await;
        curl(&[
            "-H",
            "Title: other",
            "-d",
            "m",
            &format!("{}/default", a.url()),
        ])
        .await;
        let (_c3, _s3, mut back) = ClientBuilder::new(b.url())
            .auth(json!({"channels": ["ops"], "last_id": last}))
            .connect()
            .unwrap();
        assert_eq!(
            event(&mut back, "send_notification").await["title"],
            "missed"
        );
        quiet(&mut back).await;
    })
    .await;
}

#[tokio::test]
async fn apprise_publishes_to_pushdesk_as_to_ntfy_and_gotify() {
    bounded(async {
        // Apprise (PyPI), which 100+ tools use to notify, speaking its own
        // ntfy and Gotify plugins to our hub.
        let apprise = venv_python().await.with_file_name("apprise");
        let dir = TempDir::new("apprise").unwrap();
        let file = dir.path().join("tokens.toml");
        let f = file.to_str().unwrap();
        let ops = add_token(&file, &["--name", "ops", "--write", "ops"]).await;
        let nas = add_token(&file, &["--name", "nas", "--write", "nas"]).await;
        let reader = add_token(&file, &["--name", "reader", "--read", "*"]).await;
        let hub = hub(&dir, &["--tokens-file", f]).await;
        let host = format!("127.0.0.1:{}", hub.port());
        let (_c, _s, mut e) = socket(
            &hub.url(),
            json!({"token": reader, "channels": ["ops", "nas"]}),
        )
        .await;
        let run = |url: String, title: &'static str| {
            let apprise = apprise.clone();
            async move {
                let out = Command::new(&apprise)
                    .args(["-vv", "-t", title, "-b", "sent by Apprise", &url])
                    .output()
                    .await
                    .expect("apprise runs");
                let log = String::from_utf8_lossy(&out.stderr).into_owned()
                    + &String::from_utf8_lossy(&out.stdout);
                (out.status.success(), log)
            }
        };

        let (ok, log) = run(
            format!("ntfy://{ops}@{host}/ops?priority=high&tags=warning"),
            "via ntfy",
        )
        .await;
        assert!(ok, "apprise ntfy:// failed:\n{log}");
        let n = event(&mut e, "send_notification").await;
        assert_eq!(n["title"], "via ntfy");
        assert_eq!(n["body"], "sent by Apprise");
        assert_eq!(n["channel"], "ops");
        assert_eq!(
            n["data"]["tags"],
            json!(["warning"]),
            "its options come as headers"
        );
        assert_eq!(n["data"]["priority"], 4);

        let (ok, log) = run(format!("gotify://{host}/{nas}?priority=high"), "via gotify").await;
        assert!(ok, "apprise gotify:// failed:\n{log}");
        let n = event(&mut e, "send_notification").await;
        assert_eq!(n["title"], "via gotify");
        assert_eq!(n["channel"], "nas", "the Gotify token's channel");
        assert_eq!(n["urgency"], "critical");

        // Apprise reports our refusal: a token beyond its rights.
        let (ok, log) = run(format!("ntfy://{ops}@{host}/nas"), "refused").await;
        assert!(!ok, "apprise should report the 403:\n{log}");
        quiet(&mut e).await;
    })
    .await;
}

#[tokio::test]
async fn a_scoped_token_is_rate_limited_as_one_sender_over_http_and_socketio() {
    bounded(async {
        let dir = TempDir::new("limits").unwrap();
        let file = dir.path().join("tokens.toml");
        let f = file.to_str().unwrap();
        let cron = add_token(&file, &["--name", "cron", "--write", "*"]).await;
        let hub = hub(
            &dir,
            &[
                "--tokens-file",
                f,
                "--notify-burst",
                "3",
                "--notify-rate",
                "0.01",
            ],
        )
        .await;
        let url = hub.url();
        let bearer = format!("Authorization: Bearer {cron}");
        for _ in 0..2 {
            let (code, body) = curl(&["-H", &bearer, "-d", "m", &format!("{url}/ops")]).await;
            assert_eq!(code, 200, "{body}");
        }
        // A fresh connection has a full bucket of its own, the token does not.
        let (_c, s, _e) = socket(&url, json!({"token": cron})).await;
        let ack = ask(&s, "send_notification_request", json!({"text": "third"})).await;
        assert_eq!(ack["ok"], true, "{ack}");
        let (_c2, s2, _e2) = socket(&url, json!({"token": cron})).await;
        let ack = ask(&s2, "send_notification_request", json!({"text": "fourth"})).await;
        assert_eq!(ack["ok"], false, "{ack}");
        assert!(ack["error"].as_str().unwrap().contains("slow down"));
        let (code, body) = curl(&["-H", &bearer, "-d", "m", &format!("{url}/ops")]).await;
        assert_eq!(code, 429, "{body}");
    })
    .await;
}

#[tokio::test]
async fn a_flask_style_python_client_still_hears_the_default_channel_only() {
    bounded(async {
        let python = venv_python().await;
        let dir = TempDir::new("py-client").unwrap();
        let hub = hub(&dir, &[]).await;
        let url = hub.url();
        let mut cmd = Command::new(python);
        cmd.arg(pushdesk_e2e::python_peer_dir().join("seed_client.py"))
            .args([url.as_str(), "1"]);
        let mut client = Lined::spawn(cmd);
        client.until(|l| l.contains("count_update")).await;
        // Published over HTTP to another channel first: a seed client never hears it.
        let (code, _) = curl(&["-H", "Title: ops only", "-d", "m", &format!("{url}/ops")]).await;
        assert_eq!(code, 200);
        let (ok, _, err) = pushdesk(&["send", "--server", &url, "--title", "for everyone"]).await;
        assert!(ok, "{err}");
        let line = client.until(|l| l.contains("send_notification")).await;
        let v: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["data"]["title"], "for everyone");
        for key in ["title", "body", "icon", "tag", "data1"] {
            assert!(
                v["data"].get(key).is_some(),
                "the seed's shape: {key} in {v}"
            );
        }
        assert!(v["data"].get("channel").is_none());
    })
    .await;
}

#[tokio::test]
async fn a_dns_rebound_host_name_is_refused() {
    bounded(async {
        let dir = TempDir::new("rebind").unwrap();
        let hub = hub(&dir, &["--allow-host", "hub.example"]).await;
        let url = hub.url();
        let port = url
            .rsplit(':')
            .next()
            .unwrap()
            .trim_end_matches('/')
            .to_owned();
        // A page at evil.example whose name now points here: its Origin
        // equals its Host, so only the Host check stops it.
        let evil = format!("evil.example:{port}");
        for path in ["/health", "/socket.io/?EIO=4&transport=polling", "/"] {
            let (code, body) = curl(&[
                "-H",
                &format!("Host: {evil}"),
                "-H",
                &format!("Origin: http://{evil}"),
                &format!("{url}{path}"),
            ])
            .await;
            assert_eq!(code, 421, "{path}: {body}");
            assert!(body.contains("--allow-host"), "{body}");
        }
        // Its publish is refused too, and nothing was stored.
        let (code, _) = curl(&[
            "-H",
            &format!("Host: {evil}"),
            "-d",
            "pwned",
            &format!("{url}/default"),
        ])
        .await;
        assert_eq!(code, 421);
        // The names it answers to: an IP, localhost, and the listed one.
        for host in [
            format!("127.0.0.1:{port}"),
            format!("localhost:{port}"),
            format!("hub.example:{port}"),
        ] {
            let (code, body) =
                curl(&["-H", &format!("Host: {host}"), &format!("{url}/health")]).await;
            assert_eq!(code, 200, "{host}: {body}");
            assert!(body.contains("\"last_id\":0"), "{body}");
        }
    })
    .await;
}

#[tokio::test]
async fn the_http_api_answers_cors_for_allowed_origins_only() {
    bounded(async {
        let dir = TempDir::new("cors").unwrap();
        let hub = hub(&dir, &["--allow-origin", "https://app.example"]).await;
        let url = hub.url();
        let headers = |origin: &str, method: &str| {
            let (url, origin, method) = (url.clone(), origin.to_owned(), method.to_owned());
            async move {
                let out = Command::new("curl")
                    .args(["-s", "-D", "-", "-o", "/dev/null", "-X", &method])
                    .args(["-H", &format!("Origin: {origin}")])
                    .args(["-H", "Access-Control-Request-Method: POST"])
                    .args([
                        "-H",
                        "Access-Control-Request-Headers: authorization, content-type",
                    ])
                    .arg(format!("{url}/api/v1/notifications"))
                    .output()
                    .await
                    .unwrap();
                String::from_utf8_lossy(&out.stdout).to_ascii_lowercase()
            }
        };
        let pre = headers("https://app.example", "OPTIONS").await;
        assert!(pre.starts_with("http/1.1 200"), "{pre}");
        assert!(
            pre.contains("access-control-allow-origin: https://app.example"),
            "{pre}"
        );
        assert!(
            pre.contains("access-control-allow-credentials: true"),
            "{pre}"
        );
        assert!(pre.contains("vary:") && pre.contains("origin"), "{pre}");
        assert!(
            pre.contains("authorization"),
            "the requested headers are allowed: {pre}"
        );
        let refused = headers("https://evil.example", "OPTIONS").await;
        assert!(refused.starts_with("http/1.1 403"), "{refused}");
        assert!(
            !refused.contains("access-control-allow-origin"),
            "{refused}"
        );
        // A form posted from a foreign page (no preflight) is refused too: no CSRF.
        let (code, _) = curl(&[
            "-H",
            "Origin: https://evil.example",
            "-d",
            "m",
            &format!("{url}/ops"),
        ])
        .await;
        assert_eq!(code, 403);
        let (code, body) = curl(&[
            "-H",
            "Origin: https://app.example",
            "-d",
            "m",
            &format!("{url}/ops"),
        ])
        .await;
        assert_eq!(code, 200, "{body}");
    })
    .await;
}
