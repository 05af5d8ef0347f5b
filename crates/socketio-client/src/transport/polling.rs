//! The HTTP long-polling transport on reqwest: one GET pending at a time for
//! what the server sends, one POST at a time for what we send.

use std::time::Duration;

use reqwest::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use tokio::sync::{mpsc, watch};
use url::Url;

use super::{INCOMING_CAPACITY, Transport, TransportKind};
use crate::config::Config;
use crate::engineio::packet::{decode_payload, encode_payload};
use crate::engineio::{Handshake, Packet, PacketType};
use crate::error::Error;

/// An HTTP client set up for this configuration (TLS, headers, timeouts).
pub(crate) fn http_client(cfg: &Config) -> Result<reqwest::Client, Error> {
    let mut headers = reqwest::header::HeaderMap::new();
    for (name, value) in &cfg.headers {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|e| Error::Transport(format!("header {name:?}: {e}")))?;
        let value = HeaderValue::from_str(value)
            .map_err(|e| Error::Transport(format!("header value: {e}")))?;
        headers.append(name, value);
    }
    reqwest::Client::builder()
        .use_preconfigured_tls((*cfg.tls).clone())
        .default_headers(headers)
        .connect_timeout(cfg.connect_timeout)
        .tcp_nodelay(true)
        .build()
        .map_err(|e| Error::Transport(format!("http client: {e}")))
}

/// A failed HTTP exchange, with its causes: reqwest's own message ("error
/// sending request for url …") leaves out why (a refused certificate, a
/// refused connection), which is what the user needs.
fn http_error(what: &str, e: &reqwest::Error) -> Error {
    let mut message = format!("{what}: {e}");
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    Error::Transport(message)
}

/// Reads a response body, refusing more than `limit` bytes.
async fn read_body(mut resp: reqwest::Response, limit: usize) -> Result<String, Error> {
    let status = resp.status();
    let mut body = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| http_error("polling read", &e))?
    {
        if body.len() + chunk.len() > limit {
            return Err(Error::Transport(format!(
                "polling response over {limit} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    let text = String::from_utf8(body)
        .map_err(|_| Error::Transport("polling response is not UTF-8".into()))?;
    if !status.is_success() {
        let snippet: String = text.chars().take(200).collect();
        return Err(Error::Transport(format!(
            "polling HTTP {status}: {snippet}"
        )));
    }
    Ok(text)
}

/// Performs the polling handshake. Returns the handshake and any packets the
/// server sent in the same response after the open packet.
pub(crate) async fn handshake(
    cfg: &Config,
    http: &reqwest::Client,
) -> Result<(Handshake, Vec<Packet>), Error> {
    let url = cfg.engine_url("polling", None);
    let resp = http
        .get(url)
        .send()
        .await
        .map_err(|e| http_error("polling handshake", &e))?;
    let body = read_body(resp, cfg.max_message).await?;
    let mut packets = decode_payload(&body)?.into_iter();
    match packets.next() {
        Some(Packet::Text(PacketType::Open, json)) => {
            Ok((Handshake::parse(&json)?, packets.collect()))
        }
        _ => Err(Error::Transport(
            "polling handshake: first packet is not an open packet".into(),
        )),
    }
}

/// Starts polling the session `hs.sid`; `early` are packets that arrived with the handshake.
pub(crate) fn spawn(
    cfg: &Config,
    http: reqwest::Client,
    hs: &Handshake,
    early: Vec<Packet>,
) -> Transport {
    let url = cfg.engine_url("polling", Some(&hs.sid));
    let (in_tx, in_rx) = mpsc::channel(INCOMING_CAPACITY);
    let (out_tx, out_rx) = mpsc::unbounded_channel::<Packet>();
    let (pause_tx, pause_rx) = watch::channel(false);
    // A poll may legitimately stay open for a whole ping interval.
    let poll_timeout = hs.heartbeat_deadline() + Duration::from_secs(5);
    let max_body = cfg.max_message;
    let max_post = usize::try_from(hs.max_payload)
        .unwrap_or(usize::MAX)
        .max(1024);

    let reader = tokio::spawn(read_loop(
        http.clone(),
        url.clone(),
        in_tx.clone(),
        pause_rx,
        poll_timeout,
        max_body,
        early,
    ));
    let writer = tokio::spawn(write_loop(http, url, in_tx, out_rx, max_post));
    Transport::new(
        TransportKind::Polling,
        out_tx,
        in_rx,
        reader,
        writer,
        Some(pause_tx),
    )
}

async fn read_loop(
    http: reqwest::Client,
    url: Url,
    tx: mpsc::Sender<Result<Packet, Error>>,
    pause: watch::Receiver<bool>,
    timeout: Duration,
    max_body: usize,
    early: Vec<Packet>,
) {
    for p in early {
        if tx.send(Ok(p)).await.is_err() {
            return;
        }
    }
    while !*pause.borrow() {
        let result = async {
            let resp = http
                .get(url.clone())
                .timeout(timeout)
                .send()
                .await
                .map_err(|e| http_error("poll", &e))?;
            let body = read_body(resp, max_body).await?;
            Ok::<_, Error>(decode_payload(&body)?)
        }
        .await;
        match result {
            Ok(packets) => {
                for p in packets {
                    let closing = p.kind() == PacketType::Close;
                    if tx.send(Ok(p)).await.is_err() || closing {
                        return;
                    }
                }
            }
            Err(e) => {
                let _ = tx.send(Err(e)).await;
                return;
            }
        }
    }
}

async fn write_loop(
    http: reqwest::Client,
    url: Url,
    tx: mpsc::Sender<Result<Packet, Error>>,
    mut rx: mpsc::UnboundedReceiver<Packet>,
    max_post: usize,
) {
    let mut carry: Option<Packet> = None;
    loop {
        let first = match carry.take() {
            Some(p) => p,
            None => match rx.recv().await {
                Some(p) => p,
                None => return,
            },
        };
        // Batch what is queued, within the server's maxPayload.
        let mut batch = vec![first];
        let mut size = 0;
        while let Ok(next) = rx.try_recv() {
            size += approx_len(&next);
            if size > max_post {
                carry = Some(next);
                break;
            }
            batch.push(next);
        }
        let body = encode_payload(&batch);
        let sent = http
            .post(url.clone())
            .header(CONTENT_TYPE, "text/plain;charset=UTF-8")
            .body(body)
            .timeout(Duration::from_secs(30))
            .send()
            .await;
        let ok = match sent {
            Ok(resp) => read_body(resp, 4096).await.map(|_| ()),
            Err(e) => Err(http_error("polling send", &e)),
        };
        if let Err(e) = ok {
            let _ = tx.send(Err(e)).await;
            return;
        }
    }
}

fn approx_len(p: &Packet) -> usize {
    match p {
        Packet::Text(_, s) => s.len() + 2,
        Packet::Binary(b) => b.len() * 4 / 3 + 4,
    }
}
