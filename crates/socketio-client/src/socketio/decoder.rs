//! Reassembles packets from frames: a binary packet's text frame is followed
//! by one binary frame per attachment.

use bytes::Bytes;

use super::packet::Packet;
use crate::error::DecodeError;

/// Stateful reassembly of Socket.IO packets from Engine.IO messages.
///
/// The attachments of one packet may total at most the decoder's limit
/// ([`Decoder::with_attachment_limit`]; none by default): a server that
/// announces many attachments cannot make it hold more than that.
#[derive(Debug)]
pub struct Decoder {
    pending: Option<(Packet, usize)>,
    /// Bytes of the pending packet's attachments so far.
    pending_bytes: usize,
    /// Bytes of the pending packet's text frame.
    pending_text: usize,
    max_attachment_bytes: usize,
    /// Wire size of the last packet returned (its text and attachments).
    last_size: usize,
}

impl Default for Decoder {
    fn default() -> Self {
        Self::with_attachment_limit(usize::MAX)
    }
}

impl Decoder {
    /// A decoder with nothing pending and no limit on attachments.
    pub fn new() -> Self {
        Self::default()
    }

    /// A decoder whose packets' attachments may total at most `bytes`.
    pub fn with_attachment_limit(bytes: usize) -> Self {
        Self {
            pending: None,
            pending_bytes: 0,
            pending_text: 0,
            max_attachment_bytes: bytes,
            last_size: 0,
        }
    }

    /// The size on the wire (text frame plus attachments) of the last
    /// packet [`Decoder::feed_text`] or [`Decoder::feed_binary`] returned.
    pub fn last_size(&self) -> usize {
        self.last_size
    }

    /// Feeds a text message. Returns the packet when it is complete, `None`
    /// when binary attachments are still to come.
    pub fn feed_text(&mut self, text: &str) -> Result<Option<Packet>, DecodeError> {
        if let Some((_, expected)) = self.pending.take() {
            return Err(DecodeError::UnexpectedText(expected));
        }
        let (packet, attachments) = Packet::decode(text)?;
        if attachments == 0 {
            self.last_size = text.len();
            return Ok(Some(packet));
        }
        self.pending = Some((packet, attachments));
        self.pending_bytes = 0;
        self.pending_text = text.len();
        Ok(None)
    }

    /// Feeds a binary message (one attachment). Fails, dropping the packet,
    /// when its attachments would total more than the limit.
    pub fn feed_binary(&mut self, data: Bytes) -> Result<Option<Packet>, DecodeError> {
        let (mut packet, expected) = self.pending.take().ok_or(DecodeError::UnexpectedBinary)?;
        self.pending_bytes = self.pending_bytes.saturating_add(data.len());
        if self.pending_bytes > self.max_attachment_bytes {
            return Err(DecodeError::AttachmentsTooLarge(self.max_attachment_bytes));
        }
        packet.attachments.push(data);
        if packet.attachments.len() == expected {
            self.last_size = self.pending_text.saturating_add(self.pending_bytes);
            Ok(Some(packet))
        } else {
            self.pending = Some((packet, expected));
            Ok(None)
        }
    }

    /// Drops a half-received packet (after the transport changed or closed).
    pub fn reset(&mut self) {
        self.pending = None;
        self.pending_bytes = 0;
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

    #[test]
    fn attachments_over_the_limit_are_refused_and_the_packet_dropped() {
        let mut d = Decoder::with_attachment_limit(10);
        let head = r#"52-["e",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#;
        assert_eq!(d.feed_text(head), Ok(None));
        assert_eq!(d.feed_binary(Bytes::from_static(b"123456")), Ok(None));
        assert_eq!(
            d.feed_binary(Bytes::from_static(b"123456")),
            Err(DecodeError::AttachmentsTooLarge(10))
        );
        assert_eq!(
            d.feed_binary(Bytes::from_static(b"1")),
            Err(DecodeError::UnexpectedBinary)
        );
        // Within the limit, the size on the wire is the text plus the attachments.
        assert_eq!(d.feed_text(head), Ok(None));
        assert_eq!(d.feed_binary(Bytes::from_static(b"12345")), Ok(None));
        assert!(
            d.feed_binary(Bytes::from_static(b"12345"))
                .unwrap()
                .is_some()
        );
        assert_eq!(d.last_size(), head.len() + 10);
    }
}
