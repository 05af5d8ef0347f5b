//! The installed Linux package, from its installed files only.
//!
//! `scripts/package-test.sh` builds the .deb, installs it with apt, and runs
//! these (`--run-ignored only`) with `PUSHDESK_INSTALLED_ROOT=/` (the root
//! the package was installed under). They check what a user gets: both
//! binaries name their version and commit, the desktop entry and icons are
//! in place, the hub and the listener run as their systemd user units start
//! them and a notification makes the round trip (to dunst as well), and the
//! installed desktop app, started hidden under Xvfb and D-Bus, connects to
//! that hub and shows a broadcast on the notification daemon.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use pushdesk_e2e::{HubProcess, NotificationDaemon, TempDir, http_get};
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::Command;

const WAIT: Duration = Duration::from_secs(20);

async fn bounded<F: std::future::Future<Output = ()>>(f: F) {
    tokio::time::timeout(Duration::from_secs(120), f)
        .await
        .expect("test within 120 s");
}

/// Where the package was installed (`/` for a real install).
fn root() -> PathBuf {
    let root = std::env::var_os("PUSHDESK_INSTALLED_ROOT").expect(
        "PUSHDESK_INSTALLED_ROOT names where the package is installed; \
         run these through scripts/package-test.sh",
    );
    PathBuf::from(root)
}

fn installed(path: &str) -> PathBuf {
    root().join(path.trim_start_matches('/'))
}

