//! [`Epochs`]: the shared text's document across the cuts that start it
//! afresh, so that what is kept follows the text, not its history.
//!
//! A Yjs document keeps an id for every character ever deleted, so that
//! concurrent edits still find their place; compaction drops the deleted
//! content but not those ids, and after enough typing the document is many
//! times the size of its text. So when it has outgrown its text
//! ([`CutPolicy`]), the hub *cuts* it: a new epoch starts from the text
//! alone (one insert by the client whose id is the epoch's number), and
//! the replicas move over:
//!
//! * A replica told of the cut ([`crate::Reset`]: the new epoch, the state
//!   vector to diff its old document against, the new document) sends what
//!   the hub lacks of its old document ([`crate::Rebase`]) and takes the
//!   new one.
//! * Whatever reaches the hub in an old epoch (that, or an edit sent before
//!   the replica heard of the cut) is *rebased*: applied to the old
//!   epoch's document as it was at the cut plus everything rebased since
//!   (`merged`), and what that did to the text is done again, at the same
//!   positions, in a twin of the new epoch's start plus what was rebased
//!   before (`mirror`; its text is always `merged`'s). What the twin did is
//!   a plain update of the new epoch: it merges with everything done there
//!   meanwhile, like any concurrent edit.
//!
//! Rebasing is deterministic: a cut's twin writes as a client id derived
//! from the epoch, so every hub node, and a hub reloading its log, that
//! rebases the same updates in the same order makes byte-identical updates;
//! and the same old edits rebased twice change nothing the second time
//! (`merged` has them). The last [`MAX_CUTS`] cuts are kept; an edit from
//! an older epoch cannot be merged ([`TextError::UnknownEpoch`]).

use std::collections::VecDeque;

use crate::document::Change;
use crate::{SharedText, TextError};

/// An epoch of the shared text's document: a random number, `0` for the
/// first (and for documents stored before there were epochs).
pub type Epoch = u32;

/// The epoch of a document that was never cut.
pub const FIRST_EPOCH: Epoch = 0;

/// How many past epochs can still be rebased from.
pub const MAX_CUTS: usize = 3;

/// When a document has outgrown its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CutPolicy {
    /// Never cut a document smaller than this (bytes, compacted).
    pub min_bytes: usize,
    /// Cut once the compacted document is more than this many times its
    /// text (UTF-8 bytes).
    pub ratio: usize,
}

impl Default for CutPolicy {
    fn default() -> Self {
        Self {
            min_bytes: 64 * 1024,
            ratio: 4,
        }
    }
}

impl CutPolicy {
    /// Whether a document of `doc_bytes` (compacted) holding a text of
    /// `text_bytes` should be cut.
    pub fn outgrown(&self, doc_bytes: usize, text_bytes: usize) -> bool {
        doc_bytes > self.min_bytes && doc_bytes > text_bytes.saturating_mul(self.ratio)
    }
}

/// One past epoch, kept so its edits can still be rebased.
#[derive(Debug)]
struct Cut {
    from: Epoch,
    to: Epoch,
    /// The old document at the cut, plus everything rebased since.
    merged: SharedText,
    /// The new epoch's start plus what rebasing made; same text as `merged`.
    mirror: SharedText,
}

/// A cut's past, as stored ([`crate::Record::Snapshot`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredCut {
    /// The epoch that ended.
    pub from: Epoch,
    /// The epoch that began.
    pub to: Epoch,
    /// The old document, with what was rebased since (a snapshot).
    pub merged: Vec<u8>,
    /// The twin of the new epoch's start (a snapshot).
    pub mirror: Vec<u8>,
}

/// The client id a cut's twin writes as: derived from the new epoch, never
/// the epoch itself (whose client made the start), and like any Yjs client
/// id below 2^53 (safe for JavaScript).
fn mirror_client(to: Epoch) -> u64 {
    (1 << 52) | u64::from(to)
}

/// The first update of epoch `to`: `text`, inserted by client `to`
/// (empty for an empty text).
fn start(to: Epoch, text: &str) -> Vec<u8> {
    SharedText::with_client_id(u64::from(to)).set(text)
}

