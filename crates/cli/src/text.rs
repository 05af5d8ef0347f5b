//! `pushdesk text`: prints the shared text, or sets it.
//!
//! Against our hub (its `welcome` says `text: "yjs"`) the command is a Yjs
//! peer: it holds a `pushdesk-text` document, syncs it with the hub over
//! `text_sync` (state vector, then what each side lacks), and `--set` sends
//! the one edit that turns the synced text into the new one. An edit made
//! elsewhere meanwhile merges with it instead of being overwritten. Against
//! the seed's server, which knows only whole texts, it reads `text_update`
//! and writes `text_update_request {text}`. A hub that has just cut its
//! document into a new epoch sends that document (`text_reset`) instead of
//! the handshake: the command takes it, as the sync.

use std::io::Write as _;
use std::time::Duration;

use anyhow::{Context as _, bail};
use pushdesk_hub_model::events;
use pushdesk_socketio::{
    Bytes, Error, Events, Payload, Socket, SocketEvent, Value, json, placeholder,
};
use pushdesk_text::{FIRST_EPOCH, Reset, SharedText, SyncMessage, answer};
use tracing::debug;

use crate::connect::{ConnectArgs, wait_connected};

/// Flags of `pushdesk text`.
#[derive(Debug, clap::Args)]
#[command(after_help = "\
Against a Pushdesk hub, --set edits the shared document: it sends the smallest \
change from the text it synced to TEXT, so someone typing elsewhere at the same \
moment keeps their words. Against the seed's server it replaces the text.")]
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

/// The largest text the hub keeps (the hub refuses longer ones too; this
/// bounds what a hostile hub can make us hold).
const MAX_TEXT: usize = pushdesk_hub_model::limits::MAX_TEXT_BYTES;

/// How the connected hub keeps the text.
enum Synced {
    /// Our hub: a Yjs document, synced.
    Yjs(SharedText),
    /// The seed's server: the whole text it sent.
    Seed(String),
}

/// Connects (saying we speak Yjs) and syncs the text.
async fn sync(
    connect: &ConnectArgs,
    socket: &Socket,
    events: &mut Events,
    client: &pushdesk_socketio::Client,
) -> anyhow::Result<Synced> {
    wait_connected(events, client, &connect.server).await?;
    let mut doc = SharedText::new();
    let mut epoch = FIRST_EPOCH;
    loop {
        let Some(event) = events.next().await else {
            bail!("{} closed the connection", connect.server);
        };
        let SocketEvent::Event(ev) = event else {
            continue;
        };
        match ev.name.as_str() {
            "welcome" => {
                let yjs = ev
                    .payload
                    .first()
                    .and_then(|v| v.get("text"))
                    .and_then(Value::as_str)
                    == Some(events::TEXT_MODE_YJS);
                if let Some(e) = ev
                    .payload
                    .first()
                    .and_then(|v| v.get(events::TEXT_EPOCH))
                    .and_then(Value::as_u64)
                    .and_then(|e| u32::try_from(e).ok())
                {
                    epoch = e;
                }
                if yjs {
                    let step1 = SyncMessage::Step1(doc.state_vector()).encode()?;
                    socket
                        .emit(events::TEXT_SYNC, binary(step1))
                        .context("sending the text handshake")?;
                }
            }
            events::TEXT_SYNC => {
                let Some(bytes) = ev.payload.first().and_then(|v| ev.payload.attachment(v)) else {
                    bail!("the hub sent a text_sync event without its message");
                };
                let message = SyncMessage::decode(bytes).context("the hub's text_sync message")?;
                let done = matches!(message, SyncMessage::Step2(_));
                let reply = answer(&mut doc, &message, true, MAX_TEXT)
                    .context("the hub's text_sync message")?;
                for reply in reply.replies {
                    socket
                        .emit(events::TEXT_SYNC, binary(reply))
                        .context("answering the text handshake")?;
                }
                if done {
                    debug!(
                        chars = doc.text().chars().count(),
                        "synced the shared text as a Yjs peer"
                    );
                    return Ok(Synced::Yjs(doc));
                }
            }
            events::TEXT_RESET => {
                let Some(bytes) = ev.payload.first().and_then(|v| ev.payload.attachment(v)) else {
                    bail!("the hub sent a text_reset event without its message");
                };
                let reset = Reset::decode(bytes).context("the hub's text_reset message")?;
                let (doc, rebase) = reset
                    .take(&doc, epoch)
                    .context("the hub's text_reset message")?;
                // Nothing of ours to merge yet; it tells the hub we moved.
                socket
                    .emit(events::TEXT_REBASE, binary(rebase.encode()))
                    .context("answering the text reset")?;
                debug!("synced the shared text from a new epoch's document");
                return Ok(Synced::Yjs(doc));
            }
            events::TEXT_UPDATE => {
                let text = ev
                    .payload
                    .first()
                    .and_then(|v| v.get("text"))
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                debug!(
                    chars = text.chars().count(),
                    "got the whole shared text (the seed's way)"
                );
                return Ok(Synced::Seed(text.to_owned()));
            }
            _ => {}
        }
    }
}

