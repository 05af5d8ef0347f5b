//! A raw Engine.IO v4 WebSocket server that misbehaves on purpose, to prove
//! a client's memory stays bounded against a hostile hub: it floods events
//! before answering the namespace's CONNECT, floods them after it, or
//! announces one binary packet with far more attachment bytes than the
//! client allows. It records whether the client hung up on it, or took
//! everything: after its frames it sends an Engine.IO ping, which a client
//! answers only once it has handled every frame before it.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;
use futures_util::{SinkExt as _, StreamExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tokio_tungstenite::tungstenite::Message;

/// How long a TCP connection may take to complete its WebSocket handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// What the server does once a client asks for the `/` namespace.
#[derive(Debug, Clone, Copy)]
pub enum Misbehaviour {
    /// Never answers CONNECT; sends `events` events of `size` bytes each.
    FloodBeforeConnect {
        /// How many events.
        events: usize,
        /// Bytes of each event's string argument.
        size: usize,
    },
    /// Answers CONNECT, then sends `events` events of `size` bytes each.
    FloodAfterConnect {
        /// How many events.
        events: usize,
        /// Bytes of each event's string argument.
        size: usize,
    },
    /// Answers CONNECT, then one binary event announcing `count`
    /// attachments of `size` bytes each, and sends them.
    HugeAttachments {
        /// How many attachments.
        count: usize,
        /// Bytes of each.
        size: usize,
    },
}

/// The misbehaving server (see the [module documentation](self)). Stops,
/// closing every connection, when dropped.
#[derive(Debug)]
pub struct HostileServer {
    addr: SocketAddr,
    hung_up: watch::Receiver<usize>,
    caught_up: watch::Receiver<usize>,
    task: JoinHandle<()>,
}

/// How a client took the flood.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It closed the connection.
    HungUp,
    /// It answered the ping sent after everything, still connected.
    CaughtUp,
}

impl HostileServer {
    /// Binds `127.0.0.1:0` and serves `misbehaviour` to every client.
    pub async fn start(misbehaviour: Misbehaviour) -> anyhow::Result<HostileServer> {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .context("binding 127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let (tx, hung_up) = watch::channel(0usize);
        let (caught_tx, caught_up) = watch::channel(0usize);
        let task = tokio::spawn(accept_loop(listener, misbehaviour, tx, caught_tx));
        Ok(HostileServer {
            addr,
            hung_up,
            caught_up,
            task,
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.addr.port())
    }

    /// Waits until a client has closed its connection (after the server
    /// sent what it meant to, or while it was sending); fails after `within`.
    pub async fn wait_for_hang_up(&self, within: Duration) -> anyhow::Result<()> {
        let mut rx = self.hung_up.clone();
        tokio::time::timeout(within, rx.wait_for(|n| *n >= 1))
            .await
            .with_context(|| format!("no client hung up within {within:?}"))?
            .context("hostile server stopped")?;
        Ok(())
    }
}

impl HostileServer {
    /// Waits until a client has hung up or answered the ping sent after the
    /// flood, whichever comes first; fails after `within`.
    pub async fn wait_for_outcome(&self, within: Duration) -> anyhow::Result<Outcome> {
        let (mut hung, mut caught) = (self.hung_up.clone(), self.caught_up.clone());
        tokio::time::timeout(within, async {
            tokio::select! {
                r = hung.wait_for(|n| *n >= 1) => r.map(|_| Outcome::HungUp),
                r = caught.wait_for(|n| *n >= 1) => r.map(|_| Outcome::CaughtUp),
            }
        })
        .await
        .with_context(|| format!("no outcome within {within:?}"))?
        .context("hostile server stopped")
    }
}

impl Drop for HostileServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn accept_loop(
    listener: TcpListener,
    m: Misbehaviour,
    hung_up: watch::Sender<usize>,
    caught_up: watch::Sender<usize>,
) {
    let mut conns = JoinSet::new();
    let hung_up = std::sync::Arc::new(hung_up);
    let caught_up = std::sync::Arc::new(caught_up);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let (hung_up, caught_up) = (hung_up.clone(), caught_up.clone());
                conns.spawn(async move {
                    if serve(stream, m, caught_up).await {
                        hung_up.send_modify(|n| *n += 1);
                    }
                });
            }
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
}

/// Serves one client; true when the client closed the connection.
async fn serve(
    stream: TcpStream,
    m: Misbehaviour,
    caught_up: std::sync::Arc<watch::Sender<usize>>,
) -> bool {
    let Ok(Ok(ws)) =
        tokio::time::timeout(HANDSHAKE_TIMEOUT, tokio_tungstenite::accept_async(stream)).await
    else {
        return false;
    };
    let (mut tx, mut rx) = ws.split();
    let open = r#"0{"sid":"hostile","upgrades":[],"pingInterval":25000,"pingTimeout":20000,"maxPayload":100000000}"#;
    if tx.send(Message::text(open)).await.is_err() {
        return true;
    }
    // Wait for the client's CONNECT.
    loop {
        match rx.next().await {
            Some(Ok(Message::Text(t))) if t.as_str().starts_with("40") => break,
            Some(Ok(_)) => {}
            _ => return true,
        }
    }
    // Send while watching for the client's close: a closed connection ends
    // the flood early.
    let flood = async move {
        let frames: Box<dyn Iterator<Item = Message> + Send> = match m {
            Misbehaviour::FloodBeforeConnect { events, size } => {
                let e = format!(r#"42["flood","{}"]"#, "x".repeat(size));
                Box::new(std::iter::repeat_n(Message::text(e), events))
            }
            Misbehaviour::FloodAfterConnect { events, size } => {
                let e = format!(r#"42["flood","{}"]"#, "x".repeat(size));
                Box::new(
                    std::iter::once(Message::text(r#"40{"sid":"hostile-root"}"#))
                        .chain(std::iter::repeat_n(Message::text(e), events)),
                )
            }
            Misbehaviour::HugeAttachments { count, size } => {
                let placeholders: Vec<String> = (0..count)
                    .map(|i| format!(r#"{{"_placeholder":true,"num":{i}}}"#))
                    .collect();
                let head = format!(r#"45{count}-["big",{}]"#, placeholders.join(","));
                let blob = vec![0u8; size];
                Box::new(
                    [
                        Message::text(r#"40{"sid":"hostile-root"}"#),
                        Message::text(head),
                    ]
                    .into_iter()
                    .chain(std::iter::repeat_n(Message::binary(blob), count)),
                )
            }
        };
        for frame in frames.chain(std::iter::once(Message::text("2"))) {
            if tx.send(frame).await.is_err() {
                // The client closed the connection while we were sending.
                return;
            }
        }
        // Then stay, answering nothing, until the client goes.
        std::future::pending::<()>().await;
    };
    let hang_up = async move {
        loop {
            match rx.next().await {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(Message::Text(t))) if t.as_str() == "3" => {
                    caught_up.send_modify(|n| *n += 1);
                }
                Some(Ok(_)) => {}
            }
        }
    };
    // Either way the client is gone: a failed send or a closed read.
    tokio::select! {
        () = flood => {}
        () = hang_up => {}
    }
    true
}
