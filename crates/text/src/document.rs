//! [`SharedText`]: the shared text as a Yjs document with one `Y.Text`
//! named [`TEXT_NAME`], positions in UTF-16 code units.
//!
//! Updates are Yjs v1 updates, state vectors Yjs v1 state vectors: what the
//! web UI's Yjs sends and expects. Updates are idempotent and commute, so
//! replicas that have seen the same updates, in any order, show the same text.

use std::sync::{Arc, Mutex, PoisonError};
use yrs::updates::decoder::Decode;
use yrs::updates::encoder::Encode;

use yrs::types::Delta;
use yrs::{
    Any, Doc, GetString, Observable, OffsetKind, Options, Out, ReadTxn, StateVector, Text, TextRef,
    Transact, Update,
};

use crate::{Splice, TextError};

/// The name of the document's one text type (`doc.getText("text")` in Yjs).
pub const TEXT_NAME: &str = "text";

/// One replica of the shared text.
pub struct SharedText {
    doc: Doc,
    text: TextRef,
}

impl std::fmt::Debug for SharedText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedText")
            .field("client_id", &self.doc.client_id().get())
            .field("text", &self.text())
            .finish()
    }
}

impl Default for SharedText {
    fn default() -> Self {
        Self::new()
    }
}

impl SharedText {
    /// An empty document with a random client id (each replica that edits needs its own).
    pub fn new() -> Self {
        Self::with_options(Options::default())
    }

    /// An empty document with this client id (tests; a replica restored with its own id).
    pub fn with_client_id(id: u64) -> Self {
        Self::with_options(Options::with_client_id(yrs::ClientID::new(id)))
    }

    fn with_options(mut options: Options) -> Self {
        options.offset_kind = OffsetKind::Utf16;
        let doc = Doc::with_options(options);
        let text = doc.get_or_insert_text(TEXT_NAME);
        Self { doc, text }
    }

