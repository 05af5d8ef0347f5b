//! Fault injection: nothing the hub acknowledged is lost, nothing is shown
//! twice. The real `pushdesk serve`, reached only through a
//! [`ChaosProxy`] that cuts, resets, stalls and delays every connection at
//! random; real `pushdesk listen --json` processes as the receivers; a
//! sender publishing with up to 8 requests in flight; and, in the middle of
//! the burst, the hub killed with SIGKILL and restarted (one node), or the
//! Redis under two nodes (an append-only file fsynced on every write) killed
//! and restarted, the listeners spread over both nodes. Per listener it
//! counts what was acked and delivered, lost (acked, never printed: must be
//! 0) and printed twice (must be 0), and prints one JSON report line.
//!
//! `PUSHDESK_FAULTS_N` (notifications, default 150), `PUSHDESK_FAULTS_SECONDS`
//! (how long the sending is spread over, default 20), `PUSHDESK_FAULTS_SEED`
//! (the proxy's seed; by default from the clock, and printed, so a failure
//! can be replayed); `scripts/faults.sh` runs a longer one.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is the failure report

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use pushdesk_e2e::{ChaosProxy, HubProcess, RedisServer, TempDir};
use pushdesk_socketio::{ClientBuilder, ReconnectPolicy, Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::task::JoinSet;

const BIN: &str = env!("CARGO_BIN_EXE_pushdesk");
const LISTENERS: usize = 3;
const IN_FLIGHT: usize = 8;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A `pushdesk listen --json --since 0` process and the notification ids it
/// printed, in order.
struct Listener {
    _child: Child,
    ids: Arc<Mutex<Vec<u64>>>,
}

impl Listener {
    fn spawn(url: &str) -> Self {
        let mut child = Command::new(BIN)
            .args(["listen", "--json", "--no-notify", "--since", "0"])
            .args(["--server", url])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("pushdesk listen starts");
        let ids = Arc::new(Mutex::new(Vec::new()));
        let (out, sink) = (child.stdout.take().expect("stdout"), ids.clone());
        tokio::spawn(async move {
            let mut lines = BufReader::new(out).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                let Ok(v) = serde_json::from_str::<Value>(&line) else {
                    continue;
                };
                if v["event"] == "send_notification"
                    && let Some(id) = v["data"]["id"].as_u64()
                {
                    sink.lock().unwrap().push(id);
                }
            }
        });
        Self { _child: child, ids }
    }

    fn ids(&self) -> Vec<u64> {
        self.ids.lock().unwrap().clone()
    }
}

/// What is killed mid-burst.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kill {
    /// The one hub (SIGKILL), restarted on its port and data.
    Hub,
    /// The Redis under two nodes (SIGKILL), restarted with its data.
    Redis,
}

#[tokio::test]
async fn nothing_acked_is_lost_or_shown_twice_under_faults_and_a_killed_hub() {
    bounded(run(Kill::Hub)).await;
}

/// Two nodes over one Redis, killed and restarted mid-burst: each node
/// delivers from the history (so a node whose Redis connection broke reads
/// on from where it was), and the adapter's pub/sub reconnects.
#[tokio::test]
async fn nothing_acked_is_lost_or_shown_twice_across_two_nodes_and_a_killed_redis() {
    bounded(run(Kill::Redis)).await;
}

async fn bounded(run: impl std::future::Future<Output = ()>) {
    let seconds: f64 = env_or("PUSHDESK_FAULTS_SECONDS", 20.0);
    tokio::time::timeout(Duration::from_secs_f64(seconds + 180.0), run)
        .await
        .expect("the fault run ends in time");
}

