//! A real notification daemon for tests: Debian's `dunst` on a private
//! D-Bus (`dbus-daemon`) with its own X display (`Xvfb`), so a test needs
//! nothing from the machine's session and `cargo nextest` works alone.
//!
//! The bus is started from our own configuration (no service activation:
//! nothing but what the test starts owns `org.freedesktop.Notifications`);
//! dunst gets a config where notifications never expire and identical ones
//! are not stacked, so what a test sees depends only on what it does.
//! Inspect with [`NotificationDaemon::displayed`],
//! [`NotificationDaemon::history`] (`dunstctl`), act with
//! [`NotificationDaemon::invoke_action`] and
//! [`NotificationDaemon::close_notification`] (`gdbus`).
//!
//! `scripts/setup.sh` installs `dunst dbus dbus-x11 xvfb xauth
//! libnotify-bin`; a missing one is a clear error naming the package.

use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

use super::hub::TempDir;
use super::{Tail, forward_lines};

/// How long each part may take to come up.
const READY_TIMEOUT: Duration = Duration::from_secs(15);
/// How long one `dunstctl` / `gdbus` call may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// A private session bus, optionally with an X display and dunst on it.
/// Everything is killed when dropped.
#[derive(Debug)]
pub struct NotificationDaemon {
    bus_address: String,
    display: Option<String>,
    dunst: Option<Child>,
    dunst_tail: Tail,
    xvfb: Option<Child>,
    bus: Child,
    dir: TempDir,
}

impl std::fmt::Debug for Tail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tail")
    }
}

/// One notification as dunst reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DunstNotification {
    /// The daemon's id.
    pub id: u64,
    /// `appname`.
    pub app_name: String,
    /// `summary` (the title).
    pub summary: String,
    /// `body`, as the sender sent it.
    pub body: String,
    /// `message`: what dunst renders, its `format` applied (the test
    /// config keeps dunst's default `<b>%s</b>\n%b`: the summary escaped by
    /// dunst, the body as Pango markup).
    pub message: String,
    /// `icon_path`: the image dunst loaded (from the `image-path` hint).
    pub icon_path: String,
    /// `default_action_name`: `"default"` when the sender offered one.
    pub default_action: String,
}

