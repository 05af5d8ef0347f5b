//! Fan-out benchmark (`scripts/bench-fanout.sh` runs it against our hub and
//! the Node server side by side; `scripts/bench-http.sh` runs it with each
//! sender against our hub). `fanout URL PID CLIENTS RATE SECONDS BURST [SENDER]`:
//!
//! 1. connects CLIENTS WebSocket clients to the hub at URL and records the
//!    server process PID's memory before and after (per idle connection).
//!    The receivers are minimal raw Engine.IO clients (they connect the `/`
//!    namespace, answer pings and scan each notification for its title and
//!    send time) so the load generator stays far cheaper than the servers
//!    it measures; the sender is the real `pushdesk-socketio` client;
//! 2. steady phase: one more client sends `send_notification_request` at RATE
//!    per second for SECONDS, `num` carrying the send time; every client
//!    records when each arrives → delivery latency p50/p99;
//! 3. burst phase: sends BURST notifications back to back and times until
//!    every client has them all → notifications delivered per second.
//!
//! SENDER is `socketio` (the default: `send_notification_request` over one
//! WebSocket) or `http` (`POST /api/v1/notifications` with the same JSON,
//! over a pool of keep-alive HTTP/1.1 connections, each request on its own
//! task so a slow answer never delays the next send).
//!
//! Prints one JSON object.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark driver: failing loudly is right

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::{SinkExt as _, StreamExt as _};
use pushdesk_e2e::peers::desktop::{pss_kib, rss_kib};
use pushdesk_socketio::{ClientBuilder, Events, SocketEvent, TransportMode, json};
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// The string value of `"key":"…"` in a JSON text (no escapes needed here).
fn field_str<'a>(json: &'a str, key: &str) -> Option<&'a str> {
    let start = json.find(&format!("\"{key}\":\""))? + key.len() + 4;
    let len = json[start..].find('"')?;
    Some(&json[start..start + len])
}

