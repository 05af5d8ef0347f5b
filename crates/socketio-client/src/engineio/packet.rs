//! One Engine.IO v4 packet, and its encodings: a WebSocket frame, or a
//! record in an HTTP long-polling payload (records joined by `\x1e`, binary
//! records as `b` + base64).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;

use crate::error::DecodeError;

/// The record separator between packets in a polling payload.
pub const RECORD_SEPARATOR: char = '\x1e';

/// Engine.IO packet types (the leading digit of a text packet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum PacketType {
    /// Sent by the server first, with the [handshake](super::Handshake) JSON.
    Open = 0,
    /// Either side closes the session.
    Close = 1,
    /// Heartbeat from the server (or an upgrade probe from the client).
    Ping = 2,
    /// Answer to a ping.
    Pong = 3,
    /// A message: here, an encoded Socket.IO packet.
    Message = 4,
    /// Completes a transport upgrade.
    Upgrade = 5,
    /// Does nothing; used to end a pending poll during upgrade.
    Noop = 6,
}

impl PacketType {
    fn from_char(c: char) -> Result<Self, DecodeError> {
        Ok(match c {
            '0' => Self::Open,
            '1' => Self::Close,
            '2' => Self::Ping,
            '3' => Self::Pong,
            '4' => Self::Message,
            '5' => Self::Upgrade,
            '6' => Self::Noop,
            other => return Err(DecodeError::UnknownType(other)),
        })
    }

    fn as_char(self) -> char {
        (b'0' + self as u8) as char
    }
}

/// One Engine.IO packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    /// A packet with text data (possibly empty), e.g. `4…`, `2probe`, `0{…}`.
    Text(PacketType, String),
    /// A binary message (only [`PacketType::Message`] carries binary in v4).
    Binary(Bytes),
}

/// A packet as it travels in one WebSocket frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A text frame.
    Text(String),
    /// A binary frame.
    Binary(Bytes),
}

impl Packet {
    /// A text packet with no data (`1`, `2`, `3`, `5`, `6`).
    pub fn bare(kind: PacketType) -> Self {
        Self::Text(kind, String::new())
    }

    /// A text message (`4` + data).
    pub fn message(data: String) -> Self {
        Self::Text(PacketType::Message, data)
    }

    /// The packet's type.
    pub fn kind(&self) -> PacketType {
        match self {
            Self::Text(kind, _) => *kind,
            Self::Binary(_) => PacketType::Message,
        }
    }

    /// Decodes a text WebSocket frame (or one text record of a polling payload).
    pub fn decode_text(text: &str) -> Result<Self, DecodeError> {
        let mut chars = text.chars();
        let first = chars.next().ok_or(DecodeError::Empty)?;
        let kind = PacketType::from_char(first)?;
        Ok(Self::Text(kind, chars.as_str().to_owned()))
    }

    /// Decodes a binary WebSocket frame: in Engine.IO v4 it is always a
    /// message whose data is the frame itself.
    pub fn decode_binary(data: Bytes) -> Self {
        Self::Binary(data)
    }

    /// Encodes for one WebSocket frame.
    pub fn encode(&self) -> Frame {
        match self {
            Self::Text(kind, data) => {
                let mut s = String::with_capacity(data.len() + 1);
                s.push(kind.as_char());
                s.push_str(data);
                Frame::Text(s)
            }
            Self::Binary(data) => Frame::Binary(data.clone()),
        }
    }

    /// Appends this packet's polling record (without separator) to `out`.
    fn encode_record(&self, out: &mut String) {
        match self {
            Self::Text(kind, data) => {
                out.push(kind.as_char());
                out.push_str(data);
            }
            Self::Binary(data) => {
                out.push('b');
                BASE64.encode_string(data, out);
            }
        }
    }

    /// Decodes one record of a polling payload (`b…` records are base64 binary).
    pub fn decode_record(record: &str) -> Result<Self, DecodeError> {
        if let Some(b64) = record.strip_prefix('b') {
            let data = BASE64.decode(b64).map_err(|_| DecodeError::Base64)?;
            return Ok(Self::Binary(Bytes::from(data)));
        }
        Self::decode_text(record)
    }
}

/// Encodes packets as one HTTP long-polling payload.
pub fn encode_payload(packets: &[Packet]) -> String {
    let mut out = String::new();
    for (i, p) in packets.iter().enumerate() {
        if i > 0 {
            out.push(RECORD_SEPARATOR);
        }
        p.encode_record(&mut out);
    }
    out
}

/// Decodes an HTTP long-polling payload into its packets.
pub fn decode_payload(body: &str) -> Result<Vec<Packet>, DecodeError> {
    if body.is_empty() {
        return Err(DecodeError::Empty);
    }
    body.split(RECORD_SEPARATOR)
        .map(Packet::decode_record)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trip() {
        for raw in [
            "0{\"sid\":\"a\"}",
            "1",
            "2",
            "3probe",
            "42[\"ev\"]",
            "5",
            "6",
        ] {
            let p = Packet::decode_text(raw).unwrap();
            assert_eq!(p.encode(), Frame::Text(raw.to_owned()));
        }
    }

    #[test]
    fn rejects_unknown_type_and_empty() {
        assert_eq!(Packet::decode_text("7"), Err(DecodeError::UnknownType('7')));
        assert_eq!(Packet::decode_text("x"), Err(DecodeError::UnknownType('x')));
        assert_eq!(Packet::decode_text(""), Err(DecodeError::Empty));
    }

    #[test]
    fn payload_mixes_text_and_binary() {
        let packets = vec![
            Packet::message("hello €".into()),
            Packet::Binary(Bytes::from_static(&[1, 2, 3, 4])),
            Packet::bare(PacketType::Noop),
        ];
        let body = encode_payload(&packets);
        assert_eq!(body, "4hello €\x1ebAQIDBA==\x1e6");
        assert_eq!(decode_payload(&body).unwrap(), packets);
    }

    #[test]
    fn payload_rejects_bad_records() {
        assert!(decode_payload("").is_err());
        assert!(decode_payload("4a\x1e").is_err());
        assert_eq!(decode_payload("b!!!"), Err(DecodeError::Base64));
    }
}
