//! The window's end of [`ipc`](crate::ipc): finds the running core through
//! its address file (starting `pushdesk-tray` if none runs), makes sure it
//! is the core (it must prove it knows the secret before the window proves
//! it in turn, so an impostor on the port learns nothing), attaches, and
//! then forwards the webview's commands as calls, each answered within a
//! timeout, and the core's events back.

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt as _;
use serde_json::Value;
use tokio::io::AsyncWriteExt as _;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio_util::codec::{FramedRead, LinesCodec};
use tracing::{info, warn};

use crate::ipc::{self, Address, MAX_HANDSHAKE_LINE, MAX_LINE, Request, Role, ToCore, ToView};
use crate::{lock, paths};

/// How long a started core has to become reachable.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// How long a call waits for the core's answer by default (reconnecting,
/// the slowest, only starts a connection).
pub const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// How long each step of the handshake may take.
const HANDSHAKE_STEP: Duration = Duration::from_secs(5);

/// What the core tells an attached window, besides replies.
#[derive(Debug, Clone, PartialEq)]
pub enum FromCore {
    /// An event for the webview.
    Event {
        /// Its name (`ui_events`).
        name: String,
        /// Its payload.
        payload: Value,
    },
    /// Come to the front.
    Show,
    /// The app quits: exit.
    Quit,
    /// The core went away without saying so.
    Lost,
}

/// Why no core could be reached.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// No address file, or nothing listens at its port.
    #[error("the Pushdesk core is not running")]
    NotRunning,
    /// It listens but did not answer as a core does.
    #[error("the Pushdesk core did not answer: {0}")]
    Protocol(String),
    /// What listens at the address file's port could not prove it knows the
    /// secret: not our core (a stale address file whose port another
    /// process now holds, or an impostor). It was told nothing.
    #[error("what listens on port {0} is not the Pushdesk core (it does not know the secret)")]
    Impostor(u16),
    /// `pushdesk-tray` could not be started.
    #[error("could not start {path}: {error}")]
    Start {
        /// The binary.
        path: String,
        /// Why.
        error: std::io::Error,
    },
    /// It was started but never became reachable.
    #[error("{0} started but did not become reachable within {1:?}; see its log")]
    NeverReady(String, Duration),
}

/// The outcome of attaching.
#[derive(Debug)]
pub enum Attach {
    /// This window is the core's view now.
    Attached(CoreClient, mpsc::UnboundedReceiver<FromCore>),
    /// Another window is open; it was asked to come to the front.
    HandedOver,
    /// The core runs (asked without a window: [`CoreClient::ensure_running`]).
    Running,
}

type Pending = Arc<Mutex<HashMap<u64, oneshot::Sender<Result<Value, String>>>>>;

/// A connection to the core, attached as its window.
#[derive(Debug)]
pub struct CoreClient {
    lines: mpsc::UnboundedSender<String>,
    pending: Pending,
    next_id: AtomicU64,
    call_timeout: Duration,
}

impl CoreClient {
    /// Attaches to the core running for `data_dir`.
    pub async fn connect(data_dir: &Path) -> Result<Attach, ConnectError> {
        Self::hello(data_dir, true).await
    }

