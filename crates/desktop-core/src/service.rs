//! The core's end of [`ipc`](crate::ipc): a loopback listener that serves
//! one window at a time. A window that proves it knows the secret (the
//! handshake in [`ipc`](crate::ipc), within [`HELLO_TIMEOUT`], lines of
//! at most [`ipc::MAX_HANDSHAKE_LINE`] until then) becomes the view: its calls go to the [`Core`], the core's events go to it. A second
//! window is told to exit and the first one to show itself (single
//! instance). The address file is written once the core is ready and
//! removed when the service stops.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt as _;
use serde_json::Value;
use tokio::io::AsyncWriteExt as _;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_util::codec::{FramedRead, LinesCodec};
use tracing::{debug, info, warn};

use crate::core::Core;
use crate::ipc::{self, Address, MAX_HANDSHAKE_LINE, MAX_LINE, Request, Role, ToCore, ToView};
use crate::{lock, paths};

/// Most history entries one call returns.
pub const MAX_HISTORY: usize = 500;

/// How long a new connection has to complete the handshake.
pub const HELLO_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Default)]
struct Attached {
    view: Option<(u64, mpsc::UnboundedSender<ToView>)>,
    focused: bool,
    next_id: u64,
}

/// The listener and the window attached to it.
pub struct Service {
    listener: Mutex<Option<TcpListener>>,
    address: Address,
    address_file: PathBuf,
    attached: Mutex<Attached>,
}

impl std::fmt::Debug for Service {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Service")
            .field("port", &self.address.port)
            .finish_non_exhaustive()
    }
}

