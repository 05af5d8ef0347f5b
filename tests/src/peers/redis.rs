//! A real Redis: Debian's `redis-server` (7.x, so RESP3) on `127.0.0.1`
//! with a free port, without persistence (`--save "" --appendonly no`), in
//! its own temporary directory. The shared state of multi-node hub tests.
//! [`RedisServer::start_durable`] keeps an append-only file synced on every
//! write, so [`RedisServer::restart`] (SIGKILL, then the same port and
//! directory) loses nothing acknowledged.
//!
//! `scripts/setup.sh` installs `redis-server`; without it
//! [`RedisServer::start`] says so.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

use super::{Tail, forward_lines};
use crate::ports::try_free_port;

/// How long the server may take to answer `PING`.
const READY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long one request to the server may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);
/// Attempts with a fresh port if the picked one was taken meanwhile.
const PORT_ATTEMPTS: usize = 3;
/// The oldest Redis that speaks RESP3 (what the hub's Redis client uses).
const MIN_MAJOR: u32 = 6;

/// A running `redis-server` on `127.0.0.1`. Killed when dropped (and its
/// directory removed).
#[derive(Debug)]
pub struct RedisServer {
    child: Child,
    port: u16,
    dir: PathBuf,
    version: String,
    durable: bool,
}

impl RedisServer {
    /// Checks that `redis-server` is installed and new enough (RESP3:
    /// Redis 6 or newer), starts it on a free port and waits (10 s at most)
    /// until it answers `PING` — and is the process this call started.
    pub async fn start() -> anyhow::Result<RedisServer> {
        Self::start_with(false).await
    }

    /// [`RedisServer::start`] with an append-only file fsynced on every
    /// write (`--appendonly yes --appendfsync always`).
    pub async fn start_durable() -> anyhow::Result<RedisServer> {
        Self::start_with(true).await
    }

    async fn start_with(durable: bool) -> anyhow::Result<RedisServer> {
        let version = redis_server_version().await?;
        let mut last_err = None;
        for _ in 0..PORT_ATTEMPTS {
            match Self::spawn_once(try_free_port()?, &version, durable).await {
                Ok(server) => return Ok(server),
                Err(e) => last_err = Some(e),
            }
        }
        Err(last_err.unwrap_or_else(|| anyhow::anyhow!("redis-server did not start")))
    }

    fn spawn_child(port: u16, dir: &Path, durable: bool) -> anyhow::Result<(Child, Tail)> {
        let persistence: &[&str] = if durable {
            &["--appendonly", "yes", "--appendfsync", "always"]
        } else {
            &["--appendonly", "no"]
        };
        let mut child = Command::new("redis-server")
            .arg("--port")
            .arg(port.to_string())
            .args(["--bind", "127.0.0.1"])
            .args(["--save", ""])
            .args(persistence)
            .args(["--daemonize", "no"])
            .args(["--logfile", ""])
            .arg("--dir")
            .arg(dir)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("spawning redis-server")?;
        let tail = Tail::default();
        if let Some(out) = child.stdout.take() {
            forward_lines(out, format!("redis {port}"), tail.clone());
        }
        if let Some(err) = child.stderr.take() {
            forward_lines(err, format!("redis {port} stderr"), tail.clone());
        }
        Ok((child, tail))
    }

