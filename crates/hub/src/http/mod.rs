//! Publishing and subscribing over plain HTTP, so every script and
//! integration that speaks HTTP can reach a channel:
//!
//! * native: `POST /api/v1/notifications` with the Socket.IO request's JSON
//!   fields plus `channel`, answered `201 {id, channel}`;
//! * [`ntfy`]-compatible: `PUT/POST /<channel>` (message as the body, options
//!   as headers), a JSON publish to `/`, and `GET /<channels>/json`, `/sse`,
//!   `/raw` to subscribe ([`stream`]), with `since=` and `poll=1`;
//! * [`gotify`]-compatible: `POST /message`.
//!
//! Credentials come as [`auth`] describes. Everything goes through
//! [`handlers::publish`](crate::handlers::publish), as a Socket.IO request
//! does, so a message published here reaches Socket.IO subscribers and the
//! desktop app on every node. Errors are JSON `{error, http}`: 400 for
//! malformed input, 401 without a valid token, 403 beyond its rights (naming
//! the channel), 413 over the size limits, 429 over the rate limits (per
//! token and per client address).

pub mod auth;
pub mod gotify;
pub mod ntfy;
pub mod stream;

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Path};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use pushdesk_hub_model::{Notification, NotificationRequest, ValidationError};
use serde_json::json;

use crate::assets;
use crate::handlers::HubState;
use crate::ratelimit::KeyedBuckets;
use crate::tokens::{AuthError, Grant};

/// Publishes a notification (stores it, sends it to its channel's
/// subscribers) whatever the Socket.IO adapter: what the server hands the
/// HTTP side.
pub type Publisher = Arc<
    dyn Fn(Notification) -> Pin<Box<dyn Future<Output = Result<Notification, String>> + Send>>
        + Send
        + Sync,
>;

/// What the HTTP handlers share.
#[derive(Clone)]
pub struct ApiState {
    /// The hub's state (store, credentials, limits).
    pub hub: Arc<HubState>,
    /// How to publish.
    pub publisher: Publisher,
    /// Publishes per client address (scoped tokens are limited per token
    /// too, by the hub, together with their Socket.IO publishes).
    pub per_ip: Arc<KeyedBuckets>,
}

impl ApiState {
    /// The state for `hub`, rate-limited as its [`Limits`](crate::Limits) say.
    pub fn new(hub: Arc<HubState>, publisher: Publisher) -> Self {
        let l = &hub.limits;
        Self {
            per_ip: Arc::new(KeyedBuckets::new(l.notify_burst, l.notify_per_sec)),
            hub,
            publisher,
        }
    }
}

/// An HTTP error, answered as JSON `{error, http}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The status.
    pub status: StatusCode,
    /// What went wrong, for the sender.
    pub message: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    /// 400.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 403.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }
}

impl From<ValidationError> for ApiError {
    fn from(e: ValidationError) -> Self {
        let status = match e {
            ValidationError::TooManyChars { .. } | ValidationError::TooManyBytes { .. } => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            _ => StatusCode::BAD_REQUEST,
        };
        Self::new(status, e.to_string())
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (
            self.status,
            axum::Json(json!({ "error": self.message, "http": self.status.as_u16() })),
        )
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer realm=\"pushdesk\""),
            );
        }
        r
    }
}

/// The query string's pairs, decoded.
pub fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    query
        .map(|q| {
            form_urlencoded::parse(q.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// The routes, over the embedded UI for everything else.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/api/v1/notifications", post(native_publish))
        .route("/message", post(gotify_publish))
        .route(
            "/v1/health",
            get(|| async { axum::Json(json!({ "healthy": true })) }),
        )
        .route("/", post(ntfy_json_publish).fallback(assets::serve))
        .route(
            "/{channel}",
            post(ntfy_publish).put(ntfy_publish).fallback(assets::serve),
        )
        .route("/{channels}/json", get(stream::json))
        .route("/{channels}/sse", get(stream::sse))
        .route("/{channels}/raw", get(stream::raw))
        .with_state(state)
}

/// The grant of the token a request presents.
fn grant(
    state: &ApiState,
    headers: &HeaderMap,
    query: Option<&str>,
) -> Result<Arc<Grant>, ApiError> {
    let token = auth::presented_token(headers, query);
    Ok(state.hub.credentials.check(token.as_deref())?)
}

/// Reads a body of at most the hub's payload limit (413 beyond).
async fn read_body(state: &ApiState, body: Body) -> Result<Bytes, ApiError> {
    let limit = usize::try_from(state.hub.limits.max_payload).unwrap_or(usize::MAX);
    axum::body::to_bytes(body, limit).await.map_err(|_| {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request body is over {limit} bytes"),
        )
    })
}

/// Checks and publishes `request` for `grant` from `ip`: its channel's write
/// right (403), the limits (400/413), the rate limits (429).
async fn publish(
    state: &ApiState,
    grant: &Grant,
    ip: IpAddr,
    request: NotificationRequest,
) -> Result<Notification, ApiError> {
    request.validate()?;
    let channel = request.channel();
    if !grant.rights.can_write(channel) {
        return Err(ApiError::forbidden(format!(
            "this token may not publish to channel {channel:?}"
        )));
    }
    let now = Instant::now();
    if !state.per_ip.try_take(&ip.to_string(), now) || !state.hub.token_may_publish(grant) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too many notifications: slow down",
        ));
    }
    (state.publisher)(Notification::from_request(request, 0, 0))
        .await
        .map_err(|e| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e))
}

