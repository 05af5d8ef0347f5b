//! The seed's Flask-SocketIO app (`tests/peers/python/seed_app.py`), run in
//! threading mode on Werkzeug with simple-websocket.

use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use tokio::process::{Child, Command};

use super::{Tail, forward_lines};
use crate::http::http_get;
use crate::ports::try_free_port;
use crate::setup::{ensure_python_venv, python_peer_dir};

/// How long the app may take to answer its first polling handshake.
const READY_TIMEOUT: Duration = Duration::from_secs(20);
/// Attempts with a fresh port if the picked one was taken meanwhile.
const PORT_ATTEMPTS: usize = 3;

/// A running seed app on `127.0.0.1`. Killed when dropped.
#[derive(Debug)]
pub struct FlaskSeed {
    child: Child,
    port: u16,
}

impl FlaskSeed {
    /// Creates the venv if needed ([`ensure_python_venv`]), starts
    /// `python seed_app.py PORT` on a free port and waits (20 s at most) until
    /// `GET /socket.io/?EIO=4&transport=polling` answers 200.
    pub async fn start() -> anyhow::Result<FlaskSeed> {
        let python = tokio::task::spawn_blocking(ensure_python_venv)
            .await
            .context("python setup task panicked")??;
        let mut last_err = None;
        for _ in 0..PORT_ATTEMPTS {
            match Self::spawn_once(&python, try_free_port()?).await {
                Ok(seed) => return Ok(seed),
                Err(e) => last_err = Some(e),
            }
        }
        Err(last_err.unwrap_or_else(|| anyhow::anyhow!("seed app did not start")))
    }

    async fn spawn_once(python: &std::path::Path, port: u16) -> anyhow::Result<FlaskSeed> {
        let mut child = Command::new(python)
            .arg("-u")
            .arg("seed_app.py")
            .arg(port.to_string())
            .current_dir(python_peer_dir())
            .env("PYTHONUNBUFFERED", "1")
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("spawning {} seed_app.py", python.display()))?;
        let tail = Tail::default();
        if let Some(out) = child.stdout.take() {
            forward_lines(out, format!("flask {port} stdout"), tail.clone());
        }
        if let Some(err) = child.stderr.take() {
            forward_lines(err, format!("flask {port}"), tail.clone());
        }
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(status) = child.try_wait()? {
                tokio::time::sleep(Duration::from_millis(50)).await;
                bail!(
                    "seed_app.py exited with {status} before answering; output:{}",
                    tail.render()
                );
            }
            // Werkzeug logs this once *it* holds the port: a 200 before that
            // could come from another test's server that took the port.
            if !tail.contains(&format!("Running on http://127.0.0.1:{port}")) {
                if Instant::now() >= deadline {
                    bail!(
                        "seed_app.py did not bind within {READY_TIMEOUT:?}; output:{}",
                        tail.render()
                    );
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
            match http_get(port, "/socket.io/?EIO=4&transport=polling").await {
                Ok(resp) if resp.status == 200 => return Ok(FlaskSeed { child, port }),
                Ok(_) | Err(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Ok(resp) => bail!(
                    "seed_app.py answers HTTP {} to the polling handshake: {:?}",
                    resp.status,
                    resp.text()
                ),
                Err(e) => {
                    let _ = child.kill().await;
                    return Err(e.context(format!(
                        "seed_app.py not ready within {READY_TIMEOUT:?}; output:{}",
                        tail.render()
                    )));
                }
            }
        }
    }

    /// The port it listens on (on `127.0.0.1`).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Kills the app (SIGKILL) and waits for it to exit. Idempotent.
    pub async fn kill(&mut self) -> anyhow::Result<()> {
        if self.child.try_wait()?.is_some() {
            return Ok(());
        }
        tokio::time::timeout(Duration::from_secs(5), self.child.kill())
            .await
            .context("seed_app.py did not exit within 5 s of SIGKILL")?
            .context("killing seed_app.py")
    }
}
