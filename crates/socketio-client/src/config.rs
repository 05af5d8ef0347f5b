//! Client configuration: [`ClientBuilder`] collects it, [`Config`] is the
//! validated result the transports and the driver read.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use url::Url;

use crate::backoff::ReconnectPolicy;
use crate::error::Error;
use crate::tls::{self, TlsOptions};

/// Which transports to use, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TransportMode {
    /// WebSocket first; when it cannot be opened, HTTP long-polling.
    #[default]
    Auto,
    /// WebSocket only.
    WebSocket,
    /// HTTP long-polling only (for networks that block WebSocket).
    Polling,
    /// Long-polling first, then upgrade to WebSocket when the server offers
    /// it (socket.io-client's default).
    PollingThenUpgrade,
}

/// Produces the `auth` payload; called again on every (re)connection.
pub type AuthFn = Arc<dyn Fn() -> Value + Send + Sync>;

/// The validated configuration of a client.
#[derive(Clone)]
pub struct Config {
    pub(crate) base: Url,
    pub(crate) namespace: String,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) transport: TransportMode,
    pub(crate) reconnect: ReconnectPolicy,
    pub(crate) auth: Option<AuthFn>,
    pub(crate) tls: Arc<rustls::ClientConfig>,
    pub(crate) connect_timeout: Duration,
    pub(crate) send_buffer: usize,
    pub(crate) max_message: usize,
    pub(crate) max_queued: usize,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("base", &self.base.as_str())
            .field("namespace", &self.namespace)
            .field("transport", &self.transport)
            .field("reconnect", &self.reconnect)
            .field("auth", &self.auth.is_some())
            .finish_non_exhaustive()
    }
}

impl Config {
    /// The Engine.IO URL for `transport` (`websocket` or `polling`), with the
    /// session id when joining an existing session.
    pub(crate) fn engine_url(&self, transport: &str, sid: Option<&str>) -> Url {
        let mut url = self.base.clone();
        if transport == "websocket" {
            let scheme = if url.scheme() == "https" { "wss" } else { "ws" };
            // Only http/https bases exist (checked in `build`), so this cannot fail.
            let _ = url.set_scheme(scheme);
        }
        {
            let mut q = url.query_pairs_mut();
            q.clear();
            for (k, v) in &self.query {
                q.append_pair(k, v);
            }
            q.append_pair("EIO", "4")
                .append_pair("transport", transport);
            if let Some(sid) = sid {
                q.append_pair("sid", sid);
            }
        }
        url
    }
}

/// Builds a client: `ClientBuilder::new("http://127.0.0.1:5000").connect()`.
#[derive(Clone)]
pub struct ClientBuilder {
    url: String,
    path: String,
    query: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    transport: TransportMode,
    reconnect: ReconnectPolicy,
    auth: Option<AuthFn>,
    tls: TlsOptions,
    connect_timeout: Duration,
    send_buffer: usize,
    max_message: usize,
    max_queued: usize,
}

