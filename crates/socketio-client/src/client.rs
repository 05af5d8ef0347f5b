//! The reconnecting client. [`Client`] is the handle; a driver task owns the
//! Engine.IO session and every namespace's state, so ordering is simple: one
//! task reads the transport, answers pings, sends what handles queue, and
//! delivers events in arrival order.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::Bytes;
use serde_json::{Map, Value};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::{Instant, Sleep};
use tracing::{debug, info, warn};

use crate::config::{ClientBuilder, Config};
use crate::engine::{self, Engine};
use crate::engineio::{self, PacketType as EioType};
use crate::error::Error;
use crate::payload::Payload;
use crate::socket::{
    AckHandle, AckSender, Event, Events, Queued, Socket, SocketEvent, SocketShared,
};
use crate::socketio::{Decoder, Packet, PacketType};
use crate::state::{ConnectionState, DisconnectReason};
use crate::transport::Transport;

/// Events received for a namespace before its CONNECT ack are held (and
/// delivered right after it) up to this many, and up to the queue's bytes
/// ([`crate::ClientBuilder::max_queued_bytes`]); a server that sends more
/// ends the session.
const EARLY_EVENT_LIMIT: usize = 10_000;

/// What an event costs against the queue limit beside its size on the wire:
/// a rough share of its decoded form's allocations.
const EVENT_OVERHEAD: usize = 256;

/// What handles ask of the driver.
#[derive(Debug)]
pub(crate) enum Command {
    Emit {
        nsp: Arc<str>,
        packet: Packet,
        ack: Option<AckSender>,
        counted: bool,
    },
    AckReply {
        session: u64,
        nsp: Arc<str>,
        packet: Packet,
    },
    CancelAck {
        nsp: Arc<str>,
        id: u64,
    },
    Open {
        nsp: Arc<str>,
        events: mpsc::UnboundedSender<Queued>,
        shared: Arc<SocketShared>,
    },
    Leave {
        nsp: Arc<str>,
    },
    Close {
        done: oneshot::Sender<()>,
    },
}

impl ClientBuilder {
    /// Validates the configuration and starts connecting in the background
    /// (on the current tokio runtime). Returns the client, the socket of the
    /// URL's namespace and that namespace's events.
    pub fn connect(self) -> Result<(Client, Socket, Events), Error> {
        let cfg = self.build()?;
        Client::start(cfg)
    }
}

/// A connection to a Socket.IO server, reconnecting by itself. Cheap to
/// clone. The connection lives while any [`Client`] or [`Socket`] handle does.
#[derive(Debug, Clone)]
pub struct Client {
    cmd: mpsc::UnboundedSender<Command>,
    state: watch::Receiver<ConnectionState>,
    send_buffer: usize,
}

impl Client {
    /// Starts a client for a validated configuration.
    pub fn start(cfg: Config) -> Result<(Client, Socket, Events), Error> {
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| Error::Transport("no tokio runtime".into()))?;
        let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
        let (state_tx, state_rx) = watch::channel(ConnectionState::Connecting);
        let client = Client {
            cmd: cmd_tx,
            state: state_rx,
            send_buffer: cfg.send_buffer,
        };
        let (socket, events) = client.socket(&cfg.namespace);
        let driver = Driver::new(Arc::new(cfg), cmd_rx, client.cmd.downgrade(), state_tx);
        runtime.spawn(driver.run());
        Ok((client, socket, events))
    }

    /// A socket for another namespace on the same connection. Calling it
    /// again for the same namespace moves its events to the new [`Events`].
    pub fn socket(&self, namespace: &str) -> (Socket, Events) {
        let nsp: Arc<str> = if namespace.starts_with('/') {
            Arc::from(namespace)
        } else {
            Arc::from(format!("/{namespace}"))
        };
        let shared = Arc::new(SocketShared::new(self.send_buffer));
        let (tx, rx) = mpsc::unbounded_channel();
        let _ = self.cmd.send(Command::Open {
            nsp: nsp.clone(),
            events: tx,
            shared: shared.clone(),
        });
        (
            Socket {
                nsp,
                cmd: self.cmd.clone(),
                shared: shared.clone(),
            },
            Events { rx, shared },
        )
    }

    /// The connection state now.
    pub fn state(&self) -> ConnectionState {
        self.state.borrow().clone()
    }

    /// A receiver that sees every connection state change.
    pub fn watch_state(&self) -> watch::Receiver<ConnectionState> {
        self.state.clone()
    }

    /// Disconnects every namespace, closes the connection and stops
    /// reconnecting. Returns once the driver has stopped.
    pub async fn disconnect(&self) {
        let (tx, rx) = oneshot::channel();
        if self.cmd.send(Command::Close { done: tx }).is_ok() {
            let _ = rx.await;
        }
    }
}

