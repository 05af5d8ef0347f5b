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

/// Versions kept as possible bases of the client's next write; older ones
/// are dropped.
const MAX_VERSIONS: usize = 8;

/// After this long a text sent to a client has reached it (or its
/// connection is gone): later writes build on it.
pub const SETTLE: Duration = Duration::from_secs(2);

/// One seed client's shadow.
#[derive(Debug)]
pub struct Shadow {
    /// A version of the document contained in every version below.
    base: SharedText,
    /// The versions the client may have (texts sent to it, its own writes),
    /// oldest first; never empty.
    versions: VecDeque<Version>,
    /// The client id this shadow writes with, and how far it has written.
    client_id: u64,
    clock: u32,
    /// How long a text sent takes to surely arrive.
    settle: Duration,
}

#[derive(Debug)]
struct Version {
    text: String,
    /// What turns `base` into this version (empty: `base` itself).
    update: Vec<u8>,
    /// When it was sent or written (`None`: long ago).
    at: Option<Instant>,
    /// Written by the client (a later write of its own supersedes it).
    own: bool,
}

/// What a seed client's write did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedMerge {
    /// The update to pass on to the other replicas and to store (empty:
    /// the write changed nothing).
    pub update: Vec<u8>,
    /// The document's text after the merge.
    pub text: String,
    /// Whether the client must be sent `text` (and [`Shadow::sent`]
    /// called): the merge differs from what it wrote, or texts sent before
    /// its write may still reach it and show it an older text.
    pub echo: bool,
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
        let base = doc.fork();
        Self {
            client_id: SharedText::new().client_id(),
            clock: 0,
            versions: VecDeque::from([Version {
                text: doc.text(),
                update: Vec::new(),
                at: None,
                own: false,
            }]),
            base,
            settle,
        }
    }

    /// The text the client has, as far as the hub knows (the newest sent or received).
    pub fn latest(&self) -> &str {
        self.versions.back().map_or("", |v| v.text.as_str())
    }

    /// Whether `text` is one of the versions the client may have (a write
    /// based on it merges exactly).
    pub fn knows(&self, text: &str) -> bool {
        self.versions.iter().any(|v| v.text == text)
    }

    /// Records that `doc`'s text was sent to the client at `now`.
    pub fn sent(&mut self, doc: &SharedText, now: Instant) {
        // Our own state vector always decodes.
        let Ok(update) = doc.diff(&self.base.state_vector()) else {
            return;
        };
        self.push(Version {
            text: doc.text(),
            update,
            at: Some(now),
            own: false,
        });
    }

    fn push(&mut self, version: Version) {
        self.versions.push_back(version);
        while self.versions.len() > MAX_VERSIONS {
            self.versions.pop_front();
        }
        if self.versions.len() == 1 {
            self.rebase();
        }
    }

    /// With one version left, it becomes the base (so updates stay small).
    fn rebase(&mut self) {
        if let Some(only) = self.versions.front_mut()
            && !only.update.is_empty()
        {
            let _ = self.base.apply(&only.update);
            only.update.clear();
        }
    }

    /// The document at version `i`, ready to edit as this shadow.
    fn materialize(&mut self, i: usize) -> SharedText {
        let update = self
            .versions
            .get(i)
            .map_or(&[][..], |v| v.update.as_slice());
        let mut working = SharedText::with_client_id(self.client_id);
        // Our own snapshot and diffs always decode.
        let _ = working.apply(&self.base.snapshot());
        let _ = working.apply(update);
        if working.clock_of(self.client_id) != self.clock {
            // This version lacks some of our earlier edits: writing with
            // the same id would reuse their ids. Write as a new client.
            self.client_id = SharedText::new().client_id();
            self.clock = 0;
            let mut fresh = SharedText::with_client_id(self.client_id);
            let _ = fresh.apply(&working.snapshot());
            working = fresh;
        }
        working
    }

    /// Merges the client's write of `text`, received at `now`, into `doc`.
    /// When [`SeedMerge::echo`] says so, the caller must send it the merged
    /// text (and call [`Shadow::sent`]), or the client stays out of step.
    /// On an error (the merge would make the text longer than `max_bytes`)
    /// `doc` is unchanged and the shadow starts over from `doc`: send the
    /// client `doc`'s text.
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
        // The newest version that has surely arrived makes older ones moot.
        let settled = self.versions.iter().rposition(|v| {
            v.at.is_none_or(|at| now.saturating_duration_since(at) >= self.settle)
        });
        if let Some(i) = settled {
            self.versions.drain(..i);
        }
        // The version this write most likely started from: the one named,
        // else the one it changes least, the newest on a tie.
        let cost = |base: &str| Splice::between(base, text).map_or(0, |s| s.cost());
        let named = based_on.and_then(|b| self.versions.iter().rposition(|v| v.text == b));
        let chosen = named.unwrap_or_else(|| {
            self.versions
                .iter()
                .enumerate()
                .min_by_key(|&(i, v)| (cost(&v.text), std::cmp::Reverse(i)))
                .map_or(0, |(i, _)| i)
        });
        let newer_in_flight = chosen + 1 < self.versions.len();
        // The client had that version when it wrote: older ones can no
        // longer be the base of anything it writes (a text that recurs, as
        // when two rounds of typing start from the same text, must not pass
        // for a resend).
        self.versions.drain(..chosen);
        let mut working = self.materialize(0);
        let update = working.set(text);
        if !update.is_empty() {
            if let Err(e) = doc.apply_within(&update, max_bytes) {
                self.reset(doc);
                return Err(e);
            }
            self.clock = working.clock_of(self.client_id);
        }
        // What remains possible: the texts sent after the chosen one (still
        // on their way), then this write; the chosen version and the
        // client's earlier writes are behind it now.
        self.versions.pop_front();
        self.versions.retain(|v| !v.own);
        // Our own state vector always decodes.
        let written = working.diff(&self.base.state_vector()).unwrap_or_default();
        self.push(Version {
            text: text.to_owned(),
            update: written,
            at: Some(now),
            own: true,
        });
        let merged = doc.text();
        Ok(SeedMerge {
            echo: merged != text || newer_in_flight,
            update,
            text: merged,
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
        assert!(merged.echo);
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
    fn a_resend_crossing_an_update_is_answered_and_not_counted_twice() -> Result<(), TextError> {
        // The seed page writes on input and on keyup: its keyup resend of
        // the old text crosses the update that is on its way to it.
        let mut doc = doc_with("hello world");
        let mut seed = Shadow::new(&doc);
        let mut other = doc.fork();
        doc.apply(&other.set("hello bi world"))?;
        let now = Instant::now();
        seed.sent(&doc, now);
        let merged = seed.write(&mut doc, "hello world", now, MAX)?;
        assert!(merged.update.is_empty());
        // It changed nothing, but the page must be told the text.
        assert!(merged.echo);
        seed.sent(&doc, now);
        // Then it types "!", on the text it was sent.
        let merged = seed.write(&mut doc, "hello bi world!", now, MAX)?;
        assert_eq!(merged.text, "hello bi world!");
        Ok(())
    }

    #[test]
    fn a_text_sent_before_a_write_can_still_be_the_base_after_it() -> Result<(), TextError> {
        let mut doc = doc_with("ab");
        let mut seed = Shadow::new(&doc);
        let mut other = doc.fork();
        let now = Instant::now();
        // "xab" is sent to the seed client; before it arrives, the client writes "ab!".
        doc.apply(&other.set("xab"))?;
        seed.sent(&doc, now);
        let merged = seed.write(&mut doc, "ab!", now, MAX)?;
        assert_eq!(merged.text, "xab!");
        assert!(merged.echo);
        seed.sent(&doc, now);
        // "xab" lands after the write (the page now shows it, without its "!")
        // and the client types "?" on it: its "!" is not deleted, "?" is added.
        let merged = seed.write(&mut doc, "xab?", now, MAX)?;
        assert!(
            merged.text.contains('!') && merged.text.contains('?'),
            "{}",
            merged.text
        );
        assert_eq!(merged.text.chars().filter(|c| *c == 'x').count(), 1);
        Ok(())
    }

    #[test]
    fn a_text_that_recurs_is_not_taken_for_a_resend() -> Result<(), TextError> {
        let mut doc = doc_with("hello world");
        let mut seed = Shadow::new(&doc);
        let mut other = doc.fork();
        let now = Instant::now();
        // Round one: someone types a space; the seed client writes on it.
        doc.apply(&other.set("hello  world"))?;
        seed.sent(&doc, now);
        seed.write(&mut doc, "hello  world!", now, MAX)?;
        // Round two starts over from "hello world", then the space again.
        other.apply(&doc.snapshot())?;
        doc.apply(&other.set("hello world"))?;
        seed.sent(&doc, now);
        seed.write(&mut doc, "hello world", now, MAX)?;
        doc.apply(&other.set("hello  world"))?;
        seed.sent(&doc, now);
        // "hello  world!" was seen in round one; now it is a new "!".
        let merged = seed.write(&mut doc, "hello  world!", now, MAX)?;
        assert_eq!(merged.text, "hello  world!");
        Ok(())
    }

    #[test]
    fn a_fast_writer_builds_on_its_own_last_write() {
        // Coalesced writes of a client typing fast: each is based on its
        // previous one, never on an older one that happens to be closer.
        let mut doc = doc_with("");
        let mut seed = Shadow::new(&doc);
        let now = Instant::now();
        for i in (0..=200).step_by(7).chain([200]) {
            let text = format!("draft {i}");
            let merged = seed.write(&mut doc, &text, now, MAX).expect("merges");
            assert_eq!(merged.text, text);
        }
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
        assert!(seed.versions.len() <= MAX_VERSIONS);
        let merged = seed.write(&mut doc, "v49!", now, MAX)?;
        assert_eq!(merged.text, "v49!");
        Ok(())
    }
}
