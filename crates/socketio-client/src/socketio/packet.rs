//! One Socket.IO v5 packet and its text encoding:
//! `<type>[<attachments>-][<namespace>,][<ack id>][<JSON data>]`.

use std::borrow::Cow;

use bytes::Bytes;
use serde_json::Value;

use super::binary::check_placeholders;
use crate::error::DecodeError;

/// Largest number of binary attachments one packet may announce.
pub const MAX_ATTACHMENTS: usize = 1024;

/// The default namespace.
pub const MAIN_NAMESPACE: &str = "/";

/// Socket.IO packet types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum PacketType {
    /// Connect to a namespace (client → server with auth, server → client with sid).
    Connect = 0,
    /// Leave a namespace.
    Disconnect = 1,
    /// An event: `["name", args…]`.
    Event = 2,
    /// The answer to an event that carried an ack id.
    Ack = 3,
    /// The server refused a namespace connection.
    ConnectError = 4,
    /// An event with binary attachments.
    BinaryEvent = 5,
    /// An ack with binary attachments.
    BinaryAck = 6,
}

impl PacketType {
    fn from_byte(b: u8) -> Result<Self, DecodeError> {
        Ok(match b {
            b'0' => Self::Connect,
            b'1' => Self::Disconnect,
            b'2' => Self::Event,
            b'3' => Self::Ack,
            b'4' => Self::ConnectError,
            b'5' => Self::BinaryEvent,
            b'6' => Self::BinaryAck,
            other => return Err(DecodeError::UnknownType(other as char)),
        })
    }

    /// Whether packets of this type announce binary attachments.
    pub fn is_binary(self) -> bool {
        matches!(self, Self::BinaryEvent | Self::BinaryAck)
    }

    fn name(self) -> &'static str {
        match self {
            Self::Connect => "CONNECT",
            Self::Disconnect => "DISCONNECT",
            Self::Event => "EVENT",
            Self::Ack => "ACK",
            Self::ConnectError => "CONNECT_ERROR",
            Self::BinaryEvent => "BINARY_EVENT",
            Self::BinaryAck => "BINARY_ACK",
        }
    }
}

/// One Socket.IO packet. Binary attachments are kept beside the JSON, which
/// holds placeholders where they belong (see [`super::binary`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Packet {
    /// The packet type.
    pub kind: PacketType,
    /// The namespace, `/` by default.
    pub nsp: Cow<'static, str>,
    /// The ack id, when the sender wants an acknowledgement (or this is one).
    pub id: Option<u64>,
    /// The JSON data, if any.
    pub data: Option<Value>,
    /// Binary attachments, in placeholder order.
    pub attachments: Vec<Bytes>,
}

fn nsp_cow(nsp: &str) -> Cow<'static, str> {
    if nsp == MAIN_NAMESPACE {
        Cow::Borrowed(MAIN_NAMESPACE)
    } else {
        Cow::Owned(nsp.to_owned())
    }
}

impl Packet {
    /// A CONNECT for `nsp` with optional auth data.
    pub fn connect(nsp: &str, auth: Option<Value>) -> Self {
        Self {
            kind: PacketType::Connect,
            nsp: nsp_cow(nsp),
            id: None,
            data: auth,
            attachments: Vec::new(),
        }
    }

    /// A DISCONNECT for `nsp`.
    pub fn disconnect(nsp: &str) -> Self {
        Self {
            kind: PacketType::Disconnect,
            nsp: nsp_cow(nsp),
            id: None,
            data: None,
            attachments: Vec::new(),
        }
    }

    /// An EVENT (or BINARY_EVENT when `attachments` is not empty).
    pub fn event(
        nsp: &str,
        name: &str,
        args: Vec<Value>,
        attachments: Vec<Bytes>,
        id: Option<u64>,
    ) -> Self {
        let mut array = Vec::with_capacity(args.len() + 1);
        array.push(Value::String(name.to_owned()));
        array.extend(args);
        let kind = if attachments.is_empty() {
            PacketType::Event
        } else {
            PacketType::BinaryEvent
        };
        Self {
            kind,
            nsp: nsp_cow(nsp),
            id,
            data: Some(Value::Array(array)),
            attachments,
        }
    }