/// One namespace's state inside the driver.
struct Ns {
    name: Arc<str>,
    events: mpsc::UnboundedSender<Queued>,
    shared: Arc<SocketShared>,
    /// False once the server or the app ended it: not reconnected.
    active: bool,
    connected: bool,
    /// Emits waiting for the namespace to connect.
    buffer: VecDeque<(Packet, Option<AckSender>)>,
    /// Sent emits waiting for their ack.
    acks: HashMap<u64, AckSender>,
    /// Events that arrived before the CONNECT ack, with their cost.
    early: Vec<Queued>,
    /// The sum of `early`'s costs.
    early_bytes: usize,
    pid: Option<String>,
    offset: Option<String>,
}

impl Ns {
    /// Queues a server event costing `cost` bytes for the application, or
    /// says which limit it would pass (`limit`: the queue's bytes).
    fn deliver(&mut self, event: SocketEvent, cost: usize, limit: usize) -> Result<(), String> {
        if self.connected {
            if self.events.is_closed() {
                // Nobody takes this namespace's events any more.
                return Ok(());
            }
            let queued = self.shared.queued.load(Ordering::Acquire);
            if queued.saturating_add(cost) > limit {
                return Err(format!(
                    "the application has not taken {queued} bytes of events on namespace {} \
                     and more came: over the limit of {limit} bytes (max_queued_bytes)",
                    self.name
                ));
            }
            self.queue(event, cost);
        } else {
            if self.early.len() >= EARLY_EVENT_LIMIT
                || self.early_bytes.saturating_add(cost) > limit
            {
                return Err(format!(
                    "the server sent more than {} events or {limit} bytes on namespace {} \
                     before answering its CONNECT (max_queued_bytes)",
                    EARLY_EVENT_LIMIT, self.name
                ));
            }
            self.early_bytes += cost;
            self.early.push((event, cost));
        }
        Ok(())
    }

    /// Sends a state change (never refused, costs nothing).
    fn notify(&self, event: SocketEvent) {
        let _ = self.events.send((event, 0));
    }

    /// Sends an event to [`Events`], counting it until it is taken (added
    /// first: the application may take it at once).
    fn queue(&self, event: SocketEvent, cost: usize) {
        self.shared.queued.fetch_add(cost, Ordering::AcqRel);
        if self.events.send((event, cost)).is_err() {
            self.shared.queued.fetch_sub(cost, Ordering::AcqRel);
        }
    }

    /// Hands the events held before the CONNECT ack to the application.
    fn flush_early(&mut self) {
        for (event, cost) in std::mem::take(&mut self.early) {
            self.queue(event, cost);
        }
        self.early_bytes = 0;
    }

    /// The namespace's session ended: acks in flight can no longer arrive.
    fn lose_session(&mut self, reason: &DisconnectReason) {
        for (_, tx) in self.acks.drain() {
            let _ = tx.send(Err(Error::AckLost));
        }
        self.flush_early();
        if self.connected {
            self.connected = false;
            self.shared.connected.store(false, Ordering::Release);
            self.notify(SocketEvent::Disconnected(reason.clone()));
        }
    }

    /// The client stopped: everything waiting fails.
    fn close(&mut self, reason: &DisconnectReason) {
        self.lose_session(reason);
        for (_, ack) in self.buffer.drain(..) {
            if let Some(tx) = ack {
                let _ = tx.send(Err(Error::Closed));
            }
        }
        self.shared.buffered.store(0, Ordering::Release);
    }
}

/// How a session ended.
enum End {
    Reconnect(DisconnectReason),
    Stop(DisconnectReason),
}

struct Driver {
    cfg: Arc<Config>,
    cmd_rx: mpsc::UnboundedReceiver<Command>,
    /// Weak, so the driver does not keep itself alive; acks handed to the
    /// app upgrade it to reach the driver.
    cmd_tx: mpsc::WeakUnboundedSender<Command>,
    state: watch::Sender<ConnectionState>,
    namespaces: HashMap<Arc<str>, Ns>,
    session: u64,
    close_waiters: Vec<oneshot::Sender<()>>,
}