    /// A document holding what `updates` hold (a snapshot and the updates after it).
    pub fn from_updates<'a>(
        updates: impl IntoIterator<Item = &'a [u8]>,
    ) -> Result<Self, TextError> {
        let mut doc = Self::new();
        for update in updates {
            doc.apply(update)?;
        }
        Ok(doc)
    }

    /// This replica's client id.
    pub fn client_id(&self) -> u64 {
        self.doc.client_id().get()
    }

    /// The text as it stands.
    pub fn text(&self) -> String {
        self.text.get_string(&self.doc.transact())
    }

    /// What this replica has seen, as a Yjs v1 state vector.
    pub fn state_vector(&self) -> Vec<u8> {
        self.doc.transact().state_vector().encode_v1()
    }

    /// What a replica whose state vector is `state_vector` lacks, as one update.
    pub fn diff(&self, state_vector: &[u8]) -> Result<Vec<u8>, TextError> {
        let sv = StateVector::decode_v1(state_vector)
            .map_err(|e| TextError::malformed("state vector", e))?;
        Ok(self.doc.transact().encode_diff_v1(&sv))
    }

    /// Everything, as one update: the compacted form to store (deleted
    /// content is garbage-collected, so its size follows the text, not the
    /// number of edits).
    pub fn snapshot(&self) -> Vec<u8> {
        self.doc
            .transact()
            .encode_state_as_update_v1(&StateVector::default())
    }

    /// How many changes client `id` has made in this replica's view (its
    /// clock in the state vector).
    pub fn clock_of(&self, id: u64) -> u32 {
        self.doc
            .transact()
            .state_vector()
            .get(&yrs::ClientID::new(id))
    }

    /// The replicas whose changes this one has seen (ids in the state
    /// vector), in ascending order.
    pub fn clients(&self) -> Vec<u64> {
        let mut ids: Vec<u64> = self
            .doc
            .transact()
            .state_vector()
            .iter()
            .map(|(id, _)| id.get())
            .collect();
        ids.sort_unstable();
        ids
    }

    /// Whether some update waits for one it depends on (sent out of order).
    pub fn has_missing_updates(&self) -> bool {
        self.doc.transact().has_missing_updates()
    }

    /// Applies a Yjs v1 update (one already seen changes nothing). Returns
    /// whether the text changed.
    pub fn apply(&mut self, update: &[u8]) -> Result<bool, TextError> {
        let update = Update::decode_v1(update).map_err(|e| TextError::malformed("update", e))?;
        let before = self.text();
        self.doc
            .transact_mut()
            .apply_update(update)
            .map_err(|e| TextError::malformed("update", e))?;
        Ok(self.text() != before)
    }

    /// Applies an update unless the text would then be over `max_bytes`
    /// UTF-8 bytes; then the document is left as it was. Returns whether
    /// the text changed.
    pub fn apply_within(&mut self, update: &[u8], max_bytes: usize) -> Result<bool, TextError> {
        // Inserted text is carried in the update as UTF-8, so an update no
        // longer than the room left cannot overflow, unless it also releases
        // updates held back for it.
        let len = self.text().len();
        if len + update.len() <= max_bytes && !self.has_missing_updates() {
            return self.apply(update);
        }
        let mut trial = Self::from_updates([self.snapshot().as_slice()])?;
        trial.apply(update)?;
        let after = trial.text().len();
        if after > max_bytes {
            return Err(TextError::TooLong {
                len: after,
                max: max_bytes,
            });
        }
        self.apply(update)
    }

    /// Makes the text `new` with the smallest splice; returns the update
    /// to send to the other replicas (empty when nothing changed).
    pub fn set(&mut self, new: &str) -> Vec<u8> {
        match Splice::between(&self.text(), new) {
            Some(splice) => self.splice(&splice),
            None => Vec::new(),
        }
    }

    /// Applies a local splice (offsets clamped to the text); returns the update.
    pub fn splice(&mut self, splice: &Splice) -> Vec<u8> {
        let mut txn = self.doc.transact_mut();
        let len = self.text.len(&txn);
        let index = splice.index.min(len);
        let delete = splice.delete.min(len - index);
        if delete > 0 {
            self.text.remove_range(&mut txn, index, delete);
        }
        if !splice.insert.is_empty() {
            self.text.insert(&mut txn, index, &splice.insert);
        }
        txn.encode_update_v1()
    }

    /// Applies a Yjs v1 update and returns what it did to the text, as
    /// runs of kept, deleted and inserted UTF-16 code units ([`Change`]),
    /// empty when the text did not change.
    pub(crate) fn apply_changes(&mut self, update: &[u8]) -> Result<Vec<Change>, TextError> {
        let update = Update::decode_v1(update).map_err(|e| TextError::malformed("update", e))?;
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        const KEY: &str = "pushdesk-changes";
        self.text.observe(KEY, move |txn, event| {
            let mut out = sink.lock().unwrap_or_else(PoisonError::into_inner);
            out.extend(event.delta(txn).iter().map(Change::from_delta));
        });
        let result = self.doc.transact_mut().apply_update(update);
        self.text.unobserve(KEY);
        result.map_err(|e| TextError::malformed("update", e))?;
        let mut changes = seen.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(std::mem::take(&mut *changes))
    }

    /// Makes `changes` (as [`SharedText::apply_changes`] returns them) here,
    /// as this replica, in one transaction; returns the update.
    pub(crate) fn make_changes(&mut self, changes: &[Change]) -> Vec<u8> {
        let mut txn = self.doc.transact_mut();
        let mut index = 0u32;
        for change in changes {
            let len = self.text.len(&txn);
            match change {
                Change::Keep(n) => index = index.saturating_add(*n).min(len),
                Change::Delete(n) => {
                    let n = (*n).min(len - index.min(len));
                    if n > 0 {
                        self.text.remove_range(&mut txn, index, n);
                    }
                }
                Change::Insert(s) => {
                    let at = index.min(len);
                    self.text.insert(&mut txn, at, s);
                    index = at + crate::splice::utf16_units(s);
                }
            }
        }
        txn.encode_update_v1()
    }

    /// A replica with the same content and a fresh client id, to edit on the side.
    pub fn fork(&self) -> Self {
        let mut copy = Self::new();
        // Our own snapshot always decodes.
        let _ = copy.apply(&self.snapshot());
        copy
    }
}

