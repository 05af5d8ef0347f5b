//! The shared text as a CRDT, end to end: the real `pushdesk serve`, Yjs
//! peers (our Socket.IO client holding a `pushdesk-text` document, speaking
//! the Yjs sync protocol over `text_sync`, as the web UI's Yjs does) and
//! seed peers (plain `text_update_request {text}` writers, as the seed's page
//! and Flask clients are). Concurrent edits merge; the document survives a
//! restart; only tokens with the text right edit; two nodes over a real
//! Redis merge too.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use pushdesk_e2e::{FlaskTextClient, HubProcess, RedisServer, TempDir};
use pushdesk_socketio::{
    Bytes, Client, ClientBuilder, Events, Payload, ReconnectPolicy, Socket, SocketEvent, Value,
    json, placeholder,
};
use pushdesk_text::{Reset, SharedText, SyncMessage, answer};

const WAIT: Duration = Duration::from_secs(15);
const BIN: &str = env!("CARGO_BIN_EXE_pushdesk");
const MAX: usize = 64 * 1024;

async fn bounded<F: std::future::Future<Output = ()>>(f: F) {
    tokio::time::timeout(Duration::from_secs(120), f)
        .await
        .expect("test within 120 s");
}

async fn hub(dir: &TempDir, extra: &[&str]) -> HubProcess {
    HubProcess::start(Path::new(BIN), dir.path(), extra)
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

async fn next(e: &mut Events) -> SocketEvent {
    tokio::time::timeout(WAIT, e.next())
        .await
        .expect("an event in time")
        .expect("client running")
}

/// No epoch known yet (in [`YPeer::epoch`]).
const NO_EPOCH: u64 = u64::MAX;

/// A Yjs peer: a document synced with the hub over `text_sync`, moving to
/// the hub's new epochs as the web UI and the desktop core do.
struct YPeer {
    _client: Client,
    socket: Socket,
    events: Events,
    doc: SharedText,
    welcome: Value,
    /// The epoch of `doc` (sent as `auth.text_epoch` on each connect).
    epoch: Arc<AtomicU64>,
    /// Rebases sent; sent again after a reconnect (the hub takes one twice as once).
    rebases: Vec<Vec<u8>>,
}

impl YPeer {
    async fn connect(url: &str, token: Option<&str>) -> Self {
        Self::resume(url, token, SharedText::new(), None).await
    }

    /// Connects with a document of epoch `epoch` (a replica that was offline).
    async fn resume(url: &str, token: Option<&str>, doc: SharedText, epoch: Option<u32>) -> Self {
        let epoch = Arc::new(AtomicU64::new(epoch.map_or(NO_EPOCH, u64::from)));
        let (token, e) = (token.map(str::to_owned), epoch.clone());
        let (client, socket, mut events) = ClientBuilder::new(url)
            .auth_fn(move || {
                let mut auth = json!({ "text": "yjs" });
                if let Some(t) = &token {
                    auth["token"] = json!(t);
                }
                let epoch = e.load(Ordering::SeqCst);
                if epoch != NO_EPOCH {
                    auth["text_epoch"] = json!(epoch);
                }
                auth
            })
            .reconnect(fast())
            .connect()
            .unwrap();
        let mut welcome = Value::Null;
        while welcome.is_null() {
            if let SocketEvent::Event(ev) = next(&mut events).await {
                assert_ne!(
                    ev.name, "text_update",
                    "a Yjs peer got the seed's text_update"
                );
                if ev.name == "welcome" {
                    welcome = ev.payload.first().cloned().unwrap();
                    if let Some(e) = welcome["text_epoch"].as_u64() {
                        let _ =
                            epoch.compare_exchange(NO_EPOCH, e, Ordering::SeqCst, Ordering::SeqCst);
                    }
                }
            }
        }
        let peer = Self {
            _client: client,
            socket,
            events,
            doc,
            welcome,
            epoch,
            rebases: Vec::new(),
        };
        peer.send(SyncMessage::Step1(peer.doc.state_vector()));
        peer
    }

    fn epoch(&self) -> u32 {
        u32::try_from(self.epoch.load(Ordering::SeqCst)).unwrap_or(0)
    }

    /// Takes a `text_reset`: the new document; the old one's edits go in a rebase.
    fn reset(&mut self, bytes: &[u8]) {
        let reset = Reset::decode(bytes).unwrap();
        let (doc, rebase) = reset.take(&self.doc, self.epoch()).unwrap();
        assert!(reset.base.is_some(), "the hub keeps our epoch");
        let rebase = rebase.encode();
        self.emit_binary("text_rebase", rebase.clone());
        self.rebases.push(rebase);
        self.doc = doc;
        self.epoch.store(u64::from(reset.epoch), Ordering::SeqCst);
    }

    fn emit_binary(&self, event: &str, bytes: Vec<u8>) {
        self.socket
            .emit(
                event,
                Payload::with_binary(vec![placeholder(0)], vec![Bytes::from(bytes)]),
            )
            .unwrap();
    }

    fn send(&self, message: SyncMessage) {
        let bytes = Bytes::from(message.encode().unwrap());
        self.socket
            .emit(
                "text_sync",
                Payload::with_binary(vec![placeholder(0)], vec![bytes]),
            )
            .unwrap();
    }

    /// Sends an edit: the text becomes `text`.
    fn set(&mut self, text: &str) {
        let update = self.doc.set(text);
        self.send(SyncMessage::Update(update));
    }

    /// Sends an edit and waits for the hub's ack.
    async fn set_acked(&mut self, text: &str) -> Value {
        let update = self.doc.set(text);
        let bytes = Bytes::from(SyncMessage::Update(update).encode().unwrap());
        let reply = self
            .socket
            .emit_with_ack(
                "text_sync",
                Payload::with_binary(vec![placeholder(0)], vec![bytes]),
                WAIT,
            )
            .await
            .unwrap();
        reply.first().cloned().unwrap()
    }

    /// Handles what the hub sends until the text satisfies `pred`.
    async fn until(&mut self, pred: impl Fn(&str) -> bool) -> String {
        loop {
            if pred(&self.doc.text()) {
                return self.doc.text();
            }
            let event = next(&mut self.events).await;
            self.handle(event);
        }
    }

    /// Handles whatever the hub has sent by now (as a client does between keystrokes).
    async fn pump(&mut self) {
        while let Ok(Some(event)) =
            tokio::time::timeout(Duration::from_millis(20), self.events.next()).await
        {
            self.handle(event);
        }
    }

    fn handle(&mut self, event: SocketEvent) {
        let ev = match event {
            // Back after a drop: the handshake again (the hub sends its step 1 too).
            SocketEvent::Connected { .. } => {
                for rebase in self.rebases.clone() {
                    self.emit_binary("text_rebase", rebase);
                }
                self.send(SyncMessage::Step1(self.doc.state_vector()));
                return;
            }
            SocketEvent::Event(ev) => ev,
            _ => return,
        };
        let bytes = || {
            ev.payload
                .first()
                .and_then(|v| ev.payload.attachment(v))
                .cloned()
                .expect("a binary argument")
        };
        if ev.name == "text_reset" {
            self.reset(&bytes());
        }
        if ev.name == "text_sync" {
            let message = SyncMessage::decode(&bytes()).unwrap();
            for reply in answer(&mut self.doc, &message, true, MAX).unwrap().replies {
                self.emit_binary("text_sync", reply);
            }
        }
    }
}

/// A seed peer: sees `text_update`, writes `text_update_request`.
struct Seed {
    _client: Client,
    socket: Socket,
    events: Events,
    text: String,
}

impl Seed {
    async fn connect(url: &str) -> Self {
        let (client, socket, mut events) =
            ClientBuilder::new(url).reconnect(fast()).connect().unwrap();
        let text = loop {
            if let SocketEvent::Event(ev) = next(&mut events).await
                && ev.name == "text_update"
            {
                break text_of(&ev.payload);
            }
        };
        Self {
            _client: client,
            socket,
            events,
            text,
        }
    }

    fn write(&mut self, text: &str) {
        self.text = text.to_owned();
        self.socket
            .emit("text_update_request", json!({ "text": text }))
            .unwrap();
    }

    async fn until(&mut self, pred: impl Fn(&str) -> bool) -> String {
        while !pred(&self.text) {
            if let SocketEvent::Event(ev) = next(&mut self.events).await
                && ev.name == "text_update"
            {
                self.text = text_of(&ev.payload);
            }
        }
        self.text.clone()
    }
}

fn text_of(payload: &Payload) -> String {
    payload
        .first()
        .and_then(|v| v.get("text"))
        .and_then(Value::as_str)
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn yjs_and_seed_peers_merge_concurrent_edits() {
    bounded(async {
        let dir = TempDir::new("text").unwrap();
        let hub = hub(&dir, &[]).await;
        let mut a = YPeer::connect(&hub.url(), None).await;
        assert_eq!(a.welcome["text"], "yjs");
        let mut b = YPeer::connect(&hub.url(), None).await;
        let mut seed = Seed::connect(&hub.url()).await;

        a.set("hello world");
        b.until(|t| t == "hello world").await;
        seed.until(|t| t == "hello world").await;

        // The example, all at once: A inserts "big ", the seed client
        // (which has not seen that yet) writes "hello world!", B prepends "oh, ".
        a.set("hello big world");
        seed.write("hello world!");
        b.set("oh, hello world");
        let want = "oh, hello big world!";
        assert_eq!(a.until(|t| t == want).await, want);
        assert_eq!(b.until(|t| t == want).await, want);
        // The seed client is sent the merged text, though it wrote part of it.
        assert_eq!(seed.until(|t| t == want).await, want);

        // CJK and emoji count in UTF-16 on both sides.
        a.set("oh, hello big world! 日本語😀");
        b.until(|t| t.ends_with("😀")).await;
        b.set("oh, hello big world! 日本語😀✓");
        a.until(|t| t.ends_with('✓')).await;
        let text = seed.until(|t| t.ends_with('✓')).await;
        assert_eq!(text, "oh, hello big world! 日本語😀✓");
    })
    .await;
}

#[tokio::test]
async fn a_flask_style_python_clients_full_text_write_merges_with_a_concurrent_yjs_edit() {
    bounded(async {
        let dir = TempDir::new("text-py").unwrap();
        let hub = hub(&dir, &[]).await;
        let mut a = YPeer::connect(&hub.url(), None).await;
        assert_eq!(a.set_acked("hello world").await, json!({"ok": true}));
        let mut py = FlaskTextClient::connect(&hub.url(), WAIT).await.unwrap();
        assert_eq!(py.text(), "hello world");

        // A inserts "big " but its edit is still on its way when the Python
        // client (which has not seen it) writes its whole text.
        let held = a.doc.set("hello big world");
        py.write("hello world!").await.unwrap();
        a.send(SyncMessage::Update(held));
        let want = "hello big world!";
        assert_eq!(a.until(|t| t == want).await, want);
        // The Python client is sent the merged text, which differs from its own.
        assert_eq!(py.until(|t| t == want, WAIT).await.unwrap(), want);
        // And its next write is diffed against that, keeping A's word.
        py.write("hello big world!?").await.unwrap();
        assert_eq!(
            a.until(|t| t == "hello big world!?").await,
            "hello big world!?"
        );
    })
    .await;
}

/// Runs `pushdesk ARGS` (debug log on stderr); (success, stdout, stderr).
async fn pushdesk(args: &[&str]) -> (bool, String, String) {
    let out = tokio::process::Command::new(BIN)
        .args(args)
        .env("RUST_LOG", "pushdesk=debug")
        .kill_on_drop(true)
        .output()
        .await
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn the_cli_edits_the_document_as_a_yjs_peer_and_keeps_concurrent_edits() {
    bounded(async {
        let dir = TempDir::new("text-cli").unwrap();
        let hub = hub(&dir, &[]).await;
        let url = hub.url();
        let (ok, _, err) = pushdesk(&["text", "--server", &url, "--set", "hello world"]).await;
        assert!(ok, "{err}");
        let mut a = YPeer::connect(&url, None).await;
        a.until(|t| t == "hello world").await;
        let before = a.doc.clients();

        // A's edit is held while the CLI replaces the text from what it synced.
        let held = a.doc.set("hello world!");
        let (ok, _, err) = pushdesk(&["text", "--server", &url, "--set", "hello big world"]).await;
        assert!(ok, "{err}");
        a.send(SyncMessage::Update(held));
        let want = "hello big world!";
        assert_eq!(a.until(|t| t == want).await, want);
        let (ok, out, err) = pushdesk(&["text", "--server", &url]).await;
        assert!(ok, "{err}");
        assert_eq!(out.trim_end(), want);
        // The CLI synced a document of its own (it says so on its log) and
        // its edit came from one new replica.
        assert!(err.contains("as a Yjs peer"), "{err}");
        let after = a.doc.clients();
        let new: Vec<_> = after
            .iter()
            .filter(|id| !before.contains(id) && **id != a.doc.client_id())
            .collect();
        assert_eq!(new.len(), 1, "before {before:?}, after {after:?}");
    })
    .await;
}

#[tokio::test]
async fn offline_edits_merge_on_reconnect_and_the_document_survives_restarts() {
    bounded(async {
        let dir = TempDir::new("text").unwrap();
        let mut hub = hub(&dir, &[]).await;
        let mut a = YPeer::connect(&hub.url(), None).await;
        a.set("base");
        let mut b = YPeer::connect(&hub.url(), None).await;
        b.until(|t| t == "base").await;

        // Many edits, past a compaction of the stored log.
        for i in 0..600 {
            let text = format!("base {i}");
            if i % 50 == 0 {
                assert_eq!(a.set_acked(&text).await, json!({"ok": true}));
            } else {
                a.set(&text);
            }
            // Stay under the per-connection text rate.
            if i % 20 == 19 {
                tokio::time::sleep(Duration::from_millis(700)).await;
            }
        }
        assert_eq!(a.set_acked("base 600").await, json!({"ok": true}));
        b.until(|t| t == "base 600").await;

        // The hub goes away; both edit meanwhile; A's stays local, B's too.
        hub.restart().await.unwrap();
        a.set("A: base 600");
        b.set("base 600 :B");
        // Both reconnect by themselves and run the handshake again.
        let want = "A: base 600 :B";
        for peer in [&mut a, &mut b] {
            peer.until(|t| t == want).await;
        }
        // A new peer, after another restart, gets the merged document.
        drop((a, b));
        hub.restart().await.unwrap();
        let mut c = YPeer::connect(&hub.url(), None).await;
        assert_eq!(c.until(|t| t == want).await, want);
        let seed = Seed::connect(&hub.url()).await;
        assert_eq!(seed.text, want);
    })
    .await;
}

/// The hub cuts its document into new epochs as it outgrows its text (a
/// tiny threshold here): live Yjs peers move along and keep converging, a
/// seed peer notices nothing, a replica that was offline across cuts
/// brings its edit back merged, and a restart keeps text and epoch.
#[tokio::test]
async fn cuts_into_new_epochs_keep_every_edit_of_live_and_offline_peers() {
    bounded(async {
        let dir = TempDir::new("text-cuts").unwrap();
        let mut hub = hub(
            &dir,
            &["--text-compact-every", "20", "--text-cut-min-bytes", "0"],
        )
        .await;
        let mut a = YPeer::connect(&hub.url(), None).await;
        let mut b = YPeer::connect(&hub.url(), None).await;
        let mut seed = Seed::connect(&hub.url()).await;
        let first = a.epoch();
        // A types (each edit replaces a word, so the document outgrows the
        // text), B follows; both move to the new epochs.
        for i in 0..120 {
            let text = format!("shared {i} text");
            if i % 20 == 19 {
                assert_eq!(a.set_acked(&text).await, json!({"ok": true}));
                b.until(|t| t == text).await;
                a.until(|t| t == text).await;
                tokio::time::sleep(Duration::from_millis(700)).await;
            } else {
                a.set(&text);
                a.pump().await;
            }
        }
        let want = "shared 119 text";
        assert_eq!(b.until(|t| t == want).await, want);
        assert_ne!(b.epoch(), first, "the hub never cut its document");
        assert_eq!(a.until(|t| t == want).await, want);
        assert_eq!(a.epoch(), b.epoch());
        seed.until(|t| t == want).await;

        // A goes offline and edits; B types on past more cuts.
        let (mut offline, offline_epoch) = (a.doc.fork(), a.epoch());
        drop(a);
        offline.set("A was here: shared 119 text");
        let before = b.epoch();
        let mut i = 0;
        while b.epoch() == before {
            i += 1;
            let text = format!("shared 119 text, B {i}");
            assert_eq!(b.set_acked(&text).await, json!({"ok": true}));
            b.pump().await;
            if i % 20 == 0 {
                tokio::time::sleep(Duration::from_millis(700)).await;
            }
            assert!(i < 400, "no cut while A was away");
        }
        let b_text = format!("shared 119 text, B {i}");
        // A is back with its old document: reset, rebase, merged.
        let mut a = YPeer::resume(&hub.url(), None, offline, Some(offline_epoch)).await;
        let merged = format!("A was here: {b_text}");
        assert_eq!(a.until(|t| t == merged).await, merged);
        assert_eq!(a.epoch(), b.epoch());
        assert_eq!(b.until(|t| t == merged).await, merged);
        assert_eq!(seed.until(|t| t == merged).await, merged);

        // A restart loads the same text and epoch.
        let epoch = b.epoch();
        drop((a, b));
        hub.restart().await.unwrap();
        let mut c = YPeer::connect(&hub.url(), None).await;
        assert_eq!(c.until(|t| t == merged).await, merged);
        assert_eq!(c.epoch(), epoch);
    })
    .await;
}

#[tokio::test]
async fn two_nodes_over_redis_merge_edits_made_on_either() {
    bounded(async {
        let redis = RedisServer::start().await.unwrap();
        let (da, db) = (
            TempDir::new("node-a").unwrap(),
            TempDir::new("node-b").unwrap(),
        );
        let a = hub(&da, &["--redis", &redis.url()]).await;
        let b = hub(&db, &["--redis", &redis.url()]).await;
        let mut on_a = YPeer::connect(&a.url(), None).await;
        let mut on_b = YPeer::connect(&b.url(), None).await;
        let mut seed_b = Seed::connect(&b.url()).await;

        on_a.set("one two");
        on_b.until(|t| t == "one two").await;
        seed_b.until(|t| t == "one two").await;
        // At once: a Yjs edit on A, a Yjs edit and a seed write on B.
        on_a.set("zero one two");
        on_b.set("one two three");
        seed_b.write("one 1 two");
        let want =
            |t: &str| t.starts_with("zero ") && t.contains("one 1 two") && t.ends_with(" three");
        let merged = on_a.until(want).await;
        assert_eq!(on_b.until(|t| t == merged).await, merged);
        assert_eq!(seed_b.until(|t| t == merged).await, merged);

        // A node started later loads the shared document from Redis.
        let dc = TempDir::new("node-c").unwrap();
        let c = hub(&dc, &["--redis", &redis.url()]).await;
        let seed_c = Seed::connect(&c.url()).await;
        assert_eq!(seed_c.text, merged);
    })
    .await;
}

#[tokio::test]
async fn only_tokens_with_the_text_right_edit() {
    bounded(async {
        let dir = TempDir::new("text").unwrap();
        let tokens = dir.path().join("tokens.toml");
        let add = |args: &[&str]| {
            let mut cmd = std::process::Command::new(BIN);
            cmd.args(["token", "add", "--tokens-file", tokens.to_str().unwrap()])
                .args(args)
                .env_remove("PUSHDESK_TOKENS_FILE");
            let out = cmd.output().unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8_lossy(&out.stdout).trim().to_owned()
        };
        let writer = add(&["--name", "writer", "--read", "*", "--text"]);
        let reader = add(&["--name", "reader", "--read", "*"]);
        let hub = hub(&dir, &["--tokens-file", tokens.to_str().unwrap()]).await;

        let mut w = YPeer::connect(&hub.url(), Some(&writer)).await;
        let mut r = YPeer::connect(&hub.url(), Some(&reader)).await;
        assert_eq!(r.welcome["rights"]["text"], false);
        assert_eq!(w.set_acked("from the writer").await, json!({"ok": true}));
        r.until(|t| t == "from the writer").await;

        // The reader's edit is refused and reaches no one.
        let ack = r.set_acked("from the reader").await;
        assert_eq!(ack["ok"], false, "{ack}");
        assert!(
            ack["error"].as_str().unwrap().contains("may not change"),
            "{ack}"
        );
        assert_eq!(w.set_acked("from the writer!").await, json!({"ok": true}));
        let text = w.until(|t| t == "from the writer!").await;
        assert!(!text.contains("reader"));
        let mut fresh = YPeer::connect(&hub.url(), Some(&writer)).await;
        assert_eq!(fresh.until(|t| !t.is_empty()).await, "from the writer!");

        // The CLI with the reader's token prints the text but may not set it.
        let url = hub.url();
        let (ok, out, err) = pushdesk(&["text", "--server", &url, "--token", &reader]).await;
        assert!(ok, "{err}");
        assert_eq!(out.trim_end(), "from the writer!");
        let (ok, _, err) =
            pushdesk(&["text", "--server", &url, "--token", &reader, "--set", "x"]).await;
        assert!(!ok && err.contains("may not change"), "{err}");
        let (ok, _, err) = pushdesk(&[
            "text",
            "--server",
            &url,
            "--token",
            &writer,
            "--set",
            "by the CLI",
        ])
        .await;
        assert!(ok, "{err}");
        assert_eq!(w.until(|t| t == "by the CLI").await, "by the CLI");
    })
    .await;
}