impl Driver {
    fn new(
        cfg: Arc<Config>,
        cmd_rx: mpsc::UnboundedReceiver<Command>,
        cmd_tx: mpsc::WeakUnboundedSender<Command>,
        state: watch::Sender<ConnectionState>,
    ) -> Self {
        Self {
            cfg,
            cmd_rx,
            cmd_tx,
            state,
            namespaces: HashMap::new(),
            session: 0,
            close_waiters: Vec::new(),
        }
    }

    async fn run(mut self) {
        let mut attempt: u32 = 0;
        let mut last_error = String::new();
        let reason = loop {
            if attempt > 0 {
                if !self.cfg.reconnect.allows(attempt) {
                    break DisconnectReason::ReconnectFailed(last_error);
                }
                let delay = self.cfg.reconnect.delay_for(attempt, rand::random::<f64>());
                info!(attempt, delay_ms = delay.as_millis() as u64, error = %last_error, "reconnecting");
                self.state.send_replace(ConnectionState::Reconnecting {
                    attempt,
                    delay,
                    error: last_error.clone(),
                });
                if let Err(reason) = self.offline(tokio::time::sleep(delay)).await {
                    break reason;
                }
            }
            let timeout = self.cfg.connect_timeout;
            let cfg = self.cfg.clone();
            let attempt_result = match self
                .offline(tokio::time::timeout(timeout, async move {
                    engine::connect(&cfg).await
                }))
                .await
            {
                Ok(r) => r,
                Err(reason) => break reason,
            };
            match attempt_result {
                Ok(Ok(engine)) => match self.session(engine).await {
                    End::Reconnect(reason) => {
                        last_error = reason.to_string();
                        attempt = 1;
                    }
                    End::Stop(reason) => break reason,
                },
                Ok(Err(e)) => {
                    debug!(error = %e, "connection attempt failed");
                    last_error = e.to_string();
                    attempt += 1;
                }
                Err(_) => {
                    last_error = Error::ConnectTimeout(timeout).to_string();
                    attempt += 1;
                }
            }
        };
        info!(%reason, "client stopped");
        for ns in self.namespaces.values_mut() {
            ns.close(&reason);
        }
        self.state
            .send_replace(ConnectionState::Disconnected { reason });
        for done in self.close_waiters.drain(..) {
            let _ = done.send(());
        }
    }

    /// Runs `fut` while handling commands as an offline driver would.
    async fn offline<F: Future>(&mut self, fut: F) -> Result<F::Output, DisconnectReason> {
        tokio::pin!(fut);
        loop {
            tokio::select! {
                out = &mut fut => return Ok(out),
                cmd = self.cmd_rx.recv() => match cmd {
                    None => return Err(DisconnectReason::ClientDropped),
                    Some(cmd) => {
                        if let Some(reason) = self.on_command(cmd, None) {
                            return Err(reason);
                        }
                    }
                },
            }
        }
    }

    fn connect_packet(&self, ns: &Ns, nsp: &str) -> Packet {
        let mut auth = self.cfg.auth.as_ref().map(|f| f());
        if let Some(pid) = &ns.pid {
            let mut obj = match auth.take() {
                Some(Value::Object(m)) => m,
                _ => Map::new(),
            };
            obj.insert("pid".into(), Value::String(pid.clone()));
            if let Some(offset) = &ns.offset {
                obj.insert("offset".into(), Value::String(offset.clone()));
            }
            auth = Some(Value::Object(obj));
        }
        Packet::connect(nsp, auth.filter(|a| a.is_object()))
    }