    /// An ACK (or BINARY_ACK when `attachments` is not empty) answering `id`.
    pub fn ack(nsp: &str, id: u64, args: Vec<Value>, attachments: Vec<Bytes>) -> Self {
        let kind = if attachments.is_empty() {
            PacketType::Ack
        } else {
            PacketType::BinaryAck
        };
        Self {
            kind,
            nsp: nsp_cow(nsp),
            id: Some(id),
            data: Some(Value::Array(args)),
            attachments,
        }
    }

    /// The event name of an EVENT / BINARY_EVENT.
    pub fn event_name(&self) -> Option<&str> {
        match (&self.kind, &self.data) {
            (PacketType::Event | PacketType::BinaryEvent, Some(Value::Array(a))) => {
                a.first()?.as_str()
            }
            _ => None,
        }
    }

    /// Encodes the packet: the text frame, then the attachments as binary frames.
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(32);
        out.push((b'0' + self.kind as u8) as char);
        if self.kind.is_binary() {
            out.push_str(itoa::Buffer::new().format(self.attachments.len()));
            out.push('-');
        }
        if self.nsp != MAIN_NAMESPACE {
            out.push_str(&self.nsp);
            out.push(',');
        }
        if let Some(id) = self.id {
            out.push_str(itoa::Buffer::new().format(id));
        }
        if let Some(data) = &self.data {
            // Serializing a `Value` cannot fail: its map keys are strings.
            let json = serde_json::to_string(data).unwrap_or_default();
            out.push_str(&json);
        }
        out
    }

    /// Decodes the text part of a packet. For binary types the returned
    /// packet's `attachments` is empty and the second value says how many
    /// binary frames follow; see [`super::Decoder`] for the reassembly.
    pub fn decode(text: &str) -> Result<(Self, usize), DecodeError> {
        let bytes = text.as_bytes();
        let first = *bytes.first().ok_or(DecodeError::Empty)?;
        let kind = PacketType::from_byte(first)?;
        let mut i = 1;

        let mut attachments = 0usize;
        if kind.is_binary() {
            let dash = text[i..].find('-').ok_or(DecodeError::BadAttachmentCount)? + i;
            let digits = &text[i..dash];
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(DecodeError::BadAttachmentCount);
            }
            attachments = digits
                .parse()
                .map_err(|_| DecodeError::BadAttachmentCount)?;
            if attachments > MAX_ATTACHMENTS {
                return Err(DecodeError::BadAttachmentCount);
            }
            i = dash + 1;
        }

        let mut nsp = Cow::Borrowed(MAIN_NAMESPACE);
        if bytes.get(i) == Some(&b'/') {
            let end = text[i..].find(',').map_or(text.len(), |c| c + i);
            nsp = nsp_cow(&text[i..end]);
            i = (end + 1).min(text.len());
        }

        let digits_end = bytes[i..]
            .iter()
            .position(|b| !b.is_ascii_digit())
            .map_or(bytes.len(), |p| p + i);
        let mut id = None;
        if digits_end > i {
            id = Some(
                text[i..digits_end]
                    .parse::<u64>()
                    .map_err(|_| DecodeError::BadAckId)?,
            );
            i = digits_end;
        }

        let rest = &text[i..];
        let data = if rest.is_empty() {
            None
        } else {
            Some(
                serde_json::from_str::<Value>(rest)
                    .map_err(|e| DecodeError::Json(e.to_string()))?,
            )
        };

        validate(kind, data.as_ref())?;
        if let Some(d) = &data
            && attachments > 0
        {
            check_placeholders(d, attachments)?;
        }
        Ok((
            Self {
                kind,
                nsp,
                id,
                data,
                attachments: Vec::new(),
            },
            attachments,
        ))
    }
}

