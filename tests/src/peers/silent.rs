//! A raw Engine.IO v4 WebSocket server that opens sessions and connects the
//! `/` namespace but never sends a ping, so a client must detect the ping
//! timeout (300 ms + 200 ms) and reconnect.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use anyhow::Context as _;
use futures_util::{SinkExt as _, StreamExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};
use tokio_tungstenite::tungstenite::Message;

/// How long a TCP connection may take to complete its WebSocket handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The never-pinging server. Accepts WebSockets on any path of
/// `127.0.0.1:PORT`; stops (closing every connection) when dropped.
#[derive(Debug)]
pub struct SilentServer {
    addr: SocketAddr,
    connections: watch::Receiver<usize>,
    task: JoinHandle<()>,
}

impl SilentServer {
    /// Binds `127.0.0.1:0` and starts accepting. Must be called inside a tokio
    /// runtime.
    pub async fn start() -> anyhow::Result<SilentServer> {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .context("binding 127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let (count_tx, connections) = watch::channel(0usize);
        let task = tokio::spawn(accept_loop(listener, count_tx));
        Ok(SilentServer {
            addr,
            connections,
            task,
        })
    }

    /// The port it listens on (on `127.0.0.1`).
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port())
    }

    /// `ws://127.0.0.1:PORT/socket.io/?EIO=4&transport=websocket`.
    pub fn ws_url(&self) -> String {
        format!(
            "ws://127.0.0.1:{}/socket.io/?EIO=4&transport=websocket",
            self.port()
        )
    }

    /// How many WebSocket handshakes it has accepted so far.
    pub fn connections(&self) -> usize {
        *self.connections.borrow()
    }

    /// Waits until at least `n` WebSockets have been accepted; fails after
    /// `within`.
    pub async fn wait_for_connections(&self, n: usize, within: Duration) -> anyhow::Result<()> {
        let mut rx = self.connections.clone();
        tokio::time::timeout(within, rx.wait_for(|c| *c >= n))
            .await
            .with_context(|| {
                format!(
                    "{} connection(s) after {within:?}, wanted {n}",
                    self.connections()
                )
            })?
            .context("silent server stopped")?;
        Ok(())
    }
}

impl Drop for SilentServer {
    fn drop(&mut self) {
        // Dropping the accept loop drops its JoinSet, which aborts every connection.
        self.task.abort();
    }
}

async fn accept_loop(listener: TcpListener, count: watch::Sender<usize>) {
    let counter = Arc::new(AtomicUsize::new(0));
    let count = Arc::new(count);
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                conns.spawn(serve(stream, counter.clone(), count.clone()));
            }
            // Reap finished connections so the set does not grow.
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
}

async fn serve(stream: TcpStream, counter: Arc<AtomicUsize>, count: Arc<watch::Sender<usize>>) {
    let Ok(Ok(mut ws)) =
        tokio::time::timeout(HANDSHAKE_TIMEOUT, tokio_tungstenite::accept_async(stream)).await
    else {
        return;
    };
    let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
    count.send_modify(|c| *c += 1);
    let open = format!(
        r#"0{{"sid":"silent-{n}","upgrades":[],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}}"#
    );
    if ws.send(Message::text(open)).await.is_err() {
        return;
    }
    while let Some(Ok(msg)) = ws.next().await {
        if let Message::Text(text) = msg {
            let text = text.as_str();
            if text == "40" || text.starts_with("40{") {
                let ack = format!(r#"40{{"sid":"silent-{n}-root"}}"#);
                if ws.send(Message::text(ack)).await.is_err() {
                    return;
                }
            }
        }
    }
}