    async fn session(&mut self, engine: Engine) -> End {
        let Engine {
            handshake,
            mut transport,
            upgrade,
        } = engine;
        let mut upgrade = upgrade;
        self.session += 1;
        info!(sid = %handshake.sid, transport = %transport.kind, "connected");
        self.state.send_replace(ConnectionState::Connected {
            transport: transport.kind,
        });

        let nsps: Vec<Arc<str>> = self
            .namespaces
            .iter()
            .filter(|(_, ns)| ns.active)
            .map(|(k, _)| k.clone())
            .collect();
        for nsp in nsps {
            if let Some(ns) = self.namespaces.get(&nsp) {
                send_packet(&transport, &self.connect_packet(ns, &nsp));
            }
        }

        let deadline = tokio::time::sleep(handshake.heartbeat_deadline());
        tokio::pin!(deadline);
        let mut decoder = Decoder::with_attachment_limit(self.cfg.max_message);
        let end = loop {
            tokio::select! {
                packet = transport.rx.recv() => {
                    let packet = match packet {
                        Some(Ok(p)) => p,
                        Some(Err(e)) => break End::Reconnect(DisconnectReason::TransportError(e.to_string())),
                        None => break End::Reconnect(DisconnectReason::TransportClose),
                    };
                    if let Some(end) = self.on_engine_packet(packet, &transport, &mut decoder, deadline.as_mut(), &handshake) {
                        break end;
                    }
                }
                cmd = self.cmd_rx.recv() => match cmd {
                    None => break End::Stop(DisconnectReason::ClientDropped),
                    Some(cmd) => {
                        if let Some(reason) = self.on_command(cmd, Some(&transport)) {
                            break End::Stop(reason);
                        }
                    }
                },
                () = &mut deadline => break End::Reconnect(DisconnectReason::PingTimeout),
                probed = join_upgrade(&mut upgrade) => match probed {
                    Ok(ws) => {
                        if let Some(end) = self.switch_transport(&mut transport, ws, &mut decoder, deadline.as_mut(), &handshake).await {
                            break end;
                        }
                    }
                    Err(e) => debug!(error = %e, "websocket upgrade failed; staying on long-polling"),
                },
            }
        };
        if let Some(probe) = upgrade {
            probe.abort();
        }
        match &end {
            End::Reconnect(reason) => {
                warn!(%reason, "connection lost");
                for ns in self.namespaces.values_mut() {
                    ns.lose_session(reason);
                }
            }
            End::Stop(reason) => {
                for (nsp, ns) in &self.namespaces {
                    if ns.connected {
                        send_packet(&transport, &Packet::disconnect(nsp));
                    }
                }
                transport.send(engineio::Packet::bare(EioType::Close));
                for ns in self.namespaces.values_mut() {
                    ns.lose_session(reason);
                }
                // Let the writer flush the goodbyes (bounded) before closing.
                transport.close().await;
            }
        }
        end
    }

    /// Completes an upgrade: stop polling (after in-flight requests), send
    /// `5` over the WebSocket, then handle what the old transport still
    /// delivered before anything the new one brings.
    async fn switch_transport(
        &mut self,
        transport: &mut Transport,
        ws: Transport,
        decoder: &mut Decoder,
        mut deadline: std::pin::Pin<&mut Sleep>,
        handshake: &engineio::Handshake,
    ) -> Option<End> {
        let mut old = std::mem::replace(transport, ws);
        old.pause().await;
        transport.send(engineio::Packet::bare(EioType::Upgrade));
        while let Some(Ok(packet)) = old.rx.recv().await {
            if packet.kind() == EioType::Close {
                break;
            }
            if let Some(end) =
                self.on_engine_packet(packet, transport, decoder, deadline.as_mut(), handshake)
            {
                return Some(end);
            }
        }
        info!("upgraded to websocket");
        self.state.send_replace(ConnectionState::Connected {
            transport: transport.kind,
        });
        None
    }

    fn on_engine_packet(
        &mut self,
        packet: engineio::Packet,
        transport: &Transport,
        decoder: &mut Decoder,
        deadline: std::pin::Pin<&mut Sleep>,
        handshake: &engineio::Handshake,
    ) -> Option<End> {
        let decoded = match packet {
            engineio::Packet::Text(EioType::Message, text) => decoder.feed_text(&text),
            engineio::Packet::Binary(data) => decoder.feed_binary(data),
            engineio::Packet::Text(EioType::Ping, data) => {
                deadline.reset(Instant::now() + handshake.heartbeat_deadline());
                transport.send(engineio::Packet::Text(EioType::Pong, data));
                return None;
            }
            engineio::Packet::Text(EioType::Close, _) => {
                return Some(End::Reconnect(DisconnectReason::TransportClose));
            }
            engineio::Packet::Text(_, _) => return None,
        };
        match decoded {
            Ok(Some(packet)) => self.on_packet(packet, decoder.last_size(), transport),
            Ok(None) => None,
            Err(e @ crate::error::DecodeError::AttachmentsTooLarge(_)) => {
                warn!(error = %e, "the server sent more binary data than allowed; dropping the connection");
                Some(End::Reconnect(DisconnectReason::TransportError(format!(
                    "protocol: {e} (max_message_size)"
                ))))
            }
            Err(e) => {
                warn!(error = %e, "dropping a malformed packet from the server");
                None
            }
        }
    }

