//! `pushdesk text`: prints the shared text, or sets it.

use std::io::Write as _;
use std::time::Duration;

use anyhow::bail;
use pushdesk_hub_model::events;
use pushdesk_socketio::{Error, SocketEvent, Value, json};

use crate::connect::{ConnectArgs, wait_connected};

/// Flags of `pushdesk text`.
#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(flatten)]
    connect: ConnectArgs,
    /// Set the shared text to this (instead of printing it).
    #[arg(long, value_name = "TEXT")]
    set: Option<String>,
    /// How long to wait for the hub, in seconds.
    #[arg(long, default_value_t = 10.0, value_name = "SECONDS")]
    timeout: f64,
}

/// Connects and returns the text the hub sends on connect.
async fn read_text(connect: &ConnectArgs, timeout: Duration) -> anyhow::Result<String> {
    let (client, _socket, mut events) = connect.connect_once(timeout)?;
    let result = tokio::time::timeout(timeout, async {
        wait_connected(&mut events, &client, &connect.server).await?;
        loop {
            match events.next().await {
                Some(SocketEvent::Event(ev)) if ev.name == events::TEXT_UPDATE => {
                    return Ok(ev
                        .payload
                        .first()
                        .and_then(|v| v.get("text"))
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned());
                }
                Some(_) => {}
                None => bail!("{} closed the connection", connect.server),
            }
        }
    })
    .await;
    client.disconnect().await;
    result.map_err(|_| {
        anyhow::anyhow!(
            "timed out after {timeout:?} waiting for the text from {}",
            connect.server
        )
    })?
}

/// Prints or sets the text.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let timeout = Duration::from_secs_f64(args.timeout.clamp(0.1, 3600.0));
    let Some(text) = args.set else {
        let text = read_text(&args.connect, timeout).await?;
        let mut out = std::io::stdout().lock();
        writeln!(out, "{text}")?;
        return Ok(());
    };
    let (client, socket, mut events) = args.connect.connect_once(timeout)?;
    let outcome = tokio::time::timeout(timeout, async {
        wait_connected(&mut events, &client, &args.connect.server).await?;
        // Our hub acknowledges; the seed's does not, so a short wait then a check.
        match socket
            .emit_with_ack(
                events::TEXT_UPDATE_REQUEST,
                json!({ "text": text }),
                Duration::from_secs(2),
            )
            .await
        {
            Ok(reply) => match reply.first() {
                Some(v) if v.get("ok").and_then(Value::as_bool) == Some(false) => {
                    bail!(
                        "the hub rejected the text: {}",
                        v.get("error")
                            .and_then(Value::as_str)
                            .unwrap_or("no reason given")
                    )
                }
                _ => Ok(true),
            },
            Err(Error::AckTimeout(_)) => Ok(false),
            Err(e) => bail!("sending the text failed: {e}"),
        }
    })
    .await;
    client.disconnect().await;
    let acknowledged = outcome.map_err(|_| {
        anyhow::anyhow!(
            "timed out after {timeout:?} talking to {}",
            args.connect.server
        )
    })??;
    if !acknowledged && read_text(&args.connect, timeout).await? != text {
        bail!("the hub did not take the text");
    }
    Ok(())
}
