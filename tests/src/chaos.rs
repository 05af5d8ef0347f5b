//! [`ChaosProxy`]: a loopback TCP proxy that injects faults at random into
//! every connection through it: cuts (a clean close), resets (RST),
//! stalls (nothing forwarded for a while) and delays (every chunk held back),
//! from a seeded generator so a failing run can be replayed.
//!
//! Each connection lives a random while, then meets one fault; a stalled or
//! delayed one goes on and meets another later. [`ChaosProxy::counts`] says
//! what was injected.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

/// How often each fault was injected.
#[derive(Debug, Default)]
pub struct FaultCounts {
    /// Connections accepted.
    pub connections: AtomicU64,
    /// Connections closed cleanly (FIN both ways).
    pub cuts: AtomicU64,
    /// Connections reset (RST both ways).
    pub resets: AtomicU64,
    /// Stalls: nothing forwarded either way for 0.5–3 s.
    pub stalls: AtomicU64,
    /// Delays: each chunk held back 20–200 ms from then on.
    pub delays: AtomicU64,
}

impl FaultCounts {
    /// `{connections, cuts, resets, stalls, delays}` as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        serde_json::json!({
            "connections": get(&self.connections),
            "cuts": get(&self.cuts),
            "resets": get(&self.resets),
            "stalls": get(&self.stalls),
            "delays": get(&self.delays),
        })
    }
}

/// A xorshift64 generator: seeded, so a run can be repeated.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A whole number of milliseconds in `lo..hi`.
    fn millis(&mut self, lo: u64, hi: u64) -> Duration {
        Duration::from_millis(lo + self.next() % (hi - lo).max(1))
    }
}

/// What one connection's pumps obey.
#[derive(Debug, Default)]
struct Conn {
    /// Forwarding is paused.
    stalled: AtomicBool,
    /// Each chunk waits this long first (ms).
    delay_ms: AtomicU64,
}

/// Forwards `127.0.0.1:port()` to a target, injecting faults (see the
/// [module documentation](self)). While [`ChaosProxy::calm`] it forwards
/// faithfully.
pub struct ChaosProxy {
    port: u16,
    counts: Arc<FaultCounts>,
    calm: Arc<AtomicBool>,
    task: JoinHandle<()>,
}

impl ChaosProxy {
    /// Starts a proxy to `target`; `mean_life`: how long a connection lives,
    /// on average, before its next fault.
    pub async fn start(target: SocketAddr, seed: u64, mean_life: Duration) -> anyhow::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let port = listener.local_addr()?.port();
        let counts = Arc::new(FaultCounts::default());
        let calm = Arc::new(AtomicBool::new(false));
        let (c, quiet) = (counts.clone(), calm.clone());
        let task = tokio::spawn(async move {
            let mut rng = Rng(seed | 1);
            while let Ok((client, _)) = listener.accept().await {
                c.connections.fetch_add(1, Ordering::Relaxed);
                let rng = Rng(rng.next() | 1);
                tokio::spawn(serve(
                    client,
                    target,
                    rng,
                    mean_life,
                    c.clone(),
                    quiet.clone(),
                ));
            }
        });
        Ok(Self {
            port,
            counts,
            calm,
            task,
        })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// What was injected so far.
    pub fn counts(&self) -> &FaultCounts {
        &self.counts
    }

    /// No more faults from now on (stalls and delays under way end).
    pub fn calm(&self) {
        self.calm.store(true, Ordering::SeqCst);
    }
}

impl Drop for ChaosProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn pump(mut from: OwnedReadHalf, to: Arc<Mutex<OwnedWriteHalf>>, conn: Arc<Conn>) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        while conn.stalled.load(Ordering::Relaxed) {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let delay = conn.delay_ms.load(Ordering::Relaxed);
        if delay > 0 {
            tokio::time::sleep(Duration::from_millis(delay)).await;
        }
        if to.lock().await.write_all(&buf[..n]).await.is_err() {
            break;
        }
    }
    let _ = to.lock().await.shutdown().await;
}

async fn serve(
    client: TcpStream,
    target: SocketAddr,
    mut rng: Rng,
    mean_life: Duration,
    counts: Arc<FaultCounts>,
    calm: Arc<AtomicBool>,
) {
    let Ok(server) = TcpStream::connect(target).await else {
        return;
    };
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let conn = Arc::new(Conn::default());
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    let client_write = Arc::new(Mutex::new(client_write));
    let server_write = Arc::new(Mutex::new(server_write));
    let up = tokio::spawn(pump(client_read, server_write.clone(), conn.clone()));
    let down = tokio::spawn(pump(server_read, client_write.clone(), conn.clone()));
    let life = u64::try_from(mean_life.as_millis()).unwrap_or(1000).max(2);
    loop {
        tokio::select! {
            () = tokio::time::sleep(rng.millis(life / 2, life * 3 / 2)) => {}
            () = async { while !up.is_finished() && !down.is_finished() { tokio::time::sleep(Duration::from_millis(50)).await; } } => break,
        }
        if calm.load(Ordering::SeqCst) {
            conn.stalled.store(false, Ordering::Relaxed);
            conn.delay_ms.store(0, Ordering::Relaxed);
            continue;
        }
        match rng.next() % 10 {
            0..=3 => {
                counts.cuts.fetch_add(1, Ordering::Relaxed);
                break;
            }
            4 | 5 => {
                counts.resets.fetch_add(1, Ordering::Relaxed);
                up.abort();
                down.abort();
                // Linger 0: closing sends RST instead of FIN.
                for half in [&client_write, &server_write] {
                    let _ = half.lock().await.as_ref().set_zero_linger();
                }
                return;
            }
            6 | 7 => {
                counts.stalls.fetch_add(1, Ordering::Relaxed);
                conn.stalled.store(true, Ordering::Relaxed);
                tokio::time::sleep(rng.millis(500, 3000)).await;
                conn.stalled.store(false, Ordering::Relaxed);
            }
            _ => {
                counts.delays.fetch_add(1, Ordering::Relaxed);
                conn.delay_ms
                    .store(20 + rng.next() % 180, Ordering::Relaxed);
            }
        }
    }
    up.abort();
    down.abort();
    for half in [&client_write, &server_write] {
        let _ = half.lock().await.shutdown().await;
    }
}