impl ClientBuilder {
    /// Starts a builder for the server at `url` (`http`, `https`, `ws` or
    /// `wss`). A path in the URL names the namespace, as in socket.io-client:
    /// `http://host:5000/admin` connects to `/admin`.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            path: "/socket.io/".into(),
            query: Vec::new(),
            headers: Vec::new(),
            transport: TransportMode::default(),
            reconnect: ReconnectPolicy::default(),
            auth: None,
            tls: TlsOptions::default(),
            connect_timeout: Duration::from_secs(20),
            send_buffer: 1024,
            max_message: 16 * 1024 * 1024,
            max_queued: 128 * 1024 * 1024,
        }
    }

    /// The Engine.IO path on the server (default `/socket.io/`).
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }

    /// Adds a query parameter to every Engine.IO request.
    pub fn query(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((key.into(), value.into()));
        self
    }

    /// Adds an HTTP header to the handshake and polling requests.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Which transports to use (default [`TransportMode::Auto`]).
    pub fn transport(mut self, mode: TransportMode) -> Self {
        self.transport = mode;
        self
    }

    /// The reconnection policy (default: socket.io-client's, unlimited attempts).
    pub fn reconnect(mut self, policy: ReconnectPolicy) -> Self {
        self.reconnect = policy;
        self
    }

    /// A fixed `auth` payload sent with every namespace connection.
    pub fn auth(mut self, auth: Value) -> Self {
        self.auth = Some(Arc::new(move || auth.clone()));
        self
    }

    /// An `auth` payload computed anew on every (re)connection (a refreshed token, say).
    pub fn auth_fn(mut self, f: impl Fn() -> Value + Send + Sync + 'static) -> Self {
        self.auth = Some(Arc::new(f));
        self
    }

    /// Trusts an extra CA certificate (PEM) for `https`/`wss` hubs.
    pub fn add_root_certificate_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.tls.extra_ca_pem.push(pem.into());
        self
    }

    /// Accepts any server certificate, self-signed included. Off by default;
    /// see [`TlsOptions::accept_invalid_certs`].
    pub fn danger_accept_invalid_certs(mut self, accept: bool) -> Self {
        self.tls.accept_invalid_certs = accept;
        self
    }

    /// How long one connection attempt may take (default 20 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// How many emits to hold while disconnected (default 1024). Beyond it,
    /// `emit` returns [`Error::BufferFull`].
    pub fn send_buffer(mut self, packets: usize) -> Self {
        self.send_buffer = packets;
        self
    }

    /// Largest message accepted from the server, in bytes (default 16 MiB);
    /// also the most one packet's binary attachments may total. A server
    /// that sends more ends the session with
    /// [`DisconnectReason::TransportError`](crate::DisconnectReason) (and
    /// the client reconnects).
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.max_message = bytes;
        self
    }

    /// How much received data one namespace may hold for the application
    /// (events not yet taken from its [`Events`](crate::Events), and events
    /// that came before the namespace's CONNECT answer), counted as each
    /// event's size on the wire plus 256 bytes (default 128 MiB). Beyond it
    /// the client ends the session with
    /// [`DisconnectReason::TransportError`](crate::DisconnectReason) saying
    /// which limit was passed, and reconnects: what is queued stays
    /// readable, and nothing more is held.
    pub fn max_queued_bytes(mut self, bytes: usize) -> Self {
        self.max_queued = bytes;
        self
    }

    /// Validates the options.
    pub fn build(self) -> Result<Config, Error> {
        let invalid = |reason: &str| Error::InvalidUrl {
            url: self.url.clone(),
            reason: reason.into(),
        };
        let mut url = Url::parse(&self.url).map_err(|e| invalid(&e.to_string()))?;
        let scheme = match url.scheme() {
            "http" | "ws" => "http",
            "https" | "wss" => "https",
            _ => return Err(invalid("scheme must be http, https, ws or wss")),
        };
        if url.host_str().is_none_or(str::is_empty) {
            return Err(invalid("no host"));
        }
        let namespace = match url.path() {
            "" | "/" => "/".to_owned(),
            p => p.trim_end_matches('/').to_owned(),
        };
        let path = if self.path.starts_with('/') {
            self.path.clone()
        } else {
            format!("/{}", self.path)
        };
        // `set_scheme` refuses some special-to-special changes; rebuild instead.
        if url.scheme() != scheme {
            let rest = &url.as_str()[url.scheme().len()..];
            url = Url::parse(&format!("{scheme}{rest}")).map_err(|e| invalid(&e.to_string()))?;
        }
        url.set_path(&path);
        url.set_query(None);
        url.set_fragment(None);
        let tls = tls::client_config(&self.tls)?;
        Ok(Config {
            base: url,
            namespace,
            query: self.query,
            headers: self.headers,
            transport: self.transport,
            reconnect: self.reconnect,
            auth: self.auth,
            tls: Arc::new(tls),
            connect_timeout: self.connect_timeout,
            send_buffer: self.send_buffer,
            max_message: self.max_message.max(1024),
            max_queued: self.max_queued.max(1024),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_engine_urls() {
        let c = ClientBuilder::new("http://127.0.0.1:5000")
            .query("v", "1")
            .build()
            .unwrap();
        assert_eq!(c.namespace, "/");
        assert_eq!(
            c.engine_url("websocket", None).as_str(),
            "ws://127.0.0.1:5000/socket.io/?v=1&EIO=4&transport=websocket"
        );
        assert_eq!(
            c.engine_url("polling", Some("abc")).as_str(),
            "http://127.0.0.1:5000/socket.io/?v=1&EIO=4&transport=polling&sid=abc"
        );
        let c = ClientBuilder::new("wss://hub.example/admin/")
            .build()
            .unwrap();
        assert_eq!(c.namespace, "/admin");
        assert_eq!(
            c.engine_url("websocket", None).as_str(),
            "wss://hub.example/socket.io/?EIO=4&transport=websocket"
        );
        assert_eq!(c.engine_url("polling", None).scheme(), "https");
    }

    #[test]
    fn rejects_bad_urls() {
        for bad in [
            "",
            "127.0.0.1:5000",
            "ftp://x",
            "file:///etc/passwd",
            "http://",
        ] {
            assert!(ClientBuilder::new(bad).build().is_err(), "{bad}");
        }
    }
}