fn with_updates(mut doc: SharedText, updates: &[&[u8]]) -> Result<SharedText, TextError> {
    for update in updates.iter().filter(|u| !u.is_empty()) {
        doc.apply(update)?;
    }
    Ok(doc)
}

impl Cut {
    /// The cut from `from` to `to` of the document `snapshot`; also
    /// returns the new epoch's first update.
    fn new(from: Epoch, to: Epoch, snapshot: &[u8]) -> Result<(Self, Vec<u8>), TextError> {
        let merged = with_updates(SharedText::new(), &[snapshot])?;
        let first = start(to, &merged.text());
        let mirror = with_updates(SharedText::with_client_id(mirror_client(to)), &[&first])?;
        Ok((
            Self {
                from,
                to,
                merged,
                mirror,
            },
            first,
        ))
    }

    fn restore(stored: &StoredCut) -> Result<Self, TextError> {
        Ok(Self {
            from: stored.from,
            to: stored.to,
            merged: with_updates(SharedText::new(), &[&stored.merged])?,
            mirror: with_updates(
                SharedText::with_client_id(mirror_client(stored.to)),
                &[&stored.mirror],
            )?,
        })
    }

    fn stored(&self) -> StoredCut {
        StoredCut {
            from: self.from,
            to: self.to,
            merged: self.merged.snapshot(),
            mirror: self.mirror.snapshot(),
        }
    }

    /// Rebases an update of epoch `from`: the update of epoch `to` that
    /// makes the same change (`None`: it changes nothing not already
    /// rebased).
    fn rebase(&mut self, update: &[u8]) -> Result<Option<Vec<u8>>, TextError> {
        let changes = self.merged.apply_changes(update)?;
        if !changes
            .iter()
            .any(|c| matches!(c, Change::Insert(_) | Change::Delete(_)))
        {
            return Ok(None);
        }
        Ok(Some(self.mirror.make_changes(&changes)))
    }
}

/// What [`Epochs::apply`] did.
#[derive(Debug, PartialEq, Eq)]
pub enum Applied {
    /// Nothing new.
    Nothing,
    /// An update of the current epoch, applied here; pass it on to the
    /// replicas (`changed`: the text changed).
    Update {
        /// The update, in the current epoch.
        update: Vec<u8>,
        /// Whether the text changed.
        changed: bool,
    },
}

/// The document of the current epoch and the cuts before it (see the
/// [module documentation](self)).
#[derive(Debug)]
pub struct Epochs {
    epoch: Epoch,
    doc: SharedText,
    /// Oldest first, each `to` the next one's `from`, the last one's `to`
    /// the current epoch.
    cuts: VecDeque<Cut>,
}

impl Default for Epochs {
    fn default() -> Self {
        Self::new()
    }
}

impl Epochs {
    /// An empty document in the first epoch.
    pub fn new() -> Self {
        Self {
            epoch: FIRST_EPOCH,
            doc: SharedText::new(),
            cuts: VecDeque::new(),
        }
    }

    /// The state a [`Epochs::stored`] snapshot holds.
    pub fn restore(epoch: Epoch, doc: &[u8], cuts: &[StoredCut]) -> Result<Self, TextError> {
        Ok(Self {
            epoch,
            doc: with_updates(SharedText::new(), &[doc])?,
            cuts: cuts.iter().map(Cut::restore).collect::<Result<_, _>>()?,
        })
    }

    /// The current epoch.
    pub fn epoch(&self) -> Epoch {
        self.epoch
    }

    /// The current epoch's document.
    pub fn doc(&self) -> &SharedText {
        &self.doc
    }

    /// The current epoch's document, to apply updates of this epoch to.
    pub fn doc_mut(&mut self) -> &mut SharedText {
        &mut self.doc
    }

    /// The epochs whose edits can still be merged, oldest first (the
    /// current one last).
    pub fn epochs(&self) -> Vec<Epoch> {
        self.cuts
            .iter()
            .map(|c| c.from)
            .chain([self.epoch])
            .collect()
    }

