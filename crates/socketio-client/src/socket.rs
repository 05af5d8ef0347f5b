//! A namespace as the application sees it: [`Socket`] to emit, [`Events`]
//! to receive [`SocketEvent`]s in order.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::{mpsc, oneshot};

use crate::client::Command;
use crate::error::Error;
use crate::payload::Payload;
use crate::socketio::Packet;
use crate::state::DisconnectReason;

/// What a namespace reports, in the order it happened.
#[derive(Debug)]
pub enum SocketEvent {
    /// The server accepted the namespace. `recovered` is true when the
    /// server restored the previous session (connection state recovery) and
    /// replayed what was missed.
    Connected {
        /// The namespace session id.
        sid: String,
        /// Whether the previous session was recovered.
        recovered: bool,
    },
    /// The server refused the namespace; the payload is what it sent (an
    /// object such as `{"message":…,"data":…}` or a bare string).
    ConnectError(Value),
    /// The namespace was left; see [`DisconnectReason::will_reconnect`].
    Disconnected(DisconnectReason),
    /// An event from the server.
    Event(Event),
}

/// An event from the server.
#[derive(Debug)]
pub struct Event {
    /// The event name.
    pub name: String,
    /// Its arguments.
    pub payload: Payload,
    pub(crate) ack: Option<AckHandle>,
}

impl Event {
    /// Whether the server asked for an acknowledgement.
    pub fn wants_ack(&self) -> bool {
        self.ack.is_some()
    }

    /// Answers the server's acknowledgement request (once; later calls and
    /// calls for events that asked for none do nothing and return false).
    pub fn ack(&mut self, reply: impl Into<Payload>) -> bool {
        match self.ack.take() {
            Some(handle) => handle.send(reply.into()),
            None => false,
        }
    }
}

/// Where an acknowledgement goes: a namespace, an ack id, a session.
#[derive(Debug)]
pub(crate) struct AckHandle {
    pub cmd: mpsc::UnboundedSender<Command>,
    pub nsp: Arc<str>,
    pub id: u64,
    pub session: u64,
}

impl AckHandle {
    fn send(self, reply: Payload) -> bool {
        let packet = Packet::ack(&self.nsp, self.id, reply.args, reply.binary);
        self.cmd
            .send(Command::AckReply {
                session: self.session,
                nsp: self.nsp,
                packet,
            })
            .is_ok()
    }
}

/// State shared between a [`Socket`] handle and the driver.
#[derive(Debug)]
pub(crate) struct SocketShared {
    pub connected: AtomicBool,
    /// Emits counted against the offline buffer and not yet sent.
    pub buffered: AtomicUsize,
    pub limit: usize,
    pub next_ack: AtomicU64,
    /// Bytes of events sent to [`Events`] and not taken yet (see
    /// [`crate::ClientBuilder::max_queued_bytes`]).
    pub queued: AtomicUsize,
}

impl SocketShared {
    pub fn new(limit: usize) -> Self {
        Self {
            connected: AtomicBool::new(false),
            buffered: AtomicUsize::new(0),
            limit,
            next_ack: AtomicU64::new(0),
            queued: AtomicUsize::new(0),
        }
    }
}

/// A pending acknowledgement as the driver holds it.
pub(crate) type AckSender = oneshot::Sender<Result<Payload, Error>>;

/// A handle to one namespace. Cheap to clone; emits are queued to the
/// connection without waiting.
#[derive(Debug, Clone)]
pub struct Socket {
    pub(crate) nsp: Arc<str>,
    pub(crate) cmd: mpsc::UnboundedSender<Command>,
    pub(crate) shared: Arc<SocketShared>,
}

impl Socket {
    /// The namespace, e.g. `/`.
    pub fn namespace(&self) -> &str {
        &self.nsp
    }

    /// Whether the namespace is connected right now.
    pub fn is_connected(&self) -> bool {
        self.shared.connected.load(Ordering::Acquire)
    }

    /// Counts an emit against the offline buffer when disconnected.
    fn reserve(&self) -> Result<bool, Error> {
        if self.is_connected() {
            return Ok(false);
        }
        let prev = self.shared.buffered.fetch_add(1, Ordering::AcqRel);
        if prev >= self.shared.limit {
            self.shared.buffered.fetch_sub(1, Ordering::AcqRel);
            return Err(Error::BufferFull(self.shared.limit));
        }
        Ok(true)
    }

    fn submit(&self, packet: Packet, ack: Option<AckSender>) -> Result<(), Error> {
        let counted = self.reserve()?;
        self.cmd
            .send(Command::Emit {
                nsp: self.nsp.clone(),
                packet,
                ack,
                counted,
            })
            .map_err(|_| {
                if counted {
                    self.shared.buffered.fetch_sub(1, Ordering::AcqRel);
                }
                Error::Closed
            })
    }

    /// Emits an event. While disconnected it is buffered (up to the
    /// configured limit, else [`Error::BufferFull`]) and sent on reconnect.
    pub fn emit(&self, event: &str, payload: impl Into<Payload>) -> Result<(), Error> {
        let p = payload.into();
        self.submit(
            Packet::event(&self.nsp, event, p.args, p.binary, None),
            None,
        )
    }

    /// Emits an event and waits for the server's acknowledgement. Resolves to
    /// [`Error::AckTimeout`] when none arrives within `timeout` (counted from
    /// now, buffering included), [`Error::AckLost`] when the connection drops
    /// after it was sent.
    pub async fn emit_with_ack(
        &self,
        event: &str,
        payload: impl Into<Payload>,
        timeout: Duration,
    ) -> Result<Payload, Error> {
        let p = payload.into();
        let id = self.shared.next_ack.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        self.submit(
            Packet::event(&self.nsp, event, p.args, p.binary, Some(id)),
            Some(tx),
        )?;
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(Error::Closed),
            Err(_) => {
                let _ = self.cmd.send(Command::CancelAck {
                    nsp: self.nsp.clone(),
                    id,
                });
                Err(Error::AckTimeout(timeout))
            }
        }
    }

    /// Leaves this namespace (sends DISCONNECT). The client closes the
    /// connection when no namespace is left.
    pub fn disconnect(&self) {
        let _ = self.cmd.send(Command::Leave {
            nsp: self.nsp.clone(),
        });
    }
}

/// An event on its way to [`Events`], with what it counts against the
/// namespace's queue limit.
pub(crate) type Queued = (SocketEvent, usize);

/// The events of one namespace, in order. Ends (`None`) when the client stops.
#[derive(Debug)]
pub struct Events {
    pub(crate) rx: mpsc::UnboundedReceiver<Queued>,
    pub(crate) shared: Arc<SocketShared>,
}

impl Events {
    /// The next event; `None` once the client has stopped for good.
    pub async fn next(&mut self) -> Option<SocketEvent> {
        let (event, cost) = self.rx.recv().await?;
        self.shared.queued.fetch_sub(cost, Ordering::AcqRel);
        Some(event)
    }

    /// The next event if one is ready, without waiting.
    pub fn try_next(&mut self) -> Option<SocketEvent> {
        let (event, cost) = self.rx.try_recv().ok()?;
        self.shared.queued.fetch_sub(cost, Ordering::AcqRel);
        Some(event)
    }
}
