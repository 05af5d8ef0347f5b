//! [`Shadow`]: what the hub knows about the text a seed client is editing,
//! so that its full-text writes merge with concurrent edits.
//!
//! A seed client's `text_update_request {text}` says what its text is now,
//! not what changed nor which version it started from. Diffing it against
//! the current document would undo whatever others did meanwhile. Instead
//! each seed client has a shadow (differential synchronization): the last
//! text it surely had (its own last write, or the first text sent to it)
//! and the texts sent to it since, which may or may not have reached it.
//! A write is diffed against whichever of those it changes least (a typist
//! changes a character or a word; a stale base looks like reverting
//! someone's edit), the splice is made on that version of the document, and
//! the resulting update merges into the document like any other edit.
//!
//! A text sent long enough ago (see [`SETTLE`]) has surely arrived, so it
//! becomes the base: a client that deletes a word it was sent a while ago
//! is not taken for one writing from before the word existed.
//!
//! Example: both start from "hello world"; A writes "hello big world"; B,
//! before it hears of that, writes "hello world!". B's write is closest to
//! "hello world", so its change is "insert ! after world", and the document
//! becomes "hello big world!".

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::{SharedText, Splice, TextError};

/// Texts sent to a client that are kept as possible bases of its next
/// write; older ones are folded into the base.
const MAX_IN_FLIGHT: usize = 8;

/// After this long a text sent to a client has reached it (or its
/// connection is gone): later writes build on it.
pub const SETTLE: Duration = Duration::from_secs(2);

/// One seed client's shadow.
#[derive(Debug)]
pub struct Shadow {
    /// A version of the document the client surely had.
    base: SharedText,
    /// Its text.
    base_text: String,
    /// Texts sent to the client since, oldest first, each with the update
    /// that turns `base` into that version and when it was sent.
    in_flight: VecDeque<InFlight>,
    /// How long a text sent takes to surely arrive.
    settle: Duration,
}

#[derive(Debug)]
struct InFlight {
    text: String,
    update: Vec<u8>,
    at: Instant,
}

/// What a seed client's write did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedMerge {
    /// The update to pass on to the other replicas and to store (empty:
    /// the write changed nothing).
    pub update: Vec<u8>,
    /// The document's text after the merge.
    pub text: String,
}

impl Shadow {
    /// The shadow of a client that is sent `doc`'s text now, over a
    /// network ([`SETTLE`]).
    pub fn new(doc: &SharedText) -> Self {
        Self::with_settle(doc, SETTLE)
    }

    /// The same, for a client whose texts arrive within `settle` (a window
    /// of the same machine).
    pub fn with_settle(doc: &SharedText, settle: Duration) -> Self {
        Self {
            base: doc.fork(),
            base_text: doc.text(),
            in_flight: VecDeque::new(),
            settle,
        }
    }

    /// The text the client has, as far as the hub knows (the newest sent or received).
    pub fn latest(&self) -> &str {
        self.in_flight
            .back()
            .map_or(self.base_text.as_str(), |sent| sent.text.as_str())
    }

    /// Records that `doc`'s text was sent to the client at `now`.
    pub fn sent(&mut self, doc: &SharedText, now: Instant) {
        let text = doc.text();
        if text == self.latest() {
            return;
        }
        // Our own state vector always decodes.
        let Ok(update) = doc.diff(&self.base.state_vector()) else {
            return;
        };
        self.in_flight.push_back(InFlight {
            text,
            update,
            at: now,
        });
        if self.in_flight.len() > MAX_IN_FLIGHT {
            self.settle(1);
        }
    }

    /// Makes the oldest `count` texts in flight the base.
    fn settle(&mut self, count: usize) {
        for sent in self.in_flight.drain(..count.min(self.in_flight.len())) {
            let _ = self.base.apply(&sent.update);
            self.base_text = sent.text;
        }
    }

    /// Merges the client's write of `text`, received at `now`, into `doc`. If the merged text
    /// is not `text`, the caller must send it the merged text (and call
    /// [`Shadow::sent`]), or the client stays out of step. On an error
    /// (the merge would make the text longer than `max_bytes`) `doc` is
    /// unchanged and the shadow starts over from `doc`: send the client
    /// `doc`'s text.
    pub fn write(
        &mut self,
        doc: &mut SharedText,
        text: &str,
        now: Instant,
        max_bytes: usize,
    ) -> Result<SeedMerge, TextError> {
        self.write_on(doc, None, text, now, max_bytes)
    }

