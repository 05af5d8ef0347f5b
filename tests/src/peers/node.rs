//! The Node reference server (`tests/peers/node/server.js`, socket.io 4.8).
//!
//! Namespace `/` has the seed's events plus test helpers (`echo`,
//! `echo_event`, `ask_ack`, `kick`, `drop_transport`, `broadcast`,
//! `binary_hello`); `/admin` echoes; `/secure` needs auth `{token: "s3cret"}`
//! and otherwise refuses with `not authorized` / data `{code: 401}`. See the
//! header of `server.js` for the flags.

use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, ChildStdin, Command};

use super::{Tail, forward_lines};
use crate::setup::{ensure_node_modules, node_peer_dir};

/// How long the server may take to print `LISTENING <port>`.
const LISTEN_TIMEOUT: Duration = Duration::from_secs(10);
/// How long [`NodePeer::start`] keeps retrying a fixed port that is still in use.
const REBIND_TIMEOUT: Duration = Duration::from_secs(5);

/// Which Engine.IO transports the Node server accepts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum NodeTransports {
    /// Polling and WebSocket (socket.io's default).
    #[default]
    Both,
    /// HTTP long-polling only (`--transports polling`).
    Polling,
    /// WebSocket only (`--transports websocket`).
    Websocket,
}

/// How to start a [`NodePeer`]. `Default` is: no recovery, both transports,
/// socket.io's default ping timings (25 s / 20 s), a free port.
#[derive(Debug, Clone, Default)]
pub struct NodeOptions {
    /// Enable `connectionStateRecovery` (2 min, `skipMiddlewares: true`).
    pub recovery: bool,
    /// Restrict the server's transports.
    pub transports: NodeTransports,
    /// Engine.IO `pingInterval` (whole milliseconds are sent).
    pub ping_interval: Option<Duration>,
    /// Engine.IO `pingTimeout` (whole milliseconds are sent).
    pub ping_timeout: Option<Duration>,
    /// Listen on this port (e.g. to restart a killed peer on the same
    /// address); `None` lets the OS pick one.
    pub port: Option<u16>,
    /// Serve HTTPS/WSS with this (certificate, key) pair of PEM files.
    pub tls: Option<(std::path::PathBuf, std::path::PathBuf)>,
}

impl NodeOptions {
    /// The command-line flags for `server.js`.
    pub fn to_args(&self) -> Vec<String> {
        let mut args = vec![
            "--port".to_owned(),
            self.port.unwrap_or(0).to_string(),
            "--exit-on-stdin-eof".to_owned(),
        ];
        if self.recovery {
            args.push("--recovery".to_owned());
        }
        match self.transports {
            NodeTransports::Both => {}
            NodeTransports::Polling => args.extend(["--transports".into(), "polling".into()]),
            NodeTransports::Websocket => args.extend(["--transports".into(), "websocket".into()]),
        }
        if let Some(d) = self.ping_interval {
            args.extend(["--ping-interval".into(), d.as_millis().to_string()]);
        }
        if let Some(d) = self.ping_timeout {
            args.extend(["--ping-timeout".into(), d.as_millis().to_string()]);
        }
        if let Some((cert, key)) = &self.tls {
            args.extend(["--tls-cert".into(), cert.display().to_string()]);
            args.extend(["--tls-key".into(), key.display().to_string()]);
        }
        args
    }
}

/// A running `node server.js` on `127.0.0.1`. Killed when dropped.
#[derive(Debug)]
pub struct NodePeer {
    child: Child,
    /// Held open: the server exits when it closes (`--exit-on-stdin-eof`), so
    /// it never outlives the test process even if the kill is skipped.
    _stdin: Option<ChildStdin>,
    port: u16,
    options: NodeOptions,
}

