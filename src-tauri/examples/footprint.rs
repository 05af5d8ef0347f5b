//! Footprint and latency of the real `pushdesk-desktop`, measured the way
//! a user runs it (release build, Xvfb, a private D-Bus with dunst), side
//! by side with a minimal Tauri 2 app (`examples/minimal.rs`) in one run:
//!
//! * memory as PSS of every process of the app (the tray process, and with
//!   the window open the window process and its WebKit processes), with
//!   the window open, closed to the tray, and started hidden; the open
//!   window also like for like, both apps with and both without WebKit's
//!   GPU compositing (pushdesk-desktop turns it off, the minimal app keeps
//!   WebKit's default);
//! * idle wake-ups (context switches) and CPU with the window closed;
//! * cold start to connected (process spawn until the hub counts it);
//! * hub emit → `Notify` call at the D-Bus daemon (dbus-monitor's clock).
//!
//! Run it with `scripts/bench-desktop.sh` (builds what it needs).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, bail};
use pushdesk_e2e::peers::desktop::{
    alive, process_name, process_tree, pss_kib, stop_core, wait_core, wakeups_and_ticks,
    wakeups_between,
};
use pushdesk_e2e::{Desktop, NotificationDaemon, TempDir};
use pushdesk_socketio::{ClientBuilder, Events, SocketEvent, json};
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::Command;

const SETTLE: Duration = Duration::from_secs(5);

/// WebKitGTK's switch for GPU compositing (`0`: on, `1`: off).
const COMPOSITING_OFF: &str = "WEBKIT_DISABLE_COMPOSITING_MODE";

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Waits for a `count_update` of at least `n`.
async fn wait_count(events: &mut Events, n: u64, limit: Duration) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, events.next())
            .await
            .context("count never reached")?
        {
            Some(SocketEvent::Event(e)) if e.name == "count_update" => {
                if e.payload
                    .args
                    .first()
                    .and_then(|v| v["user_count"].as_u64())
                    .is_some_and(|c| c >= n)
                {
                    return Ok(());
                }
            }
            Some(_) => {}
            None => bail!("peer closed"),
        }
    }
}

/// Spawns an app directly (as a user does), with its window open.
/// `compositing_off`: `WEBKIT_DISABLE_COMPOSITING_MODE`, or `None` for the
/// app's own choice (WebKit's default, GPU compositing, for the minimal
/// app; off for pushdesk-desktop).
fn spawn(
    bin: &Path,
    daemon: &NotificationDaemon,
    home: &Path,
    args: &[String],
    compositing_off: Option<&str>,
) -> anyhow::Result<tokio::process::Child> {
    let mut cmd = Command::new(bin);
    match compositing_off {
        Some(value) => cmd.env(COMPOSITING_OFF, value),
        None => cmd.env_remove(COMPOSITING_OFF),
    };
    cmd.args(args)
        .envs(daemon.env())
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CACHE_HOME", home.join("cache"))
        .env("XDG_RUNTIME_DIR", home)
        .env("RUST_LOG", "warn")
        .env_remove("PUSHDESK_SERVER")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("spawning {}", bin.display()))
}

/// `--server HUB --data-dir DIR EXTRA…`.
fn app_args(hub: &str, data_dir: &Path, extra: &[&str]) -> Vec<String> {
    let mut args = vec![
        "--server".to_owned(),
        hub.to_owned(),
        "--data-dir".into(),
        data_dir.display().to_string(),
    ];
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    args
}

/// PSS of `pids` together, and each one's name and PSS.
fn report(pids: &[u32]) -> (u64, String) {
    let names: Vec<String> = pids
        .iter()
        .map(|p| format!("{} {:.1} MiB", process_name(*p), mib(pss_kib(&[*p]))))
        .collect();
    (pss_kib(pids), names.join(", "))
}

fn tree_report(pid: u32) -> (u64, String) {
    report(&process_tree(pid))
}

