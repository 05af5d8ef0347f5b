//! [`TagSlots`]: which notification is on screen under which platform
//! handle, and which handle a tag replaces. Pure; every backend keeps one.
//!
//! Tag rule of the Web Notifications API: a notification whose non-empty
//! tag matches one on screen replaces it (one on screen, the newest); an
//! empty or absent tag never replaces anything.

use std::collections::HashMap;
use std::hash::Hash;

/// One notification on screen.
#[derive(Debug, Clone)]
struct Entry {
    key: u64,
    tag: Option<String>,
    seq: u64,
}

/// Maps platform handles (an XDG id, a toast tag, a macOS request id) to
/// the caller's keys and tags to handles.
///
/// A handle is forgotten when its notification closes; so that a platform
/// that never reports closes cannot make it grow for months, at most
/// `capacity` handles are kept (the oldest is forgotten first).
#[derive(Debug, Clone)]
pub struct TagSlots<H> {
    entries: HashMap<H, Entry>,
    by_tag: HashMap<String, H>,
    by_key: HashMap<u64, H>,
    seq: u64,
    capacity: usize,
}

impl<H: Clone + Eq + Hash> Default for TagSlots<H> {
    fn default() -> Self {
        Self::new()
    }
}

impl<H: Clone + Eq + Hash> TagSlots<H> {
    /// How many notifications [`TagSlots::new`] keeps track of.
    pub const DEFAULT_CAPACITY: usize = 1024;

    /// Empty, keeping at most [`Self::DEFAULT_CAPACITY`] handles.
    pub fn new() -> Self {
        Self::with_capacity(Self::DEFAULT_CAPACITY)
    }

