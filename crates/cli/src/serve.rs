//! `pushdesk serve`: runs the hub.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use pushdesk_hub::{HubConfig, Retention};
use tracing::info;

/// Flags of `pushdesk serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Address to listen on. Use 0.0.0.0:5000 to serve the LAN (and set --token).
    #[arg(long, env = "PUSHDESK_BIND", default_value = "127.0.0.1:5000")]
    bind: SocketAddr,
    /// Directory for the notification history (SQLite). Default: the OS data
    /// directory, e.g. ~/.local/share/pushdesk.
    #[arg(long, env = "PUSHDESK_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Require this access token (clients send {"token": …} in the Socket.IO
    /// auth payload). Repeat for several; none means no token is required.
    #[arg(
        long = "token",
        env = "PUSHDESK_TOKENS",
        value_delimiter = ',',
        hide_env_values = true
    )]
    tokens: Vec<String>,
    /// Tokens with scoped rights (read/write per channel pattern, the shared
    /// text), stored as hashes: see `pushdesk token add`. Re-read when it
    /// changes. With it, every client needs a token.
    #[arg(long, env = "PUSHDESK_TOKENS_FILE", value_name = "FILE")]
    tokens_file: Option<PathBuf>,
    /// Also allow browser pages from this origin (e.g. https://app.example).
    /// The hub's own origin and loopback origins are always allowed; `*` allows
    /// any page (not advised). Repeat for several.
    #[arg(long = "allow-origin", value_name = "ORIGIN")]
    allow_origins: Vec<String>,
    /// A host name clients reach the hub by (e.g. hub.example). Requests
    /// for other names are refused (421), so a web page cannot reach the hub
    /// by re-pointing its own name at it (DNS rebinding). IP addresses and
    /// localhost always work; bound beyond loopback with none listed, any
    /// name is accepted. Repeat for several.
    #[arg(long = "allow-host", value_name = "NAME")]
    allow_hosts: Vec<String>,
    /// Run as one of several nodes sharing this Redis (count, text, history
    /// and broadcasts), e.g. redis://127.0.0.1:6379. Needs Redis 7+.
    #[arg(long, env = "PUSHDESK_REDIS", value_name = "URL")]
    redis: Option<String>,
    /// PEM certificate for HTTPS/WSS (with --tls-key).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// PEM private key for HTTPS/WSS (with --tls-cert).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Keep at most this many notifications in the history.
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    history_max: u64,
    /// Drop notifications older than this many days from the history.
    #[arg(long, default_value_t = 30, value_name = "DAYS")]
    history_days: u64,
    /// Notifications one connection may send per second, sustained; beyond
    /// it requests are refused with an error ack.
    #[arg(long, default_value_t = 5.0, value_name = "PER_SEC")]
    notify_rate: f64,
    /// Notifications one connection may send at once before the rate applies.
    #[arg(long, default_value_t = 20, value_name = "N")]
    notify_burst: u32,
    /// TCP connections one client address may hold open at once (IPv6: per
    /// /64), loopback included; more are answered 429 and closed. Behind a
    /// reverse proxy on the same machine every client is one address: raise
    /// it or set 0 (no cap).
    #[arg(long, default_value_t = 256, value_name = "N")]
    max_connections_per_ip: usize,
    /// Fold the shared text's stored log into a snapshot after this many
    /// entries.
    #[arg(long, default_value_t = 500, value_name = "N", hide = true)]
    text_compact_every: usize,
    /// Never cut the shared text's document into a new epoch below this
    /// size (bytes, compacted).
    #[arg(long, default_value_t = 64 * 1024, value_name = "BYTES", hide = true)]
    text_cut_min_bytes: usize,
    /// Above that size, cut it once it is this many times its text.
    #[arg(long, default_value_t = 4, value_name = "N", hide = true)]
    text_cut_ratio: usize,
}

/// The default data directory.
fn default_data_dir() -> anyhow::Result<PathBuf> {
    let base = dirs::data_dir().context("no data directory on this system: pass --data-dir")?;
    Ok(base.join("pushdesk"))
}

/// Serves until Ctrl-C or SIGTERM.
pub async fn run(args: Args) -> anyhow::Result<()> {
    let data_dir = match args.data_dir {
        Some(d) => d,
        None => default_data_dir()?,
    };
    let mut config = HubConfig::new(args.bind, data_dir);
    config.tokens = args.tokens.into_iter().filter(|t| !t.is_empty()).collect();
    config.tokens_file = args.tokens_file;
    config.allow_origins = args.allow_origins;
    config.allow_hosts = args.allow_hosts;
    config.redis = args.redis;
    config.tls = args.tls_cert.zip(args.tls_key);
    config.limits.notify_per_sec = args.notify_rate.max(0.0);
    config.limits.notify_burst = args.notify_burst.max(1);
    config.limits.max_connections_per_ip = args.max_connections_per_ip;
    config.text.compact_every = args.text_compact_every.max(1);
    config.text.cut.min_bytes = args.text_cut_min_bytes;
    config.text.cut.ratio = args.text_cut_ratio.max(1);
    config.retention = Retention {
        max_count: args.history_max.max(1),
        max_age: Duration::from_secs(args.history_days.max(1) * 86_400),
    };
    survive_file_size_limit();
    let hub = pushdesk_hub::start(config).await?;
    let url = hub.url();
    info!("serving the hub on {url}");
    eprintln!(
        "Pushdesk hub on {url}: open it in a browser; send with `pushdesk send --server {url} --title Hello`"
    );
    hub.wait(shutdown_signal()).await?;
    Ok(())
}

/// Turns SIGXFSZ (a write past the file size limit: `ulimit -f`, systemd's
/// `LimitFSIZE=`) from death into an error: the write fails with EFBIG, the
/// store reports it, the sender gets an error ack and live delivery goes on,
/// as for a full disk.
fn survive_file_size_limit() {
    // 25 on Linux (x86, Arm) and macOS, the targets Pushdesk ships for.
    #[cfg(any(target_os = "linux", target_os = "macos"))]
    {
        use tokio::signal::unix::{SignalKind, signal};
        const SIGXFSZ: i32 = 25;
        match signal(SignalKind::from_raw(SIGXFSZ)) {
            Ok(mut xfsz) => {
                tokio::spawn(async move {
                    while xfsz.recv().await.is_some() {
                        tracing::warn!(
                            "a write went past the file size limit (SIGXFSZ); it failed"
                        );
                    }
                });
            }
            Err(e) => tracing::warn!(error = %e, "could not handle SIGXFSZ"),
        }
    }
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
