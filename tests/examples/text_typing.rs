//! Shared-text typing benchmark (`scripts/bench-text.sh` runs it against
//! our hub in both modes, alternating). `text_typing URL PID CLIENTS CPS
//! SECONDS MODE`:
//!
//! CLIENTS clients connect; each types CPS characters per second for
//! SECONDS at the end of its text. MODE `yjs`: each client holds a
//! `pushdesk-text` document and sends each keystroke as a Yjs update over
//! `text_sync` (what the web UI does); `full`: each sends its whole text
//! with `text_update_request` (the seed's way, which the hub merges
//! through a shadow per client). Every typed character is unique, so each
//! client sees which of the others' keystrokes a change brought and when:
//! edit → remote render latency p50/p99. The hub process PID's CPU time
//! over the typing is read from /proc.
//!
//! Prints one JSON object.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark driver: failing loudly is right

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pushdesk_socketio::{
    Bytes, ClientBuilder, Payload, Socket, SocketEvent, Value, json, placeholder,
};
use pushdesk_text::{Reset, SharedText, Splice, SyncMessage, answer};

/// utime + stime of `pid`, in seconds (clock ticks of 1/100 s).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

/// The unique character of keystroke `seq` of client `client`.
fn key_char(client: usize, seq: usize) -> char {
    char::from_u32(0x4E00 + u32::try_from(client * 1000 + seq % 1000).unwrap()).unwrap()
}

fn sync_payload(message: Vec<u8>) -> Payload {
    Payload::with_binary(vec![placeholder(0)], vec![Bytes::from(message)])
}

struct Shared {
    sent: Mutex<HashMap<char, (usize, Instant)>>,
    latencies: Mutex<Vec<f64>>,
}

/// Records the keystrokes of others that turned `before` into `after`,
/// each the first time this client sees it.
fn seen(shared: &Shared, me: usize, known: &mut HashSet<char>, before: &str, after: &str) {
    let Some(splice) = Splice::between(before, after) else {
        return;
    };
    let now = Instant::now();
    let sent = shared.sent.lock().unwrap();
    let mut lat = shared.latencies.lock().unwrap();
    for c in splice.insert.chars() {
        if let Some((from, at)) = sent.get(&c)
            && *from != me
            && known.insert(c)
        {
            lat.push(now.duration_since(*at).as_secs_f64() * 1000.0);
        }
    }
}

enum Replica {
    /// The document and its epoch (the hub may cut it: `text_reset`).
    Yjs(SharedText, u32),
    Full(String),
}

impl Replica {
    fn text(&self) -> String {
        match self {
            Self::Yjs(doc, _) => doc.text(),
            Self::Full(t) => t.clone(),
        }
    }
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let url = args[1].clone();
    let pid: u32 = args[2].parse().unwrap();
    let clients: usize = args[3].parse().unwrap();
    let cps: f64 = args[4].parse().unwrap();
    let seconds: f64 = args[5].parse().unwrap();
    let mode = args[6].clone();
    let yjs = mode == "yjs";
    let shared = Arc::new(Shared {
        sent: Mutex::new(HashMap::new()),
        latencies: Mutex::new(Vec::new()),
    });

