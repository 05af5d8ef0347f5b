//! A Socket.IO v5 client (Engine.IO v4) for tokio, made for connections
//! that stay up for months: it reconnects by itself, buffers what is emitted
//! while offline, recovers missed packets when the server supports it, and
//! never panics on what the network sends.
//!
//! ```no_run
//! # async fn demo() -> Result<(), pushdesk_socketio::Error> {
//! use pushdesk_socketio::{ClientBuilder, SocketEvent};
//! use serde_json::json;
//!
//! let (client, socket, mut events) = ClientBuilder::new("http://127.0.0.1:5000").connect()?;
//! socket.emit("text_update_request", json!({"text": "hello"}))?;
//! while let Some(event) = events.next().await {
//!     if let SocketEvent::Event(ev) = event {
//!         println!("{} {:?}", ev.name, ev.payload.args);
//!     }
//! }
//! # drop(client); Ok(()) }
//! ```
//!
//! # Map
//!
//! Layers, each talking only to the one below:
//!
//! * [`engineio`]: Engine.IO packets, polling payloads and the handshake. Pure.
//! * [`socketio`]: Socket.IO packets, binary placeholders, reassembly. Pure.
//! * [`backoff`]: the reconnection policy (exponential backoff with jitter). Pure.
//! * `transport`: WebSocket and HTTP long-polling, as background tasks behind one handle.
//! * `engine`: opens a session (transport choice, handshake, upgrade probe).
//! * `client`: [`Client`] and its driver task: heartbeat, namespaces,
//!   acks, offline buffer, reconnection, recovery.
//! * `socket`: [`Socket`] to emit, [`Events`] to receive, per namespace.
//! * `config`, `tls`, `payload`, `state`, `error`: options, TLS set-up,
//!   event arguments, observable state, error types.

pub mod backoff;
mod client;
mod config;
mod engine;
pub mod engineio;
mod error;
mod payload;
mod socket;
pub mod socketio;
mod state;
mod tls;
mod transport;

pub use backoff::ReconnectPolicy;
pub use client::Client;
pub use config::{AuthFn, ClientBuilder, Config, TransportMode};
pub use error::{DecodeError, Error};
pub use payload::Payload;
pub use socket::{Event, Events, Socket, SocketEvent};
pub use socketio::placeholder;
pub use state::{ConnectionState, DisconnectReason};
pub use tls::TlsOptions;
pub use transport::TransportKind;

/// Re-exported so callers need no direct dependency to build payloads.
pub use bytes::Bytes;
pub use serde_json::{Value, json};