    /// What a replica whose document is of `epoch` diffs it against to
    /// find what the hub lacks ([`crate::Rebase`]): a state vector, `None`
    /// when that epoch is current or no longer kept.
    pub fn base_for(&self, epoch: Epoch) -> Option<Vec<u8>> {
        self.cuts
            .iter()
            .find(|c| c.from == epoch)
            .map(|c| c.merged.state_vector())
    }

    /// A new epoch number: random, never one in use or kept.
    pub fn next_epoch(&self) -> Epoch {
        loop {
            let candidate = (yrs::ClientID::random().get() & 0xFFFF_FFFF) as u32;
            if candidate != FIRST_EPOCH
                && candidate != self.epoch
                && !self
                    .cuts
                    .iter()
                    .any(|c| c.from == candidate || c.to == candidate)
            {
                return candidate;
            }
        }
    }

    /// Applies an update made on `epoch`: as it is when that is the
    /// current one, rebased through the cuts since when it is older.
    pub fn apply(&mut self, epoch: Epoch, update: &[u8]) -> Result<Applied, TextError> {
        if epoch == self.epoch {
            let before = self.doc.state_vector();
            let changed = self.doc.apply(update)?;
            let grew = changed || self.doc.state_vector() != before;
            return Ok(if grew {
                Applied::Update {
                    update: update.to_vec(),
                    changed,
                }
            } else {
                Applied::Nothing
            });
        }
        let first = self
            .cuts
            .iter()
            .position(|c| c.from == epoch)
            .ok_or(TextError::UnknownEpoch { epoch })?;
        let mut update = update.to_vec();
        for cut in self.cuts.iter_mut().skip(first) {
            match cut.rebase(&update)? {
                Some(next) => update = next,
                None => return Ok(Applied::Nothing),
            }
        }
        let changed = self.doc.apply(&update)?;
        Ok(Applied::Update { update, changed })
    }

    /// Ends epoch `from` with the document `snapshot` (the current one as
    /// some node had it) and starts epoch `to` from its text. Returns
    /// `false`, changing nothing, when `from` is not the current epoch
    /// (another cut came first).
    pub fn cut(&mut self, from: Epoch, to: Epoch, snapshot: &[u8]) -> Result<bool, TextError> {
        if from != self.epoch || to == from {
            return Ok(false);
        }
        let (cut, first) = Cut::new(from, to, snapshot)?;
        self.doc = with_updates(SharedText::new(), &[&first])?;
        self.epoch = to;
        self.cuts.push_back(cut);
        while self.cuts.len() > MAX_CUTS {
            self.cuts.pop_front();
        }
        Ok(true)
    }

