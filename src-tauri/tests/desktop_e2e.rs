//! End to end on the real `pushdesk-desktop` binary (the window) and the
//! `pushdesk-tray` process it starts, headless: Xvfb, a private D-Bus with a
//! real dunst, `tauri-driver` + `WebKitWebDriver` driving the webview, and a
//! real hub (`pushdesk_hub::start` in this test process, or the seed's
//! Flask-SocketIO app) over real sockets.

use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use fantoccini::Locator;
use pushdesk_e2e::peers::desktop::{
    alive, click_tray, process_name, process_tree, thread_names, web_processes,
};
use pushdesk_e2e::{
    Desktop, FlaskSeed, HubProcess, NotificationDaemon, SioxServer, TcpProxy, TempDir,
};
use pushdesk_hub::{HubConfig, RunningHub};
use pushdesk_socketio::{Client, ClientBuilder, Events, Socket, SocketEvent, Value, json};

/// Every test's own time bound.
const TEST_LIMIT: Duration = Duration::from_secs(120);
const WAIT: Duration = Duration::from_secs(20);

async fn bounded<F: std::future::Future<Output = anyhow::Result<()>>>(f: F) -> anyhow::Result<()> {
    tokio::time::timeout(TEST_LIMIT, f)
        .await
        .context("test timed out")?
}

async fn hub(data_dir: &std::path::Path, port: u16) -> anyhow::Result<RunningHub> {
    let config = HubConfig::new(
        std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        data_dir.to_owned(),
    );
    Ok(pushdesk_hub::start(config).await?)
}

/// The app under test.
fn desktop_bin() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_BIN_EXE_pushdesk-desktop"))
}

/// The `pushdesk` CLI from the same build (`cargo build --workspace` builds it).
fn pushdesk_bin() -> anyhow::Result<std::path::PathBuf> {
    let bin = desktop_bin().with_file_name("pushdesk");
    if !bin.exists() {
        bail!(
            "{} is missing: build the workspace (cargo build --workspace)",
            bin.display()
        );
    }
    Ok(bin)
}

/// A second client on the hub, as another user.
async fn peer(url: &str) -> anyhow::Result<(Client, Socket, Events)> {
    let (client, socket, mut events) = ClientBuilder::new(url).connect()?;
    let deadline = Instant::now() + WAIT;
    loop {
        let ev = tokio::time::timeout_at(deadline.into(), events.next())
            .await
            .context("peer connect")?;
        match ev {
            Some(SocketEvent::Connected { .. }) => return Ok((client, socket, events)),
            Some(_) => {}
            None => bail!("peer closed"),
        }
    }
}

/// Waits for `event` on a peer and returns its first argument.
async fn next_event(events: &mut Events, name: &str) -> anyhow::Result<Value> {
    let deadline = Instant::now() + WAIT;
    loop {
        let ev = tokio::time::timeout_at(deadline.into(), events.next())
            .await
            .with_context(|| format!("no {name}"))?;
        match ev {
            Some(SocketEvent::Event(e)) if e.name == name => {
                return Ok(e.payload.args.into_iter().next().unwrap_or(Value::Null));
            }
            Some(_) => {}
            None => bail!("peer closed waiting for {name}"),
        }
    }
}

async fn notify(socket: &Socket, req: Value) -> anyhow::Result<()> {
    socket
        .emit_with_ack("send_notification_request", req, WAIT)
        .await
        .context("send_notification_request ack")?;
    Ok(())
}

