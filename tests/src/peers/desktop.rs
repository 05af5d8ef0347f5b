//! A Tauri app (ours, `pushdesk-desktop`, or any other) driven end to end:
//! ours is the window of a tray process (`pushdesk-tray`) that it starts;
//! [`Desktop`] stops that process too when dropped ([`stop_core`]).
//! `tauri-driver` (with Debian's `WebKitWebDriver`) starts it on a
//! [`NotificationDaemon`]'s X display and D-Bus (where a real `dunst`
//! receives its notifications), and fantoccini speaks WebDriver to its
//! webview. The binary comes from the caller
//! (`env!("CARGO_BIN_EXE_pushdesk-desktop")` in the desktop crate).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use super::dunst::NotificationDaemon;
use super::hub::TempDir;
use anyhow::{Context as _, bail};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use tokio::process::{Child, Command};

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

/// What [`Desktop::wait_for`] polls.
pub type CheckFuture<'a> =
    std::pin::Pin<Box<dyn std::future::Future<Output = anyhow::Result<bool>> + 'a>>;

/// A running app behind a WebDriver session. Quits when dropped, with the
/// tray process it started for its data directory.
pub struct Desktop {
    /// The WebDriver session.
    pub client: Client,
    driver: Child,
    /// The app binary.
    pub bin: PathBuf,
    /// Its `--data-dir` (`None` for apps without one).
    pub data_dir: Option<PathBuf>,
    _home: TempDir,
}

impl std::fmt::Debug for Desktop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Desktop")
            .field("bin", &self.bin)
            .finish_non_exhaustive()
    }
}

impl Desktop {
    /// Starts `pushdesk-desktop` (`bin`) with `--data-dir` and `args` (e.g.
    /// `--server URL`) on `session`'s display and bus, and waits for its UI.
    pub async fn launch(
        bin: &Path,
        session: &NotificationDaemon,
        data_dir: &Path,
        args: &[&str],
    ) -> anyhow::Result<Desktop> {
        let mut all: Vec<String> = vec!["--data-dir".into(), data_dir.display().to_string()];
        all.extend(args.iter().map(|s| (*s).to_owned()));
        let desktop = Self::launch_any(bin, session, &all, Some(data_dir)).await?;
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

    /// Starts any Tauri app with `args` and a fresh home directory; returns
    /// once the WebDriver session is up.
    pub async fn launch_any(
        bin: &Path,
        session: &NotificationDaemon,
        args: &[String],
        data_dir: Option<&Path>,
    ) -> anyhow::Result<Desktop> {
        let home = TempDir::new("desktop-home")?;
        let port = crate::ports::try_free_port()?;
        let native_port = crate::ports::try_free_port()?;
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
        // The app chooses WebKit's compositing mode itself.
        .env_remove("WEBKIT_DISABLE_COMPOSITING_MODE")
        .env_remove("PUSHDESK_SERVER")
        .env_remove("PUSHDESK_TOKEN")
        .stdin(Stdio::null())
        .kill_on_drop(true);
        let driver = cmd.spawn().context("starting tauri-driver")?;
        let caps = json!({
            "tauri:options": { "application": bin, "args": args }
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
        Ok(Desktop {
            client,
            driver,
            bin: bin.to_owned(),
            data_dir: data_dir.map(Path::to_owned),
            _home: home,
        })
    }

    /// The app's pid (a child of WebKitWebDriver), found by its command line.
    pub fn pid(&self) -> anyhow::Result<u32> {
        let data_dir = self.data_dir.as_ref().map(|d| d.display().to_string());
        for entry in std::fs::read_dir("/proc")?.flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
                continue;
            };
            let args: Vec<String> = cmdline
                .split(|b| *b == 0)
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect();
            if args.first().is_some_and(|a| Path::new(a) == self.bin)
                && data_dir.as_ref().is_none_or(|d| args.contains(d))
            {
                return Ok(pid);
            }
        }
        bail!("no process for {}", self.bin.display())
    }

    /// Polls `check` until it is true (or the time is up).
    pub async fn wait_for<F>(&self, what: &str, limit: Duration, check: F) -> anyhow::Result<()>
    where
        F: for<'a> Fn(&'a Desktop) -> CheckFuture<'a>,
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
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill().await;
        Ok(())
    }

    /// The tray process serving this window (`pushdesk-tray`), from the
    /// address file in the data directory.
    pub fn core_pid(&self) -> anyhow::Result<u32> {
        let dir = self.data_dir.as_ref().context("no data directory")?;
        core_pid(dir).with_context(|| format!("no core running for {}", dir.display()))
    }
}

impl Drop for Desktop {
    fn drop(&mut self) {
        if let Some(dir) = &self.data_dir {
            stop_core(dir);
        }
    }
}

/// The pid of the tray process running for `data_dir` (its `core.json`).
pub fn core_pid(data_dir: &Path) -> Option<u32> {
    let text = std::fs::read_to_string(data_dir.join("core.json")).ok()?;
    let v: Value = serde_json::from_str(&text).ok()?;
    let pid = u32::try_from(v["pid"].as_u64()?).ok()?;
    alive(pid).then_some(pid)
}