impl NotificationDaemon {
    /// Starts `Xvfb`, a private bus and `dunst` on both, and waits until
    /// dunst answers on the bus.
    pub async fn start() -> anyhow::Result<NotificationDaemon> {
        let mut this = Self::bus_only().await?;
        let (xvfb, display) = start_xvfb().await?;
        this.xvfb = Some(xvfb);
        this.display = Some(display.clone());
        let config = this.dir.path().join("dunstrc");
        let dir = this.dir.path().display().to_string();
        std::fs::write(&config, DUNSTRC.replace("@DIR@", &dir)).context("writing dunstrc")?;
        std::fs::write(this.dir.path().join("pick.sh"), PICK.replace("@DIR@", &dir))
            .context("writing pick.sh")?;
        let mut dunst = Command::new("dunst")
            .arg("-config")
            .arg(&config)
            .env("DISPLAY", &display)
            .env("DBUS_SESSION_BUS_ADDRESS", &this.bus_address)
            .env_remove("WAYLAND_DISPLAY")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| missing("dunst", "dunst", e))?;
        if let Some(out) = dunst.stdout.take() {
            forward_lines(out, "dunst".into(), this.dunst_tail.clone());
        }
        if let Some(err) = dunst.stderr.take() {
            forward_lines(err, "dunst stderr".into(), this.dunst_tail.clone());
        }
        this.dunst = Some(dunst);
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(dunst) = this.dunst.as_mut()
                && let Some(status) = dunst.try_wait()?
            {
                tokio::time::sleep(Duration::from_millis(50)).await;
                bail!(
                    "dunst exited with {status}; output:{}",
                    this.dunst_tail.render()
                );
            }
            match this.dunstctl(&["is-paused"]).await {
                Ok(_) => return Ok(this),
                Err(e) if Instant::now() >= deadline => {
                    return Err(e.context(format!(
                        "dunst did not answer within {READY_TIMEOUT:?}; output:{}",
                        this.dunst_tail.render()
                    )));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    }

    /// Only a private bus, with no notification daemon on it (for the
    /// "no daemon" cases).
    pub async fn bus_only() -> anyhow::Result<NotificationDaemon> {
        let dir = TempDir::new("dbus")?;
        let config = dir.path().join("bus.conf");
        std::fs::write(
            &config,
            BUS_CONF.replace("@DIR@", &dir.path().display().to_string()),
        )
        .context("writing the bus configuration")?;
        let mut bus = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config.display()))
            .args(["--nofork", "--print-address=1"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| missing("dbus-daemon", "dbus", e))?;
        let stdout = bus.stdout.take().context("dbus-daemon stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let bus_address = tokio::time::timeout(READY_TIMEOUT, lines.next_line())
            .await
            .context("dbus-daemon printed no address in time")?
            .context("reading the bus address")?
            .context("dbus-daemon exited before printing its address")?;
        Ok(NotificationDaemon {
            bus_address: bus_address.trim().to_owned(),
            display: None,
            dunst: None,
            dunst_tail: Tail::default(),
            xvfb: None,
            bus,
            dir,
        })
    }

    /// The bus address, for `DBUS_SESSION_BUS_ADDRESS` or
    /// `Notifier::with_bus_address`.
    pub fn bus_address(&self) -> &str {
        &self.bus_address
    }

    /// The X display (`:N`), if started.
    pub fn display(&self) -> Option<&str> {
        self.display.as_deref()
    }

    /// The environment a child process needs to use this bus (and display).
    pub fn env(&self) -> Vec<(&'static str, String)> {
        let mut env = vec![("DBUS_SESSION_BUS_ADDRESS", self.bus_address.clone())];
        if let Some(display) = &self.display {
            env.push(("DISPLAY", display.clone()));
        }
        env
    }

    /// Kills dunst (the bus stays): the daemon went away.
    pub async fn kill_dunst(&mut self) -> anyhow::Result<()> {
        if let Some(mut dunst) = self.dunst.take() {
            dunst.kill().await.context("killing dunst")?;
        }
        Ok(())
    }

    /// Runs `dunstctl ARGS` on this bus and returns its stdout.
    pub async fn dunstctl(&self, args: &[&str]) -> anyhow::Result<String> {
        self.run("dunstctl", "dunst", args).await
    }

    /// How many notifications are on screen.
    pub async fn displayed_count(&self) -> anyhow::Result<usize> {
        let out = self.dunstctl(&["count", "displayed"]).await?;
        out.trim()
            .parse()
            .with_context(|| format!("dunstctl count displayed: {out:?}"))
    }

    /// Waits (up to `timeout`) until exactly `n` notifications are on screen.
    pub async fn wait_displayed(&self, n: usize, timeout: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            let count = self.displayed_count().await?;
            if count == n {
                return Ok(());
            }
            if Instant::now() >= deadline {
                bail!("{count} notifications on screen after {timeout:?}, expected {n}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// What is on screen, newest first: closes everything (`dunstctl
    /// close-all` moves it to the history) and reads the history. Destroys
    /// what it observes; call it last.
    pub async fn displayed(&self) -> anyhow::Result<Vec<DunstNotification>> {
        let before: Vec<u64> = self.history().await?.iter().map(|n| n.id).collect();
        self.dunstctl(&["close-all"]).await?;
        let after = self.history().await?;
        Ok(after
            .into_iter()
            .filter(|n| !before.contains(&n.id))
            .collect())
    }

    /// `dunstctl history`: closed notifications, newest first.
    pub async fn history(&self) -> anyhow::Result<Vec<DunstNotification>> {
        let out = self.dunstctl(&["history"]).await?;
        parse_history(&out)
    }

    /// `dunstctl action POSITION`: invokes the default action of the
    /// notification at that position on screen (0 = top).
    pub async fn invoke_action(&self, position: usize) -> anyhow::Result<()> {
        self.dunstctl(&["action", &position.to_string()])
            .await
            .map(drop)
    }

    /// Presses the button with action id `action` (of the one notification
    /// on screen that has it), as a user does through dunst's context menu:
    /// `dunstctl context` runs the configured `dmenu`, a script here that
    /// picks the menu line ending in `,ACTION]`.
    pub async fn press_button(&self, action: &str) -> anyhow::Result<()> {
        std::fs::write(self.dir.path().join("want"), format!(",{action}]"))
            .context("writing the wanted action")?;
        self.dunstctl(&["context"]).await.map(drop)
    }

    /// `CloseNotification(id)` through `gdbus`, as another app would.
    pub async fn close_notification(&self, id: u32) -> anyhow::Result<()> {
        self.run(
            "gdbus",
            "libglib2.0-bin",
            &[
                "call",
                "--address",
                &self.bus_address,
                "--dest",
                "org.freedesktop.Notifications",
                "--object-path",
                "/org/freedesktop/Notifications",
                "--method",
                "org.freedesktop.Notifications.CloseNotification",
                &id.to_string(),
            ],
        )
        .await
        .map(drop)
    }

    async fn run(&self, program: &str, package: &str, args: &[&str]) -> anyhow::Result<String> {
        let mut cmd = Command::new(program);
        cmd.args(args)
            .envs(self.env())
            .stdin(Stdio::null())
            .kill_on_drop(true);
        let out = tokio::time::timeout(CALL_TIMEOUT, cmd.output())
            .await
            .with_context(|| format!("{program} {args:?} took longer than {CALL_TIMEOUT:?}"))?
            .map_err(|e| missing(program, package, e))?;
        if !out.status.success() {
            bail!(
                "{program} {args:?} failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            );
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

impl Drop for NotificationDaemon {
    fn drop(&mut self) {
        for child in [self.dunst.as_mut(), self.xvfb.as_mut(), Some(&mut self.bus)]
            .into_iter()
            .flatten()
        {
            let _ = child.start_kill();
        }
    }
}

/// A session bus on a socket in our directory, without service activation.
const BUS_CONF: &str = r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir=@DIR@</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#;

/// Nothing expires, nothing is stacked or limited, history keeps plenty;
/// the context menu is [`PICK`] (`@DIR@`: the daemon's directory).
const DUNSTRC: &str = "[global]
    dmenu = /bin/sh @DIR@/pick.sh
    monitor = 0
    follow = none
    notification_limit = 0
    idle_threshold = 0
    stack_duplicates = false
    hide_duplicate_count = false
    sticky_history = yes
    history_length = 100
    show_indicators = no
[urgency_low]
    timeout = 0
[urgency_normal]
    timeout = 0
[urgency_critical]
    timeout = 0
";

/// dunst's `dmenu`: reads the context menu's lines (`#Title (summary)
/// [id,action]`) and prints the one that ends with the text in `@DIR@/want`.
const PICK: &str = "exec grep -F -m 1 -- \"$(cat '@DIR@/want')\"
";

/// `Xvfb -displayfd 1`: the server picks a free display and prints it.
async fn start_xvfb() -> anyhow::Result<(Child, String)> {
    let mut xvfb = Command::new("Xvfb")
        .args([
            "-displayfd",
            "1",
            "-screen",
            "0",
            "1024x768x24",
            "-nolisten",
            "tcp",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| missing("Xvfb", "xvfb", e))?;
    let stdout = xvfb.stdout.take().context("Xvfb stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let number = tokio::time::timeout(READY_TIMEOUT, lines.next_line())
        .await
        .context("Xvfb printed no display number in time")?
        .context("reading Xvfb's display number")?
        .context("Xvfb exited before printing a display number")?;
    let number: u32 = number
        .trim()
        .parse()
        .with_context(|| format!("Xvfb printed {number:?}, not a display number"))?;
    Ok((xvfb, format!(":{number}")))
}

fn missing(program: &str, package: &str, e: std::io::Error) -> anyhow::Error {
    if e.kind() == std::io::ErrorKind::NotFound {
        anyhow::anyhow!(
            "{program} is not installed: run scripts/setup.sh (it installs Debian's {package})"
        )
    } else {
        anyhow::Error::new(e).context(format!("running {program}"))
    }
}

/// `dunstctl history` JSON: `{"type": "aa{sv}", "data": [[{key: {"data": v}}]]}`.
fn parse_history(json: &str) -> anyhow::Result<Vec<DunstNotification>> {
    let v: Value = serde_json::from_str(json).context("dunstctl history is not JSON")?;
    let list = v
        .pointer("/data/0")
        .and_then(Value::as_array)
        .context("dunstctl history: no data[0] list")?;
    let field = |n: &Value, key: &str| n.pointer(&format!("/{key}/data")).cloned();
    let text = |n: &Value, key: &str| {
        field(n, key)
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    };
    Ok(list
        .iter()
        .map(|n| DunstNotification {
            id: field(n, "id").and_then(|v| v.as_u64()).unwrap_or_default(),
            app_name: text(n, "appname"),
            summary: text(n, "summary"),
            body: text(n, "body"),
            message: text(n, "message"),
            icon_path: text(n, "icon_path"),
            default_action: text(n, "default_action_name"),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // test code: a panic is the failure report

    use super::*;

    #[tokio::test]
    async fn dunst_starts_shows_and_cleans_up() {
        tokio::time::timeout(Duration::from_secs(30), async {
            let daemon = NotificationDaemon::start().await.unwrap();
            assert!(daemon.bus_address().starts_with("unix:"));
            assert!(daemon.display().unwrap().starts_with(':'));
            assert_eq!(daemon.displayed_count().await.unwrap(), 0);
            daemon
                .run(
                    "notify-send",
                    "libnotify-bin",
                    &["-a", "t", "hello", "world"],
                )
                .await
                .unwrap();
            daemon
                .wait_displayed(1, Duration::from_secs(5))
                .await
                .unwrap();
            let shown = daemon.displayed().await.unwrap();
            assert_eq!(shown.len(), 1);
            assert_eq!(shown[0].summary, "hello");
            assert_eq!(shown[0].body, "world");
            assert_eq!(shown[0].app_name, "t");

            let empty = NotificationDaemon::bus_only().await.unwrap();
            assert!(empty.dunstctl(&["count"]).await.is_err(), "no daemon there");
        })
        .await
        .unwrap();
    }
}
