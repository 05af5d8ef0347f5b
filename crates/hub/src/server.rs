//! The HTTP side: binds, serves the web UI at `/`, `/health`, Socket.IO at
//! `/socket.io/` (WebSocket and long-polling) and the HTTP API
//! ([`crate::http`]), behind an origin check and CORS for the allowed
//! origins; TLS when given a certificate; one node in process or many over
//! Redis.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use socketioxide::SocketIo;
use socketioxide_redis::{CustomRedisAdapter, RedisAdapterConfig, RedisAdapterCtr};
use tokio::task::JoinHandle;
use tracing::{info, warn};

use crate::access::{host_allowed, origin_allowed};
use crate::assets;
use crate::config::HubConfig;
use crate::conncap::CapAcceptor;
use crate::error::HubError;
use crate::handlers::{self, HubState};
use crate::http::{self as api, ApiState, Publisher};
use crate::store::Store;
use crate::tokens::Credentials;

/// Closes every Socket.IO session (upgraded WebSockets outlive the HTTP
/// server's graceful shutdown otherwise).
type Closer = Box<dyn Fn() -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// A hub that is serving.
pub struct RunningHub {
    addr: SocketAddr,
    tls: bool,
    handle: axum_server::Handle<SocketAddr>,
    task: JoinHandle<Result<(), HubError>>,
    pruner: JoinHandle<()>,
    closer: Closer,
}

impl std::fmt::Debug for RunningHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningHub")
            .field("addr", &self.addr)
            .field("tls", &self.tls)
            .finish_non_exhaustive()
    }
}

impl RunningHub {
    /// The address it listens on (useful after binding port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR` (or `https://`).
    pub fn url(&self) -> String {
        format!(
            "{}://{}",
            if self.tls { "https" } else { "http" },
            self.addr
        )
    }

    /// Stops accepting, disconnects every Socket.IO client (they see the
    /// server go and reconnect), lets open requests finish (5 s at most).
    pub async fn shutdown(self) -> Result<(), HubError> {
        self.wait(std::future::ready(())).await
    }

    /// Serves until the server stops on its own (an error) or `shutdown` is signalled.
    pub async fn wait(
        self,
        shutdown: impl std::future::Future<Output = ()>,
    ) -> Result<(), HubError> {
        let handle = self.handle.clone();
        let mut task = self.task;
        tokio::select! {
            res = &mut task => res.map_err(|e| HubError::Serve(format!("server task: {e}")))?,
            () = shutdown => {
                info!("shutting down");
                handle.graceful_shutdown(Some(Duration::from_secs(5)));
                (self.closer)().await;
                self.pruner.abort();
                task.await.map_err(|e| HubError::Serve(format!("server task: {e}")))?
            }
        }
    }
}

#[derive(Clone)]
struct HttpState {
    hub: Arc<HubState>,
    allow_origins: Arc<Vec<String>>,
    /// `--allow-host` names.
    allow_hosts: Arc<Vec<String>>,
    /// Whether the hub listens on loopback only.
    loopback_only: bool,
}