/// One binary argument, as `text_sync` carries its message.
fn binary(message: Vec<u8>) -> Payload {
    Payload::with_binary(vec![placeholder(0)], vec![Bytes::from(message)])
}

/// What the hub said to a write: `Ok(true)` taken, `Ok(false)` no answer
/// (the seed's server never acknowledges), `Err` refused.
fn taken(reply: Result<pushdesk_socketio::Payload, Error>) -> anyhow::Result<bool> {
    match reply {
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
}

/// Syncs, then prints the text or makes it `set`; `Ok(false)`: a seed
/// server that did not acknowledge the write.
async fn talk(
    connect: &ConnectArgs,
    socket: &Socket,
    events: &mut Events,
    client: &pushdesk_socketio::Client,
    set: Option<&str>,
) -> anyhow::Result<bool> {
    let synced = sync(connect, socket, events, client).await?;
    let Some(new) = set else {
        let text = match synced {
            Synced::Yjs(doc) => doc.text(),
            Synced::Seed(text) => text,
        };
        writeln!(std::io::stdout().lock(), "{text}")?;
        return Ok(true);
    };
    match synced {
        Synced::Yjs(mut doc) => {
            if doc.text() == new {
                return Ok(true);
            }
            let update = doc.set(new);
            let message = SyncMessage::Update(update).encode()?;
            let reply = socket
                .emit_with_ack(events::TEXT_SYNC, binary(message), Duration::from_secs(5))
                .await;
            // Our hub always answers a `text_sync`; silence is a failure.
            if !taken(reply)? {
                bail!("the hub did not acknowledge the edit");
            }
            Ok(true)
        }
        Synced::Seed(_) => taken(
            socket
                .emit_with_ack(
                    events::TEXT_UPDATE_REQUEST,
                    json!({ "text": new }),
                    Duration::from_secs(2),
                )
                .await,
        ),
    }
}

/// Connects once and runs [`talk`] within `timeout`.
async fn once(connect: &ConnectArgs, timeout: Duration, set: Option<&str>) -> anyhow::Result<bool> {
    let (client, socket, mut events) =
        connect.connect_once_with(timeout, &[("text", Value::from(events::TEXT_MODE_YJS))])?;
    let outcome =
        tokio::time::timeout(timeout, talk(connect, &socket, &mut events, &client, set)).await;
    client.disconnect().await;
    outcome
        .map_err(|_| anyhow::anyhow!("timed out after {timeout:?} talking to {}", connect.server))?
}

/// Prints or sets the text.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let timeout = Duration::from_secs_f64(args.timeout.clamp(0.1, 3600.0));
    let acknowledged = once(&args.connect, timeout, args.set.as_deref()).await?;
    if let Some(text) = args.set
        && !acknowledged
    {
        // The seed's server does not acknowledge: read the text back.
        let (client, socket, mut events) = args.connect.connect_once(timeout)?;
        let read =
            tokio::time::timeout(timeout, sync(&args.connect, &socket, &mut events, &client)).await;
        client.disconnect().await;
        let now = match read.map_err(|_| anyhow::anyhow!("timed out reading the text back"))?? {
            Synced::Yjs(doc) => doc.text(),
            Synced::Seed(text) => text,
        };
        if now != text {
            bail!("the hub did not take the text");
        }
    }
    Ok(())
}
