//! Reassembles packets from frames: a binary packet's text frame is followed
//! by one binary frame per attachment.

use bytes::Bytes;

use super::packet::Packet;
use crate::error::DecodeError;

/// Stateful reassembly of Socket.IO packets from Engine.IO messages.
#[derive(Debug, Default)]
pub struct Decoder {
    pending: Option<(Packet, usize)>,
}

impl Decoder {
    /// A decoder with nothing pending.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds a text message. Returns the packet when it is complete, `None`
    /// when binary attachments are still to come.
    pub fn feed_text(&mut self, text: &str) -> Result<Option<Packet>, DecodeError> {
        if let Some((_, expected)) = self.pending.take() {
            return Err(DecodeError::UnexpectedText(expected));
        }
        let (packet, attachments) = Packet::decode(text)?;
        if attachments == 0 {
            return Ok(Some(packet));
        }
        self.pending = Some((packet, attachments));
        Ok(None)
    }

    /// Feeds a binary message (one attachment).
    pub fn feed_binary(&mut self, data: Bytes) -> Result<Option<Packet>, DecodeError> {
        let (mut packet, expected) = self.pending.take().ok_or(DecodeError::UnexpectedBinary)?;
        packet.attachments.push(data);
        if packet.attachments.len() == expected {
            Ok(Some(packet))
        } else {
            self.pending = Some((packet, expected));
            Ok(None)
        }
    }

    /// Drops a half-received packet (after the transport changed or closed).
    pub fn reset(&mut self) {
        self.pending = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::socketio::{PacketType, placeholder};
    use serde_json::json;

    #[test]
    fn reassembles_several_attachments() {
        let mut d = Decoder::new();
        let text = Packet::event(
            "/",
            "files",
            vec![placeholder(0), json!({"b": placeholder(1)}), json!("x")],
            vec![Bytes::from_static(b"a"), Bytes::from_static(b"bb")],
            None,
        )
        .encode();
        assert_eq!(d.feed_text(&text).unwrap(), None);
        assert_eq!(d.feed_binary(Bytes::from_static(b"a")).unwrap(), None);
        let p = d.feed_binary(Bytes::from_static(b"bb")).unwrap().unwrap();
        assert_eq!(p.kind, PacketType::BinaryEvent);
        assert_eq!(
            p.attachments,
            vec![Bytes::from_static(b"a"), Bytes::from_static(b"bb")]
        );
    }

    #[test]
    fn rejects_out_of_order_frames() {
        let mut d = Decoder::new();
        assert_eq!(
            d.feed_binary(Bytes::new()),
            Err(DecodeError::UnexpectedBinary)
        );
        assert_eq!(
            d.feed_text("51-[\"a\",{\"_placeholder\":true,\"num\":0}]")
                .unwrap(),
            None
        );
        assert_eq!(d.feed_text("2[\"b\"]"), Err(DecodeError::UnexpectedText(1)));
        // After the error the decoder starts over.
        assert!(d.feed_text("2[\"b\"]").unwrap().is_some());
    }
}