/// Waits (up to `limit`) for the tray process of `data_dir` to be up.
pub async fn wait_core(data_dir: &Path, limit: Duration) -> anyhow::Result<u32> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(pid) = core_pid(data_dir) {
            return Ok(pid);
        }
        if Instant::now() > deadline {
            bail!(
                "no tray process for {} within {limit:?}",
                data_dir.display()
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Stops the tray process of `data_dir` (SIGTERM: it quits as from its
/// menu), waiting up to 10 s for it to go.
pub fn stop_core(data_dir: &Path) {
    let Some(pid) = core_pid(data_dir) else {
        return;
    };
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while alive(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    if alive(pid) {
        let _ = std::process::Command::new("kill")
            .args(["-KILL", &pid.to_string()])
            .status();
    }
}

/// Asks the tray process `core_pid` to open its window, as a left click on
/// its icon does: `Activate` on its StatusNotifierItem, over `session`'s bus.
pub async fn click_tray(session: &NotificationDaemon, core_pid: u32) -> anyhow::Result<()> {
    let out = Command::new("gdbus")
        .args([
            "call",
            "--session",
            "--dest",
            &format!("org.kde.StatusNotifierItem-{core_pid}-1"),
            "--object-path",
            "/StatusNotifierItem",
            "--method",
            "org.kde.StatusNotifierItem.Activate",
            "0",
            "0",
        ])
        .envs(session.env())
        .output()
        .await
        .context("gdbus")?;
    if !out.status.success() {
        bail!(
            "tray Activate failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// `pid` and all its descendants.
pub fn process_tree(pid: u32) -> Vec<u32> {
    let mut out = vec![pid];
    let mut i = 0;
    while i < out.len() {
        let p = out[i];
        if let Ok(tasks) = std::fs::read_dir(format!("/proc/{p}/task")) {
            for task in tasks.flatten() {
                if let Ok(list) = std::fs::read_to_string(task.path().join("children")) {
                    out.extend(
                        list.split_whitespace()
                            .filter_map(|c| c.parse::<u32>().ok()),
                    );
                }
            }
        }
        i += 1;
    }
    out
}

/// A process's short name (`/proc/PID/comm`).
pub fn process_name(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|c| c.trim().to_owned())
        .unwrap_or_default()
}

/// The names of `pid`'s threads (`/proc/PID/task/*/comm`).
pub fn thread_names(pid: u32) -> Vec<String> {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .map(|tasks| {
            tasks
                .filter_map(Result::ok)
                .filter_map(|t| std::fs::read_to_string(t.path().join("comm")).ok())
                .map(|c| c.trim().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// WebKit web-content processes under `pid` (one per live webview).
pub fn web_processes(pid: u32) -> Vec<u32> {
    process_tree(pid)
        .into_iter()
        .filter(|p| process_name(*p).starts_with("WebKitWeb"))
        .collect()
}

/// Whether `pid` runs (and is not a zombie).
pub fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| !s.contains(") Z "))
        .unwrap_or(false)
}

/// Resident set size of `pid`, in KiB (0 when it is gone).
pub fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Proportional set size of `pids` together, in KiB: shared pages are
/// split between the processes mapping them, so the sum is not inflated.
pub fn pss_kib(pids: &[u32]) -> u64 {
    pids.iter()
        .filter_map(|p| std::fs::read_to_string(format!("/proc/{p}/smaps_rollup")).ok())
        .filter_map(|s| {
            s.lines()
                .find(|l| l.starts_with("Pss:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        })
        .sum()
}

/// Context switches (voluntary + involuntary) per thread of `pids`, and
/// their CPU ticks (user + system, exited threads included): how often and
/// how much they woke. Diff two readings with [`wakeups_between`].
pub fn wakeups_and_ticks(pids: &[u32]) -> (std::collections::HashMap<u32, u64>, u64) {
    let mut switches = std::collections::HashMap::new();
    let mut ticks = 0;
    for p in pids {
        if let Ok(tasks) = std::fs::read_dir(format!("/proc/{p}/task")) {
            for task in tasks.flatten() {
                let Ok(tid) = task.file_name().to_string_lossy().parse::<u32>() else {
                    continue;
                };
                if let Ok(status) = std::fs::read_to_string(task.path().join("status")) {
                    let n = status
                        .lines()
                        .filter(|l| l.contains("ctxt_switches"))
                        .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
                        .sum::<u64>();
                    switches.insert(tid, n);
                }
            }
        }
        if let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat"))
            && let Some(rest) = stat.rsplit_once(')').map(|(_, r)| r)
        {
            let f: Vec<&str> = rest.split_whitespace().collect();
            // utime and stime are fields 14 and 15: 12th and 13th after ") ".
            ticks += f.get(11).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
            ticks += f.get(12).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
        }
    }
    (switches, ticks)
}

/// Context switches between two [`wakeups_and_ticks`] readings (threads
/// that ended in between are left out, new ones count from zero).
pub fn wakeups_between(
    before: &std::collections::HashMap<u32, u64>,
    after: &std::collections::HashMap<u32, u64>,
) -> u64 {
    after
        .iter()
        .map(|(tid, n)| n.saturating_sub(before.get(tid).copied().unwrap_or(0)))
        .sum()
}