    /// Empty, keeping at most `capacity` (at least 1) handles.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            entries: HashMap::new(),
            by_tag: HashMap::new(),
            by_key: HashMap::new(),
            seq: 0,
            capacity: capacity.max(1),
        }
    }

    /// The handle a new notification with `tag` replaces: the one on screen
    /// with the same non-empty tag. `None` for an empty or absent tag.
    pub fn replaces(&self, tag: Option<&str>) -> Option<&H> {
        let tag = tag.filter(|t| !t.is_empty())?;
        self.by_tag.get(tag)
    }

    /// Records that `key` is now on screen as `handle`, with `tag`.
    ///
    /// Returns the key that was on screen under the same handle (the
    /// platform replaced it in place), if any, other than `key` itself: that
    /// notification has left the screen.
    pub fn shown(&mut self, key: u64, tag: Option<&str>, handle: H) -> Option<u64> {
        let tag = tag.filter(|t| !t.is_empty()).map(str::to_owned);
        let replaced = self.remove(&handle).map(|e| e.key).filter(|k| *k != key);
        if let Some(tag) = &tag {
            self.by_tag.insert(tag.clone(), handle.clone());
        }
        self.by_key.insert(key, handle.clone());
        self.seq += 1;
        self.entries.insert(
            handle,
            Entry {
                key,
                tag,
                seq: self.seq,
            },
        );
        if self.entries.len() > self.capacity
            && let Some(oldest) = self
                .entries
                .iter()
                .min_by_key(|(_, e)| e.seq)
                .map(|(h, _)| h.clone())
        {
            self.remove(&oldest);
        }
        replaced
    }

    /// The notification shown as `handle` closed: forgets it and returns
    /// its key (`None` if the handle is unknown, e.g. not ours).
    pub fn closed(&mut self, handle: &H) -> Option<u64> {
        self.remove(handle).map(|e| e.key)
    }

    /// The key shown as `handle`.
    pub fn key_of(&self, handle: &H) -> Option<u64> {
        self.entries.get(handle).map(|e| e.key)
    }

    /// The handle `key` is shown as.
    pub fn handle_of(&self, key: u64) -> Option<&H> {
        self.by_key.get(&key)
    }

    /// Forgets everything (the notification service went away) and returns
    /// the keys that were on screen, oldest first.
    pub fn clear(&mut self) -> Vec<u64> {
        let mut entries: Vec<Entry> = self.entries.drain().map(|(_, e)| e).collect();
        entries.sort_by_key(|e| e.seq);
        self.by_tag.clear();
        self.by_key.clear();
        entries.into_iter().map(|e| e.key).collect()
    }

    /// How many notifications are on screen (as far as we know).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// `true` when nothing is on screen.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn remove(&mut self, handle: &H) -> Option<Entry> {
        let entry = self.entries.remove(handle)?;
        if let Some(tag) = &entry.tag
            && self.by_tag.get(tag) == Some(handle)
        {
            self.by_tag.remove(tag);
        }
        if self.by_key.get(&entry.key) == Some(handle) {
            self.by_key.remove(&entry.key);
        }
        Some(entry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a daemon does: replace in place when asked, else a new id.
    fn show(
        slots: &mut TagSlots<u32>,
        next: &mut u32,
        key: u64,
        tag: Option<&str>,
    ) -> (u32, Option<u64>) {
        let handle = match slots.replaces(tag) {
            Some(h) => *h,
            None => {
                *next += 1;
                *next
            }
        };
        (handle, slots.shown(key, tag, handle))
    }

    #[test]
    fn same_tag_replaces_newest_wins() {
        let (mut slots, mut next) = (TagSlots::new(), 0);
        let (a, r) = show(&mut slots, &mut next, 1, Some("chat"));
        assert_eq!(r, None);
        let (b, r) = show(&mut slots, &mut next, 2, Some("chat"));
        assert_eq!(a, b, "same handle: replaced in place");
        assert_eq!(r, Some(1), "the old one left the screen");
        assert_eq!(slots.len(), 1);
        assert_eq!(slots.key_of(&a), Some(2));
        assert_eq!(slots.handle_of(1), None);
        assert_eq!(slots.handle_of(2), Some(&a));
    }

    #[test]
    fn different_empty_or_absent_tags_never_replace() {
        let (mut slots, mut next) = (TagSlots::new(), 0);
        for (key, tag) in [
            (1, Some("a")),
            (2, Some("b")),
            (3, Some("")),
            (4, Some("")),
            (5, None),
            (6, None),
        ] {
            let (_, r) = show(&mut slots, &mut next, key, tag);
            assert_eq!(r, None);
        }
        assert_eq!(slots.len(), 6);
        assert_eq!(slots.replaces(Some("")), None);
        assert_eq!(slots.replaces(None), None);
    }

    #[test]
    fn a_closed_handle_is_forgotten_and_its_tag_starts_fresh() {
        let (mut slots, mut next) = (TagSlots::new(), 0);
        let (a, _) = show(&mut slots, &mut next, 1, Some("chat"));
        assert_eq!(slots.closed(&a), Some(1));
        assert_eq!(slots.closed(&a), None, "once");
        assert!(slots.is_empty());
        assert_eq!(slots.replaces(Some("chat")), None);
        let (b, r) = show(&mut slots, &mut next, 2, Some("chat"));
        assert_ne!(a, b);
        assert_eq!(r, None);
        assert_eq!(slots.closed(&999), None, "not ours");
    }

    #[test]
    fn a_tag_that_moved_to_a_new_handle_is_not_lost_when_the_old_closes() {
        // The daemon closed the old one just before our replace: it answers
        // with a new id and reports the old one closed afterwards.
        let mut slots = TagSlots::new();
        slots.shown(1, Some("chat"), 10u32);
        assert_eq!(slots.shown(2, Some("chat"), 11), None);
        assert_eq!(slots.closed(&10), Some(1));
        assert_eq!(slots.replaces(Some("chat")), Some(&11));
        assert_eq!(slots.key_of(&11), Some(2));
    }

    #[test]
    fn showing_the_same_key_again_is_not_a_replacement_of_itself() {
        let mut slots = TagSlots::new();
        slots.shown(1, Some("t"), 10u32);
        assert_eq!(slots.shown(1, Some("t"), 10), None);
        assert_eq!(slots.len(), 1);
    }

    #[test]
    fn a_reused_handle_drops_its_old_tag() {
        // Windows: the handle is derived from the key when untagged.
        let mut slots = TagSlots::new();
        slots.shown(1, Some("old"), "h".to_owned());
        assert_eq!(slots.shown(2, None, "h".to_owned()), Some(1));
        assert_eq!(slots.replaces(Some("old")), None);
    }

    #[test]
    fn memory_is_bounded_oldest_forgotten_first() {
        let mut slots = TagSlots::with_capacity(3);
        for key in 1..=10u64 {
            slots.shown(key, Some(&format!("t{key}")), key as u32);
        }
        assert_eq!(slots.len(), 3);
        assert_eq!(slots.key_of(&7), None);
        assert_eq!(slots.key_of(&8), Some(8));
        assert_eq!(slots.replaces(Some("t1")), None);
        assert_eq!(slots.clear(), vec![8, 9, 10]);
        assert!(slots.is_empty());
        assert_eq!(slots.handle_of(10), None);
    }
}
