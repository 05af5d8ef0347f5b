//! What a hub is told to do: [`HubConfig`] and its [`Limits`].

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::store::Retention;
use crate::text::TextConfig;

/// Input limits, per connection.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest Engine.IO message accepted, in bytes (bigger ones close the connection).
    pub max_payload: u64,
    /// Notifications a connection may send: burst size.
    pub notify_burst: u32,
    /// Notifications a connection may send: sustained rate per second.
    pub notify_per_sec: f64,
    /// Shared-text updates a connection may send: burst size.
    pub text_burst: u32,
    /// Shared-text updates per second, sustained.
    pub text_per_sec: f64,
    /// How many missed notifications one reconnect may replay.
    pub replay_max: usize,
    /// TCP connections one address (an IPv6 /64) may hold open at once,
    /// loopback included; 0: no cap (see [`crate::conncap`]).
    pub max_connections_per_ip: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_payload: 256 * 1024,
            notify_burst: 20,
            notify_per_sec: 5.0,
            text_burst: 60,
            text_per_sec: 30.0,
            replay_max: 1000,
            max_connections_per_ip: 256,
        }
    }
}

/// Everything `pushdesk serve` can be told.
#[derive(Debug, Clone)]
pub struct HubConfig {
    /// Address to listen on.
    pub bind: SocketAddr,
    /// Where the history database lives (single-node mode).
    pub data_dir: PathBuf,
    /// Accepted access tokens, each with every right; with no tokens file
    /// either, no token is required.
    pub tokens: Vec<String>,
    /// The tokens file: hashed tokens with scoped rights (see [`crate::tokens`]).
    pub tokens_file: Option<PathBuf>,
    /// Extra allowed browser origins (`https://app.example`, or `*`).
    pub allow_origins: Vec<String>,
    /// Host names clients may reach the hub by, beside IP addresses and
    /// `localhost` (see [`crate::access::host_allowed`]).
    pub allow_hosts: Vec<String>,
    /// Redis URL for several nodes behind one name.
    pub redis: Option<String>,
    /// Key prefix in Redis.
    pub redis_prefix: String,
    /// PEM certificate and key for HTTPS/WSS.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// History retention.
    pub retention: Retention,
    /// Input limits.
    pub limits: Limits,
    /// How often retention is applied.
    pub prune_every: Duration,
    /// How the shared text is kept (size limit, compaction, cuts).
    pub text: TextConfig,
}

impl HubConfig {
    /// A configuration with defaults for everything but where to listen and store.
    pub fn new(bind: SocketAddr, data_dir: PathBuf) -> Self {
        Self {
            bind,
            data_dir,
            tokens: Vec::new(),
            tokens_file: None,
            allow_origins: Vec::new(),
            allow_hosts: Vec::new(),
            redis: None,
            redis_prefix: "pushdesk:".into(),
            tls: None,
            retention: Retention::default(),
            limits: Limits::default(),
            prune_every: Duration::from_secs(600),
            text: TextConfig::default(),
        }
    }
}
