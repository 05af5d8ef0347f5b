//! Our side of the acked-echo benchmark (`scripts/bench-client.sh`).
//!
//! `echo_bench URL IN_FLIGHT SECONDS`: emits `echo` with a small payload and
//! waits for the ack, keeping IN_FLIGHT requests outstanding, for SECONDS
//! after a 1 s warm-up; prints one JSON line like `bench-echo.js` does,
//! including the process's CPU time (user + system) per ack.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use pushdesk_socketio::{ClientBuilder, SocketEvent, TransportMode, json};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(url), in_flight, seconds) = (
        args.get(1).cloned(),
        args.get(2)
            .and_then(|s| s.parse::<usize>().ok())
            .unwrap_or(1)
            .max(1),
        args.get(3)
            .and_then(|s| s.parse::<f64>().ok())
            .unwrap_or(5.0),
    ) else {
        eprintln!("usage: echo_bench URL IN_FLIGHT SECONDS");
        std::process::exit(2);
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let (client, socket, mut events) = ClientBuilder::new(url).transport(TransportMode::WebSocket).connect()?;
        loop {
            match events.next().await {
                Some(SocketEvent::Connected { .. }) => break,
                Some(SocketEvent::ConnectError(e)) => return Err(format!("connect error: {e}").into()),
                Some(_) => {}
                None => return Err("client stopped".into()),
            }
        }
        // Drain events in the background (count_update, text_update…).
        tokio::spawn(async move { while events.next().await.is_some() {} });

        let counting = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let acks = Arc::new(AtomicU64::new(0));
        let mut workers = Vec::new();
        for _ in 0..in_flight {
            let (socket, counting, stop, acks) = (socket.clone(), counting.clone(), stop.clone(), acks.clone());
            workers.push(tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    let payload = json!({"title": "bench", "n": 0});
                    if socket.emit_with_ack("echo", payload, Duration::from_secs(10)).await.is_err() {
                        return;
                    }
                    if counting.load(Ordering::Relaxed) {
                        acks.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }));
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
        counting.store(true, Ordering::Relaxed);
        let started = Instant::now();
        let cpu_start = cpu_seconds();
        tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
        let total = acks.load(Ordering::Relaxed);
        let elapsed = started.elapsed().as_secs_f64();
        let cpu = cpu_seconds() - cpu_start;
        stop.store(true, Ordering::Relaxed);
        println!(
            "{}",
            json!({"client": "pushdesk-socketio", "in_flight": in_flight, "acks": total, "seconds": elapsed, "rate": total as f64 / elapsed, "cpu_us_per_ack": cpu * 1e6 / total.max(1) as f64})
        );
        for w in workers {
            let _ = w.await;
        }
        client.disconnect().await;
        Ok::<(), Box<dyn std::error::Error>>(())
    })
}

/// User + system CPU time of this process, from `/proc/self/stat` (in
/// USER_HZ = 100 ticks, fixed by the Linux ABI); 0 where unavailable.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let rest = stat.rsplit_once(") ").map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split(' ').collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}
