//! ntfy-style subscriptions: `GET /<channels>/json` (one JSON object per
//! line), `/sse` (Server-Sent Events) and `/raw` (the message text per
//! line). `channels` is one name or several, comma-separated; the token
//! must be allowed to read each (403 by name).
//!
//! Each stream starts with an `open` event, then the notifications after
//! `since=` ([`ntfy::Since`]), then live ones, in id order, each once, with
//! a `keepalive` event every 30 s. `poll=1` sends what is kept (after
//! `since=`, everything without it) and ends.
//!
//! A stream reads the store after its cursor whenever this node publishes
//! (and once a second with Redis, for what other nodes publish), so it
//! never misses or repeats one, whatever else happens. A notification this
//! node could not store (a full disk) is sent live as it is published,
//! without an `id` (an SSE client keeps resuming after the last stored one).

use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::Path;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use pushdesk_hub_model::{Notification, check_channel};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tracing::debug;

use super::ntfy::{self, Since};
use super::{ApiError, ApiState, Caller};

/// Between keepalive events.
const KEEPALIVE: Duration = Duration::from_secs(30);

/// Notifications read from the store at once.
const PAGE: usize = 200;

/// How a stream writes its events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// NDJSON.
    Json,
    /// Server-Sent Events.
    Sse,
    /// The message text, one per line.
    Raw,
}

impl Format {
    fn content_type(self) -> &'static str {
        match self {
            Self::Json => "application/x-ndjson; charset=utf-8",
            Self::Sse => "text/event-stream; charset=utf-8",
            Self::Raw => "text/plain; charset=utf-8",
        }
    }

    /// One event, framed; `None` for what this format does not show.
    pub fn frame(self, event: &Value) -> Option<String> {
        match self {
            Self::Json => Some(format!("{event}\n")),
            Self::Sse => {
                let kind = event
                    .get("event")
                    .and_then(Value::as_str)
                    .unwrap_or("message");
                let id = event
                    .get("id")
                    .and_then(Value::as_str)
                    .filter(|_| kind == "message")
                    .map(|id| format!("id: {id}\n"))
                    .unwrap_or_default();
                Some(format!("{id}event: {kind}\ndata: {event}\n\n"))
            }
            Self::Raw => match event.get("event").and_then(Value::as_str) {
                Some("message") => {
                    let text = event
                        .get("message")
                        .and_then(Value::as_str)
                        .unwrap_or_default();
                    Some(format!("{}\n", text.replace(['\r', '\n'], " ")))
                }
                Some("keepalive") => Some("\n".to_owned()),
                _ => None,
            },
        }
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

fn control(kind: &str, channels: &[String]) -> Value {
    json!({
        "id": format!("{kind}-{}", now_ms()),
        "time": now_ms() / 1000,
        "event": kind,
        "topic": channels.join(","),
    })
}

/// `GET /<channels>/json`.
pub(crate) async fn json(caller: Caller, channels: Path<String>) -> Result<Response, ApiError> {
    subscribe(caller, channels, Format::Json).await
}

/// `GET /<channels>/sse`.
pub(crate) async fn sse(caller: Caller, channels: Path<String>) -> Result<Response, ApiError> {
    subscribe(caller, channels, Format::Sse).await
}

/// `GET /<channels>/raw`.
pub(crate) async fn raw(caller: Caller, channels: Path<String>) -> Result<Response, ApiError> {
    subscribe(caller, channels, Format::Raw).await
}

async fn subscribe(
    caller: Caller,
    Path(channels): Path<String>,
    format: Format,
) -> Result<Response, ApiError> {
    let mut names: Vec<String> = Vec::new();
    for name in channels.split(',').filter(|c| !c.is_empty()) {
        check_channel(name).map_err(|e| ApiError::bad_request(e.to_string()))?;
        if !caller.grant.rights.can_read(name) {
            return Err(ApiError::forbidden(format!(
                "this token may not read channel {name:?}"
            )));
        }
        if !names.iter().any(|n| n == name) {
            names.push(name.to_owned());
        }
    }
    if names.is_empty() {
        return Err(ApiError::bad_request("no channel named"));
    }
    let param = |k: &str| {
        caller
            .query
            .iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
    let poll = param("poll").is_some_and(|p| matches!(p, "1" | "true" | "yes"));
    // As ntfy: a poll without `since` returns everything kept.
    let since = match param("since") {
        None if poll => Since::All,
        given => ntfy::parse_since(given, now_ms())?,
    };
    let state = caller.state;
    let start = match since {
        Since::New => state.hub.store.last_id().await.map_err(|e| {
            ApiError::new(axum::http::StatusCode::SERVICE_UNAVAILABLE, e.to_string())
        })?,
        Since::All | Since::Time(_) => 0,
        Since::Id(id) => id,
    };
    let min_ts = match since {
        Since::Time(ms) => ms,
        _ => 0,
    };
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    tokio::spawn(run(state, names, format, start, min_ts, poll, tx));
    let body = Body::from_stream(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|b| (Ok::<_, std::convert::Infallible>(b), rx))
    }));
    let mut response = body.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}