/// Who is asking, from the request's head: the state, the grant of the
/// token it presents (401 without a valid one), its address (the server
/// always records it; loopback if a router was run without it) and options.
pub(crate) struct Caller {
    state: ApiState,
    grant: Arc<Grant>,
    ip: IpAddr,
    query: Vec<(String, String)>,
    headers: HeaderMap,
}

impl axum::extract::FromRequestParts<ApiState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &ApiState,
    ) -> Result<Self, ApiError> {
        let query = parts.uri.query();
        let grant = grant(state, &parts.headers, query)?;
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::from([127, 0, 0, 1]), |c| c.0.ip());
        Ok(Self {
            state: state.clone(),
            grant,
            ip,
            query: query_pairs(query),
            headers: parts.headers.clone(),
        })
    }
}

impl Caller {
    async fn body(&self, body: Body) -> Result<Bytes, ApiError> {
        read_body(&self.state, body).await
    }

    async fn publish(&self, request: NotificationRequest) -> Result<Notification, ApiError> {
        publish(&self.state, &self.grant, self.ip, request).await
    }
}

/// `POST /api/v1/notifications`: our own fields, JSON.
async fn native_publish(caller: Caller, body: Body) -> Result<Response, ApiError> {
    let body = caller.body(body).await?;
    let mut request: NotificationRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("malformed request: {e}")))?;
    if request.channel.is_none() && caller.grant.channel != pushdesk_hub_model::DEFAULT_CHANNEL {
        request.channel = Some(caller.grant.channel.clone());
    }
    let n = caller.publish(request).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(json!({ "id": n.id, "channel": n.channel })),
    )
        .into_response())
}

/// `PUT/POST /<channel>`: ntfy's message-as-body publish.
async fn ntfy_publish(
    caller: Caller,
    Path(channel): Path<String>,
    body: Body,
) -> Result<Response, ApiError> {
    let body = caller.body(body).await?;
    let fields = ntfy::Fields::from_request(&caller.headers, &caller.query, &body)?;
    let n = caller.publish(fields.into_request(&channel)?).await?;
    Ok(axum::Json(ntfy::message(&n)).into_response())
}

/// `POST /` with a JSON body: ntfy's JSON publish.
async fn ntfy_json_publish(caller: Caller, body: Body) -> Result<Response, ApiError> {
    let body = caller.body(body).await?;
    let (channel, fields) = ntfy::Fields::from_json(&body)?;
    let options = ntfy::Fields::from_options(&caller.headers, &caller.query)?;
    let n = caller
        .publish(fields.or(options).into_request(&channel)?)
        .await?;
    Ok(axum::Json(ntfy::message(&n)).into_response())
}

/// `POST /message`: Gotify's publish, to the token's channel. Takes JSON,
/// a urlencoded form or, as Gotify's own examples send (`curl -F`), a
/// multipart form.
async fn gotify_publish(caller: Caller, req: axum::extract::Request) -> Result<Response, ApiError> {
    let content_type = caller
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let fields = if content_type.starts_with("multipart/form-data") {
        multipart_fields(&caller.state, req).await?
    } else {
        let form = content_type.starts_with("application/x-www-form-urlencoded");
        gotify::fields(&caller.body(req.into_body()).await?, form)?
    };
    let n = caller
        .publish(gotify::request(fields, &caller.grant.channel)?)
        .await?;
    Ok(axum::Json(gotify::message(&n)).into_response())
}

/// The text fields of a multipart form, within the payload limit.
async fn multipart_fields(
    state: &ApiState,
    req: axum::extract::Request,
) -> Result<serde_json::Map<String, serde_json::Value>, ApiError> {
    use axum::extract::FromRequest as _;
    let bad = |e: &dyn std::fmt::Display| ApiError::bad_request(format!("multipart form: {e}"));
    let mut form = axum::extract::Multipart::from_request(req, &())
        .await
        .map_err(|e| bad(&e))?;
    let limit = usize::try_from(state.hub.limits.max_payload).unwrap_or(usize::MAX);
    let (mut fields, mut total) = (serde_json::Map::new(), 0usize);
    while let Some(field) = form.next_field().await.map_err(|e| bad(&e))? {
        let name = field.name().unwrap_or_default().to_owned();
        let value = field.text().await.map_err(|e| bad(&e))?;
        total += name.len() + value.len();
        if total > limit {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the request body is over {limit} bytes"),
            ));
        }
        fields.insert(name, serde_json::Value::String(value));
    }
    Ok(fields)
}
