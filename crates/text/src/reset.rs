//! [`Reset`] and [`Rebase`]: how a Yjs peer moves to a new epoch of the
//! document ([`crate::epoch`]), each one binary argument of its event,
//! framed as lib0 (varuints and length-prefixed bytes, as Yjs writes).
//!
//! * `text_reset` (hub → peer) `[epoch, has_base, base?, doc]`: the
//!   document is now `doc`, of `epoch`. When the peer's document is of an
//!   epoch the hub still keeps, `base` is the state vector to diff it
//!   against; without one, its unsent edits cannot be merged.
//! * `text_rebase` (peer → hub) `[from, to, update]`: what the hub lacked
//!   of the peer's document of epoch `from` (its diff against `base`; empty
//!   without one), sent as the peer takes the document of epoch `to`, and
//!   again after a reconnect until acked. From then on its `text_sync`
//!   messages are of `to`.

use yrs::encoding::read::{Cursor, Read};
use yrs::encoding::write::Write;

use crate::epoch::Epoch;
use crate::{SharedText, TextError};

/// The `text_reset` event's argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reset {
    /// The epoch the peer moves to.
    pub epoch: Epoch,
    /// The state vector to diff the peer's document against (`None`: its
    /// epoch is too old to merge).
    pub base: Option<Vec<u8>>,
    /// The document of `epoch`, as one update.
    pub doc: Vec<u8>,
}

/// The `text_rebase` event's argument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rebase {
    /// The epoch of the peer's old document.
    pub from: Epoch,
    /// The epoch it moved to.
    pub to: Epoch,
    /// What the hub lacked of the old document (a Yjs v1 update).
    pub update: Vec<u8>,
}

fn bad(e: yrs::encoding::read::Error) -> TextError {
    TextError::malformed("epoch message", e)
}

fn done(r: &Cursor<'_>) -> Result<(), TextError> {
    if r.has_content() {
        Err(TextError::malformed("epoch message", "trailing bytes"))
    } else {
        Ok(())
    }
}

impl Reset {
    /// The bytes to send.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.doc.len() + 16);
        out.write_var(self.epoch);
        match &self.base {
            Some(base) => {
                out.write_var(1u32);
                out.write_buf(base);
            }
            None => out.write_var(0u32),
        }
        out.write_buf(&self.doc);
        out
    }

    /// Reads one; malformed bytes are an error, never a panic.
    pub fn decode(bytes: &[u8]) -> Result<Self, TextError> {
        let mut r = Cursor::new(bytes);
        let epoch = r.read_var().map_err(bad)?;
        let base = match r.read_var::<u32>().map_err(bad)? {
            0 => None,
            _ => Some(r.read_buf().map_err(bad)?.to_vec()),
        };
        let doc = r.read_buf().map_err(bad)?.to_vec();
        done(&r)?;
        Ok(Self { epoch, base, doc })
    }

    /// A peer whose document `old` is of epoch `from` takes this reset:
    /// returns the new document and the [`Rebase`] to send the hub (always:
    /// it also says the peer moved), whose update is empty when nothing of
    /// `old` can be merged ([`Reset::base`] is `None`).
    pub fn take(&self, old: &SharedText, from: Epoch) -> Result<(SharedText, Rebase), TextError> {
        let update = match &self.base {
            Some(base) => old.diff(base)?,
            None => Vec::new(),
        };
        let rebase = Rebase {
            from,
            to: self.epoch,
            update,
        };
        let doc =
            SharedText::from_updates([self.doc.as_slice()].into_iter().filter(|d| !d.is_empty()))?;
        Ok((doc, rebase))
    }
}

impl Rebase {
    /// The bytes to send.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.update.len() + 12);
        out.write_var(self.from);
        out.write_var(self.to);
        out.write_buf(&self.update);
        out
    }

    /// Reads one; malformed bytes are an error, never a panic.
    pub fn decode(bytes: &[u8]) -> Result<Self, TextError> {
        let mut r = Cursor::new(bytes);
        let from = r.read_var().map_err(bad)?;
        let to = r.read_var().map_err(bad)?;
        let update = r.read_buf().map_err(bad)?.to_vec();
        done(&r)?;
        Ok(Self { from, to, update })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_and_garbage_is_an_error() -> Result<(), TextError> {
        let reset = Reset {
            epoch: 4_000_000_000,
            base: Some(vec![1, 2]),
            doc: vec![3; 200],
        };
        assert_eq!(Reset::decode(&reset.encode())?, reset);
        let no_base = Reset {
            base: None,
            ..reset.clone()
        };
        assert_eq!(Reset::decode(&no_base.encode())?, no_base);
        let rebase = Rebase {
            from: 0,
            to: 9,
            update: vec![0, 0],
        };
        assert_eq!(Rebase::decode(&rebase.encode())?, rebase);
        assert!(Reset::decode(&[0xff]).is_err());
        assert!(Rebase::decode(&[1, 2, 200]).is_err());
        let mut long = rebase.encode();
        long.push(1);
        assert!(Rebase::decode(&long).is_err());
        Ok(())
    }

    /// A peer takes a reset: its unsent edit goes in the rebase, and the
    /// hub merges it.
    #[test]
    fn a_peer_moves_to_the_new_epoch_with_its_edits() -> Result<(), TextError> {
        let mut hub = crate::Epochs::new();
        let mut peer = SharedText::new();
        hub.apply(0, &peer.set("shared"))?;
        let to = hub.next_epoch();
        let snapshot = hub.doc().snapshot();
        hub.cut(0, to, &snapshot)?;
        // Typed while the reset was on its way.
        peer.set("shared text");
        let reset = Reset {
            epoch: to,
            base: hub.base_for(0),
            doc: hub.doc().snapshot(),
        };
        let message = Reset::decode(&reset.encode())?;
        let (mut doc, rebase) = message.take(&peer, 0)?;
        assert_eq!(doc.text(), "shared");
        let crate::epoch::Applied::Update { update, .. } =
            hub.apply(rebase.from, &rebase.update)?
        else {
            panic!("the edit was not rebased");
        };
        doc.apply(&update)?;
        assert_eq!(doc.text(), "shared text");
        assert_eq!(hub.doc().text(), "shared text");
        Ok(())
    }
}