    /// Says hello to `data_dir`'s core, as a window or only to check it runs.
    async fn hello(data_dir: &Path, window: bool) -> Result<Attach, ConnectError> {
        let text = std::fs::read_to_string(paths::address_file(data_dir))
            .map_err(|_| ConnectError::NotRunning)?;
        let address: Address =
            ipc::decode(&text).map_err(|e| ConnectError::Protocol(e.to_string()))?;
        let stream = tokio::time::timeout(
            Duration::from_secs(2),
            TcpStream::connect(("127.0.0.1", address.port)),
        )
        .await
        .map_err(|_| ConnectError::NotRunning)?
        .map_err(|_| ConnectError::NotRunning)?;
        let _ = stream.set_nodelay(true);
        let (read, mut write) = stream.into_split();
        let mut reader = FramedRead::new(read, LinesCodec::new_with_max_length(MAX_HANDSHAKE_LINE));
        let attached = handshake(&address, window, &mut reader, &mut write).await?;
        // Proven both ways: the core may now send long lines (history pages).
        *reader.decoder_mut() = LinesCodec::new_with_max_length(MAX_LINE);
        if !window {
            return Ok(Attach::Running);
        }
        if !attached {
            return Ok(Attach::HandedOver);
        }
        let (lines, mut to_write) = mpsc::unbounded_channel::<String>();
        tokio::spawn(async move {
            while let Some(line) = to_write.recv().await {
                if write.write_all(line.as_bytes()).await.is_err() {
                    break;
                }
            }
        });
        let pending: Pending = Arc::default();
        let (events, events_rx) = mpsc::unbounded_channel();
        let replies = pending.clone();
        tokio::spawn(async move {
            while let Some(Ok(line)) = reader.next().await {
                match ipc::decode::<ToView>(&line) {
                    Ok(ToView::Reply { id, result }) => {
                        if let Some(waiter) = lock(&replies).remove(&id) {
                            let _ = waiter.send(result);
                        }
                    }
                    Ok(ToView::Event { name, payload }) => {
                        let _ = events.send(FromCore::Event { name, payload });
                    }
                    Ok(ToView::Show) => {
                        let _ = events.send(FromCore::Show);
                    }
                    Ok(ToView::Quit) => {
                        let _ = events.send(FromCore::Quit);
                    }
                    Ok(ToView::Welcome { .. } | ToView::Challenge { .. }) => {}
                    Err(e) => warn!(error = %e, "ignored a message from the core"),
                }
            }
            lock(&replies).clear();
            let _ = events.send(FromCore::Lost);
        });
        Ok(Attach::Attached(
            Self {
                lines,
                pending,
                next_id: AtomicU64::new(1),
                call_timeout: CALL_TIMEOUT,
            },
            events_rx,
        ))
    }

    /// Attaches to `data_dir`'s core, starting `pushdesk-tray` (beside this
    /// binary) with `--data-dir`, `core_args` and `token` if none runs.
    pub async fn connect_or_start(
        data_dir: &Path,
        core_args: &[OsString],
        token: Option<&str>,
    ) -> Result<Attach, ConnectError> {
        Self::start_and_hello(data_dir, core_args, token, true).await
    }

    /// Makes sure `data_dir`'s core runs, starting it like
    /// [`CoreClient::connect_or_start`] if needed, without attaching a
    /// window or bringing an open one forward (`--hidden`).
    pub async fn ensure_running(
        data_dir: &Path,
        core_args: &[OsString],
        token: Option<&str>,
    ) -> Result<(), ConnectError> {
        Self::start_and_hello(data_dir, core_args, token, false)
            .await
            .map(|_| ())
    }

    async fn start_and_hello(
        data_dir: &Path,
        core_args: &[OsString],
        token: Option<&str>,
        window: bool,
    ) -> Result<Attach, ConnectError> {
        match Self::hello(data_dir, window).await {
            Err(ConnectError::NotRunning) => {}
            Err(e @ ConnectError::Impostor(_)) => {
                // Our core is gone (it would hold that port); start one,
                // which writes a new address file.
                warn!(error = %e, "starting a core");
            }
            other => return other,
        }
        start_core(data_dir, core_args, token)?;
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            match Self::hello(data_dir, window).await {
                // Until our core has written its address file, the old one
                // may still point at the impostor.
                Err(ConnectError::NotRunning | ConnectError::Impostor(_))
                    if Instant::now() < deadline =>
                {
                    tokio::time::sleep(Duration::from_millis(25)).await;
                }
                Err(ConnectError::NotRunning | ConnectError::Impostor(_)) => {
                    return Err(ConnectError::NeverReady(
                        paths::sibling(paths::CORE_BIN).display().to_string(),
                        START_TIMEOUT,
                    ));
                }
                other => return other,
            }
        }
    }

    /// Calls wait at most `timeout` for their answer (default [`CALL_TIMEOUT`]).
    pub fn with_call_timeout(mut self, timeout: Duration) -> Self {
        self.call_timeout = timeout;
        self
    }

    /// Runs a command on the core; an error when the core is gone or does
    /// not answer within the call timeout.
    pub async fn call(&self, request: Request) -> Result<Value, String> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        lock(&self.pending).insert(id, tx);
        let mut line = ipc::encode(&ToCore::Call { id, request });
        line.push('\n');
        if self.lines.send(line).is_err() {
            lock(&self.pending).remove(&id);
            return Err("the Pushdesk core is gone".into());
        }
        match tokio::time::timeout(self.call_timeout, rx).await {
            Ok(answer) => answer.unwrap_or_else(|_| Err("the Pushdesk core is gone".into())),
            Err(_) => {
                lock(&self.pending).remove(&id);
                Err(format!(
                    "the Pushdesk core did not answer within {:?}",
                    self.call_timeout
                ))
            }
        }
    }

    /// Tells the core whether the window has the focus.
    pub fn focused(&self, focused: bool) {
        let mut line = ipc::encode(&ToCore::Focused { focused });
        line.push('\n');
        let _ = self.lines.send(line);
    }
}

