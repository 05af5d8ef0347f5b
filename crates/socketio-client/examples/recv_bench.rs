//! Our side of the receive benchmark without printing (`scripts/bench-listen.sh`).
//!
//! `recv_bench URL COUNT`: connects over WebSocket, counts `send_notification`
//! events and, after COUNT of them, prints one JSON line like
//! `tests/peers/node/bench-listen.js` does without `--print`: events/s from
//! the first event to the COUNT-th, through the library's [`Events`] stream
//! as an application sees it.
//!
//! [`Events`]: pushdesk_socketio::Events
#![allow(clippy::unwrap_used, clippy::expect_used)] // bench code: a panic is the failure report

use std::time::Instant;

use pushdesk_socketio::{ClientBuilder, SocketEvent, TransportMode, json};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(url), Some(count)) = (
        args.get(1).cloned(),
        args.get(2)
            .and_then(|s| s.parse::<u64>().ok())
            .filter(|&n| n > 0),
    ) else {
        eprintln!("usage: recv_bench URL COUNT");
        std::process::exit(2);
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let (client, _socket, mut events) = ClientBuilder::new(url)
            .transport(TransportMode::WebSocket)
            .connect()?;
        let mut seen = 0u64;
        let mut first = None;
        while let Some(event) = events.next().await {
            match event {
                SocketEvent::Event(ev) if ev.name == "send_notification" => {
                    first.get_or_insert_with(Instant::now);
                    seen += 1;
                    if seen == count {
                        break;
                    }
                }
                SocketEvent::ConnectError(e) => return Err(format!("connect error: {e}").into()),
                _ => {}
            }
        }
        let seconds = first.map_or(0.0, |t| t.elapsed().as_secs_f64());
        println!(
            "{}",
            json!({"client": "pushdesk-socketio", "events": seen, "seconds": seconds, "rate": seen as f64 / seconds.max(1e-9)})
        );
        client.disconnect().await;
        Ok::<(), Box<dyn std::error::Error>>(())
    })
}