/// Opens the store, binds and starts serving in the background.
pub async fn start(config: HubConfig) -> Result<RunningHub, HubError> {
    let store = match &config.redis {
        Some(url) => Store::open_redis(url, &config.redis_prefix, config.retention.clone()).await?,
        None => Store::open_local(&config.data_dir, config.retention.clone()).await?,
    };
    let credentials = Arc::new(Credentials::new(
        &config.tokens,
        config.tokens_file.clone(),
    )?);
    let text = crate::text::TextHub::load(store.clone(), config.text).await?;
    let mut state = HubState::new(store.clone(), text, credentials, config.limits.clone());
    // With Redis every node delivers from the history (see `delivery`).
    let history = store.watch_history();
    if history.is_some() {
        state.follower = Some(Arc::new(tokio::sync::Notify::new()));
    }
    let hub = Arc::new(state);
    let builder = SocketIo::builder()
        .max_payload(config.limits.max_payload)
        .max_buffer_size(1024)
        // Each WebSocket keeps a read buffer this big for its whole life
        // (default 4 KiB). Clients send pongs and small requests; a bigger
        // message still arrives whole, in several reads.
        .ws_read_buffer_size(1024)
        .ack_timeout(Duration::from_secs(10));
    let loopback_only = config.bind.ip().is_loopback();
    let http_state = HttpState {
        hub: hub.clone(),
        allow_origins: Arc::new(config.allow_origins.clone()),
        allow_hosts: Arc::new(config.allow_hosts.clone()),
        loopback_only,
    };
    let closer: Closer;
    let app = match &config.redis {
        Some(url) => {
            let client = redis_resp3_client(url)?;
            let driver = crate::pubsub::ReconnectingDriver::new(&client)
                .await
                .map_err(|e| HubError::Redis(e.to_string()))?;
            let adapter = RedisAdapterCtr::new_with_driver(driver, RedisAdapterConfig::default());
            let (layer, io) = builder
                .with_adapter::<CustomRedisAdapter<_, crate::pubsub::ReconnectingDriver>>(adapter)
                .build_layer();
            handlers::register(&io, hub.clone())
                .await
                .map_err(|e| HubError::Redis(e.to_string()))?;
            if let (Some(history), Some(local)) = (history, hub.follower.clone()) {
                tokio::spawn(crate::delivery::follow(
                    Arc::downgrade(&hub),
                    io.clone(),
                    history,
                    local,
                ));
            }
            let api = ApiState::new(hub.clone(), publisher(&io, &hub));
            closer = Box::new(move || {
                let io = io.clone();
                Box::pin(async move { io.close().await })
            });
            router(http_state, api).layer(layer)
        }
        None => {
            let (layer, io) = builder.build_layer();
            handlers::register(&io, hub.clone());
            let api = ApiState::new(hub.clone(), publisher(&io, &hub));
            closer = Box::new(move || {
                let io = io.clone();
                Box::pin(async move { io.close().await })
            });
            router(http_state, api).layer(layer)
        }
    };
    let app = app.layer(cors(&config.allow_origins));
    let app = app.layer(middleware::from_fn_with_state(
        HttpState {
            hub: hub.clone(),
            allow_origins: Arc::new(config.allow_origins.clone()),
            allow_hosts: Arc::new(config.allow_hosts.clone()),
            loopback_only,
        },
        check_origin,
    ));

    if config.allow_origins.iter().any(|o| o == "*") {
        warn!("--allow-origin '*': any web page may connect to this hub; prefer listing origins");
    }
    if !loopback_only {
        if config.tokens.is_empty() && config.tokens_file.is_none() {
            warn!(
                bind = %config.bind,
                "listening beyond loopback WITHOUT tokens: anyone who can reach {} can read and send notifications; set --token or --tokens-file",
                config.bind
            );
        }
        if config.allow_hosts.is_empty() {
            warn!(
                "listening beyond loopback: list the names clients use with --allow-host, so a web page cannot reach the hub through DNS rebinding"
            );
        }
    }
    let listener = std::net::TcpListener::bind(config.bind)
        .map_err(|e| HubError::Bind(config.bind, e.to_string()))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| HubError::Bind(config.bind, e.to_string()))?;
    let addr = listener
        .local_addr()
        .map_err(|e| HubError::Bind(config.bind, e.to_string()))?;
    let handle = axum_server::Handle::new();
    // TCP_NODELAY on every connection (CapAcceptor sets it), as Node's HTTP
    // server sets it: with Nagle on, a frame written while the socket's
    // previous one is still unacknowledged waits for that ACK (up to the
    // peer's delayed-ACK timeout, 40 ms on Linux), which held back some
    // deliveries at random. CapAcceptor also caps open connections per
    // address.
    let max_per_ip = config.limits.max_connections_per_ip;
    let service = app.into_make_service_with_connect_info::<SocketAddr>();
    let tls = config.tls.is_some();
    let task = match &config.tls {
        Some((cert, key)) => {
            let _ = rustls::crypto::ring::default_provider().install_default();
            let tls = axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key)
                .await
                .map_err(|e| {
                    HubError::Tls(format!("{} / {}: {e}", cert.display(), key.display()))
                })?;
            let mut server = axum_server::from_tcp_rustls(listener, tls)
                .map_err(|e| HubError::Bind(addr, e.to_string()))?
                .map(|tls| tls.acceptor(CapAcceptor::new(max_per_ip, true)))
                .handle(handle.clone());
            limit_http_buffers(&mut server);
            tokio::spawn(async move {
                server
                    .serve(service)
                    .await
                    .map_err(|e| HubError::Serve(e.to_string()))
            })
        }
        None => {
            let mut server = axum_server::from_tcp(listener)
                .map_err(|e| HubError::Bind(addr, e.to_string()))?
                .acceptor(CapAcceptor::new(max_per_ip, false))
                .handle(handle.clone());
            limit_http_buffers(&mut server);
            tokio::spawn(async move {
                server
                    .serve(service)
                    .await
                    .map_err(|e| HubError::Serve(e.to_string()))
            })
        }
    };
    let pruner = tokio::spawn(prune_loop(store, config.prune_every));
    info!(%addr, tls, redis = config.redis.is_some(), "hub listening");
    Ok(RunningHub {
        addr,
        tls,
        handle,
        task,
        pruner,
        closer,
    })
}

