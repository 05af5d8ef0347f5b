//! Opens an Engine.IO session: picks the transport, reads the handshake and,
//! over polling, probes a WebSocket upgrade in the background.

use std::time::Duration;

use tokio::task::JoinHandle;
use tracing::debug;

use crate::config::{Config, TransportMode};
use crate::engineio::{Handshake, Packet, PacketType};
use crate::error::Error;
use crate::transport::{Transport, polling, websocket};

/// How long the upgrade probe (`2probe` → `3probe`) may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// An open Engine.IO session.
pub(crate) struct Engine {
    pub handshake: Handshake,
    pub transport: Transport,
    /// A WebSocket being probed for upgrade; ready when the probe succeeded.
    pub upgrade: Option<JoinHandle<Result<Transport, Error>>>,
}

/// Opens a session as the configuration asks.
pub(crate) async fn connect(cfg: &Config) -> Result<Engine, Error> {
    match cfg.transport {
        TransportMode::WebSocket => connect_websocket(cfg).await,
        TransportMode::Polling => connect_polling(cfg, false).await,
        TransportMode::PollingThenUpgrade => connect_polling(cfg, true).await,
        TransportMode::Auto => match connect_websocket(cfg).await {
            Ok(engine) => Ok(engine),
            Err(ws_err) => {
                debug!(error = %ws_err, "websocket failed, trying long-polling");
                connect_polling(cfg, false).await.map_err(|e| {
                    Error::Transport(format!(
                        "{}; long-polling: {}",
                        e_detail(&ws_err),
                        e_detail(&e)
                    ))
                })
            }
        },
    }
}

/// A transport error's own text, without the "transport:" its `Display`
/// adds (for messages that combine two of them).
fn e_detail(e: &Error) -> String {
    match e {
        Error::Transport(detail) => detail.clone(),
        other => other.to_string(),
    }
}

async fn connect_websocket(cfg: &Config) -> Result<Engine, Error> {
    let mut transport = websocket::open(cfg, None).await?;
    let handshake = match transport.rx.recv().await {
        Some(Ok(Packet::Text(PacketType::Open, json))) => Handshake::parse(&json)?,
        Some(Ok(other)) => {
            return Err(Error::Transport(format!(
                "expected an open packet, got {:?}",
                other.kind()
            )));
        }
        Some(Err(e)) => return Err(e),
        None => return Err(Error::Transport("closed before the handshake".into())),
    };
    Ok(Engine {
        handshake,
        transport,
        upgrade: None,
    })
}

async fn connect_polling(cfg: &Config, upgrade: bool) -> Result<Engine, Error> {
    let http = polling::http_client(cfg)?;
    let (handshake, early) = polling::handshake(cfg, &http).await?;
    let transport = polling::spawn(cfg, http, &handshake, early);
    let upgrade = (upgrade && handshake.upgrades.iter().any(|u| u == "websocket")).then(|| {
        let cfg = cfg.clone();
        let sid = handshake.sid.clone();
        tokio::spawn(async move {
            tokio::time::timeout(PROBE_TIMEOUT, probe(&cfg, &sid))
                .await
                .map_err(|_| Error::Transport("upgrade probe timed out".into()))?
        })
    });
    Ok(Engine {
        handshake,
        transport,
        upgrade,
    })
}

/// Opens a WebSocket into session `sid` and checks the server answers the probe.
async fn probe(cfg: &Config, sid: &str) -> Result<Transport, Error> {
    let mut ws = websocket::open(cfg, Some(sid)).await?;
    ws.send(Packet::Text(PacketType::Ping, "probe".into()));
    match ws.rx.recv().await {
        Some(Ok(Packet::Text(PacketType::Pong, data))) if data == "probe" => Ok(ws),
        Some(Err(e)) => Err(e),
        other => Err(Error::Transport(format!(
            "bad upgrade probe answer: {other:?}"
        ))),
    }
}