/// The integer value of `"key":N` in a JSON text.
fn field_u64(json: &str, key: &str) -> Option<u64> {
    let start = json.find(&format!("\"{key}\":"))? + key.len() + 3;
    let digits: &str = &json[start..];
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    digits[..end].parse().ok()
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

async fn wait_connected(events: &mut Events) {
    loop {
        match tokio::time::timeout(Duration::from_secs(30), events.next())
            .await
            .expect("connect within 30 s")
        {
            Some(SocketEvent::Connected { .. }) => return,
            Some(SocketEvent::ConnectError(e)) => panic!("refused: {e}"),
            Some(_) => {}
            None => panic!("client stopped"),
        }
    }
}

/// The HTTP sender: `POST /api/v1/notifications` on keep-alive connections.
struct Http {
    client: hyper_util::client::legacy::Client<
        hyper_util::client::legacy::connect::HttpConnector,
        http_body_util::Full<bytes::Bytes>,
    >,
    uri: String,
    failed: Arc<AtomicU64>,
}

impl Http {
    fn new(base: &str) -> Self {
        let client =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .pool_max_idle_per_host(256)
                .build_http();
        Self {
            client,
            uri: format!("{base}/api/v1/notifications"),
            failed: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Sends on a task of its own; a refusal or an error is counted.
    fn post(&self, payload: serde_json::Value) {
        let req = axum::http::Request::post(&self.uri)
            .header("content-type", "application/json")
            .body(http_body_util::Full::new(bytes::Bytes::from(
                payload.to_string(),
            )))
            .unwrap();
        let (client, failed) = (self.client.clone(), self.failed.clone());
        tokio::spawn(async move {
            match client.request(req).await {
                Ok(r) if r.status() == 201 => {}
                _ => {
                    failed.fetch_add(1, Ordering::AcqRel);
                }
            }
        });
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let url = args
        .get(1)
        .cloned()
        .expect("usage: fanout URL PID CLIENTS RATE SECONDS BURST");
    let pid: u32 = args.get(2).and_then(|s| s.parse().ok()).expect("PID");
    let clients: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(1000);
    let rate: f64 = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(50.0);
    let seconds: f64 = args.get(5).and_then(|s| s.parse().ok()).unwrap_or(5.0);
    let burst: u64 = args.get(6).and_then(|s| s.parse().ok()).unwrap_or(200);
    let via_http = match args.get(7).map(String::as_str) {
        None | Some("socketio") => false,
        Some("http") => true,
        Some(other) => panic!("SENDER is socketio or http, not {other}"),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let base = Instant::now();
        let micros = move || base.elapsed().as_micros() as u64;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let (rss0, pss0) = (rss_kib(pid), pss_kib(&[pid]));

        let latencies = Arc::new(Mutex::new(Vec::<u64>::with_capacity(clients * 512)));
        let burst_seen = Arc::new(AtomicU64::new(0));
        let burst_done = Arc::new(tokio::sync::Notify::new());
        let mut handles = Vec::with_capacity(clients);
        let total = clients as u64 * burst;
        let ws_url = format!("{}/socket.io/?EIO=4&transport=websocket", url.replacen("http", "ws", 1));
        // tungstenite zeroes its whole read buffer (128 KiB by default) before
        // every read: with a thousand sockets that memset was a third of the
        // receivers' CPU, delaying every delivery, whichever server sent it.
        let ws_config = WebSocketConfig::default().read_buffer_size(4096);
        for _ in 0..clients {
            let (mut ws, _) = tokio_tungstenite::connect_async_with_config(ws_url.as_str(), Some(ws_config), false)
                .await
                .expect("websocket connects");
            // The open packet, then join the `/` namespace and wait for its ack.
            loop {
                let Some(Ok(Message::Text(t))) = ws.next().await else { panic!("no open packet") };
                if t.starts_with('0') {
                    break;
                }
            }
            ws.send(Message::text("40")).await.expect("CONNECT sent");
            loop {
                match tokio::time::timeout(Duration::from_secs(30), ws.next()).await.expect("connect ack in time") {
                    Some(Ok(Message::Text(t))) if t.starts_with("40") => break,
                    // The server may ping before it acknowledges the namespace.
                    Some(Ok(Message::Text(t))) if t == "2" => ws.send(Message::text("3")).await.expect("pong sent"),
                    Some(Ok(_)) => {}
                    other => panic!("no connect ack: {other:?}"),
                }
            }
            let (lat, seen, done) = (latencies.clone(), burst_seen.clone(), burst_done.clone());
            handles.push(tokio::spawn(async move {
                let mut local = Vec::new();
                while let Some(Ok(msg)) = ws.next().await {
                    let Message::Text(t) = msg else { continue };
                    let t = t.as_str();
                    if t == "2" {
                        let _ = ws.send(Message::text("3")).await;
                        continue;
                    }
                    if !t.starts_with("42[\"send_notification\"") {
                        continue;
                    }
                    match field_str(t, "title") {
                        Some("steady") => {
                            if let Some(sent) = field_u64(t, "data1") {
                                local.push(micros().saturating_sub(sent));
                            }
                        }
                        Some("burst") if seen.fetch_add(1, Ordering::AcqRel) + 1 == total => done.notify_one(),
                        Some("end") => break,
                        _ => {}
                    }
                }
                lat.lock().await.extend(local);
            }));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let (rss1, pss1) = (rss_kib(pid), pss_kib(&[pid]));

        let (sender, socket, mut sender_events) = ClientBuilder::new(url.clone()).transport(TransportMode::WebSocket).connect().unwrap();
        wait_connected(&mut sender_events).await;
        tokio::spawn(async move { while sender_events.next().await.is_some() {} });
        let http = Http::new(&url);
        let send = |payload: serde_json::Value| {
            if via_http {
                http.post(payload);
            } else {
                socket.emit("send_notification_request", payload).unwrap();
            }
        };

        // Steady phase.
        let count = (rate * seconds).round() as u64;
        let period = Duration::from_secs_f64(1.0 / rate);
        let mut tick = tokio::time::interval(period);
        for _ in 0..count {
            tick.tick().await;
            send(json!({"text": "steady", "num": micros()}));
        }
        tokio::time::sleep(Duration::from_secs(2)).await;

        // Burst phase.
        let started = Instant::now();
        for i in 0..burst {
            send(json!({"text": "burst", "num": i}));
        }
        let completed = tokio::time::timeout(Duration::from_secs(60), burst_done.notified()).await.is_ok();
        let elapsed = started.elapsed().as_secs_f64();
        let delivered = burst_seen.load(Ordering::Acquire);

        let failed = http.failed.load(Ordering::Acquire);
        socket.emit("send_notification_request", json!({"text": "end", "num": 0})).unwrap();
        for task in handles {
            let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
        }
        let mut lat = latencies.lock().await.clone();
        lat.sort_unstable();
        let expected = count * clients as u64;
        println!(
            "{}",
            json!({
                "url": url, "clients": clients, "sender": if via_http { "http" } else { "socketio" },
                "http_failed": failed,
                "steady": {"rate": rate, "sent": count, "delivered": lat.len(), "expected": expected,
                           "p50_ms": percentile(&lat, 0.50) as f64 / 1000.0, "p99_ms": percentile(&lat, 0.99) as f64 / 1000.0},
                "burst": {"sent": burst, "delivered": delivered, "complete": completed, "seconds": elapsed,
                          "delivered_per_sec": delivered as f64 / elapsed},
                "memory": {"rss_kib_before": rss0, "rss_kib_after": rss1, "pss_kib_before": pss0, "pss_kib_after": pss1,
                           "kib_per_connection_rss": (rss1.saturating_sub(rss0)) as f64 / clients as f64,
                           "kib_per_connection_pss": (pss1.saturating_sub(pss0)) as f64 / clients as f64}
            })
        );
        sender.disconnect().await;
    });
}