/// Keeps hyper's HTTP/1 read buffer at its 8 KiB minimum (it otherwise grows
/// to 16 KiB): requests here are small. A WebSocket's buffer is freed after
/// the upgrade once nothing points into it any more ([`detach_head`]).
fn limit_http_buffers<A: axum_server::accept::Accept<tokio::net::TcpStream, axum::Router>>(
    server: &mut axum_server::Server<SocketAddr, A>,
) {
    server.http_builder().http1().max_buf_size(8192);
}

/// socketioxide's Redis adapter speaks RESP3.
fn redis_resp3_client(url: &str) -> Result<redis::Client, HubError> {
    let url = if url.contains("protocol=") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&protocol=resp3")
    } else {
        format!("{url}?protocol=resp3")
    };
    redis::Client::open(url).map_err(|e| HubError::Redis(e.to_string()))
}

fn router(state: HttpState, api: ApiState) -> Router {
    Router::new()
        .route("/health", get(health))
        .with_state(state)
        .merge(api::router(api))
        .fallback(assets::serve)
}

/// The HTTP API's way to publish, over whichever adapter `io` has.
fn publisher<A: socketioxide::adapter::Adapter>(
    io: &SocketIo<A>,
    hub: &Arc<HubState>,
) -> Publisher {
    let (io, hub) = (io.clone(), hub.clone());
    Arc::new(move |n| {
        let (io, hub) = (io.clone(), hub.clone());
        Box::pin(async move { handlers::publish(&hub, &io, n).await })
    })
}

/// CORS answers for the origins [`check_origin`] lets through (the hub's
/// own, loopback, `--allow-origin`): the origin echoed (never `*`, which
/// browsers refuse with credentials), credentials allowed, `Vary: Origin`,
/// and preflights answered. Socket.IO's long-polling from a page served
/// elsewhere needs them, as does the HTTP API.
fn cors(allow: &[String]) -> tower_http::cors::CorsLayer {
    use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer};
    let allow = Arc::new(allow.to_vec());
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin, parts| {
            let host = parts
                .headers
                .get(header::HOST)
                .and_then(|v| v.to_str().ok());
            origin
                .to_str()
                .is_ok_and(|o| origin_allowed(Some(o), host, &allow))
        }))
        .allow_credentials(true)
        .allow_methods([
            axum::http::Method::GET,
            axum::http::Method::POST,
            axum::http::Method::PUT,
        ])
        .allow_headers(AllowHeaders::mirror_request())
        .max_age(Duration::from_secs(600))
}

