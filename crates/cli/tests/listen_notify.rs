//! `pushdesk listen` without `--no-notify`: hub notifications reach a real
//! notification daemon (dunst on a private D-Bus with its own Xvfb), icons
//! included; without a daemon, listen keeps printing and warns once.
#![cfg(all(unix, not(target_os = "macos")))]
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use pushdesk_e2e::{HubProcess, NotificationDaemon, TempDir};
use tokio::io::{AsyncBufReadExt as _, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

const BIN: &str = env!("CARGO_BIN_EXE_pushdesk");
const WAIT: Duration = Duration::from_secs(15);

async fn bounded<F: std::future::Future<Output = ()>>(f: F) {
    tokio::time::timeout(Duration::from_secs(90), f)
        .await
        .expect("test within 90 s");
}

struct Listener {
    _child: Child,
    lines: Lines<BufReader<ChildStdout>>,
    stderr: Arc<Mutex<Vec<String>>>,
}

/// `pushdesk listen --json --server URL` on the daemon's bus, with its own
/// cache directory.
fn listen(url: &str, daemon: &NotificationDaemon, cache: &Path) -> Listener {
    let mut child = Command::new(BIN)
        .args(["listen", "--json", "--server", url])
        .envs(daemon.env())
        .env("XDG_CACHE_HOME", cache)
        .env_remove("PUSHDESK_SERVER")
        .env_remove("PUSHDESK_TOKEN")
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("pushdesk starts");
    let stdout = child.stdout.take().unwrap();
    let stderr = Arc::new(Mutex::new(Vec::new()));
    let mut err_lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let collected = stderr.clone();
    tokio::spawn(async move {
        while let Ok(Some(line)) = err_lines.next_line().await {
            eprintln!("[listen stderr] {line}");
            collected.lock().unwrap().push(line);
        }
    });
    Listener {
        _child: child,
        lines: BufReader::new(stdout).lines(),
        stderr,
    }
}

impl Listener {
    /// Waits for the printed event `name`; returns its line.
    async fn until(&mut self, name: &str) -> String {
        let needle = format!("\"event\":\"{name}\"");
        loop {
            let line = tokio::time::timeout(WAIT, self.lines.next_line())
                .await
                .expect("a line in time")
                .unwrap()
                .expect("not EOF");
            if line.contains(&needle) {
                return line;
            }
        }
    }
}

async fn send(url: &str, args: &[&str]) {
    let out = Command::new(BIN)
        .args(["send", "--server", url])
        .args(args)
        .env_remove("PUSHDESK_SERVER")
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test]
async fn notifications_reach_dunst_with_their_icon_and_tags_replace() {
    bounded(async {
        let daemon = NotificationDaemon::start().await.unwrap();
        let data = TempDir::new("listen-notify-hub").unwrap();
        let hub = HubProcess::start(Path::new(BIN), data.path(), &[])
            .await
            .unwrap();
        let url = hub.url();
        let cache = TempDir::new("listen-notify-cache").unwrap();
        let mut listener = listen(&url, &daemon, cache.path());
        listener.until("welcome").await;

        // The hub gives it the seed's icon path, images/icon.png.
        send(&url, &["--title", "Deploy 日本語", "--body", "v1.2"]).await;
        listener.until("send_notification").await;
        daemon.wait_displayed(1, WAIT).await.unwrap();
        let shown = daemon.displayed().await.unwrap();
        assert_eq!(shown.len(), 1);
        assert_eq!(shown[0].summary, "Deploy 日本語");
        assert_eq!(shown[0].body, "v1.2");
        assert_eq!(shown[0].app_name, "Pushdesk");
        assert!(
            shown[0].icon_path.starts_with(
                &cache
                    .path()
                    .join("pushdesk")
                    .join("icons")
                    .display()
                    .to_string()
            ),
            "icon from the cache: {:?}",
            shown[0].icon_path
        );
        assert!(Path::new(&shown[0].icon_path).is_file());

        // Same tag: one on screen, the newer.
        send(&url, &["--title", "build 1", "--tag", "ci"]).await;
        listener.until("send_notification").await;
        send(&url, &["--title", "build 2", "--tag", "ci"]).await;
        listener.until("send_notification").await;
        // Different tags: two more.
        send(&url, &["--title", "a", "--tag", "a"]).await;
        send(&url, &["--title", "b", "--tag", "b"]).await;
        listener.until("send_notification").await;
        listener.until("send_notification").await;
        daemon.wait_displayed(3, WAIT).await.unwrap();
        let mut titles: Vec<String> = daemon
            .displayed()
            .await
            .unwrap()
            .into_iter()
            .map(|n| n.summary)
            .collect();
        titles.sort();
        assert_eq!(titles, ["a", "b", "build 2"]);

        let stderr = listener.stderr.lock().unwrap().join("\n");
        assert!(!stderr.contains("WARN"), "no warnings: {stderr}");
    })
    .await;
}

#[tokio::test]
async fn without_a_daemon_listen_prints_and_warns_once() {
    bounded(async {
        let bus = NotificationDaemon::bus_only().await.unwrap();
        let data = TempDir::new("listen-nodaemon-hub").unwrap();
        let hub = HubProcess::start(Path::new(BIN), data.path(), &[])
            .await
            .unwrap();
        let url = hub.url();
        let cache = TempDir::new("listen-nodaemon-cache").unwrap();
        let mut listener = listen(&url, &bus, cache.path());
        listener.until("welcome").await;
        for title in ["one", "two", "three"] {
            send(&url, &["--title", title]).await;
            let line = listener.until("send_notification").await;
            assert!(line.contains(title), "{line}");
        }
        let stderr = listener.stderr.lock().unwrap().clone();
        let warnings: Vec<_> = stderr.iter().filter(|l| l.contains("WARN")).collect();
        assert_eq!(warnings.len(), 1, "exactly one warning: {stderr:#?}");
        assert!(
            warnings[0].contains("native notifications are off"),
            "{}",
            warnings[0]
        );
        assert!(
            warnings[0].contains("no notification service"),
            "{}",
            warnings[0]
        );
    })
    .await;
}