impl Service {
    /// Binds a loopback port for `data_dir`'s core. Nothing is served (and
    /// no window can find it) until [`Service::run`].
    pub async fn bind(data_dir: &Path) -> std::io::Result<Arc<Self>> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let port = listener.local_addr()?.port();
        let secret: String = (0..4)
            .map(|_| format!("{:016x}", rand::random::<u64>()))
            .collect();
        Ok(Arc::new(Self {
            listener: Mutex::new(Some(listener)),
            address: Address {
                port,
                secret,
                pid: std::process::id(),
            },
            address_file: paths::address_file(data_dir),
            attached: Mutex::new(Attached::default()),
        }))
    }

    /// Writes the address file and serves windows until the process ends.
    pub fn run(self: &Arc<Self>, core: Arc<Core>) -> std::io::Result<()> {
        let Some(listener) = lock(&self.listener).take() else {
            return Ok(());
        };
        crate::private_file::write_private(
            &self.address_file,
            ipc::encode(&self.address).as_bytes(),
        )?;
        let me = self.clone();
        tokio::spawn(async move {
            loop {
                match listener.accept().await {
                    Ok((stream, _)) => {
                        tokio::spawn(me.clone().serve(stream, core.clone()));
                    }
                    Err(e) => {
                        warn!(error = %e, "window connection");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            }
        });
        Ok(())
    }

    /// Removes the address file (on quit).
    pub fn stop(&self) {
        let _ = std::fs::remove_file(&self.address_file);
    }

    /// Sends to the window, if one is attached; whether one was.
    pub fn send(&self, message: ToView) -> bool {
        lock(&self.attached)
            .view
            .as_ref()
            .is_some_and(|(_, tx)| tx.send(message).is_ok())
    }

    /// Whether a window is attached.
    pub fn attached(&self) -> bool {
        lock(&self.attached).view.is_some()
    }

    /// Whether the attached window has the focus.
    pub fn focused(&self) -> bool {
        let a = lock(&self.attached);
        a.view.is_some() && a.focused
    }

    async fn serve(self: Arc<Self>, stream: TcpStream, core: Arc<Core>) {
        let _ = stream.set_nodelay(true);
        let (read, mut write) = stream.into_split();
        let mut lines = FramedRead::new(read, LinesCodec::new_with_max_length(MAX_HANDSHAKE_LINE));
        let window = match tokio::time::timeout(
            HELLO_TIMEOUT,
            handshake(&self.address.secret, &mut lines, &mut write),
        )
        .await
        {
            Ok(Ok(window)) => window,
            Ok(Err(why)) => {
                warn!("a local connection failed the handshake ({why}); closed");
                return;
            }
            Err(_) => {
                warn!(
                    "a local connection did not finish the handshake in {HELLO_TIMEOUT:?}; closed"
                );
                return;
            }
        };
        // Proven: the window may now send long lines (settings, drafts).
        *lines.decoder_mut() = LinesCodec::new_with_max_length(MAX_LINE);
        let (tx, mut rx) = mpsc::unbounded_channel::<ToView>();
        let writer = tokio::spawn(async move {
            while let Some(message) = rx.recv().await {
                let mut line = ipc::encode(&message);
                line.push('\n');
                if write.write_all(line.as_bytes()).await.is_err() {
                    break;
                }
            }
        });
        let id = {
            let mut a = lock(&self.attached);
            if !window {
                // Only checking that the core runs.
                None
            } else if let Some((_, view)) = &a.view {
                let _ = view.send(ToView::Show);
                None
            } else {
                a.next_id += 1;
                let id = a.next_id;
                a.view = Some((id, tx.clone()));
                a.focused = false;
                Some(id)
            }
        };
        let _ = tx.send(ToView::Welcome {
            attached: id.is_some(),
        });
        let Some(id) = id else {
            debug!("a second window was told to hand over");
            drop(tx);
            let _ = writer.await;
            return;
        };
        info!("window attached");
        while let Some(line) = lines.next().await {
            let line = match line {
                Ok(line) => line,
                Err(e) => {
                    warn!(error = %e, "window connection");
                    break;
                }
            };
            match ipc::decode::<ToCore>(&line) {
                Ok(ToCore::Call { id, request }) => {
                    let core = core.clone();
                    let tx = tx.clone();
                    tokio::spawn(async move {
                        let result = dispatch(&core, request).await;
                        let _ = tx.send(ToView::Reply { id, result });
                    });
                }
                Ok(ToCore::Focused { focused }) => {
                    lock(&self.attached).focused = focused;
                    if focused {
                        core.seen();
                    }
                }
                Ok(ToCore::Hello { .. } | ToCore::Proof { .. }) => {}
                Err(e) => warn!(error = %e, "ignored a message from the window"),
            }
        }
        {
            let mut a = lock(&self.attached);
            if a.view.as_ref().is_some_and(|(v, _)| *v == id) {
                a.view = None;
                a.focused = false;
            }
        }
        info!("window detached");
        drop(tx);
        writer.abort();
    }
}

/// The core's side of the handshake (see [`ipc`](crate::ipc)): returns the
/// hello's `window` flag once the window has proven it knows `secret`, or
/// why it failed. Sends nothing that would help a party without it.
async fn handshake(
    secret: &str,
    lines: &mut FramedRead<tokio::net::tcp::OwnedReadHalf, LinesCodec>,
    write: &mut tokio::net::tcp::OwnedWriteHalf,
) -> Result<bool, String> {
    let mut next = async || match lines.next().await {
        Some(Ok(line)) => ipc::decode::<ToCore>(&line).map_err(|e| e.to_string()),
        Some(Err(e)) => Err(e.to_string()),
        None => Err("closed".to_owned()),
    };
    let (theirs, window) = match next().await? {
        ToCore::Hello { nonce, window } if ipc::is_nonce(&nonce) => (nonce, window),
        _ => return Err("no hello with a nonce".to_owned()),
    };
    let ours = ipc::new_nonce();
    let mut challenge = ipc::encode(&ToView::Challenge {
        proof: ipc::proof(secret, Role::Core, &theirs, &ours),
        nonce: ours.clone(),
    });
    challenge.push('\n');
    write
        .write_all(challenge.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    match next().await? {
        ToCore::Proof { proof } if ipc::verify(secret, Role::Window, &ours, &theirs, &proof) => {
            Ok(window)
        }
        _ => Err("no valid proof of the secret".to_owned()),
    }
}

/// Runs one command on the core.
pub async fn dispatch(core: &Arc<Core>, request: Request) -> Result<Value, String> {
    fn json<T: serde::Serialize>(value: T) -> Result<Value, String> {
        serde_json::to_value(value).map_err(|e| e.to_string())
    }
    match request {
        Request::HubState => {
            core.seen();
            json(core.snapshot(true))
        }
        Request::SendText { text, base } => json(core.send_text(text, base).await),
        Request::SendNotification { draft } => json(core.send_notification(draft.request()).await),
        Request::History { limit } => json(core.history(limit.min(MAX_HISTORY))),
        Request::GetSettings => json(core.settings()),
        Request::SaveSettings { settings } => {
            core.save_settings(settings).await?;
            Ok(Value::Null)
        }
        Request::SetDnd { on } => {
            core.set_dnd(on);
            Ok(Value::Null)
        }
        Request::Reconnect => {
            core.connect().await.map_err(|e| e.to_string())?;
            Ok(Value::Null)
        }
    }
}
