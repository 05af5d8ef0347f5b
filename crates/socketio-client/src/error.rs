//! Error types: [`DecodeError`] for the pure codecs, [`Error`] for the client.

use std::time::Duration;

/// A packet that could not be decoded. Returned by the pure codecs; never a panic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The input was empty where a packet was expected.
    #[error("empty packet")]
    Empty,
    /// The packet type digit is not one the protocol defines.
    #[error("unknown packet type {0:?}")]
    UnknownType(char),
    /// A binary attachment count was malformed (missing `-`, not a number, too large).
    #[error("malformed attachment count")]
    BadAttachmentCount,
    /// A namespace was not terminated by `,`, or does not start with `/`.
    #[error("malformed namespace")]
    BadNamespace,
    /// An ack id did not fit in 64 bits.
    #[error("ack id out of range")]
    BadAckId,
    /// The JSON payload did not parse.
    #[error("invalid JSON payload: {0}")]
    Json(String),
    /// The payload parsed but has the wrong shape for the packet type
    /// (for example an EVENT whose first element is not a string).
    #[error("invalid payload for {0} packet")]
    InvalidPayload(&'static str),
    /// A binary placeholder refers to an attachment that does not exist.
    #[error("binary placeholder {0} out of range")]
    BadPlaceholder(u64),
    /// A text frame arrived while a binary packet was still waiting for attachments.
    #[error("text frame while {0} binary attachment(s) are still expected")]
    UnexpectedText(usize),
    /// One packet's binary attachments total more than the limit (bytes).
    #[error("binary attachments of one packet over {0} bytes")]
    AttachmentsTooLarge(usize),
    /// A binary frame arrived while no binary packet was waiting for it.
    #[error("unexpected binary frame")]
    UnexpectedBinary,
    /// A base64 chunk in a polling payload did not decode.
    #[error("invalid base64 in polling payload")]
    Base64,
    /// The Engine.IO open packet was missing fields or malformed.
    #[error("invalid open packet: {0}")]
    BadOpen(String),
}

/// What went wrong in the client.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server URL could not be parsed or has an unsupported scheme.
    #[error("invalid server URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// Why it was refused.
        reason: String,
    },
    /// TLS set-up failed (for example an unreadable custom CA).
    #[error("TLS configuration: {0}")]
    Tls(String),
    /// Connecting the transport failed.
    #[error("transport: {0}")]
    Transport(String),
    /// The peer sent something that is not Engine.IO / Socket.IO.
    #[error("protocol: {0}")]
    Protocol(#[from] DecodeError),
    /// The connection attempt took longer than the configured timeout.
    #[error("connection timed out after {0:?}")]
    ConnectTimeout(Duration),
    /// The offline send buffer is full; the emit was not queued.
    #[error("send buffer full ({0} packets queued while disconnected)")]
    BufferFull(usize),
    /// The client was closed (by `disconnect()` or because every handle was dropped).
    #[error("client is closed")]
    Closed,
    /// The server did not acknowledge within the timeout.
    #[error("no acknowledgement within {0:?}")]
    AckTimeout(Duration),
    /// The connection dropped before the server acknowledged.
    #[error("connection lost before the acknowledgement arrived")]
    AckLost,
    /// A payload could not be serialized to JSON.
    #[error("payload does not serialize to JSON: {0}")]
    Serialize(String),
}