/// `remote` set by a peer shows in the app's text area; `local` typed
/// there reaches the peer.
async fn text_both_ways(
    app: &Desktop,
    peer: &Socket,
    peer_events: &mut Events,
    remote: &str,
    local: &str,
) -> anyhow::Result<()> {
    peer.emit("text_update_request", json!({ "text": remote }))?;
    let deadline = Instant::now() + WAIT;
    loop {
        let shown = app.value("shared-text").await?;
        if shown == remote {
            break;
        }
        if Instant::now() > deadline {
            bail!("the peer's text never reached the app: {shown:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let area = app
        .client
        .find(Locator::Css("[data-testid=shared-text]"))
        .await?;
    area.clear().await?;
    area.send_keys(local).await?;
    loop {
        match next_event(peer_events, "text_update").await {
            Ok(v) if v["text"] == local => return Ok(()),
            Ok(_) => {}
            Err(e) => {
                let shown = app.value("shared-text").await?;
                bail!("{e:#}; the app shows {shown:?}");
            }
        }
    }
}

async fn wait_connected(app: &Desktop) -> anyhow::Result<()> {
    app.wait_text("connection-status", |t| t == "Connected", WAIT)
        .await
        .map(drop)
}

async fn history_titles(app: &Desktop) -> anyhow::Result<Vec<String>> {
    let v = app
        .js(
            "return [...document.querySelectorAll('[data-testid=history-item] .title')].map(e => e.textContent)",
            vec![],
        )
        .await?;
    Ok(v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|t| t.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default())
}

#[tokio::test]
async fn count_text_and_a_notification_with_our_hub() -> anyhow::Result<()> {
    bounded(async {
        let dunst = NotificationDaemon::start().await?;
        let hub_dir = TempDir::new("e2e-hub")?;
        let hub = hub(hub_dir.path(), 0).await?;
        let app_dir = TempDir::new("e2e-app")?;
        let app = Desktop::launch(
            &desktop_bin(),
            &dunst,
            app_dir.path(),
            &["--server", &hub.url()],
        )
        .await?;
        wait_connected(&app).await?;
        app.wait_text("user-count", |t| t == "1", WAIT).await?;

        // The page is drawn on the CPU: WebKit runs no compositor and no
        // GPU rasteriser thread in the web process (with compositing on it
        // has ThreadedCompositor, SkiaGPUWorker and, here, llvmpipe-N).
        let web = web_processes(app.pid()?);
        assert!(!web.is_empty(), "no web process under the window");
        for w in web {
            let threads = thread_names(w);
            assert!(
                !threads.iter().any(|t| t.contains("Compositor")
                    || t.contains("GPU")
                    || t.starts_with("llvmpipe")),
                "the web process composites on the GPU: {threads:?}"
            );
        }

        // The count follows other clients.
        let (other, socket, mut events) = peer(&hub.url()).await?;
        app.wait_text("user-count", |t| t == "2", WAIT).await?;

        // Shared text both ways, CJK included.
        text_both_ways(
            &app,
            &socket,
            &mut events,
            "こんにちは、世界 你好 안녕",
            "デスクトップから",
        )
        .await?;

        // A broadcast reaches dunst with title, body and the hub's icon.
        notify(
            &socket,
            json!({"text": "Build finished", "body": "all green ✓", "icon": "images/icon.png"}),
        )
        .await?;
        dunst.wait_displayed(1, WAIT).await?;
        app.wait_text("history", |t| t.contains("Build finished"), WAIT)
            .await?;
        let shown = dunst.displayed().await?;
        assert_eq!(shown.len(), 1, "{shown:?}");
        assert_eq!(shown[0].summary, "Build finished");
        assert_eq!(shown[0].body, "all green ✓");
        assert!(
            shown[0].icon_path.ends_with(".png"),
            "icon: {:?}",
            shown[0].icon_path
        );
        assert_eq!(shown[0].default_action, "default");

        // The count goes down when the other user leaves.
        other.disconnect().await;
        app.wait_text("user-count", |t| t == "1", WAIT).await?;
        app.quit().await?;
        hub.shutdown().await?;
        Ok(())
    })
    .await
}

/// `curl -d MESSAGE -H "Title: TITLE" URL/CHANNEL`, as a script would
/// publish (ntfy style); fails unless the hub answers 200.
async fn http_publish(url: &str, channel: &str, title: &str) -> anyhow::Result<()> {
    let out = tokio::process::Command::new("curl")
        .args([
            "-s",
            "-S",
            "--max-time",
            "10",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
        ])
        .args([
            "-H",
            &format!("Title: {title}"),
            "-d",
            "published over HTTP",
        ])
        .arg(format!("{url}/{channel}"))
        .output()
        .await
        .context("running curl")?;
    let code = String::from_utf8_lossy(&out.stdout).into_owned();
    if code != "200" {
        bail!(
            "publishing to {channel}: HTTP {code} {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

#[tokio::test]
async fn http_publishes_to_followed_channels_reach_dunst_and_others_do_not() -> anyhow::Result<()> {
    bounded(async {
        let dunst = NotificationDaemon::start().await?;
        let hub_dir = TempDir::new("e2e-hub")?;
        let hub = hub(hub_dir.path(), 0).await?;
        let app_dir = TempDir::new("e2e-app")?;
        // The Settings panel saves this file; the app follows `ops` only.
        std::fs::write(
            app_dir.path().join("settings.json"),
            r#"{"channels": ["ops"]}"#,
        )?;
        let app = Desktop::launch(
            &desktop_bin(),
            &dunst,
            app_dir.path(),
            &["--server", &hub.url()],
        )
        .await?;
        wait_connected(&app).await?;
        assert_eq!(app.value("settings-channels").await?, "ops");

        http_publish(&hub.url(), "ops", "Disk almost full").await?;
        dunst.wait_displayed(1, WAIT).await?;
        // Neither of these is for the app; the next `ops` one is, and comes
        // after them on the same connection, so once it is shown they would
        // have been too.
        http_publish(&hub.url(), "ci", "Build 7 passed").await?;
        http_publish(&hub.url(), "default", "Lunch is ready").await?;
        http_publish(&hub.url(), "ops", "Disk freed").await?;
        dunst.wait_displayed(2, WAIT).await?;
        app.wait_text("history", |t| t.contains("Disk freed"), WAIT)
            .await?;
        let shown: Vec<String> = dunst
            .history()
            .await?
            .into_iter()
            .chain(dunst.displayed().await?)
            .map(|n| n.summary)
            .collect();
        assert!(
            shown.iter().any(|s| s == "Disk almost full")
                && shown.iter().any(|s| s == "Disk freed"),
            "{shown:?}"
        );
        assert!(
            !shown
                .iter()
                .any(|s| s == "Build 7 passed" || s == "Lunch is ready"),
            "an unfollowed channel reached dunst: {shown:?}"
        );
        assert_eq!(history_titles(&app).await?.len(), 2);
        let history = app.text("history").await?;
        assert!(
            history.contains("ops"),
            "each entry shows its channel: {history}"
        );
        app.quit().await?;
        hub.shutdown().await?;
        Ok(())
    })
    .await
}

#[tokio::test]
async fn a_button_press_goes_back_to_the_hub() -> anyhow::Result<()> {
    bounded(async {
        let dunst = NotificationDaemon::start().await?;
        // A hub that keeps the reports it gets.
        let server = SioxServer::start().await?;
        let app_dir = TempDir::new("e2e-app")?;
        let app = Desktop::launch(
            &desktop_bin(),
            &dunst,
            app_dir.path(),
            &["--server", &server.url()],
        )
        .await?;
        wait_connected(&app).await?;
        server
            .io()
            .emit(
                "send_notification",
                &json!({"id": 7, "title": "Deploy v2?", "body": "to production",
                        "actions": [{"id": "approve", "title": "Approve"},
                                    {"id": "reject", "title": "Reject"}]}),
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        dunst.wait_displayed(1, WAIT).await?;
        dunst.press_button("approve").await?;
        let deadline = Instant::now() + WAIT;
        loop {
            let reports = server.reports();
            if reports.iter().any(|(name, data)| {
                name == "notification_clicked" && *data == json!({"id": 7, "action": "approve"})
            }) {
                break;
            }
            if Instant::now() > deadline {
                bail!("the hub got no click on the Approve button: {reports:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        app.quit().await?;
        server.shutdown().await?;
        Ok(())
    })
    .await
}

#[tokio::test]
async fn tags_replace_and_a_click_opens_the_item() -> anyhow::Result<()> {
    bounded(async {
        let dunst = NotificationDaemon::start().await?;
        let hub_dir = TempDir::new("e2e-hub")?;
        let hub = hub(hub_dir.path(), 0).await?;
        let app_dir = TempDir::new("e2e-app")?;
        let app = Desktop::launch(&desktop_bin(), &dunst, app_dir.path(), &["--server", &hub.url()]).await?;
        wait_connected(&app).await?;
        let (_other, socket, _events) = peer(&hub.url()).await?;

        // Same non-empty tag: one on screen, the newer.
        notify(&socket, json!({"text": "deploy 1/2", "tag": "deploy"})).await?;
        dunst.wait_displayed(1, WAIT).await?;
        notify(&socket, json!({"text": "deploy 2/2", "tag": "deploy"})).await?;
        app.wait_text("history", |t| t.contains("deploy 2/2"), WAIT).await?;
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(dunst.displayed_count().await?, 1);

        // Different tags and empty tags never replace.
        notify(&socket, json!({"text": "other tag", "tag": "other"})).await?;
        notify(&socket, json!({"text": "no tag A", "tag": ""})).await?;
        notify(&socket, json!({"text": "no tag B"})).await?;
        dunst.wait_displayed(4, WAIT).await?;

        // A click on the oldest (dunst's top: the replaced "deploy") opens the window on it.
        dunst.invoke_action(0).await?;
        let deadline = Instant::now() + WAIT;
        loop {
            let focused = app
                .js("const e = document.querySelector('[data-testid=history-item][data-focused=true] .title'); return e && e.textContent", vec![])
                .await?;
            if focused.as_str() == Some("deploy 2/2") {
                break;
            }
            if Instant::now() > deadline {
                bail!("the clicked notification was not focused: {focused:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }

        let shown = dunst.displayed().await?;
        let mut titles: Vec<_> = shown.iter().map(|n| n.summary.as_str()).collect();
        titles.sort_unstable();
        assert_eq!(titles, ["no tag A", "no tag B", "other tag"], "clicked one closed, rest on screen");
        app.quit().await?;
        hub.shutdown().await?;
        Ok(())
    })
    .await
}

#[tokio::test]
async fn closed_window_keeps_notifying_and_missed_ones_arrive_once_after_a_hub_restart()
-> anyhow::Result<()> {
    bounded(async {
        let dunst = NotificationDaemon::start().await?;
        let hub_dir = TempDir::new("e2e-hub")?;
        // The real `pushdesk serve`, so that a restart really drops every connection.
        let mut running = HubProcess::start(&pushdesk_bin()?, hub_dir.path(), &[]).await?;
        let url = running.url();
        let app_dir = TempDir::new("e2e-app")?;
        let app =
            Desktop::launch(&desktop_bin(), &dunst, app_dir.path(), &["--server", &url]).await?;
        wait_connected(&app).await?;
        let pid = app.pid()?;
        let (_other, socket, _events) = peer(&url).await?;
        notify(&socket, json!({"text": "before"})).await?;
        dunst.wait_displayed(1, WAIT).await?;

        // Close the window (Ctrl+W, as a user would): the window process
        // and its WebKit processes end, the tray process stays and holds
        // no GUI toolkit.
        let core = app.core_pid()?;
        let area = app
            .client
            .find(Locator::Css("[data-testid=shared-text]"))
            .await?;
        // The session may fail this call: its window is gone.
        let _ = area.send_keys(&(fantoccini::key::Key::Control + "w")).await;
        let deadline = Instant::now() + WAIT;
        while alive(pid) {
            if Instant::now() > deadline {
                bail!("the window process kept running with its window closed");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        assert!(alive(core), "the tray process quit when the window closed");
        assert_eq!(
            process_tree(core),
            [core],
            "nothing runs under the tray process"
        );
        let maps = std::fs::read_to_string(format!("/proc/{core}/maps"))?;
        assert!(
            !maps.contains("libgtk") && !maps.contains("libwebkit"),
            "the tray process maps GTK or WebKit"
        );
        notify(&socket, json!({"text": "while closed"})).await?;
        dunst.wait_displayed(2, WAIT).await?;

        // A left click on the tray icon opens the window again: a new
        // window process under the tray process, with its webview.
        click_tray(&dunst, core).await?;
        let deadline = Instant::now() + WAIT;
        let window = loop {
            let windows: Vec<u32> = process_tree(core)
                .into_iter()
                .filter(|p| process_name(*p) == "pushdesk-deskto")
                .collect();
            if let Some(&w) = windows.first()
                && !web_processes(w).is_empty()
            {
                break w;
            }
            if Instant::now() > deadline {
                bail!("the tray click opened no window");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };

        // A second launch hands over to the open window (single instance):
        // it exits, and that window stays.
        let status = tokio::time::timeout(
            WAIT,
            tokio::process::Command::new(desktop_bin())
                .args(["--data-dir", &app_dir.path().display().to_string()])
                .envs(dunst.env())
                .env("RUST_LOG", "warn")
                .kill_on_drop(true)
                .status(),
        )
        .await
        .context("the second instance kept running")??;
        assert!(status.success(), "second instance: {status}");
        assert!(alive(window), "the open window closed on a second launch");

        // The hub goes down and comes back; what was sent before the app
        // reconnected is replayed to it exactly once.
        running.kill().await?;
        running.restart().await?;
        let (_other2, socket2, _events2) = peer(&url).await?;
        notify(&socket2, json!({"text": "missed 1"})).await?;
        notify(&socket2, json!({"text": "missed 2"})).await?;
        dunst.wait_displayed(4, Duration::from_secs(40)).await?;
        tokio::time::sleep(Duration::from_secs(1)).await;
        let shown = dunst.displayed().await?;
        let mut titles: Vec<_> = shown.iter().map(|n| n.summary.clone()).collect();
        titles.sort_unstable();
        assert_eq!(titles, ["before", "missed 1", "missed 2", "while closed"]);
        assert!(alive(core));
        drop(app);
        Ok(())
    })
    .await
}

/// Waits until the app's text area shows what `pred` accepts; that text.
async fn wait_value(app: &Desktop, pred: impl Fn(&str) -> bool) -> anyhow::Result<String> {
    let deadline = Instant::now() + Duration::from_secs(40);
    loop {
        let shown = app.value("shared-text").await?;
        if pred(&shown) {
            return Ok(shown);
        }
        if Instant::now() > deadline {
            bail!("the app's text stayed {shown:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The next `text_update` on a peer that `pred` accepts.
async fn wait_peer_text(
    events: &mut Events,
    pred: impl Fn(&str) -> bool,
) -> anyhow::Result<String> {
    loop {
        let v = next_event(events, "text_update").await?;
        let text = v["text"].as_str().unwrap_or_default().to_owned();
        if pred(&text) {
            return Ok(text);
        }
    }
}

#[tokio::test]
async fn text_typed_in_the_app_while_the_hub_is_away_merges_with_text_typed_elsewhere()
-> anyhow::Result<()> {
    bounded(async {
        let dunst = NotificationDaemon::start().await?;
        let hub_dir = TempDir::new("e2e-hub")?;
        let mut running = HubProcess::start(&pushdesk_bin()?, hub_dir.path(), &[]).await?;
        // The app reaches the hub through a proxy that the test can cut;
        // the other client connects directly.
        let proxy = TcpProxy::start(([127, 0, 0, 1], running.port()).into()).await?;
        let app_dir = TempDir::new("e2e-app")?;
        let app = Desktop::launch(
            &desktop_bin(),
            &dunst,
            app_dir.path(),
            &["--server", &proxy.url()],
        )
        .await?;
        wait_connected(&app).await?;
        let (_other, socket, mut events) = peer(&running.url()).await?;
        socket.emit("text_update_request", json!({ "text": "one two" }))?;
        wait_value(&app, |t| t == "one two").await?;

        // The hub is out of reach for the app: its user types at the end,
        // while someone else, still connected, types at the start.
        proxy.close();
        app.wait_text("connection-status", |t| t != "Connected", WAIT)
            .await?;
        let area = app
            .client
            .find(Locator::Css("[data-testid=shared-text]"))
            .await?;
        area.click().await?;
        app.js(
            "const ta = document.querySelector('[data-testid=shared-text]'); ta.setSelectionRange(ta.value.length, ta.value.length); return null",
            vec![],
        )
        .await?;
        area.send_keys(" three").await?;
        wait_value(&app, |t| t == "one two three").await?;
        let ack = socket
            .emit_with_ack("text_update_request", json!({ "text": "zero one two" }), WAIT)
            .await?;
        assert_eq!(ack.first(), Some(&json!({"ok": true})));

        // Back in reach: both edits, on both sides.
        proxy.open();
        let want = "zero one two three";
        wait_value(&app, |t| t == want).await?;
        wait_peer_text(&mut events, |t| t == want).await?;

        // The hub restarts with its stored document; the app edits while
        // it is down, and the merge still holds after.
        running.kill().await?;
        app.wait_text("connection-status", |t| t != "Connected", WAIT)
            .await?;
        app.js(
            "const ta = document.querySelector('[data-testid=shared-text]'); ta.setSelectionRange(ta.value.length, ta.value.length); return null",
            vec![],
        )
        .await?;
        area.send_keys(" four").await?;
        running.restart().await?;
        let want = "zero one two three four";
        wait_value(&app, |t| t == want).await?;
        let (_again, _socket2, mut events2) = peer(&running.url()).await?;
        wait_peer_text(&mut events2, |t| t == want).await?;
        app.quit().await?;
        Ok(())
    })
    .await
}

#[tokio::test]
async fn the_seed_flask_app_works_for_count_text_and_notifications() -> anyhow::Result<()> {
    bounded(async {
        let dunst = NotificationDaemon::start().await?;
        let seed = FlaskSeed::start().await?;
        let app_dir = TempDir::new("e2e-app")?;
        let app = Desktop::launch(
            &desktop_bin(),
            &dunst,
            app_dir.path(),
            &["--server", &seed.url()],
        )
        .await?;
        wait_connected(&app).await?;
        app.wait_text("user-count", |t| t == "1", WAIT).await?;
        let (_other, socket, mut events) = peer(&seed.url()).await?;
        app.wait_text("user-count", |t| t == "2", WAIT).await?;

        text_both_ways(&app, &socket, &mut events, "seed text 種", "from desktop").await?;

        // The seed's request shape; the seed never acks, so just emit.
        socket.emit(
            "send_notification_request",
            json!({"text": "seed says hi", "num": 1}),
        )?;
        dunst.wait_displayed(1, WAIT).await?;
        app.wait_text("history", |t| t.contains("seed says hi"), WAIT)
            .await?;
        let shown = dunst.displayed().await?;
        assert_eq!(shown[0].summary, "seed says hi");
        assert_eq!(shown[0].body, "this is push notification.");
        assert_eq!(history_titles(&app).await?, ["seed says hi"]);
        app.quit().await?;
        Ok(())
    })
    .await
}
