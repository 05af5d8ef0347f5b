//! Our own hub, `pushdesk serve`, run as the real binary on a free port
//! with a fresh data directory, for end-to-end tests. The binary path comes
//! from the caller (`env!("CARGO_BIN_EXE_pushdesk")` in the CLI crate's tests).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use tokio::process::{Child, Command};

use super::{Tail, forward_lines};
use crate::http::http_get;
use crate::ports::try_free_port;

/// How long the hub may take to answer `/health`.
const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// A temporary directory, removed on drop.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    /// A new empty directory under the system temp dir.
    pub fn new(label: &str) -> anyhow::Result<TempDir> {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        let dir =
            std::env::temp_dir().join(format!("pushdesk-{label}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        Ok(TempDir(dir))
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A running `pushdesk serve`. Killed when dropped.
#[derive(Debug)]
pub struct HubProcess {
    bin: PathBuf,
    args: Vec<String>,
    child: Option<Child>,
    port: u16,
    data_dir: PathBuf,
    tls: bool,
}

impl HubProcess {
    /// Starts `BIN serve --bind 127.0.0.1:PORT --data-dir DIR EXTRA…` on a free
    /// port and waits for `/health` (20 s at most). `data_dir` outlives
    /// restarts; pass the same one to see the history survive.
    pub async fn start(bin: &Path, data_dir: &Path, extra: &[&str]) -> anyhow::Result<HubProcess> {
        let tls = extra.contains(&"--tls-cert");
        let mut hub = HubProcess {
            bin: bin.to_owned(),
            args: extra.iter().map(|s| (*s).to_owned()).collect(),
            child: None,
            port: try_free_port()?,
            data_dir: data_dir.to_owned(),
            tls,
        };
        hub.spawn().await?;
        Ok(hub)
    }

    async fn spawn(&mut self) -> anyhow::Result<()> {
        let mut child = Command::new(&self.bin)
            .arg("serve")
            .args(["--bind", &format!("127.0.0.1:{}", self.port)])
            .arg("--data-dir")
            .arg(&self.data_dir)
            .args(&self.args)
            .env_remove("PUSHDESK_TOKENS")
            .env_remove("PUSHDESK_REDIS")
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or_else(|_| "info".into()),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("spawning {}", self.bin.display()))?;
        let tail = Tail::default();
        if let Some(stderr) = child.stderr.take() {
            forward_lines(stderr, format!("hub {}", self.port), tail.clone());
        }
        self.child = Some(child);
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                bail!("pushdesk serve exited with {status}:\n{}", tail.render());
            }
            if self.tls {
                // No HTTPS client here: a TCP connect says it is listening.
                if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                    .await
                    .is_ok()
                {
                    return Ok(());
                }
            } else if let Ok(resp) = http_get(self.port, "/health").await
                && resp.status == 200
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "pushdesk serve did not become ready in {READY_TIMEOUT:?}:\n{}",
                    tail.render()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Its process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(Child::id)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:PORT` (or https).
    pub fn url(&self) -> String {
        format!(
            "{}://127.0.0.1:{}",
            if self.tls { "https" } else { "http" },
            self.port
        )
    }

    /// Kills the hub (SIGKILL: no graceful goodbye) and waits for it.
    pub async fn kill(&mut self) -> anyhow::Result<()> {
        if let Some(mut child) = self.child.take() {
            child.kill().await.context("killing the hub")?;
        }
        Ok(())
    }

    /// Starts it again on the same port and data directory.
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        self.kill().await?;
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            match self.spawn().await {
                Ok(()) => return Ok(()),
                Err(e) if Instant::now() < deadline => {
                    tracing::debug!("restart retry: {e:#}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => return Err(e),
            }
        }
    }
}
