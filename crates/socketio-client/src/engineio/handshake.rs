//! The Engine.IO open packet (`0{"sid":…,"pingInterval":…}`) a server sends first.

use std::time::Duration;

use serde::Deserialize;

use crate::error::DecodeError;

/// The parameters a server announces in its open packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handshake {
    /// Engine.IO session id.
    pub sid: String,
    /// Transports the server will upgrade to (usually `["websocket"]` over polling).
    pub upgrades: Vec<String>,
    /// How often the server sends a ping.
    pub ping_interval: Duration,
    /// How long the server waits for a pong; the client allows
    /// `ping_interval + ping_timeout` between pings before it gives up.
    pub ping_timeout: Duration,
    /// Largest payload the server accepts in one HTTP request (bytes).
    pub max_payload: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Raw {
    sid: String,
    #[serde(default)]
    upgrades: Vec<String>,
    ping_interval: u64,
    ping_timeout: u64,
    #[serde(default = "default_max_payload")]
    max_payload: u64,
}

fn default_max_payload() -> u64 {
    1_000_000
}

impl Handshake {
    /// Parses the JSON data of an open packet.
    pub fn parse(json: &str) -> Result<Self, DecodeError> {
        let raw: Raw =
            serde_json::from_str(json).map_err(|e| DecodeError::BadOpen(e.to_string()))?;
        if raw.sid.is_empty() {
            return Err(DecodeError::BadOpen("empty sid".into()));
        }
        Ok(Self {
            sid: raw.sid,
            upgrades: raw.upgrades,
            ping_interval: Duration::from_millis(raw.ping_interval),
            ping_timeout: Duration::from_millis(raw.ping_timeout),
            max_payload: raw.max_payload,
        })
    }

    /// The longest silence allowed between two pings before the connection is
    /// declared dead.
    pub fn heartbeat_deadline(&self) -> Duration {
        self.ping_interval + self.ping_timeout
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_node_open_packet() {
        let h = Handshake::parse(
            r#"{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}"#,
        )
        .unwrap();
        assert_eq!(h.sid, "lv_VI97HAXpY6yYWAAAC");
        assert_eq!(h.upgrades, vec!["websocket"]);
        assert_eq!(h.heartbeat_deadline(), Duration::from_secs(45));
    }

    #[test]
    fn rejects_missing_fields() {
        assert!(Handshake::parse(r#"{"sid":"x"}"#).is_err());
        assert!(Handshake::parse(r#"{"sid":"","pingInterval":1,"pingTimeout":1}"#).is_err());
        assert!(Handshake::parse("not json").is_err());
    }
}
