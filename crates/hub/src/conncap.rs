//! The per-address connection cap: how many TCP connections one client
//! address may hold open at once ([`crate::config::Limits::max_connections_per_ip`]).
//!
//! It sits in the accept path ([`CapAcceptor`], an `axum_server` acceptor
//! that also sets `TCP_NODELAY`), so it counts every kind of connection the
//! same way: WebSockets, long-polling, HTTP streams, idle sockets that never
//! send a request. A connection holds its slot until it closes. One over the
//! cap gets `429 Too Many Requests` with a JSON `{error, http}` body naming
//! the cap and is closed (over TLS it is closed without an answer: the
//! refusal happens before the handshake; so is it while 64 refusals are
//! being answered, each of which waits at most 2 s for the request). IPv4 addresses count one by one
//! (IPv4-mapped IPv6 as IPv4); IPv6 addresses count per /64, the block one
//! host usually gets. Loopback counts like any address: a reverse proxy on
//! the same machine shows every client as one address, so raise the cap or
//! turn it off (0) there.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv6Addr};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use axum_server::accept::Accept;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tracing::{debug, warn};

/// How long a refused connection may take to send its request head before
/// the refusal is written anyway.
const REFUSAL_READ_TIMEOUT: Duration = Duration::from_secs(2);

/// The most of a refused connection's request that is read (and dropped).
const REFUSAL_READ_MAX: usize = 8 * 1024;

/// Refusals answered at once; beyond, a refused connection is closed
/// without an answer, so a flood of them cannot hold sockets open.
const REFUSALS_AT_ONCE: usize = 64;

/// What the cap counts by: the address, or its /64 for IPv6.
fn key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(prefix))
        }
        v4 => v4,
    }
}

/// Open connections per address.
#[derive(Debug, Default)]
struct Counts {
    open: HashMap<IpAddr, usize>,
}

/// Accepts connections up to `max` per address (0: no cap), sets
/// `TCP_NODELAY` on each (see the [module documentation](self)).
#[derive(Debug, Clone)]
pub struct CapAcceptor {
    max: usize,
    /// Whether connections are TLS (no plain-text refusal then).
    tls: bool,
    counts: Arc<Mutex<Counts>>,
    /// Refusals being answered now.
    refusing: Arc<AtomicUsize>,
}

impl CapAcceptor {
    /// An acceptor allowing `max` open connections per address (0: any number).
    pub fn new(max: usize, tls: bool) -> Self {
        Self {
            max,
            tls,
            counts: Arc::default(),
            refusing: Arc::default(),
        }
    }

    /// A slot for `ip`, or `None` when it holds `max` already.
    fn take(&self, ip: IpAddr) -> Option<Slot> {
        let key = key(ip);
        if self.max == 0 {
            return Some(Slot { key, counts: None });
        }
        let mut counts = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let open = counts.open.entry(key).or_default();
        if *open >= self.max {
            return None;
        }
        *open += 1;
        if *open == self.max {
            warn!(%ip, max = self.max, "an address reached the connection cap; further connections from it are refused");
        }
        Some(Slot {
            key,
            counts: Some(self.counts.clone()),
        })
    }

    /// How many connections `ip` holds open (for tests and logs).
    pub fn open(&self, ip: IpAddr) -> usize {
        self.counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .open
            .get(&key(ip))
            .copied()
            .unwrap_or(0)
    }
}

/// One open connection's place in the count, given back when dropped.
#[derive(Debug)]
struct Slot {
    key: IpAddr,
    counts: Option<Arc<Mutex<Counts>>>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let Some(counts) = &self.counts else { return };
        let mut counts = counts.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(open) = counts.open.get_mut(&self.key) {
            *open = open.saturating_sub(1);
            if *open == 0 {
                counts.open.remove(&self.key);
            }
        }
    }
}

/// A connection that holds a slot until it is dropped.
#[derive(Debug)]
pub struct Counted {
    inner: TcpStream,
    _slot: Slot,
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

impl<S: Send + 'static> Accept<TcpStream, S> for CapAcceptor {
    type Stream = Counted;
    type Service = S;
    type Future = Pin<Box<dyn Future<Output = io::Result<(Counted, S)>> + Send>>;

    fn accept(&self, stream: TcpStream, service: S) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            stream.set_nodelay(true)?;
            let ip = stream.peer_addr()?.ip();
            match this.take(ip) {
                Some(slot) => Ok((
                    Counted {
                        inner: stream,
                        _slot: slot,
                    },
                    service,
                )),
                None => {
                    debug!(%ip, max = this.max, "connection refused: too many from this address");
                    if !this.tls {
                        let busy = Busy::enter(&this.refusing);
                        if busy.before < REFUSALS_AT_ONCE {
                            refuse(stream, ip, this.max).await;
                        }
                    }
                    Err(io::Error::other("too many connections from this address"))
                }
            }
        })
    }
}

/// One refusal counted in [`CapAcceptor::refusing`] while it lives (also
/// when its future is dropped half-way).
struct Busy<'a> {
    count: &'a AtomicUsize,
    /// How many were being answered before this one.
    before: usize,
}

impl<'a> Busy<'a> {
    fn enter(count: &'a AtomicUsize) -> Self {
        let before = count.fetch_add(1, Ordering::AcqRel);
        Self { count, before }
    }
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.count.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Answers a connection over the cap with 429 and closes it. The request
/// head is read first (bounded in size and time), so closing does not reset
/// the connection before the client has read the answer.
async fn refuse(mut stream: TcpStream, ip: IpAddr, max: usize) {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    let _ = tokio::time::timeout(REFUSAL_READ_TIMEOUT, async {
        while head.len() < REFUSAL_READ_MAX && !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    let body = serde_json::json!({
        "error": format!("too many connections from {ip}: at most {max} at once per address"),
        "http": 429,
    })
    .to_string();
    let response = format!(
        "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_counted_per_address_and_given_back() {
        let cap = CapAcceptor::new(2, false);
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        let one = cap.take(a).unwrap();
        let two = cap.take(a).unwrap();
        assert!(cap.take(a).is_none(), "a third from the same address");
        assert!(cap.take(b).is_some(), "another address has its own count");
        drop(one);
        assert_eq!(cap.open(a), 1);
        let _three = cap.take(a).unwrap();
        drop(two);
        assert_eq!(cap.open(a), 1);
    }

    #[test]
    fn ipv6_counts_per_64_and_mapped_ipv4_as_ipv4() {
        let cap = CapAcceptor::new(1, false);
        let _x = cap.take("2001:db8::1".parse().unwrap()).unwrap();
        assert!(cap.take("2001:db8::ffff:2".parse().unwrap()).is_none());
        assert!(cap.take("2001:db8:0:1::1".parse().unwrap()).is_some());
        let _v4 = cap.take("192.0.2.1".parse().unwrap()).unwrap();
        assert!(cap.take("::ffff:192.0.2.1".parse().unwrap()).is_none());
    }

    #[test]
    fn zero_means_no_cap() {
        let cap = CapAcceptor::new(0, false);
        let ip: IpAddr = [10, 0, 0, 1].into();
        let slots: Vec<_> = (0..1000).map(|_| cap.take(ip).unwrap()).collect();
        assert_eq!(slots.len(), 1000);
    }

    #[test]
    fn refusals_in_progress_are_counted_until_dropped() {
        let count = AtomicUsize::new(0);
        let a = Busy::enter(&count);
        let b = Busy::enter(&count);
        assert_eq!((a.before, b.before), (0, 1));
        drop(a);
        drop(b);
        assert_eq!(count.load(Ordering::Acquire), 0);
    }
}