/// The command line of a systemd user unit shipped by the package, with the
/// program resolved under [`root`].
fn unit_exec_start(unit: &str) -> Vec<String> {
    let path = installed(&format!("usr/lib/systemd/user/{unit}"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .unwrap_or_else(|| panic!("no ExecStart in {unit}"));
    let mut argv: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
    argv[0] = installed(&argv[0]).display().to_string();
    argv
}

/// The hub's user count, from `/health`.
async fn user_count(port: u16) -> u64 {
    let resp = http_get(port, "/health").await.expect("health");
    let v: serde_json::Value = serde_json::from_slice(&resp.body).expect("health is JSON");
    v["user_count"].as_u64().expect("user_count")
}

async fn wait_users(port: u16, n: u64) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while user_count(port).await < n {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{n} users never connected"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn send(pushdesk: &Path, url: &str, title: &str) {
    let out = Command::new(pushdesk)
        .args([
            "send",
            "--server",
            url,
            "--title",
            title,
            "--body",
            "installed",
        ])
        .env_remove("PUSHDESK_SERVER")
        .env_remove("PUSHDESK_TOKEN")
        .output()
        .await
        .expect("pushdesk send runs");
    assert!(
        out.status.success(),
        "send failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `pushdesk serve` from `pushdesk` on a fresh data directory (kept alive by
/// the returned guard), and dunst on a private bus and display.
async fn hub_and_daemon(pushdesk: &Path) -> (TempDir, HubProcess, NotificationDaemon) {
    let data = TempDir::new("installed-hub").unwrap();
    let hub = HubProcess::start(pushdesk, data.path(), &[]).await.unwrap();
    let daemon = NotificationDaemon::start().await.unwrap();
    (data, hub, daemon)
}

/// The commit this checkout is at (the package was built from it).
fn head_commit() -> String {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git rev-parse HEAD failed");
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

#[tokio::test]
#[ignore = "needs the installed package: scripts/package-test.sh"]
async fn every_binary_prints_version_and_commit() {
    let head = head_commit();
    for bin in ["pushdesk", "pushdesk-desktop", "pushdesk-tray"] {
        let out = Command::new(installed(&format!("usr/bin/{bin}")))
            .arg("--version")
            .env_remove("DISPLAY")
            .output()
            .await
            .expect("runs");
        assert!(out.status.success(), "{bin} --version failed");
        let line = String::from_utf8(out.stdout).unwrap();
        // `pushdesk 0.1.0 (commit 0123456789ab)`
        let prefix = format!("{bin} {} (commit ", env!("CARGO_PKG_VERSION"));
        let commit = line
            .trim()
            .strip_prefix(&prefix)
            .and_then(|rest| rest.strip_suffix(')'))
            .map(|c| c.trim_end_matches("-modified"))
            .unwrap_or_else(|| panic!("{bin} --version printed {line:?}"));
        assert!(
            commit.len() >= 7 && head.starts_with(commit),
            "{bin} says commit {commit:?}, the checkout is at {head}"
        );
    }
}

#[tokio::test]
#[ignore = "needs the installed package: scripts/package-test.sh"]
async fn desktop_entry_and_icons_are_installed() {
    let entry = installed("usr/share/applications/Pushdesk.desktop");
    let text = std::fs::read_to_string(&entry).unwrap_or_else(|e| panic!("{entry:?}: {e}"));
    assert!(text.contains("Exec=pushdesk-desktop"), "{text}");
    assert!(text.contains("Icon=pushdesk-desktop"), "{text}");
    for size in ["32x32", "128x128", "256x256@2"] {
        let icon = installed(&format!(
            "usr/share/icons/hicolor/{size}/apps/pushdesk-desktop.png"
        ));
        assert!(icon.is_file(), "{icon:?} missing");
    }
}

#[tokio::test]
#[ignore = "needs the installed package: scripts/package-test.sh"]
async fn units_serve_and_listen_round_trip_to_dunst() {
    bounded(async {
        let serve = unit_exec_start("pushdesk-serve.service");
        assert_eq!(serve[1..], ["serve"], "the serve unit's command line");
        let pushdesk = PathBuf::from(&serve[0]);
        // HubProcess adds --bind and --data-dir, which the unit takes from
        // its environment file.
        let (_data, hub, daemon) = hub_and_daemon(&pushdesk).await;
        let url = hub.url();

        let cache = TempDir::new("installed-cache").unwrap();
        let listen = unit_exec_start("pushdesk-listen.service");
        let mut child = Command::new(&listen[0])
            .args(&listen[1..])
            // What the unit's EnvironmentFile provides.
            .env("PUSHDESK_SERVER", &url)
            .env_remove("PUSHDESK_TOKEN")
            .env("XDG_CACHE_HOME", cache.path())
            .envs(daemon.env())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("listen starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        wait_users(hub.port(), 1).await;

        send(&pushdesk, &url, "From the package").await;
        let line = loop {
            let line = tokio::time::timeout(WAIT, lines.next_line())
                .await
                .expect("listen prints in time")
                .unwrap()
                .expect("listen still running");
            if line.contains("\"event\":\"send_notification\"") {
                break line;
            }
        };
        let event: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(event["data"]["title"], "From the package");

        daemon.wait_displayed(1, WAIT).await.unwrap();
        let shown = daemon.displayed().await.unwrap();
        assert_eq!(shown[0].summary, "From the package");
    })
    .await;
}

#[tokio::test]
#[ignore = "needs the installed package: scripts/package-test.sh"]
async fn installed_desktop_app_shows_a_broadcast() {
    bounded(async {
        let pushdesk = installed("usr/bin/pushdesk");
        let (_data, hub, daemon) = hub_and_daemon(&pushdesk).await;
        let url = hub.url();

        let home = TempDir::new("installed-desktop-home").unwrap();
        let data_dir = home.path().join("data");
        let status = Command::new(installed("usr/bin/pushdesk-desktop"))
            .args(["--hidden", "--server", &url, "--data-dir"])
            .arg(&data_dir)
            .env("HOME", home.path())
            .env("XDG_CONFIG_HOME", home.path().join("config"))
            .env("XDG_CACHE_HOME", home.path().join("cache"))
            .env("XDG_DATA_HOME", home.path().join("share"))
            .env_remove("PUSHDESK_SERVER")
            .env_remove("PUSHDESK_TOKEN")
            .envs(daemon.env())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .status()
            .await
            .expect("pushdesk-desktop starts");
        // Hidden: it started the tray process and left.
        assert!(status.success(), "pushdesk-desktop --hidden: {status}");
        let core = pushdesk_e2e::peers::desktop::wait_core(&data_dir, WAIT)
            .await
            .unwrap();
        assert_eq!(
            std::fs::read_link(format!("/proc/{core}/exe")).unwrap(),
            installed("usr/bin/pushdesk-tray"),
        );
        wait_users(hub.port(), 1).await;

        send(&pushdesk, &url, "To the installed app").await;
        daemon.wait_displayed(1, WAIT).await.unwrap();
        let shown = daemon.displayed().await.unwrap();
        assert_eq!(shown.len(), 1);
        assert_eq!(shown[0].summary, "To the installed app");
        assert_eq!(shown[0].body, "installed");
        assert_eq!(shown[0].app_name, "Pushdesk");
        pushdesk_e2e::peers::desktop::stop_core(&data_dir);
    })
    .await;
}
