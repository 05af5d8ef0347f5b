//! An in-process socketioxide server (axum) with the seed's events on `/`
//! plus `echo`, `ask_ack` and `kick`, and `/admin` with `echo`. It keeps
//! the `notification_clicked` / `notification_closed` reports clients send
//! ([`SioxServer::reports`]), as a hub that supports them would.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;
use serde::de::{Deserializer, SeqAccess, Visitor};
use serde::ser::{SerializeTuple as _, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};
use socketioxide::SocketIo;
use socketioxide::extract::{AckSender, Data, SocketRef};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// All the arguments of an event or ack, binary ones included (as
/// `rmpv::Value::Binary`), so they can be sent back unchanged: socketioxide
/// treats a tuple-like type as "many arguments", and this one has any length.
#[derive(Debug, Clone, Default)]
struct Args(Vec<rmpv::Value>);

impl Serialize for Args {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut tuple = s.serialize_tuple(self.0.len())?;
        for arg in &self.0 {
            tuple.serialize_element(arg)?;
        }
        tuple.end()
    }
}

impl<'de> Deserialize<'de> for Args {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ArgsVisitor;
        impl<'de> Visitor<'de> for ArgsVisitor {
            type Value = Args;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("event arguments")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Args, A::Error> {
                let mut args = Vec::new();
                while let Some(arg) = seq.next_element()? {
                    args.push(arg);
                }
                Ok(Args(args))
            }
        }
        d.deserialize_tuple(usize::MAX, ArgsVisitor)
    }
}

/// The seed's global state. `text` is whatever JSON a client last sent as
/// `text`, like the seed (which does not check its type).
#[derive(Debug)]
struct Hub {
    user_count: i64,
    text: Json,
    /// `(event, payload)` of each report received, in order.
    reports: Vec<(String, Json)>,
}

impl Default for Hub {
    fn default() -> Self {
        Hub {
            user_count: 0,
            text: Json::from(""),
            reports: Vec::new(),
        }
    }
}

type SharedHub = Arc<Mutex<Hub>>;

fn lock(hub: &SharedHub) -> std::sync::MutexGuard<'_, Hub> {
    hub.lock().unwrap_or_else(|p| p.into_inner())
}

async fn echo(Data(args): Data<Args>, ack: AckSender) {
    ack.send(&args).ok();
}

fn register_root(io: &SocketIo, hub: SharedHub) {
    io.ns("/", move |s: SocketRef, io: SocketIo| {
        let hub = hub.clone();
        async move {
            let (count, text) = {
                let mut h = lock(&hub);
                h.user_count += 1;
                (h.user_count, h.text.clone())
            };
            io.emit("count_update", &json!({ "user_count": count }))
                .await
                .ok();
            s.emit("text_update", &json!({ "text": text })).ok();

            let h = hub.clone();
            s.on_disconnect(move |io: SocketIo| async move {
                let count = {
                    let mut h = lock(&h);
                    h.user_count -= 1;
                    h.user_count
                };
                io.emit("count_update", &json!({ "user_count": count }))
                    .await
                    .ok();
            });

            let h = hub.clone();
            s.on(
                "text_update_request",
                move |s: SocketRef, Data::<Json>(req)| async move {
                    // Like the seed: a request without `text` fails and changes nothing.
                    let Some(text) = req.get("text").cloned() else {
                        return;
                    };
                    lock(&h).text = text.clone();
                    s.broadcast()
                        .emit("text_update", &json!({ "text": text }))
                        .await
                        .ok();
                },
            );

            s.on(
                "send_notification_request",
                async |io: SocketIo, Data::<Json>(req)| {
                    let notification = json!({
                        "title": req["text"],
                        "body": "this is push notification.",
                        "icon": "images/icon.png",
                        "tag": "",
                        "data1": req["num"],
                    });
                    io.emit("send_notification", &notification).await.ok();
                },
            );

            s.on("echo", echo);

            s.on(
                "ask_ack",
                async |s: SocketRef, Data::<Args>(args), ack: AckSender| {
                    if let Ok(reply) = s.emit_with_ack::<_, Args>("need_ack", &args) {
                        ack.send(&Args::default()).ok();
                        if let Ok(got) = reply.await {
                            s.emit("got_ack", &got).ok();
                        }
                    }
                },
            );

            for name in ["notification_clicked", "notification_closed"] {
                let h = hub.clone();
                s.on(
                    name,
                    move |Data::<Json>(report), ack: AckSender| async move {
                        lock(&h).reports.push((name.to_owned(), report));
                        ack.send(&json!({ "ok": true })).ok();
                    },
                );
            }

            s.on("kick", async |s: SocketRef, ack: AckSender| {
                ack.send(&Args::default()).ok();
                s.disconnect().ok();
            });
        }
    });
}

/// A socketioxide server on `127.0.0.1` run by a task of the current tokio
/// runtime. Its sockets are closed and the task stopped when dropped.
#[derive(Debug)]
pub struct SioxServer {
    addr: SocketAddr,
    io: SocketIo,
    hub: SharedHub,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl SioxServer {
    /// Binds `127.0.0.1:0` and starts serving. Must be called inside a tokio
    /// runtime.
    pub async fn start() -> anyhow::Result<SioxServer> {
        let (layer, io) = SocketIo::new_layer();
        let hub = SharedHub::default();
        register_root(&io, hub.clone());
        io.ns("/admin", async |s: SocketRef| s.on("echo", echo));

        let app = axum::Router::new().layer(layer);
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .context("binding 127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let (shutdown, stop) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stop.await;
                })
                .await;
            if let Err(e) = served {
                eprintln!("[siox {}] server error: {e}", addr.port());
            }
        });
        Ok(SioxServer {
            addr,
            io,
            hub,
            shutdown: Some(shutdown),
            task: Some(task),
        })
    }

    /// The port it listens on (on `127.0.0.1`).
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port())
    }

    /// The server's [`SocketIo`] handle, to emit or inspect sockets from a test.
    pub fn io(&self) -> &SocketIo {
        &self.io
    }

    /// The `notification_clicked` / `notification_closed` reports received
    /// so far, in order, as `(event, payload)`.
    pub fn reports(&self) -> Vec<(String, Json)> {
        lock(&self.hub).reports.clone()
    }

    /// Closes every socket (`on_disconnect` runs with reason `ClosingServer`),
    /// stops accepting and waits (5 s at most) for the server task to end.
    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        tokio::time::timeout(Duration::from_secs(5), self.io.close())
            .await
            .context("closing sockets timed out")?;
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let abort = task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(5), task)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
        Ok(())
    }
}

impl Drop for SioxServer {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            if let Ok(rt) = tokio::runtime::Handle::try_current() {
                let io = self.io.clone();
                rt.spawn(async move { io.close().await });
            }
        }
    }
}
