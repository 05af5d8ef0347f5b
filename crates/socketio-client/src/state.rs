//! What an application can observe: the connection's [`ConnectionState`] and
//! why a namespace was left ([`DisconnectReason`]).

use std::fmt;
use std::time::Duration;

use crate::transport::TransportKind;

/// The state of the client's connection to the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectionState {
    /// The first connection attempt is under way.
    Connecting,
    /// An Engine.IO session is open.
    Connected {
        /// The transport in use (changes on upgrade).
        transport: TransportKind,
    },
    /// The connection was lost or an attempt failed; the next attempt waits `delay`.
    Reconnecting {
        /// 1 for the first retry, growing until an attempt succeeds.
        attempt: u32,
        /// How long until this attempt.
        delay: Duration,
        /// Why the previous session or attempt ended.
        error: String,
    },
    /// The client stopped and will not reconnect.
    Disconnected {
        /// Why it stopped.
        reason: DisconnectReason,
    },
}

/// Why a namespace (or the whole client) was disconnected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DisconnectReason {
    /// The server sent DISCONNECT for the namespace; not reconnected.
    IoServerDisconnect,
    /// The application called `disconnect()`.
    IoClientDisconnect,
    /// No ping within pingInterval + pingTimeout; reconnecting.
    PingTimeout,
    /// The server closed the connection; reconnecting.
    TransportClose,
    /// The transport failed; reconnecting.
    TransportError(String),
    /// The server refused the namespace (CONNECT_ERROR); not reconnected.
    ConnectError,
    /// Reconnection is disabled or its attempts are used up.
    ReconnectFailed(String),
    /// Every handle to the client was dropped.
    ClientDropped,
}

impl DisconnectReason {
    /// Whether the client reconnects by itself after this.
    pub fn will_reconnect(&self) -> bool {
        matches!(
            self,
            Self::PingTimeout | Self::TransportClose | Self::TransportError(_)
        )
    }
}

impl fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::IoServerDisconnect => f.write_str("io server disconnect"),
            Self::IoClientDisconnect => f.write_str("io client disconnect"),
            Self::PingTimeout => f.write_str("ping timeout"),
            Self::TransportClose => f.write_str("transport close"),
            Self::TransportError(e) => write!(f, "transport error: {e}"),
            Self::ConnectError => f.write_str("connect error"),
            Self::ReconnectFailed(e) => write!(f, "reconnect failed: {e}"),
            Self::ClientDropped => f.write_str("client dropped"),
        }
    }
}

impl fmt::Display for ConnectionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Connecting => f.write_str("connecting"),
            Self::Connected { transport } => write!(f, "connected ({transport})"),
            Self::Reconnecting {
                attempt,
                delay,
                error,
            } => {
                write!(
                    f,
                    "reconnecting (attempt {attempt} in {:.1} s; {error})",
                    delay.as_secs_f64()
                )
            }
            Self::Disconnected { reason } => write!(f, "disconnected ({reason})"),
        }
    }
}