    async fn spawn_once(port: u16, version: &str, durable: bool) -> anyhow::Result<RedisServer> {
        static SEQ: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "pushdesk-redis-{}-{port}-{}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::SeqCst)
        ));
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("creating the Redis directory {}", dir.display()))?;
        let (child, tail) = Self::spawn_child(port, &dir, durable)?;
        // From here on, dropping `server` kills the child and removes `dir`.
        let mut server = RedisServer {
            child,
            port,
            dir,
            version: version.to_owned(),
            durable,
        };
        server.wait_ready(&tail).await?;
        Ok(server)
    }

    /// Waits until the server answers and is the process we started.
    async fn wait_ready(&mut self, tail: &Tail) -> anyhow::Result<()> {
        let (port, pid) = (self.port, self.child.id());
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait()? {
                tokio::time::sleep(Duration::from_millis(50)).await;
                bail!(
                    "redis-server exited with {status} before answering on port {port}; output:{}",
                    tail.render()
                );
            }
            // Another server may hold the port (a race on free ports): only
            // a server reporting our child's pid counts.
            match server_pid(port).await {
                Ok(answering) if Some(answering) == pid => return Ok(()),
                Ok(answering) if Instant::now() >= deadline => bail!(
                    "port {port} is answered by Redis pid {answering}, not ours ({pid:?}); output:{}",
                    tail.render()
                ),
                Err(e) if Instant::now() >= deadline => {
                    return Err(e.context(format!(
                        "redis-server not ready on port {port} within {READY_TIMEOUT:?}; output:{}",
                        tail.render()
                    )));
                }
                Ok(_) | Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    /// Kills the server (SIGKILL) and starts it again on the same port and
    /// directory (with [`RedisServer::start_durable`], with its data).
    pub async fn restart(&mut self) -> anyhow::Result<()> {
        self.kill().await?;
        let (child, tail) = Self::spawn_child(self.port, &self.dir, self.durable)?;
        self.child = child;
        self.wait_ready(&tail).await
    }

    /// The port it listens on (on `127.0.0.1`).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// The server's version, as `redis-server --version` prints it (`7.0.15`).
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Its working directory (removed on drop).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Sends one command (RESP) and returns the reply as text: `+OK` /
    /// `-ERR …` / `:1` as the line, a bulk string as its content. For
    /// tests that look at the keys directly.
    pub async fn command(&self, args: &[&str]) -> anyhow::Result<String> {
        request(self.port, args).await
    }

    /// Kills the server (SIGKILL) and waits for it to exit. Idempotent.
    pub async fn kill(&mut self) -> anyhow::Result<()> {
        if self.child.try_wait()?.is_some() {
            return Ok(());
        }
        tokio::time::timeout(Duration::from_secs(5), self.child.kill())
            .await
            .context("redis-server did not exit within 5 s of SIGKILL")?
            .context("killing redis-server")
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        // kill_on_drop kills the child; without persistence it writes
        // nothing more to the directory.
        let _ = self.child.start_kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `7.0.15` from `redis-server --version`; a clear error if it is missing
/// or older than RESP3.
async fn redis_server_version() -> anyhow::Result<String> {
    let output = match Command::new("redis-server")
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .await
    {
        Ok(output) => output,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
            "redis-server is not installed: run scripts/setup.sh (it installs Debian's redis-server)"
        ),
        Err(e) => return Err(e).context("running redis-server --version"),
    };
    let text = String::from_utf8_lossy(&output.stdout);
    let version = text
        .split_whitespace()
        .find_map(|word| word.strip_prefix("v="))
        .with_context(|| format!("no version in `redis-server --version`: {text:?}"))?;
    let major: u32 = version
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .with_context(|| format!("unreadable redis-server version {version:?}"))?;
    if major < MIN_MAJOR {
        bail!(
            "redis-server {version} is too old: Pushdesk's Redis client speaks RESP3 \
             (Redis {MIN_MAJOR} or newer; Debian 12 ships 7.0)"
        );
    }
    Ok(version.to_owned())
}

/// The `process_id` the server on `port` reports (`INFO server`).
async fn server_pid(port: u16) -> anyhow::Result<u32> {
    let pong = request(port, &["PING"]).await?;
    if pong != "+PONG" {
        bail!("PING answered {pong:?}");
    }
    let info = request(port, &["INFO", "server"]).await?;
    info.lines()
        .find_map(|line| line.strip_prefix("process_id:"))
        .and_then(|pid| pid.trim().parse().ok())
        .with_context(|| format!("no process_id in INFO server: {info:?}"))
}

/// One RESP request/reply on a fresh connection, bounded by
/// [`REQUEST_TIMEOUT`].
async fn request(port: u16, args: &[&str]) -> anyhow::Result<String> {
    tokio::time::timeout(REQUEST_TIMEOUT, async {
        let stream = TcpStream::connect(("127.0.0.1", port))
            .await
            .with_context(|| format!("connecting to 127.0.0.1:{port}"))?;
        let mut stream = BufReader::new(stream);
        let mut out = format!("*{}\r\n", args.len()).into_bytes();
        for arg in args {
            out.extend_from_slice(format!("${}\r\n{arg}\r\n", arg.len()).as_bytes());
        }
        stream.get_mut().write_all(&out).await?;
        let mut line = String::new();
        if stream.read_line(&mut line).await? == 0 {
            bail!("connection closed before a reply");
        }
        let line = line.trim_end_matches(['\r', '\n']);
        match line.strip_prefix('$') {
            Some("-1") => Ok(String::new()),
            Some(len) => {
                let len: usize = len
                    .parse()
                    .with_context(|| format!("bad bulk length {len:?}"))?;
                let mut body = vec![0; len + 2];
                stream.read_exact(&mut body).await?;
                body.truncate(len);
                Ok(String::from_utf8_lossy(&body).into_owned())
            }
            None => Ok(line.to_owned()),
        }
    })
    .await
    .with_context(|| format!("no reply from 127.0.0.1:{port} within {REQUEST_TIMEOUT:?}"))?
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code: a panic is the failure report

    use super::*;

    #[tokio::test]
    async fn starts_answers_and_cleans_up() {
        tokio::time::timeout(Duration::from_secs(30), async {
            let mut a = RedisServer::start().await.unwrap();
            let b = RedisServer::start().await.unwrap();
            assert_ne!(a.port(), b.port());
            assert_eq!(a.url(), format!("redis://127.0.0.1:{}", a.port()));
            assert!(a.version().split('.').count() >= 2);
            assert_eq!(a.command(&["SET", "k", "v"]).await.unwrap(), "+OK");
            assert_eq!(a.command(&["GET", "k"]).await.unwrap(), "v");
            assert_eq!(b.command(&["GET", "k"]).await.unwrap(), "");
            let persistence = a.command(&["INFO", "persistence"]).await.unwrap();
            assert!(persistence.contains("aof_enabled:0"), "{persistence}");
            let dir = a.dir().to_owned();
            assert!(dir.is_dir());
            a.kill().await.unwrap();
            a.kill().await.unwrap();
            assert!(a.command(&["PING"]).await.is_err());
            drop(a);
            assert!(!dir.exists());
        })
        .await
        .unwrap();
    }
}