async fn health(State(state): State<HttpState>) -> Response {
    let store = &state.hub.store;
    match (store.user_count().await, store.last_id().await) {
        (Ok(users), Ok(last_id)) => {
            axum::Json(json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION"), "user_count": users, "last_id": last_id })).into_response()
        }
        (Err(e), _) | (_, Err(e)) => {
            (StatusCode::SERVICE_UNAVAILABLE, axum::Json(json!({ "status": "error", "error": e.to_string() }))).into_response()
        }
    }
}

/// Refuses requests from browser origins that are not allowed (Socket.IO,
/// the HTTP API, a form posted from another site), and detaches the request
/// head of the Socket.IO ones it lets through.
async fn check_origin(State(state): State<HttpState>, mut req: Request, next: Next) -> Response {
    let headers: &HeaderMap = req.headers();
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    if !host_allowed(host, state.loopback_only, &state.allow_hosts) {
        warn!(
            host = host.unwrap_or_default(),
            path = req.uri().path(),
            "refused a request for a host name this hub does not answer to"
        );
        return (
            StatusCode::MISDIRECTED_REQUEST,
            "host not allowed: reach the hub by IP address or localhost, or list its name with --allow-host",
        )
            .into_response();
    }
    if !origin_allowed(origin, host, &state.allow_origins) {
        warn!(
            origin = origin.unwrap_or_default(),
            path = req.uri().path(),
            "refused a request from a foreign origin"
        );
        return (
            StatusCode::FORBIDDEN,
            "origin not allowed (see --allow-origin)",
        )
            .into_response();
    }
    if req.uri().path().starts_with("/socket.io") {
        detach_head(&mut req);
    }
    next.run(req).await
}

/// Gives the request's URI and header values allocations of their own.
///
/// hyper parses them as slices of its connection read buffer (8 KiB), and
/// engineioxide keeps a socket's request parts for the socket's whole life:
/// without this, every WebSocket kept that buffer alive long after the
/// upgrade, a quarter of an idle connection's memory. A copy of a few
/// hundred bytes per connection frees it.
fn detach_head(req: &mut Request) {
    if let Ok(uri) = axum::http::Uri::try_from(req.uri().to_string()) {
        *req.uri_mut() = uri;
    }
    for value in req.headers_mut().values_mut() {
        if let Ok(copy) = header::HeaderValue::from_bytes(value.as_bytes()) {
            let sensitive = value.is_sensitive();
            *value = copy;
            value.set_sensitive(sensitive);
        }
    }
}

async fn prune_loop(store: Store, every: Duration) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        if let Err(e) = store.prune(now).await {
            warn!(error = %e, "pruning the history failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::{Body, Bytes};

    /// Whether `part` lies inside `buf`'s memory.
    fn inside(buf: &Bytes, part: &[u8]) -> bool {
        let range = buf.as_ptr_range();
        range.contains(&part.as_ptr())
    }

    #[test]
    fn detach_head_copies_what_hyper_parsed_in_place() {
        // hyper hands out the URI and header values as slices of its read buffer.
        let buf =
            Bytes::from_static(b"/socket.io/?EIO=4&transport=websocket\x00http://127.0.0.1:5000");
        let mut req = Request::new(Body::empty());
        *req.uri_mut() = axum::http::Uri::from_maybe_shared(buf.slice(..37)).unwrap_or_default();
        let origin = header::HeaderValue::from_maybe_shared(buf.slice(38..))
            .unwrap_or(header::HeaderValue::from_static("x"));
        req.headers_mut().insert(header::ORIGIN, origin);
        let mut token = header::HeaderValue::from_static("secret");
        token.set_sensitive(true);
        req.headers_mut().insert(header::AUTHORIZATION, token);
        assert!(
            inside(&buf, req.headers()[header::ORIGIN].as_bytes()),
            "the test's premise"
        );

        detach_head(&mut req);

        assert_eq!(req.uri(), "/socket.io/?EIO=4&transport=websocket");
        assert_eq!(req.headers()[header::ORIGIN], "http://127.0.0.1:5000");
        assert!(!inside(&buf, req.headers()[header::ORIGIN].as_bytes()));
        assert!(!inside(&buf, req.uri().path().as_bytes()));
        assert!(req.headers()[header::AUTHORIZATION].is_sensitive());
    }
}