/// The payload rules of the reference parser: which JSON shapes each type may carry.
fn validate(kind: PacketType, data: Option<&Value>) -> Result<(), DecodeError> {
    let ok = match kind {
        PacketType::Connect => matches!(data, None | Some(Value::Object(_))),
        PacketType::Disconnect => data.is_none(),
        PacketType::ConnectError => matches!(data, Some(Value::String(_) | Value::Object(_))),
        PacketType::Event | PacketType::BinaryEvent => match data {
            Some(Value::Array(a)) => matches!(a.first(), Some(Value::String(_) | Value::Number(_))),
            _ => false,
        },
        PacketType::Ack | PacketType::BinaryAck => matches!(data, Some(Value::Array(_))),
    };
    if ok {
        Ok(())
    } else {
        Err(DecodeError::InvalidPayload(kind.name()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::socketio::placeholder;
    use serde_json::json;

    fn dec(s: &str) -> Packet {
        let (p, n) = Packet::decode(s).unwrap();
        assert_eq!(n, 0);
        p
    }

    #[test]
    fn decodes_each_type() {
        let p = dec("0");
        assert_eq!(
            (p.kind, p.nsp.as_ref(), p.data),
            (PacketType::Connect, "/", None)
        );
        let p = dec("0/admin,{\"token\":\"x\"}");
        assert_eq!(p.nsp, "/admin");
        assert_eq!(p.data, Some(json!({"token": "x"})));
        assert_eq!(dec("1/admin,").kind, PacketType::Disconnect);
        let p = dec("2[\"hello\",1]");
        assert_eq!(p.event_name(), Some("hello"));
        let p = dec("2/admin,456[\"project:delete\",123]");
        assert_eq!((p.nsp.as_ref(), p.id), ("/admin", Some(456)));
        let p = dec("3/admin,456[]");
        assert_eq!(
            (p.kind, p.id, p.data),
            (PacketType::Ack, Some(456), Some(json!([])))
        );
        assert_eq!(
            dec("4{\"message\":\"Not authorized\"}").data,
            Some(json!({"message": "Not authorized"}))
        );
        assert_eq!(
            dec("4/ns,\"Unable to connect\"").data,
            Some(json!("Unable to connect"))
        );
    }

    #[test]
    fn decodes_binary_header() {
        let (p, n) = Packet::decode("51-[\"hello\",{\"_placeholder\":true,\"num\":0}]").unwrap();
        assert_eq!((p.kind, n), (PacketType::BinaryEvent, 1));
        let (p, n) = Packet::decode("61-/admin,456[{\"_placeholder\":true,\"num\":0}]").unwrap();
        assert_eq!(
            (p.kind, n, p.nsp.as_ref(), p.id),
            (PacketType::BinaryAck, 1, "/admin", Some(456))
        );
    }

    #[test]
    fn encodes_like_the_reference() {
        assert_eq!(Packet::connect("/", None).encode(), "0");
        assert_eq!(
            Packet::connect("/admin", Some(json!({"a": 1}))).encode(),
            "0/admin,{\"a\":1}"
        );
        assert_eq!(Packet::disconnect("/admin").encode(), "1/admin,");
        assert_eq!(
            Packet::event("/", "ev", vec![json!(1)], vec![], Some(12)).encode(),
            "212[\"ev\",1]"
        );
        let bin = Packet::event(
            "/",
            "up",
            vec![placeholder(0)],
            vec![Bytes::from_static(b"x")],
            None,
        );
        assert_eq!(
            bin.encode(),
            "51-[\"up\",{\"_placeholder\":true,\"num\":0}]"
        );
        assert_eq!(Packet::ack("/x", 3, vec![], vec![]).encode(), "3/x,3[]");
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "9",
            "a",
            "2",
            "2{}",
            "2[]",
            "2[{}]",
            "3{}",
            "1[]",
            "0[]",
            "4",
            "4[1]",
            "5[\"a\"]",
            "5x-[\"a\"]",
            "5-[\"a\"]",
            "599999-[\"a\"]",
            "2[\"a\"",
            "2[\"a\"] x",
            "299999999999999999999[\"a\"]",
            "51-[\"a\",{\"_placeholder\":true,\"num\":1}]",
        ] {
            assert!(Packet::decode(bad).is_err(), "{bad:?} should be rejected");
        }
    }
}