    let mut typists: Vec<(Socket, Arc<Mutex<Replica>>)> = Vec::new();
    let mut keep = Vec::new();
    for me in 0..clients {
        let auth = if yjs {
            json!({"text": "yjs"})
        } else {
            json!({})
        };
        let (client, socket, mut events) = ClientBuilder::new(&url).auth(auth).connect().unwrap();
        let replica = Arc::new(Mutex::new(if yjs {
            Replica::Yjs(SharedText::new(), 0)
        } else {
            Replica::Full(String::new())
        }));
        let (r, s, sh) = (replica.clone(), socket.clone(), shared.clone());
        tokio::spawn(async move {
            let mut known = HashSet::new();
            while let Some(event) = events.next().await {
                let SocketEvent::Event(ev) = event else {
                    if let SocketEvent::Connected { .. } = event
                        && let Replica::Yjs(doc, _) = &*r.lock().unwrap()
                    {
                        let step1 = SyncMessage::Step1(doc.state_vector()).encode().unwrap();
                        let _ = s.emit("text_sync", sync_payload(step1));
                    }
                    continue;
                };
                let mut replica = r.lock().unwrap();
                let before = replica.text();
                match (&mut *replica, ev.name.as_str()) {
                    (Replica::Yjs(_, epoch), "welcome") => {
                        if let Some(e) = ev
                            .payload
                            .first()
                            .and_then(|v| v.get("text_epoch"))
                            .and_then(Value::as_u64)
                        {
                            *epoch = u32::try_from(e).unwrap();
                        }
                        continue;
                    }
                    (Replica::Yjs(doc, epoch), "text_reset") => {
                        let Some(bytes) = ev.payload.first().and_then(|v| ev.payload.attachment(v))
                        else {
                            continue;
                        };
                        let reset = Reset::decode(bytes).unwrap();
                        let (new, rebase) = reset.take(doc, *epoch).unwrap();
                        let _ = s.emit("text_rebase", sync_payload(rebase.encode()));
                        *doc = new;
                        *epoch = reset.epoch;
                    }
                    (Replica::Yjs(doc, _), "text_sync") => {
                        let Some(bytes) = ev.payload.first().and_then(|v| ev.payload.attachment(v))
                        else {
                            continue;
                        };
                        let message = SyncMessage::decode(bytes).unwrap();
                        for reply in answer(doc, &message, true, usize::MAX).unwrap().replies {
                            let _ = s.emit("text_sync", sync_payload(reply));
                        }
                    }
                    (Replica::Full(text), "text_update") => {
                        if let Some(t) = ev
                            .payload
                            .first()
                            .and_then(|v| v.get("text"))
                            .and_then(Value::as_str)
                        {
                            *text = t.to_owned();
                        }
                    }
                    _ => continue,
                }
                let after = replica.text();
                drop(replica);
                seen(&sh, me, &mut known, &before, &after);
            }
        });
        typists.push((socket, replica));
        keep.push(client);
    }
    // Everyone connected and synced.
    tokio::time::sleep(Duration::from_secs(2)).await;

    let cpu_before = cpu_seconds(pid);
    let started = Instant::now();
    let interval = Duration::from_secs_f64(1.0 / cps);
    let per_client = (cps * seconds).round() as usize;
    let mut tasks = Vec::new();
    for (me, (socket, replica)) in typists.into_iter().enumerate() {
        let sh = shared.clone();
        tasks.push(tokio::spawn(async move {
            // Spread the clients' keystrokes over the interval.
            tokio::time::sleep(interval.mul_f64(me as f64 / clients as f64)).await;
            let mut tick = tokio::time::interval(interval);
            for seq in 0..per_client {
                tick.tick().await;
                let c = key_char(me, seq);
                let mut replica = replica.lock().unwrap();
                let mut text = replica.text();
                text.push(c);
                sh.sent.lock().unwrap().insert(c, (me, Instant::now()));
                match &mut *replica {
                    Replica::Yjs(doc, _) => {
                        let update = doc.set(&text);
                        let message = SyncMessage::Update(update).encode().unwrap();
                        let _ = socket.emit("text_sync", sync_payload(message));
                    }
                    Replica::Full(t) => {
                        *t = text.clone();
                        let _ = socket.emit("text_update_request", json!({ "text": text }));
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let typing = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let cpu = cpu_seconds(pid) - cpu_before;

    let mut lat = shared.latencies.lock().unwrap().clone();
    lat.sort_by(f64::total_cmp);
    let expected = clients * (clients - 1) * per_client;
    println!(
        "{}",
        json!({
            "mode": mode,
            "clients": clients,
            "keystrokes": clients * per_client,
            "seen": lat.len(),
            "expected": expected,
            "latency_p50_ms": pct(&lat, 0.50),
            "latency_p99_ms": pct(&lat, 0.99),
            "hub_cpu_s": cpu,
            "hub_cpu_pct": 100.0 * cpu / (typing + 2.0),
        })
    );
    drop(keep);
}