/// Feeds one stream until the client goes (or, polling, until caught up).
async fn run(
    state: ApiState,
    channels: Vec<String>,
    format: Format,
    mut cursor: u64,
    min_ts: u64,
    poll: bool,
    tx: mpsc::Sender<Bytes>,
) {
    let send = |event: &Value| {
        let tx = tx.clone();
        let frame = format.frame(event);
        async move {
            match frame {
                Some(f) => tx.send(Bytes::from(f)).await.is_ok(),
                None => true,
            }
        }
    };
    if !poll && !send(&control("open", &channels)).await {
        return;
    }
    let mut published = state.hub.published.subscribe();
    let mut unstored = state.hub.unstored.subscribe();
    let other_nodes = state.hub.store.redis_client().is_some();
    let mut keepalive =
        tokio::time::interval_at(tokio::time::Instant::now() + KEEPALIVE, KEEPALIVE);
    loop {
        // Everything after the cursor, page by page.
        loop {
            let page = match state
                .hub
                .store
                .since_in(cursor, PAGE, Some(&channels))
                .await
            {
                Ok(p) => p,
                Err(e) => {
                    debug!(error = %e, "stream: store unavailable");
                    Vec::new()
                }
            };
            let full = page.len() == PAGE;
            let now = now_ms();
            for n in page {
                cursor = cursor.max(n.id.unwrap_or_default());
                if shown(&n, min_ts, now) && !send(&ntfy::message(&n)).await {
                    return;
                }
            }
            if !full {
                break;
            }
        }
        if poll {
            return;
        }
        tokio::select! {
            changed = published.changed() => if changed.is_err() { return },
            () = tokio::time::sleep(Duration::from_secs(1)), if other_nodes => {}
            _ = keepalive.tick() => if !send(&control("keepalive", &channels)).await { return },
            () = tx.closed() => return,
            got = unstored.recv() => match got {
                Ok(n) => {
                    if channels.contains(&n.channel) && shown(&n, min_ts, now_ms()) {
                        let mut m = ntfy::message(&n);
                        if let Some(fields) = m.as_object_mut() {
                            fields.remove("id");
                        }
                        if !send(&m).await {
                            return;
                        }
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(missed)) => {
                    debug!(missed, "stream: unstored notifications skipped");
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            },
        }
    }
}

fn shown(n: &Notification, min_ts: u64, now: u64) -> bool {
    n.timestamp.unwrap_or_default() >= min_ts && !n.is_expired(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames() {
        let m = json!({"id": "7", "event": "message", "message": "a\nb", "topic": "ops"});
        assert_eq!(
            Format::Json.frame(&m).as_deref(),
            Some(format!("{m}\n").as_str())
        );
        assert_eq!(
            Format::Sse.frame(&m).as_deref(),
            Some(format!("id: 7\nevent: message\ndata: {m}\n\n").as_str())
        );
        assert_eq!(Format::Raw.frame(&m).as_deref(), Some("a b\n"));
        let open = control("open", &["a".into(), "b".into()]);
        assert_eq!(open["topic"], "a,b");
        assert_eq!(Format::Raw.frame(&open), None);
        assert!(
            Format::Sse
                .frame(&open)
                .is_some_and(|f| f.starts_with("event: open\n"))
        );
    }
}