impl NodePeer {
    /// Installs the Node dependencies if needed ([`ensure_node_modules`]),
    /// starts the server and waits (10 s at most) for its `LISTENING <port>`
    /// line. With `options.port` set, retries for a few seconds while that
    /// port is still in use (a restart right after a kill).
    pub async fn start(options: NodeOptions) -> anyhow::Result<NodePeer> {
        tokio::task::spawn_blocking(ensure_node_modules)
            .await
            .context("node setup task panicked")??;
        let deadline = Instant::now() + REBIND_TIMEOUT;
        loop {
            match Self::spawn_once(&options).await {
                Err(StartError::AddrInUse(e)) if Instant::now() < deadline => {
                    tracing::debug!("port busy, retrying: {e:#}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(StartError::AddrInUse(e) | StartError::Other(e)) => return Err(e),
                Ok(peer) => return Ok(peer),
            }
        }
    }

    async fn spawn_once(options: &NodeOptions) -> Result<NodePeer, StartError> {
        let mut child = Command::new("node")
            .arg("server.js")
            .args(options.to_args())
            .current_dir(node_peer_dir())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("spawning `node server.js` (is Node.js installed?)")?;
        let pid = child.id().unwrap_or_default();
        let stderr_tail = Tail::default();
        if let Some(stderr) = child.stderr.take() {
            forward_lines(stderr, format!("node {pid} stderr"), stderr_tail.clone());
        }
        let stdout = child.stdout.take().context("child stdout not piped")?;
        let mut lines = BufReader::new(stdout).lines();

        let waited = tokio::time::timeout(LISTEN_TIMEOUT, async {
            while let Some(line) = lines.next_line().await? {
                if let Some(port) = line.strip_prefix("LISTENING ") {
                    return Ok(Some(port.trim().parse::<u16>()?));
                }
                eprintln!("[node {pid} stdout] {line}");
            }
            anyhow::Ok(None)
        })
        .await;
        let port = match waited {
            Ok(Ok(Some(port))) => port,
            Ok(Ok(None)) => {
                // stdout closed: the server exited. Let stderr drain, then report.
                let status = tokio::time::timeout(Duration::from_secs(2), child.wait()).await;
                tokio::time::sleep(Duration::from_millis(50)).await;
                let err = anyhow::anyhow!(
                    "node server.js {:?} exited before listening ({status:?}); stderr:{}",
                    options.to_args(),
                    stderr_tail.render()
                );
                return Err(if stderr_tail.contains("EADDRINUSE") {
                    StartError::AddrInUse(err)
                } else {
                    StartError::Other(err)
                });
            }
            Ok(Err(e)) => return Err(StartError::Other(e.context("reading node's stdout"))),
            Err(_) => {
                let _ = child.kill().await;
                return Err(StartError::Other(anyhow::anyhow!(
                    "node server.js did not print LISTENING within {LISTEN_TIMEOUT:?}; stderr:{}",
                    stderr_tail.render()
                )));
            }
        };
        // Keep draining stdout so the child can never block on a full pipe.
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                eprintln!("[node {port} stdout] {line}");
            }
        });
        let stdin = child.stdin.take();
        Ok(NodePeer {
            child,
            _stdin: stdin,
            port,
            options: NodeOptions {
                port: Some(port),
                ..options.clone()
            },
        })
    }

    /// The port it listens on (on `127.0.0.1`).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        let scheme = if self.options.tls.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// The options it runs with, `port` filled in: pass them to
    /// [`NodePeer::start`] to start it again on the same port.
    pub fn options(&self) -> &NodeOptions {
        &self.options
    }

    /// Kills the server (SIGKILL) and waits for it to exit. Idempotent.
    pub async fn kill(&mut self) -> anyhow::Result<()> {
        if self.child.try_wait()?.is_some() {
            return Ok(());
        }
        tokio::time::timeout(Duration::from_secs(5), self.child.kill())
            .await
            .context("node did not exit within 5 s of SIGKILL")?
            .context("killing node")
    }

    /// Kills the server and starts a fresh one (new state, new sessions) on
    /// the same port with the same options.
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        self.kill().await?;
        *self = NodePeer::start(self.options.clone()).await?;
        Ok(())
    }
}

enum StartError {
    AddrInUse(anyhow::Error),
    Other(anyhow::Error),
}

impl From<anyhow::Error> for StartError {
    fn from(e: anyhow::Error) -> Self {
        StartError::Other(e)
    }
}
