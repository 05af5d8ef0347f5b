//! `pushdesk listen`: stays connected (reconnecting) and prints every event.

use std::io::Write as _;

use anyhow::bail;
use pushdesk_socketio::{ConnectionState, SocketEvent};
use tracing::info;

use crate::connect::ConnectArgs;
use crate::output;

/// Flags of `pushdesk listen`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    connect: ConnectArgs,
    /// Print exactly one JSON object per line: `{"event": NAME, "data": PAYLOAD}`.
    #[arg(long)]
    json: bool,
}

/// Runs until Ctrl-C, or until the hub refuses us for good.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let (client, _socket, mut events) = args.connect.builder()?.connect()?;
    let mut states = client.watch_state();
    let stdout = std::io::stdout();
    loop {
        tokio::select! {
            event = events.next() => {
                let Some(event) = event else { break };
                if let Some(line) = handle(event, args.json)? {
                    let mut out = stdout.lock();
                    if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
                        // stdout closed (e.g. piped into `head`): nothing left to do.
                        break;
                    }
                }
            }
            changed = states.changed() => {
                if changed.is_err() { break; }
                let state = states.borrow_and_update().clone();
                info!(%state, "connection");
                if let ConnectionState::Disconnected { reason } = state {
                    // What the namespace reported last explains it best (a refusal, say).
                    while let Some(event) = events.try_next() {
                        if let Some(line) = handle(event, args.json)? {
                            let _ = writeln!(stdout.lock(), "{line}");
                        }
                    }
                    bail!("disconnected: {reason}");
                }
            }
            _ = tokio::signal::ctrl_c() => {
                client.disconnect().await;
                break;
            }
        }
    }
    Ok(())
}

/// What one namespace event prints (if anything); a refusal is an error.
fn handle(event: SocketEvent, json: bool) -> anyhow::Result<Option<String>> {
    match event {
        SocketEvent::Event(ev) => return Ok(Some(output::line(&ev.name, &ev.payload, json))),
        SocketEvent::Connected { sid, recovered } => info!(%sid, recovered, "namespace connected"),
        SocketEvent::ConnectError(data) => {
            let message = data
                .get("message")
                .and_then(|m| m.as_str())
                .map_or_else(|| data.to_string(), str::to_owned);
            bail!("the hub refused the connection: {message}");
        }
        SocketEvent::Disconnected(reason) => info!(%reason, "namespace disconnected"),
    }
    Ok(None)
}
