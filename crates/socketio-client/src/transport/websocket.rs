//! The WebSocket transport on tokio-tungstenite (rustls for `wss://`).

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

use super::{INCOMING_CAPACITY, Transport, TransportKind};
use crate::config::Config;
use crate::engineio::{Frame, Packet};
use crate::error::Error;

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Initial read buffer of a WebSocket; typical packets are far smaller.
const READ_BUFFER: usize = 8 * 1024;

/// Opens a WebSocket to the server (joining session `sid` when upgrading)
/// and starts its reader and writer tasks.
pub(crate) async fn open(cfg: &Config, sid: Option<&str>) -> Result<Transport, Error> {
    let url = cfg.engine_url("websocket", sid);
    let mut request = url
        .as_str()
        .into_client_request()
        .map_err(|e| Error::Transport(e.to_string()))?;
    for (name, value) in &cfg.headers {
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|e| Error::Transport(format!("header {name:?}: {e}")))?;
        let value = HeaderValue::from_str(value)
            .map_err(|e| Error::Transport(format!("header value: {e}")))?;
        request.headers_mut().append(name, value);
    }
    // tungstenite zero-fills its read buffer before every read, so a small
    // one (it grows for large messages) saves a 128 KiB memset per poll.
    let ws_config = WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
        .max_message_size(Some(cfg.max_message))
        .max_frame_size(Some(cfg.max_message));
    let connector = Connector::Rustls(cfg.tls.clone());
    let (ws, _response) = tokio_tungstenite::connect_async_tls_with_config(
        request,
        Some(ws_config),
        true,
        Some(connector),
    )
    .await
    .map_err(|e| Error::Transport(format!("websocket {}: {e}", redact(&url))))?;
    Ok(spawn(ws))
}

/// The URL without its query (which may carry tokens), for messages.
fn redact(url: &url::Url) -> String {
    let mut u = url.clone();
    u.set_query(None);
    u.to_string()
}

fn spawn(ws: Ws) -> Transport {
    let (mut sink, mut stream) = ws.split();
    let (in_tx, in_rx) = mpsc::channel(INCOMING_CAPACITY);
    let (out_tx, mut out_rx) = mpsc::unbounded_channel::<Packet>();

    let reader_tx = in_tx.clone();
    let reader = tokio::spawn(async move {
        while let Some(msg) = stream.next().await {
            let packet = match msg {
                Ok(Message::Text(text)) => Packet::decode_text(text.as_str()).map_err(Error::from),
                Ok(Message::Binary(data)) => Ok(Packet::decode_binary(data)),
                Ok(Message::Close(_)) => break,
                Ok(_) => continue,
                Err(e) => Err(Error::Transport(format!("websocket read: {e}"))),
            };
            let failed = packet.is_err();
            if reader_tx.send(packet).await.is_err() || failed {
                return;
            }
        }
        let _ = reader_tx
            .send(Err(Error::Transport("websocket closed by peer".into())))
            .await;
    });

    let writer = tokio::spawn(async move {
        while let Some(first) = out_rx.recv().await {
            // Batch whatever else is already queued into one flush.
            let mut result = sink.feed(to_message(&first)).await;
            while result.is_ok() {
                match out_rx.try_recv() {
                    Ok(next) => result = sink.feed(to_message(&next)).await,
                    Err(_) => break,
                }
            }
            if let Err(e) = result.and(sink.flush().await) {
                let _ = in_tx
                    .send(Err(Error::Transport(format!("websocket write: {e}"))))
                    .await;
                return;
            }
        }
        let _ = sink.close().await;
    });

    Transport::new(
        TransportKind::WebSocket,
        out_tx,
        in_rx,
        reader,
        writer,
        None,
    )
}

fn to_message(packet: &Packet) -> Message {
    match packet.encode() {
        Frame::Text(s) => Message::text(s),
        Frame::Binary(b) => Message::Binary(b),
    }
}