    /// The current epoch's document and the kept cuts, to store.
    pub fn stored(&self) -> (Epoch, Vec<u8>, Vec<StoredCut>) {
        (
            self.epoch,
            self.doc.snapshot(),
            self.cuts.iter().map(Cut::stored).collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn applied(a: Applied) -> Vec<u8> {
        match a {
            Applied::Update { update, .. } => update,
            Applied::Nothing => Vec::new(),
        }
    }

    #[test]
    fn a_cut_keeps_the_text_and_shrinks_the_document() -> Result<(), TextError> {
        let mut hub = Epochs::new();
        let mut typist = SharedText::new();
        for i in 0..3000 {
            // Typing at the front and deleting at the back: ids pile up.
            let text = typist.text();
            let mut next: String = format!("{}", i % 10) + &text;
            if next.len() > 200 {
                next.truncate(150);
            }
            let update = typist.set(&next);
            hub.apply(hub.epoch(), &update)?;
        }
        let before = hub.doc().snapshot().len();
        let text = hub.doc().text();
        assert!(
            CutPolicy {
                min_bytes: 0,
                ratio: 4
            }
            .outgrown(before, text.len())
        );
        let to = hub.next_epoch();
        let snapshot = hub.doc().snapshot();
        assert!(hub.cut(FIRST_EPOCH, to, &snapshot)?);
        assert_eq!(hub.epoch(), to);
        assert_eq!(hub.doc().text(), text);
        let after = hub.doc().snapshot().len();
        assert!(
            after < text.len() + 32,
            "{after} bytes for a text of {}, {before} before",
            text.len()
        );
        // A second cut with the same `from` is stale and changes nothing.
        assert!(!hub.cut(FIRST_EPOCH, to.wrapping_add(1), &snapshot)?);
        Ok(())
    }

    /// An edit made before the cut and sent after it, twice, lands once,
    /// merged with an edit of the new epoch.
    #[test]
    fn old_edits_are_rebased_once_and_merge_with_new_ones() -> Result<(), TextError> {
        let mut hub = Epochs::new();
        let mut a = SharedText::new();
        hub.apply(0, &a.set("hello world"))?;
        let to = hub.next_epoch();
        // A types, not yet heard of the cut.
        let late = a.set("hello big world");
        let snapshot = hub.doc().snapshot();
        hub.cut(0, to, &snapshot)?;
        // B, in the new epoch.
        let mut b = SharedText::new();
        b.apply(&hub.doc().snapshot())?;
        let from_b = b.set("hello world!");
        hub.apply(to, &from_b)?;
        // A's edit arrives, then A's rebase with the same edit.
        let rebased = applied(hub.apply(0, &late)?);
        assert!(!rebased.is_empty());
        let base = hub
            .base_for(0)
            .ok_or(TextError::UnknownEpoch { epoch: 0 })?;
        let again = hub.apply(0, &a.diff(&base)?)?;
        assert_eq!(again, Applied::Nothing);
        assert_eq!(hub.doc().text(), "hello big world!");
        b.apply(&rebased)?;
        assert_eq!(b.text(), "hello big world!");
        Ok(())
    }

    /// Two hubs (nodes, or one reloading its log) that rebase the same
    /// updates make the same bytes.
    #[test]
    fn rebasing_is_deterministic() -> Result<(), TextError> {
        let mut a = SharedText::new();
        let first = a.set("one two three");
        let late = a.set("one two 2½ three");
        let mut x = Epochs::new();
        x.apply(0, &first)?;
        let to = x.next_epoch();
        let snapshot = x.doc().snapshot();
        x.cut(0, to, &snapshot)?;
        let (epoch, doc, cuts) = x.stored();
        let mut y = Epochs::restore(epoch, &doc, &cuts)?;
        let rx = applied(x.apply(0, &late)?);
        let ry = applied(y.apply(0, &late)?);
        assert_eq!(rx, ry);
        assert_eq!(x.doc().text(), "one two 2½ three");
        // Stored after that and restored: the next rebase agrees too.
        let later = a.set("zero one two 2½ three");
        let (epoch, doc, cuts) = y.stored();
        let mut z = Epochs::restore(epoch, &doc, &cuts)?;
        assert_eq!(applied(x.apply(0, &later)?), applied(z.apply(0, &later)?));
        assert_eq!(z.doc().text(), "zero one two 2½ three");
        Ok(())
    }

    /// An edit two epochs old goes through both cuts; one older than the
    /// kept cuts is refused.
    #[test]
    fn edits_travel_through_several_cuts() -> Result<(), TextError> {
        let mut hub = Epochs::new();
        let mut a = SharedText::new();
        hub.apply(0, &a.set("日本語 text 😀"))?;
        let offline = a.set("日本語 the text 😀!");
        let mut epochs = vec![0];
        for _ in 0..2 {
            let to = hub.next_epoch();
            let snapshot = hub.doc().snapshot();
            hub.cut(hub.epoch(), to, &snapshot)?;
            epochs.push(to);
            let mut b = SharedText::new();
            b.apply(&hub.doc().snapshot())?;
            let text = b.text();
            hub.apply(to, &b.set(&format!("> {text}")))?;
        }
        assert_eq!(hub.epochs(), epochs);
        hub.apply(0, &offline)?;
        assert_eq!(hub.doc().text(), "> > 日本語 the text 😀!");
        for _ in 0..MAX_CUTS {
            let to = hub.next_epoch();
            let snapshot = hub.doc().snapshot();
            hub.cut(hub.epoch(), to, &snapshot)?;
        }
        assert_eq!(
            hub.apply(0, &offline),
            Err(TextError::UnknownEpoch { epoch: 0 })
        );
        Ok(())
    }
}