/// The window's side of the handshake (see [`ipc`](crate::ipc)): the core
/// must prove it knows the secret before the window proves it in turn.
/// Returns the welcome's `attached`.
async fn handshake(
    address: &Address,
    window: bool,
    reader: &mut FramedRead<tokio::net::tcp::OwnedReadHalf, LinesCodec>,
    write: &mut tokio::net::tcp::OwnedWriteHalf,
) -> Result<bool, ConnectError> {
    let protocol = |e: &dyn std::fmt::Display| ConnectError::Protocol(e.to_string());
    let ours = ipc::new_nonce();
    send_line(
        write,
        &ToCore::Hello {
            nonce: ours.clone(),
            window,
        },
    )
    .await?;
    let challenge = match next_line(reader).await {
        // A core that is shutting down, or nothing that speaks our protocol.
        Ok(None) => return Err(ConnectError::NotRunning),
        Ok(Some(line)) => ipc::decode::<ToView>(&line),
        // Silent, or lines no core sends: whatever holds a stale address
        // file's port now, not our core.
        Err(_) => return Err(ConnectError::Impostor(address.port)),
    };
    let theirs = match challenge {
        Ok(ToView::Challenge { nonce, proof })
            if ipc::is_nonce(&nonce)
                && ipc::verify(&address.secret, Role::Core, &ours, &nonce, &proof) =>
        {
            nonce
        }
        _ => return Err(ConnectError::Impostor(address.port)),
    };
    send_line(
        write,
        &ToCore::Proof {
            proof: ipc::proof(&address.secret, Role::Window, &theirs, &ours),
        },
    )
    .await?;
    match next_line(reader).await? {
        Some(line) => match ipc::decode::<ToView>(&line) {
            Ok(ToView::Welcome { attached }) => Ok(attached),
            other => Err(protocol(&format!("{other:?}"))),
        },
        None => Err(protocol(&"the core refused our proof of the secret")),
    }
}

/// Writes one message as a line.
async fn send_line(
    write: &mut tokio::net::tcp::OwnedWriteHalf,
    message: &ToCore,
) -> Result<(), ConnectError> {
    let mut line = ipc::encode(message);
    line.push('\n');
    write
        .write_all(line.as_bytes())
        .await
        .map_err(|e| ConnectError::Protocol(e.to_string()))
}

/// The next line within [`HANDSHAKE_STEP`]; `None` when the other side closed.
async fn next_line(
    reader: &mut FramedRead<tokio::net::tcp::OwnedReadHalf, LinesCodec>,
) -> Result<Option<String>, ConnectError> {
    match tokio::time::timeout(HANDSHAKE_STEP, reader.next()).await {
        Err(_) => Err(ConnectError::Protocol("no answer".into())),
        Ok(None) => Ok(None),
        Ok(Some(Ok(line))) => Ok(Some(line)),
        Ok(Some(Err(e))) => Err(ConnectError::Protocol(e.to_string())),
    }
}

/// Starts `pushdesk-tray` for `data_dir` in the background. It outlives
/// this process (in its own process group on Unix, so a Ctrl+C meant for
/// the window leaves the tray running). The token goes in its environment,
/// not on a command line other users can read.
pub fn start_core(
    data_dir: &Path,
    core_args: &[OsString],
    token: Option<&str>,
) -> Result<(), ConnectError> {
    let bin = paths::sibling(paths::CORE_BIN);
    let mut command = std::process::Command::new(&bin);
    command
        .arg("--data-dir")
        .arg(data_dir)
        .args(core_args)
        .stdin(std::process::Stdio::null());
    if let Some(token) = token {
        command.env("PUSHDESK_TOKEN", token);
    }
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let child = command.spawn().map_err(|error| ConnectError::Start {
        path: bin.display().to_string(),
        error,
    })?;
    info!(pid = child.id(), "started the core");
    // Reap it in the background should it exit while we run.
    std::thread::spawn(move || {
        let mut child = child;
        let _ = child.wait();
    });
    Ok(())
}