    /// [`Shadow::write`] for a client that says which text its write was
    /// made on (`based_on`): when that is one the hub sent it, that one is
    /// the base, with no guessing.
    pub fn write_on(
        &mut self,
        doc: &mut SharedText,
        based_on: Option<&str>,
        text: &str,
        now: Instant,
        max_bytes: usize,
    ) -> Result<SeedMerge, TextError> {
        let settled = self
            .in_flight
            .iter()
            .take_while(|sent| now.saturating_duration_since(sent.at) >= self.settle)
            .count();
        self.settle(settled);
        // The version this write most likely started from: the one it changes least,
        // the newest on a tie.
        let candidates = std::iter::once(self.base_text.as_str())
            .chain(self.in_flight.iter().map(|sent| sent.text.as_str()));
        let cost = |base: &str| Splice::between(base, text).map_or(0, |s| s.cost());
        let candidates: Vec<&str> = candidates.collect();
        let named = based_on.and_then(|b| candidates.iter().rposition(|c| *c == b));
        let chosen = named.unwrap_or_else(|| {
            candidates
                .iter()
                .enumerate()
                .min_by_key(|&(i, base)| (cost(base), std::cmp::Reverse(i)))
                .map_or(0, |(i, _)| i)
        });
        // Move the base to that version; versions sent after it are gone
        // (the client wrote this before, or without, seeing them).
        self.settle(chosen);
        self.in_flight.clear();
        if self.base.text() != self.base_text {
            // Cannot happen (each version is base plus its update); if it
            // ever did, start over from the document rather than guess.
            self.reset(doc);
        }
        let update = self.base.set(text);
        self.base_text = text.to_owned();
        if !update.is_empty()
            && let Err(e) = doc.apply_within(&update, max_bytes)
        {
            self.reset(doc);
            return Err(e);
        }
        Ok(SeedMerge {
            update,
            text: doc.text(),
        })
    }

    fn reset(&mut self, doc: &SharedText) {
        *self = Self::with_settle(doc, self.settle);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: usize = 64 * 1024;

    fn later(t: Instant) -> Instant {
        t + SETTLE
    }

    fn doc_with(text: &str) -> SharedText {
        let mut doc = SharedText::new();
        doc.set(text);
        doc
    }

    #[test]
    fn the_issue_example_merges_both_writes() -> Result<(), TextError> {
        let mut doc = doc_with("hello world");
        let (mut a, mut b) = (Shadow::new(&doc), Shadow::new(&doc));

        let now = Instant::now();
        let merged = a.write(&mut doc, "hello big world", now, MAX)?;
        assert_eq!(merged.text, "hello big world");
        // The hub sends the merged text to B, which is typing meanwhile.
        b.sent(&doc, now);
        let merged = b.write(&mut doc, "hello world!", now, MAX)?;
        assert_eq!(merged.text, "hello big world!");
        // B's write is not what the document now says: B must be sent it.
        assert_ne!(merged.text, "hello world!");
        Ok(())
    }

    #[test]
    fn a_write_after_the_update_arrived_builds_on_it() -> Result<(), TextError> {
        let mut doc = doc_with("hello world");
        let (mut a, mut b) = (Shadow::new(&doc), Shadow::new(&doc));
        let now = Instant::now();
        a.write(&mut doc, "hello big world", now, MAX)?;
        b.sent(&doc, now);
        // Soon after, a write equal to B's old text is a resend (the seed
        // page sends on every keyup): the update is not undone.
        let merged = b.write(&mut doc, "hello world", now, MAX)?;
        assert_eq!(merged.text, "hello big world");
        b.sent(&doc, now);
        // Later, B saw "hello big world" and deleted "big ".
        let merged = b.write(&mut doc, "hello world", later(now), MAX)?;
        assert_eq!(merged.text, "hello world");
        Ok(())
    }

    #[test]
    fn a_named_base_is_taken_over_the_guess() -> Result<(), TextError> {
        let mut doc = doc_with("remote text");
        let mut view = Shadow::new(&doc);
        let mut other = doc.fork();
        doc.apply(&other.set("remote text, more"))?;
        let now = Instant::now();
        view.sent(&doc, now);
        // Cleared right after it was drawn: without the name, a guess would
        // take the clear for a resend of the older text.
        let merged = view.write_on(&mut doc, Some("remote text, more"), "", now, MAX)?;
        assert_eq!(merged.text, "");
        Ok(())
    }

    #[test]
    fn merges_with_crdt_edits_made_meanwhile() -> Result<(), TextError> {
        let mut doc = doc_with("one two");
        let mut seed = Shadow::new(&doc);
        let mut crdt = doc.fork();
        let edit = crdt.set("zero one two");
        doc.apply(&edit)?;
        let now = Instant::now();
        seed.sent(&doc, now);
        let merged = seed.write(&mut doc, "one two three", now, MAX)?;
        assert_eq!(merged.text, "zero one two three");
        crdt.apply(&merged.update)?;
        assert_eq!(crdt.text(), merged.text);
        Ok(())
    }

    #[test]
    fn an_over_long_merge_is_refused_and_the_shadow_starts_over() {
        let mut doc = doc_with("abc");
        let mut seed = Shadow::new(&doc);
        let mut other = doc.fork();
        doc.apply(&other.set(&"x".repeat(40))).expect("applies");
        let before = doc.text();
        // The seed's write alone fits, merged it does not.
        let err = seed.write(
            &mut doc,
            &format!("abc{}", "y".repeat(30)),
            Instant::now(),
            50,
        );
        assert!(matches!(err, Err(TextError::TooLong { .. })));
        assert_eq!(doc.text(), before);
        assert_eq!(seed.latest(), before);
    }

    #[test]
    fn many_sends_without_a_write_stay_bounded() -> Result<(), TextError> {
        let mut doc = doc_with("");
        let mut seed = Shadow::new(&doc);
        let mut other = doc.fork();
        let now = Instant::now();
        for i in 0..50 {
            doc.apply(&other.set(&format!("v{i}")))?;
            seed.sent(&doc, now);
        }
        assert!(seed.in_flight.len() <= MAX_IN_FLIGHT);
        let merged = seed.write(&mut doc, "v49!", now, MAX)?;
        assert_eq!(merged.text, "v49!");
        Ok(())
    }
}
