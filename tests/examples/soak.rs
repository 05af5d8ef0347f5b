//! Soak benchmark (`scripts/soak.sh` runs it against our hub with the tray
//! connected): `soak URL HUB_PID TRAY_PID CLIENTS MINUTES RATE CHURN`.
//!
//! 1. connects CLIENTS minimal raw Engine.IO receivers (the `/` namespace,
//!    pongs, each notification's id) to the hub at URL;
//! 2. for MINUTES, one real `pushdesk-socketio` client sends RATE
//!    notifications per second (acked), and CHURN receivers per second
//!    leave and are replaced by a new connection that names the last id
//!    its predecessor got (`auth.last_id`), as a reconnecting client does;
//! 3. every receiver checks that the ids it gets follow on without a gap
//!    or a repeat (replay + live), and the hub's and the tray's (TRAY_PID,
//!    0: none) resident memory is sampled every 30 s.
//!
//! Memory is compared between the first sample after a one-minute warm-up
//! and the last one. Prints one JSON object.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark driver: failing loudly is right

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::{SinkExt as _, StreamExt as _};
use pushdesk_e2e::peers::desktop::rss_kib;
use pushdesk_socketio::{ClientBuilder, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// The number after `"id":` in a notification's JSON.
fn id_of(json: &str) -> Option<u64> {
    let start = json.find("\"id\":")? + 5;
    let digits: String = json[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

#[derive(Default)]
struct Tally {
    received: AtomicU64,
    gaps: AtomicU64,
    repeats: AtomicU64,
    connects: AtomicU64,
}

/// One receiver: connects (after `last_id` if given), reads until `until`,
/// checking that ids follow on; returns the last id it got.
async fn receiver(
    ws_url: String,
    last_id: Option<u64>,
    until: Instant,
    tally: Arc<Tally>,
) -> Option<u64> {
    let config = WebSocketConfig::default().read_buffer_size(4096);
    let (mut ws, _) =
        tokio_tungstenite::connect_async_with_config(ws_url.as_str(), Some(config), false)
            .await
            .ok()?;
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) if t.starts_with('0') => break,
            Some(Ok(_)) => {}
            _ => return last_id,
        }
    }
    let connect = match last_id {
        Some(id) => format!("40{}", json!({ "last_id": id })),
        None => "40".to_owned(),
    };
    ws.send(Message::text(connect)).await.ok()?;
    tally.connects.fetch_add(1, Ordering::Relaxed);
    let mut last = last_id;
    let deadline = tokio::time::Instant::from_std(until);
    loop {
        let msg = match tokio::time::timeout_at(deadline, ws.next()).await {
            Ok(Some(Ok(msg))) => msg,
            Ok(_) => break,
            Err(_) => break,
        };
        let Message::Text(t) = msg else { continue };
        let t = t.as_str();
        if t == "2" {
            if ws.send(Message::text("3")).await.is_err() {
                break;
            }
            continue;
        }
        if !t.contains("send_notification") {
            continue;
        }
        let Some(id) = id_of(t) else { continue };
        tally.received.fetch_add(1, Ordering::Relaxed);
        match last {
            Some(prev) if id <= prev => {
                tally.repeats.fetch_add(1, Ordering::Relaxed);
            }
            Some(prev) if id > prev + 1 => {
                tally.gaps.fetch_add(id - prev - 1, Ordering::Relaxed);
                last = Some(id);
            }
            _ => last = Some(id),
        }
    }
    let _ = ws.close(None).await;
    last
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize, default: &str| args.get(i).cloned().unwrap_or_else(|| default.to_owned());
    let url = arg(1, "http://127.0.0.1:8080");
    let hub_pid: u32 = arg(2, "0").parse().expect("HUB_PID");
    let tray_pid: u32 = arg(3, "0").parse().expect("TRAY_PID");
    let clients: usize = arg(4, "1000").parse().expect("CLIENTS");
    let minutes: f64 = arg(5, "30").parse().expect("MINUTES");
    let rate: f64 = arg(6, "5").parse().expect("RATE");
    let churn: f64 = arg(7, "2").parse().expect("CHURN");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let ws_url = format!("{}/socket.io/?EIO=4&transport=websocket", url.replacen("http", "ws", 1));
        let tally = Arc::new(Tally::default());
        let start = Instant::now();
        let end = start + Duration::from_secs_f64(minutes * 60.0);
        // Receivers: each slot runs one receiver after another. Lifetimes are
        // spread so that about CHURN per second are replaced.
        let mean_life = if churn > 0.0 { clients as f64 / churn } else { f64::INFINITY };
        let mut slots = Vec::with_capacity(clients);
        for slot in 0..clients {
            let (ws_url, tally) = (ws_url.clone(), tally.clone());
            slots.push(tokio::spawn(async move {
                let mut last = None;
                let mut n = 0u64;
                loop {
                    let now = Instant::now();
                    if now >= end {
                        return;
                    }
                    // Deterministic spread: slot and generation pick the lifetime.
                    let spread = ((slot as u64 * 7919 + n * 104_729) % 1000) as f64 / 1000.0;
                    let life = Duration::from_secs_f64((mean_life * 2.0 * spread).clamp(5.0, 1e9));
                    let until = (now + life).min(end);
                    last = receiver(ws_url.clone(), last, until, tally.clone()).await.or(last);
                    n += 1;
                }
            }));
            if slot % 50 == 49 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
        // The sender.
        let (client, socket, _events) = ClientBuilder::new(&url).connect().expect("sender connects");
        let sent = Arc::new(AtomicU64::new(0));
        let acked = Arc::new(AtomicU64::new(0));
        let sender = {
            let (sent, acked) = (sent.clone(), acked.clone());
            tokio::spawn(async move {
                let period = Duration::from_secs_f64(1.0 / rate.max(0.001));
                let mut tick = tokio::time::interval(period);
                let mut i = 0u64;
                while Instant::now() < end {
                    tick.tick().await;
                    i += 1;
                    sent.fetch_add(1, Ordering::Relaxed);
                    let request = json!({"title": format!("soak {i}"), "body": "steady traffic", "tag": format!("t{}", i % 10)});
                    let (socket, acked) = (socket.clone(), acked.clone());
                    tokio::spawn(async move {
                        if let Ok(ack) = socket.emit_with_ack("send_notification_request", request, Duration::from_secs(10)).await
                            && ack.first().is_some_and(|a| a["ok"] == json!(true))
                        {
                            acked.fetch_add(1, Ordering::Relaxed);
                        }
                    });
                }
            })
        };
        // Memory samples.
        let mut samples = Vec::new();
        let warmup = start + Duration::from_secs(60);
        let mut next = start;
        while Instant::now() < end {
            tokio::time::sleep_until(tokio::time::Instant::from_std(next)).await;
            let at = start.elapsed().as_secs();
            let (hub, tray) = (rss_kib(hub_pid), if tray_pid > 0 { rss_kib(tray_pid) } else { 0 });
            eprintln!("soak: {at} s: hub {hub} KiB, tray {tray} KiB, received {}", tally.received.load(Ordering::Relaxed));
            if Instant::now() >= warmup {
                samples.push((at, hub, tray));
            }
            next += Duration::from_secs(30);
        }
        let _ = sender.await;
        tokio::time::sleep(Duration::from_secs(3)).await;
        for slot in slots {
            let _ = slot.await;
        }
        client.disconnect().await;
        let (first, last) = (samples.first().copied().unwrap_or_default(), samples.last().copied().unwrap_or_default());
        let change = |a: u64, b: u64| if a == 0 { 0.0 } else { (b as f64 - a as f64) / a as f64 * 100.0 };
        let report = json!({
            "clients": clients, "minutes": minutes, "rate": rate, "churn_per_s": churn,
            "sent": sent.load(Ordering::Relaxed), "acked": acked.load(Ordering::Relaxed),
            "receiver_connections": tally.connects.load(Ordering::Relaxed),
            "received": tally.received.load(Ordering::Relaxed),
            "gaps": tally.gaps.load(Ordering::Relaxed), "repeats": tally.repeats.load(Ordering::Relaxed),
            "hub_rss_kib": {"after_warmup": first.1, "end": last.1, "change_pct": (change(first.1, last.1) * 10.0).round() / 10.0,
                             "max": samples.iter().map(|s| s.1).max().unwrap_or(0)},
            "tray_rss_kib": {"after_warmup": first.2, "end": last.2, "change_pct": (change(first.2, last.2) * 10.0).round() / 10.0,
                              "max": samples.iter().map(|s| s.2).max().unwrap_or(0)},
            "samples": samples,
        });
        println!("{report}");
    });
}