async fn run(kill: Kill) {
    let n: usize = env_or("PUSHDESK_FAULTS_N", 150);
    let seconds: f64 = env_or("PUSHDESK_FAULTS_SECONDS", 20.0);
    let seed: u64 = env_or(
        "PUSHDESK_FAULTS_SEED",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64),
    );
    eprintln!("faults: seed {seed} (PUSHDESK_FAULTS_SEED={seed} replays this run)");
    let mut redis = match kill {
        Kill::Hub => None,
        Kill::Redis => Some(RedisServer::start_durable().await.unwrap()),
    };
    let url = redis.as_ref().map(RedisServer::url);
    let mut args = vec!["--notify-rate", "100000", "--notify-burst", "100000"];
    if let Some(url) = &url {
        args.extend(["--redis", url.as_str()]);
    }
    let nodes = if kill == Kill::Redis { 2 } else { 1 };
    let dirs: Vec<TempDir> = (0..nodes)
        .map(|i| TempDir::new(&format!("faults-{i}")).unwrap())
        .collect();
    let mut hubs = Vec::new();
    let mut proxies = Vec::new();
    for (i, dir) in dirs.iter().enumerate() {
        let hub = HubProcess::start(Path::new(BIN), dir.path(), &args)
            .await
            .unwrap();
        let target: SocketAddr = ([127, 0, 0, 1], hub.port()).into();
        proxies.push(
            ChaosProxy::start(
                target,
                seed.wrapping_add(i as u64),
                Duration::from_millis(1500),
            )
            .await
            .unwrap(),
        );
        hubs.push(hub);
    }
    let listeners: Vec<Listener> = (0..LISTENERS)
        .map(|i| Listener::spawn(&proxies[i % nodes].url()))
        .collect();
    let proxy = &proxies[0];

    let (client, socket, mut events) = ClientBuilder::new(proxy.url())
        .reconnect(ReconnectPolicy {
            delay: Duration::from_millis(100),
            delay_max: Duration::from_millis(500),
            ..Default::default()
        })
        .connect()
        .unwrap();
    tokio::spawn(async move { while events.next().await.is_some() {} });

    let started = Instant::now();
    let acked = Arc::new(Mutex::new(Vec::new()));
    let mut unacked = 0usize;
    let mut tasks = JoinSet::new();
    let mut pace = tokio::time::interval(Duration::from_secs_f64(seconds.max(0.1) / n as f64));
    for i in 0..n {
        pace.tick().await;
        if i == n / 2 {
            // Mid-burst, with requests in flight: no goodbye, no flush.
            match (kill, redis.as_mut()) {
                (Kill::Redis, Some(redis)) => redis.restart().await.unwrap(),
                _ => hubs[0].restart().await.unwrap(),
            }
        }
        while tasks.len() >= IN_FLIGHT {
            if let Some(Ok(false)) = tasks.join_next().await {
                unacked += 1;
            }
        }
        let (socket, acked) = (socket.clone(), acked.clone());
        tasks.spawn(async move {
            let request = json!({"title": format!("fault run {i}"), "body": "x"});
            match socket
                .emit_with_ack("send_notification_request", request, Duration::from_secs(3))
                .await
            {
                Ok(reply) => match reply.first() {
                    Some(v) if v["ok"] == true => {
                        let id = v["id"].as_u64().expect("an acked notification has an id");
                        acked.lock().unwrap().push(id);
                        true
                    }
                    _ => false,
                },
                Err(_) => false,
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        if let Ok(false) = done {
            unacked += 1;
        }
    }
    let sending = started.elapsed();
    let acked: BTreeSet<u64> = acked.lock().unwrap().iter().copied().collect();

    // No more faults: every listener must catch up on everything acked.
    for p in &proxies {
        p.calm();
    }
    let deadline = Instant::now() + Duration::from_secs(90);
    while Instant::now() < deadline
        && !listeners
            .iter()
            .all(|l| acked.is_subset(&l.ids().into_iter().collect()))
    {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // A moment more, for any late duplicate.
    tokio::time::sleep(Duration::from_secs(1)).await;
    client.disconnect().await;

    let mut report = Vec::new();
    let (mut lost_total, mut dup_total) = (0, 0);
    for l in &listeners {
        let ids = l.ids();
        let mut counts: HashMap<u64, usize> = HashMap::new();
        for id in &ids {
            *counts.entry(*id).or_default() += 1;
        }
        let seen: BTreeSet<u64> = counts.keys().copied().collect();
        let lost: Vec<u64> = acked.difference(&seen).copied().collect();
        let dups = counts.values().filter(|&&c| c > 1).count();
        lost_total += lost.len();
        dup_total += dups;
        report.push(json!({
            "printed": ids.len(),
            "delivered_acked": acked.intersection(&seen).count(),
            "delivered_unacked": seen.difference(&acked).count(),
            "lost": lost.len(),
            "lost_ids": lost.iter().take(10).collect::<Vec<_>>(),
            "shown_twice": dups,
        }));
    }
    println!(
        "faults: {}",
        json!({
            "seed": seed,
            "sent": n,
            "acked": acked.len(),
            "unacked": unacked,
            "sending_s": sending.as_secs_f64(),
            "killed": format!("{kill:?}"),
            "nodes": nodes,
            "proxies": proxies.iter().map(|p| p.counts().to_json()).collect::<Vec<_>>(),
            "listeners": report,
        })
    );
    assert!(
        !acked.is_empty(),
        "nothing was acked: the run proves nothing"
    );
    assert_eq!(lost_total, 0, "acked notifications were lost (seed {seed})");
    assert_eq!(dup_total, 0, "notifications were shown twice (seed {seed})");
}