    /// Handles a whole packet that was `size` bytes on the wire.
    fn on_packet(&mut self, packet: Packet, size: usize, transport: &Transport) -> Option<End> {
        let queue_limit = self.cfg.max_queued;
        let session = self.session;
        let cmd_tx = self.cmd_tx.clone();
        let Some(ns) = self.namespaces.get_mut(packet.nsp.as_ref()) else {
            debug!(nsp = %packet.nsp, "packet for a namespace we did not open");
            return None;
        };
        let nsp = ns.name.clone();
        match packet.kind {
            PacketType::Connect => {
                let data = packet.data.unwrap_or(Value::Null);
                let sid = data
                    .get("sid")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                let pid = data.get("pid").and_then(Value::as_str).map(str::to_owned);
                let recovered = pid.is_some() && pid == ns.pid;
                if !recovered {
                    ns.offset = None;
                }
                ns.pid = pid;
                ns.connected = true;
                ns.shared.connected.store(true, Ordering::Release);
                ns.notify(SocketEvent::Connected { sid, recovered });
                ns.flush_early();
                while let Some((packet, ack)) = ns.buffer.pop_front() {
                    ns.shared.buffered.fetch_sub(1, Ordering::AcqRel);
                    send_emit(transport, ns, packet, ack);
                }
            }
            PacketType::Disconnect => {
                ns.active = false;
                ns.lose_session(&DisconnectReason::IoServerDisconnect);
                return self.stop_if_idle(DisconnectReason::IoServerDisconnect);
            }
            PacketType::ConnectError => {
                ns.active = false;
                let data = packet.data.unwrap_or(Value::Null);
                warn!(nsp = %nsp, error = %data, "namespace refused");
                ns.notify(SocketEvent::ConnectError(data));
                ns.lose_session(&DisconnectReason::ConnectError);
                return self.stop_if_idle(DisconnectReason::ConnectError);
            }
            PacketType::Event | PacketType::BinaryEvent => {
                let Some(Value::Array(mut args)) = packet.data else {
                    return None;
                };
                let name = match args.remove(0) {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                // With connection state recovery the server appends the
                // packet's offset as a last string argument: consume it.
                if ns.pid.is_some()
                    && packet.id.is_none()
                    && let Some(Value::String(_)) = args.last()
                    && let Some(Value::String(offset)) = args.pop()
                {
                    ns.offset = Some(offset);
                }
                let ack = match (packet.id, cmd_tx.upgrade()) {
                    (Some(id), Some(cmd)) => Some(AckHandle {
                        cmd,
                        nsp: nsp.clone(),
                        id,
                        session,
                    }),
                    _ => None,
                };
                let event = SocketEvent::Event(Event {
                    name,
                    payload: Payload::with_binary(args, packet.attachments),
                    ack,
                });
                if let Err(why) =
                    ns.deliver(event, size.saturating_add(EVENT_OVERHEAD), queue_limit)
                {
                    warn!(nsp = %nsp, "{why}; dropping the connection");
                    return Some(End::Reconnect(DisconnectReason::TransportError(why)));
                }
            }
            PacketType::Ack | PacketType::BinaryAck => {
                let id = packet.id?;
                let args = match packet.data {
                    Some(Value::Array(a)) => a,
                    _ => Vec::new(),
                };
                match ns.acks.remove(&id) {
                    Some(tx) => {
                        let _ = tx.send(Ok(Payload::with_binary(args, packet.attachments)));
                    }
                    None => debug!(id, "ack for an unknown or expired id"),
                }
            }
        }
        None
    }

    fn stop_if_idle(&self, reason: DisconnectReason) -> Option<End> {
        if self.namespaces.values().any(|ns| ns.active) {
            None
        } else {
            Some(End::Stop(reason))
        }
    }

    /// Handles a command; `transport` is `None` while offline. Returns a
    /// reason when the client must stop.
    fn on_command(
        &mut self,
        cmd: Command,
        transport: Option<&Transport>,
    ) -> Option<DisconnectReason> {
        match cmd {
            Command::Emit {
                nsp,
                packet,
                ack,
                counted,
            } => {
                let ns = self.namespaces.get_mut(&nsp)?;
                match transport {
                    Some(t) if ns.connected => {
                        if counted {
                            ns.shared.buffered.fetch_sub(1, Ordering::AcqRel);
                        }
                        send_emit(t, ns, packet, ack);
                    }
                    _ => {
                        if !counted {
                            ns.shared.buffered.fetch_add(1, Ordering::AcqRel);
                        }
                        ns.buffer.push_back((packet, ack));
                    }
                }
            }
            Command::AckReply {
                session,
                nsp,
                packet,
            } => {
                let connected = self.namespaces.get(&nsp).is_some_and(|ns| ns.connected);
                match transport {
                    Some(t) if session == self.session && connected => send_packet(t, &packet),
                    _ => debug!("dropping an ack for a session that ended"),
                }
            }
            Command::CancelAck { nsp, id } => {
                if let Some(ns) = self.namespaces.get_mut(&nsp) {
                    ns.acks.remove(&id);
                    // Still waiting in the offline buffer: never send it. The
                    // caller was told it timed out; sending it on reconnect
                    // would do what it gave up on (a late duplicate).
                    let before = ns.buffer.len();
                    ns.buffer.retain(|(packet, _)| packet.id != Some(id));
                    let dropped = before - ns.buffer.len();
                    if dropped > 0 {
                        ns.shared.buffered.fetch_sub(dropped, Ordering::AcqRel);
                        debug!(id, "dropped a timed-out emit from the offline buffer");
                    }
                }
            }
            Command::Open {
                nsp,
                events,
                shared,
            } => {
                let reopened = self.namespaces.remove(&nsp);
                let ns = Ns {
                    name: nsp.clone(),
                    events,
                    shared,
                    active: true,
                    connected: false,
                    buffer: VecDeque::new(),
                    acks: HashMap::new(),
                    early: Vec::new(),
                    early_bytes: 0,
                    pid: reopened.and_then(|n| n.pid),
                    offset: None,
                };
                if let Some(t) = transport {
                    send_packet(t, &self.connect_packet(&ns, &nsp));
                }
                self.namespaces.insert(nsp, ns);
            }
            Command::Leave { nsp } => {
                if let Some(ns) = self.namespaces.get_mut(&nsp) {
                    if let (Some(t), true) = (transport, ns.connected) {
                        send_packet(t, &Packet::disconnect(&nsp));
                    }
                    ns.active = false;
                    ns.close(&DisconnectReason::IoClientDisconnect);
                }
                if !self.namespaces.values().any(|ns| ns.active) {
                    return Some(DisconnectReason::IoClientDisconnect);
                }
            }
            Command::Close { done } => {
                self.close_waiters.push(done);
                return Some(DisconnectReason::IoClientDisconnect);
            }
        }
        None
    }
}

/// Sends an emit on a connected namespace, registering its ack.
fn send_emit(transport: &Transport, ns: &mut Ns, packet: Packet, ack: Option<AckSender>) {
    if let (Some(tx), Some(id)) = (ack, packet.id) {
        if ns.acks.len() >= 1024 && ns.acks.len().is_power_of_two() {
            ns.acks.retain(|_, tx| !tx.is_closed());
        }
        ns.acks.insert(id, tx);
    }
    send_packet(transport, &packet);
}

/// Encodes a Socket.IO packet into Engine.IO packets and queues them.
fn send_packet(transport: &Transport, packet: &Packet) {
    transport.send(engineio::Packet::message(packet.encode()));
    for data in &packet.attachments {
        transport.send(engineio::Packet::Binary(Bytes::clone(data)));
    }
}

/// Waits for the upgrade probe, if one runs; pending forever otherwise.
async fn join_upgrade(
    probe: &mut Option<JoinHandle<Result<Transport, Error>>>,
) -> Result<Transport, Error> {
    let Some(handle) = probe.as_mut() else {
        return std::future::pending().await;
    };
    let result = handle.await;
    *probe = None;
    result.map_err(|e| Error::Transport(format!("upgrade task: {e}")))?
}