/// The window's process tree and the tray process's, together (the tray
/// process may be the window's child: each process counts once).
fn app_report(window: u32, core: u32) -> (u64, String) {
    let mut pids = process_tree(window);
    for p in process_tree(core) {
        if !pids.contains(&p) {
            pids.push(p);
        }
    }
    report(&pids)
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// A real screenshot of the window with some state in it (for the README).
async fn screenshot(
    desktop: &Desktop,
    socket: &pushdesk_socketio::Socket,
    path: &Path,
) -> anyhow::Result<()> {
    desktop
        .wait_text(
            "connection-status",
            |t| t == "Connected",
            Duration::from_secs(20),
        )
        .await?;
    socket.emit(
        "text_update_request",
        json!({"text": "Release 2.4 goes out at 16:00.\nリリースは16時です。"}),
    )?;
    for (title, body, tag) in [
        ("Build #1842 passed", "main · 312 tests, 0 failures", "ci"),
        ("Disk almost full", "db-2: 91% of /var used", "disk"),
        ("Deploy finished", "api v2.4.0 is live", "deploy"),
    ] {
        socket.emit(
            "send_notification_request",
            json!({"text": title, "body": body, "tag": tag}),
        )?;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let png = desktop.client.screenshot().await?;
    std::fs::write(path, png).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let samples: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let exe = std::env::current_exe()?;
    let dir = exe.parent().context("exe dir")?;
    let minimal = dir.join("minimal");
    let app: PathBuf = dir
        .parent()
        .context("profile dir")?
        .join("pushdesk-desktop");
    for b in [&app, &minimal] {
        if !b.exists() {
            bail!("{} is missing: run scripts/bench-desktop.sh", b.display());
        }
    }
    let daemon = NotificationDaemon::start().await?;
    let hub_dir = TempDir::new("bench-hub")?;
    let mut config =
        pushdesk_hub::HubConfig::new(([127, 0, 0, 1], 0).into(), hub_dir.path().to_owned());
    // The latency run sends faster than the default per-connection limit.
    config.limits.notify_per_sec = 1000.0;
    config.limits.notify_burst = 1000;
    let hub = pushdesk_hub::start(config).await?;
    let (_peer, socket, mut events) = ClientBuilder::new(hub.url()).connect()?;
    wait_count(&mut events, 1, Duration::from_secs(10)).await?;

    // Cold start to connected (runs 0-4, as shipped), the open window's
    // footprint (run 0), and the same with WebKit's GPU compositing turned
    // back on (run 5), like for like with the minimal app.
    let mut starts = Vec::new();
    let mut open_pss = 0;
    let mut open_names = String::new();
    let mut gpu_pss = 0;
    for run in 0..6 {
        let gpu = run == 5;
        let home = TempDir::new("bench-home")?;
        let data = TempDir::new("bench-data")?;
        let args = app_args(&hub.url(), data.path(), &[]);
        let t0 = Instant::now();
        let mut child = spawn(&app, &daemon, home.path(), &args, gpu.then_some("0"))?;
        wait_count(&mut events, 2, Duration::from_secs(30)).await?;
        if !gpu {
            starts.push(t0.elapsed().as_secs_f64() * 1000.0);
        }
        if run == 0 || gpu {
            tokio::time::sleep(SETTLE).await;
            let pid = child.id().context("pid")?;
            let core = wait_core(data.path(), Duration::from_secs(10)).await?;
            let (pss, names) = app_report(pid, core);
            if gpu {
                gpu_pss = pss;
            } else {
                (open_pss, open_names) = (pss, names);
            }
        }
        child.kill().await?;
        let _ = child.wait().await;
        stop_core(data.path());
        // Wait for the hub to count it gone.
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(SocketEvent::Event(e))) =
                tokio::time::timeout(Duration::from_millis(200), events.next()).await
                && e.name == "count_update"
                && e.payload
                    .args
                    .first()
                    .and_then(|v| v["user_count"].as_u64())
                    == Some(1)
            {
                break;
            }
        }
    }
    starts.sort_by(f64::total_cmp);

    // Started hidden (--hidden, as start-at-login does): the tray process
    // only, no window process ever.
    let (hidden_pss, hidden_names) = {
        let home = TempDir::new("bench-home")?;
        let data = TempDir::new("bench-data")?;
        let args = app_args(&hub.url(), data.path(), &["--hidden"]);
        let mut child = spawn(&app, &daemon, home.path(), &args, None)?;
        wait_count(&mut events, 2, Duration::from_secs(30)).await?;
        let _ = child.wait().await;
        tokio::time::sleep(SETTLE).await;
        let core = wait_core(data.path(), Duration::from_secs(10)).await?;
        let report = tree_report(core);
        stop_core(data.path());
        report
    };

    // The minimal Tauri app, window open, same display: as built (GPU
    // compositing) and with compositing off.
    let minimal_run = async |compositing_off| -> anyhow::Result<(u64, String)> {
        let home = TempDir::new("bench-home")?;
        let mut child = spawn(&minimal, &daemon, home.path(), &[], compositing_off)?;
        tokio::time::sleep(SETTLE + Duration::from_secs(2)).await;
        let report = tree_report(child.id().context("pid")?);
        child.kill().await?;
        Ok(report)
    };
    let (min_pss, min_names) = minimal_run(None).await?;
    let (min_cpu_pss, _) = minimal_run(Some("1")).await?;

    // Closed to the tray: open the app, close its window (Ctrl+W), settle.
    let data = TempDir::new("bench-data")?;
    let desktop = Desktop::launch(&app, &daemon, data.path(), &["--server", &hub.url()]).await?;
    let pid = desktop.pid()?;
    if let Some(path) = std::env::var_os("PUSHDESK_SCREENSHOT") {
        screenshot(&desktop, &socket, Path::new(&path)).await?;
    }
    let area = desktop
        .client
        .find(fantoccini::Locator::Css("[data-testid=shared-text]"))
        .await?;
    let core = desktop.core_pid()?;
    let _ = area.send_keys(&(fantoccini::key::Key::Control + "w")).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while alive(pid) {
        if Instant::now() > deadline {
            bail!("the window process did not go away");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(SETTLE).await;
    let (closed_pss, closed_names) = tree_report(core);
    let idle_secs = 30;
    let tree = process_tree(core);
    let (w0, c0) = wakeups_and_ticks(&tree);
    tokio::time::sleep(Duration::from_secs(idle_secs)).await;
    let (w1, c1) = wakeups_and_ticks(&tree);
    let ticks_per_sec = 100.0; // USER_HZ on Linux
    let wakeups = wakeups_between(&w0, &w1) as f64 / idle_secs as f64;
    let cpu_pct = c1.saturating_sub(c0) as f64 / ticks_per_sec / idle_secs as f64 * 100.0;

    // Emit → Notify, with the window closed (the tray case).
    let mut monitor = Command::new("dbus-monitor")
        .args([
            "--address",
            daemon.bus_address(),
            "type='method_call',interface='org.freedesktop.Notifications',member='Notify'",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .context("dbus-monitor")?;
    let stdout = monitor.stdout.take().context("monitor stdout")?;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(String, f64)>();
    tokio::spawn(async move {
        let mut lines = BufReader::new(stdout).lines();
        let mut call_time: Option<f64> = None;
        let mut strings = 0;
        while let Ok(Some(line)) = lines.next_line().await {
            if line.starts_with("method call time=") {
                call_time = line
                    .split_whitespace()
                    .find_map(|w| w.strip_prefix("time="))
                    .and_then(|t| t.parse().ok());
                strings = 0;
            } else if let Some(t) = call_time
                && let Some(s) = line.trim().strip_prefix("string \"")
            {
                strings += 1;
                // app_name, app_icon, summary: the third string.
                if strings == 3 {
                    let _ = tx.send((s.trim_end_matches('"').to_owned(), t));
                    call_time = None;
                }
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut sent = Vec::with_capacity(samples);
    for i in 0..samples {
        sent.push(unix_now());
        socket.emit(
            "send_notification_request",
            json!({"text": format!("lat {i}"), "tag": "lat"}),
        )?;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut lat = Vec::with_capacity(samples);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while lat.len() < samples {
        let Ok(Some((title, t))) = tokio::time::timeout_at(deadline, rx.recv()).await else {
            break;
        };
        if let Some(i) = title
            .strip_prefix("lat ")
            .and_then(|n| n.parse::<usize>().ok())
            && let Some(s) = sent.get(i)
        {
            lat.push((t - s) * 1000.0);
        }
    }
    lat.sort_by(f64::total_cmp);
    drop(desktop);

    println!("## pushdesk-desktop footprint and latency (release build, Xvfb + dunst, one run)\n");
    println!("| measure | pushdesk-desktop | minimal Tauri 2 app |");
    println!("| --- | --- | --- |");
    println!(
        "| PSS, window open (whole tree), each as shipped | {:.1} MiB | {:.1} MiB |",
        mib(open_pss),
        mib(min_pss)
    );
    println!(
        "| open / minimal | {:.2}× | 1× |",
        open_pss as f64 / min_pss.max(1) as f64
    );
    println!(
        "| PSS, window open, both with GPU compositing (WebKit's default) | {:.1} MiB ({:.2}×) | {:.1} MiB |",
        mib(gpu_pss),
        gpu_pss as f64 / min_pss.max(1) as f64,
        mib(min_pss)
    );
    println!(
        "| PSS, window open, both without (pushdesk-desktop's default) | {:.1} MiB ({:.2}×) | {:.1} MiB |",
        mib(open_pss),
        open_pss as f64 / min_cpu_pss.max(1) as f64,
        mib(min_cpu_pss)
    );
    println!(
        "| PSS, window closed to the tray | {:.1} MiB | – |",
        mib(closed_pss)
    );
    println!(
        "| PSS, started hidden in the tray | {:.1} MiB | – |",
        mib(hidden_pss)
    );
    println!(
        "| closed to the tray / minimal open | {:.2}× | – |",
        closed_pss as f64 / min_pss.max(1) as f64
    );
    println!("| idle wake-ups, window closed | {wakeups:.1}/s | – |");
    println!("| idle CPU, window closed | {cpu_pct:.2} % | – |");
    println!(
        "| cold start to connected (5 runs) | median {:.0} ms, max {:.0} ms | – |",
        percentile(&starts, 0.5),
        percentile(&starts, 1.0)
    );
    println!(
        "| hub emit → Notify at the daemon ({} of {samples}) | p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms | – |",
        lat.len(),
        percentile(&lat, 0.5),
        percentile(&lat, 0.99),
        percentile(&lat, 1.0)
    );
    println!("\nprocesses, window open: {open_names}");
    println!("processes, closed to the tray: {closed_names}");
    println!("processes, started hidden: {hidden_names}");
    println!("processes, minimal app: {min_names}");
    hub.shutdown().await?;
    Ok(())
}
