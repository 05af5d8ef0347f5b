//! A Flask-style Python client of the shared text
//! (`tests/peers/python/seed_text.py`, python-socketio): it hears
//! `text_update {text}` and writes whole texts with `text_update_request`,
//! as the seed's Python users do.

use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context as _, bail};
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use crate::setup::{ensure_python_venv, python_peer_dir};

/// A running `seed_text.py`, killed when dropped.
pub struct FlaskTextClient {
    _child: Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
    text: Option<String>,
}

impl FlaskTextClient {
    /// Starts the client against `url` (the venv is made if needed) and
    /// waits for the text the server sends on connect.
    pub async fn connect(url: &str, wait: Duration) -> anyhow::Result<Self> {
        let python = tokio::task::spawn_blocking(ensure_python_venv)
            .await
            .context("python setup task panicked")??;
        let mut child = Command::new(python)
            .arg("-u")
            .arg(python_peer_dir().join("seed_text.py"))
            .arg(url)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("spawning seed_text.py")?;
        let stdin = child.stdin.take().context("seed_text.py stdin")?;
        let stdout = child.stdout.take().context("seed_text.py stdout")?;
        let mut client = Self {
            _child: child,
            stdin,
            lines: BufReader::new(stdout).lines(),
            text: None,
        };
        client.until(|_| true, wait).await?;
        Ok(client)
    }

    /// The last text the server sent.
    pub fn text(&self) -> &str {
        self.text.as_deref().unwrap_or_default()
    }

    /// Writes `text` as the whole shared text.
    pub async fn write(&mut self, text: &str) -> anyhow::Result<()> {
        let mut line = serde_json::to_string(text)?;
        line.push('\n');
        self.stdin.write_all(line.as_bytes()).await?;
        self.stdin.flush().await?;
        Ok(())
    }

    /// Reads `text_update`s until the text satisfies `pred` (at most `wait`).
    pub async fn until(
        &mut self,
        pred: impl Fn(&str) -> bool,
        wait: Duration,
    ) -> anyhow::Result<String> {
        let read = async {
            loop {
                if let Some(text) = &self.text
                    && pred(text)
                {
                    return Ok(text.clone());
                }
                let Some(line) = self.lines.next_line().await? else {
                    bail!("seed_text.py exited (last text {:?})", self.text);
                };
                let v: serde_json::Value =
                    serde_json::from_str(&line).with_context(|| format!("line {line:?}"))?;
                self.text = Some(v["text"].as_str().unwrap_or_default().to_owned());
            }
        };
        match tokio::time::timeout(wait, read).await {
            Ok(result) => result,
            Err(_) => bail!("no wanted text within {wait:?} (last {:?})", self.text),
        }
    }
}
