//! Transports carry Engine.IO packets: [`websocket`] or HTTP long-polling
//! ([`polling`]). Each runs as background tasks behind the same [`Transport`]
//! handle: packets go in through an unbounded queue (never blocks the
//! caller) and come out, in order, through a bounded channel (back-pressure
//! on the socket).

pub mod polling;
pub mod websocket;

use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::engineio::Packet;
use crate::error::Error;

/// Which transport a connection uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransportKind {
    /// WebSocket (`ws://` or `wss://`).
    WebSocket,
    /// HTTP long-polling.
    Polling,
}

impl std::fmt::Display for TransportKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::WebSocket => "websocket",
            Self::Polling => "polling",
        })
    }
}

/// Capacity of the incoming packet channel of a transport.
pub(crate) const INCOMING_CAPACITY: usize = 256;

/// A running transport: a reader task and a writer task.
pub(crate) struct Transport {
    pub kind: TransportKind,
    pub tx: mpsc::UnboundedSender<Packet>,
    pub rx: mpsc::Receiver<Result<Packet, Error>>,
    reader: JoinHandle<()>,
    writer: JoinHandle<()>,
    pause: Option<watch::Sender<bool>>,
}

impl Transport {
    pub(crate) fn new(
        kind: TransportKind,
        tx: mpsc::UnboundedSender<Packet>,
        rx: mpsc::Receiver<Result<Packet, Error>>,
        reader: JoinHandle<()>,
        writer: JoinHandle<()>,
        pause: Option<watch::Sender<bool>>,
    ) -> Self {
        Self {
            kind,
            tx,
            rx,
            reader,
            writer,
            pause,
        }
    }

    /// Sends one packet; false when the transport is gone.
    pub fn send(&self, packet: Packet) -> bool {
        self.tx.send(packet).is_ok()
    }

    /// Closes the outgoing queue: the writer sends what it holds, then stops.
    fn close_queue(&mut self) {
        let (dead_tx, _) = mpsc::unbounded_channel();
        drop(std::mem::replace(&mut self.tx, dead_tx));
    }

    /// Stops a polling transport once its in-flight requests complete (the
    /// server ends a pending poll with a noop during an upgrade). What it
    /// received stays readable from `rx` until that reports closed.
    pub async fn pause(&mut self) {
        if let Some(pause) = &self.pause {
            let _ = pause.send(true);
        }
        self.close_queue();
        let _ = (&mut self.writer).await;
        let _ = (&mut self.reader).await;
    }

    /// Closes gracefully: the writer flushes what is queued (bounded to
    /// 2 s), then the reader is stopped.
    pub async fn close(mut self) {
        self.close_queue();
        let _ = tokio::time::timeout(Duration::from_secs(2), &mut self.writer).await;
    }
}

impl Drop for Transport {
    fn drop(&mut self) {
        self.reader.abort();
        self.writer.abort();
    }
}