/// One run of a change to the text, in UTF-16 code units, from where the
/// previous run ended (Yjs's text delta, without formatting).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Change {
    /// These units stay.
    Keep(u32),
    /// These units go.
    Delete(u32),
    /// This text is inserted.
    Insert(String),
}

impl Change {
    fn from_delta(delta: &Delta<Out>) -> Self {
        match delta {
            Delta::Retain(n, _) => Self::Keep(*n),
            Delta::Deleted(n) => Self::Delete(*n),
            Delta::Inserted(Out::Any(Any::String(s)), _) => Self::Insert(s.to_string()),
            // An embedded object (not something our peers make) takes one
            // position; a placeholder keeps the positions after it in line.
            Delta::Inserted(..) => Self::Insert("\u{fffc}".to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrent_inserts_both_survive() -> Result<(), TextError> {
        let mut a = SharedText::with_client_id(1);
        let base = a.set("xy");
        let mut b = SharedText::with_client_id(2);
        b.apply(&base)?;
        let ua = a.set("xay");
        let ub = b.set("xby");
        assert!(a.apply(&ub)?);
        assert!(b.apply(&ua)?);
        assert_eq!(a.text(), b.text());
        assert_eq!(a.text().len(), 4);
        // Applying again changes nothing.
        assert!(!a.apply(&ub)?);
        Ok(())
    }

    #[test]
    fn state_vector_and_diff_bring_a_replica_up_to_date() -> Result<(), TextError> {
        let mut hub = SharedText::new();
        hub.set("日本語 😀 text");
        let mut client = SharedText::new();
        let missing = hub.diff(&client.state_vector())?;
        client.apply(&missing)?;
        assert_eq!(client.text(), "日本語 😀 text");
        // Nothing more to send once up to date.
        let nothing = hub.diff(&client.state_vector())?;
        assert!(!client.apply(&nothing)?);
        Ok(())
    }

    #[test]
    fn utf16_offsets_line_up_with_a_textarea() {
        let mut doc = SharedText::new();
        doc.set("😀b");
        // Index 2 is after the emoji's two code units.
        doc.splice(&Splice {
            index: 2,
            delete: 0,
            insert: "a".into(),
        });
        assert_eq!(doc.text(), "😀ab");
    }

    #[test]
    fn refuses_malformed_bytes_without_panicking() {
        let mut doc = SharedText::new();
        assert!(matches!(
            doc.apply(&[0xff, 0xff, 0xff]),
            Err(TextError::Malformed { .. })
        ));
        assert!(matches!(
            doc.diff(&[0xff]),
            Err(TextError::Malformed { .. })
        ));
        assert_eq!(doc.text(), "");
    }

    #[test]
    fn apply_within_leaves_the_document_as_it_was() -> Result<(), TextError> {
        let mut doc = SharedText::new();
        doc.set("abc");
        let mut other = doc.fork();
        let big = other.set(&"x".repeat(100));
        assert_eq!(
            doc.apply_within(&big, 50),
            Err(TextError::TooLong { len: 100, max: 50 })
        );
        assert_eq!(doc.text(), "abc");
        assert!(doc.apply_within(&big, 100)?);
        Ok(())
    }

    #[test]
    fn a_snapshot_stays_small_after_many_edits() -> Result<(), TextError> {
        let mut doc = SharedText::new();
        for i in 0..2000 {
            let text = format!("line {i}");
            doc.set(&text);
        }
        let snapshot = doc.snapshot();
        assert!(snapshot.len() < 200, "snapshot is {} bytes", snapshot.len());
        let restored = SharedText::from_updates([snapshot.as_slice()])?;
        assert_eq!(restored.text(), "line 1999");
        Ok(())
    }
}
