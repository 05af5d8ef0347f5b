//! Drives the real `pushdesk-desktop` binary end to end: `tauri-driver`
//! (with Debian's `WebKitWebDriver`) starts it on the test's own X display
//! and D-Bus (where a real `dunst` receives its notifications), and
//! fantoccini speaks WebDriver to its webview.

#![allow(dead_code, missing_docs)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use fantoccini::{Client, ClientBuilder, Locator};
use pushdesk_e2e::{NotificationDaemon, TempDir};
use serde_json::{Value, json};
use tokio::process::{Child, Command};

/// The app under test.
pub fn desktop_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_pushdesk-desktop"))
}

/// `tauri-driver` (installed by `scripts/setup.sh` with cargo install).
fn tauri_driver() -> anyhow::Result<PathBuf> {
    if let Ok(p) = std::env::var("TAURI_DRIVER") {
        return Ok(PathBuf::from(p));
    }
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .context("no HOME")?;
    let p = home.join("bin").join("tauri-driver");
    if p.exists() {
        Ok(p)
    } else {
        bail!(
            "tauri-driver not found at {}: run scripts/setup.sh (cargo install tauri-driver --locked)",
            p.display()
        )
    }
}

/// A running app behind a WebDriver session.
pub struct Desktop {
    pub client: Client,
    driver: Child,
    pub data_dir: PathBuf,
    _home: TempDir,
}

impl Desktop {
    /// Starts the app with `args` (e.g. `--server URL`) and `data_dir`, and
    /// waits for its window.
    pub async fn launch(
        session: &NotificationDaemon,
        data_dir: &Path,
        args: &[&str],
    ) -> anyhow::Result<Desktop> {
        let home = TempDir::new("desktop-home")?;
        let port = pushdesk_e2e::try_free_port()?;
        let native_port = pushdesk_e2e::try_free_port()?;
        let mut cmd = Command::new(tauri_driver()?);
        cmd.args([
            "--port",
            &port.to_string(),
            "--native-port",
            &native_port.to_string(),
        ])
        .envs(session.env())
        .env("HOME", home.path())
        .env("XDG_CONFIG_HOME", home.path().join("config"))
        .env("XDG_DATA_HOME", home.path().join("data"))
        .env("XDG_CACHE_HOME", home.path().join("cache"))
        .env("XDG_RUNTIME_DIR", home.path())
        .env("RUST_LOG", "info,pushdesk_desktop=debug")
        .env("WEBKIT_DISABLE_COMPOSITING_MODE", "1")
        .env_remove("PUSHDESK_SERVER")
        .env_remove("PUSHDESK_TOKEN")
        .stdin(Stdio::null())
        .kill_on_drop(true);
        let driver = cmd.spawn().context("starting tauri-driver")?;
        let mut all_args: Vec<String> = vec!["--data-dir".into(), data_dir.display().to_string()];
        all_args.extend(args.iter().map(|s| (*s).to_owned()));
        let caps = json!({
            "tauri:options": { "application": desktop_bin(), "args": all_args }
        });
        let serde_json::Value::Object(caps) = caps else {
            bail!("caps")
        };
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(c) => break c,
                Err(e) if Instant::now() < deadline => {
                    tracing::debug!(error = %e, "waiting for tauri-driver");
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => bail!("no WebDriver session: {e}"),
            }
        };
        let desktop = Desktop {
            client,
            driver,
            data_dir: data_dir.to_owned(),
            _home: home,
        };
        desktop
            .wait_for("the window", Duration::from_secs(20), |d| {
                Box::pin(async move {
                    Ok(d.client
                        .find(Locator::Css("[data-testid=connection-status]"))
                        .await
                        .is_ok())
                })
            })
            .await?;
        Ok(desktop)
    }

    /// Polls `check` until it is true (or the time is up).
    pub async fn wait_for<F>(&self, what: &str, limit: Duration, check: F) -> anyhow::Result<()>
    where
        F: for<'a> Fn(
            &'a Desktop,
        ) -> std::pin::Pin<
            Box<dyn std::future::Future<Output = anyhow::Result<bool>> + 'a>,
        >,
    {
        let deadline = Instant::now() + limit;
        loop {
            if check(self).await.unwrap_or(false) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                bail!("timed out waiting for {what}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The text of `[data-testid=ID]`.
    pub async fn text(&self, testid: &str) -> anyhow::Result<String> {
        let el = self
            .client
            .find(Locator::Css(&format!("[data-testid={testid}]")))
            .await?;
        Ok(el.text().await?)
    }

    /// An element's `value` property (inputs, textareas).
    pub async fn value(&self, testid: &str) -> anyhow::Result<String> {
        let v = self
            .client
            .execute(
                "return document.querySelector(`[data-testid=${arguments[0]}]`).value",
                vec![Value::String(testid.to_owned())],
            )
            .await?;
        Ok(v.as_str().unwrap_or_default().to_owned())
    }

    /// Waits until `[data-testid=ID]`'s text satisfies `want`.
    pub async fn wait_text(
        &self,
        testid: &str,
        want: impl Fn(&str) -> bool,
        limit: Duration,
    ) -> anyhow::Result<String> {
        let deadline = Instant::now() + limit;
        let mut last = String::new();
        loop {
            if let Ok(t) = self.text(testid).await {
                if want(&t) {
                    return Ok(t);
                }
                last = t;
            }
            if Instant::now() >= deadline {
                bail!("[data-testid={testid}] never matched; last text {last:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Runs JavaScript in the page.
    pub async fn js(&self, script: &str, args: Vec<Value>) -> anyhow::Result<Value> {
        Ok(self.client.execute(script, args).await?)
    }

    /// Ends the WebDriver session (which quits the app) and the driver.
    pub async fn quit(mut self) -> anyhow::Result<()> {
        let _ = self.client.close().await;
        let _ = self.driver.kill().await;
        Ok(())
    }
}
