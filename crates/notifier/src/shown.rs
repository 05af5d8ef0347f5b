//! [`ShownOnce`]: the same hub notification id is shown at most once,
//! whatever replays it (a reconnect's replay overlapping live events, a
//! second hub node, a restart with a persisted last id). Pure.

use std::collections::BTreeSet;

/// The ids already shown, in bounded memory for months of uptime.
///
/// Keeps the newest `capacity` ids exactly; every id at or below the
/// *floor* (the newest id it had to forget, or the last id it was started
/// after) counts as shown. Hub ids increase, so what falls below the window
/// is an old replay. Memory: `capacity` ids (a few tens of KiB by default).
#[derive(Debug, Clone)]
pub struct ShownOnce {
    recent: BTreeSet<u64>,
    floor: Option<u64>,
    capacity: usize,
}

impl Default for ShownOnce {
    fn default() -> Self {
        Self::new()
    }
}

impl ShownOnce {
    /// How many ids [`ShownOnce::new`] keeps exactly.
    pub const DEFAULT_CAPACITY: usize = 4096;

    /// Nothing shown yet.
    pub fn new() -> Self {
        Self::with_capacity(Self::DEFAULT_CAPACITY)
    }

    /// Nothing shown yet, keeping the newest `capacity` (at least 1) ids.
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            recent: BTreeSet::new(),
            floor: None,
            capacity: capacity.max(1),
        }
    }

    /// Everything up to `last_id` counts as shown (a restart that persisted
    /// the last id it showed).
    pub fn after(last_id: u64) -> Self {
        let mut this = Self::new();
        this.floor = Some(last_id);
        this
    }

    /// `true` the first time `id` is seen (show it), `false` ever after or
    /// when it is below the window (do not show it again).
    pub fn first_time(&mut self, id: u64) -> bool {
        if self.contains(id) {
            return false;
        }
        self.recent.insert(id);
        while self.recent.len() > self.capacity {
            if let Some(oldest) = self.recent.pop_first() {
                self.floor = Some(self.floor.map_or(oldest, |f| f.max(oldest)));
            }
        }
        true
    }

    /// Whether `id` counts as shown.
    pub fn contains(&self, id: u64) -> bool {
        self.floor.is_some_and(|f| id <= f) || self.recent.contains(&id)
    }

    /// The newest id that counts as shown.
    pub fn newest(&self) -> Option<u64> {
        self.recent.last().copied().max(self.floor)
    }

    /// The hub says its history ends at `hub_last_id` (its `welcome`): if
    /// that is below what we have shown, its ids started over (a new data
    /// directory, another hub), so forget everything and return `true`.
    pub fn hub_last_id(&mut self, hub_last_id: u64) -> bool {
        if self.newest().is_some_and(|n| hub_last_id < n) {
            self.clear();
            return true;
        }
        false
    }

    /// Forgets everything (e.g. the user pointed the app at another hub).
    pub fn clear(&mut self) {
        self.recent.clear();
        self.floor = None;
    }

    /// How many ids are kept exactly (at most the capacity).
    pub fn len(&self) -> usize {
        self.recent.len()
    }

    /// `true` when no id counts as shown.
    pub fn is_empty(&self) -> bool {
        self.recent.is_empty() && self.floor.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_id_once_whatever_replays_it() {
        let mut once = ShownOnce::new();
        assert!(once.is_empty());
        // live 5, 6; then a reconnect replays 4..=6 and 7 arrives live twice.
        let shown: Vec<u64> = [5, 6, 4, 5, 6, 7, 7]
            .into_iter()
            .filter(|id| once.first_time(*id))
            .collect();
        assert_eq!(shown, [5, 6, 4, 7]);
        assert_eq!(once.newest(), Some(7));
    }

    #[test]
    fn memory_stays_bounded_and_old_ids_stay_shown() {
        let mut once = ShownOnce::with_capacity(100);
        for id in 1..=1_000_000u64 {
            assert!(once.first_time(id));
        }
        assert_eq!(once.len(), 100);
        for id in [1, 500_000, 999_900, 1_000_000] {
            assert!(!once.first_time(id), "{id} again");
        }
        // Out of order inside the window still works.
        assert!(once.first_time(1_000_002));
        assert!(once.first_time(1_000_001));
        assert!(!once.first_time(1_000_001));
    }

    #[test]
    fn after_a_persisted_last_id() {
        let mut once = ShownOnce::after(41);
        assert!(!once.first_time(1));
        assert!(!once.first_time(41));
        assert!(once.first_time(42));
        assert_eq!(once.newest(), Some(42));
    }

    #[test]
    fn a_hub_that_started_over_resets() {
        let mut once = ShownOnce::new();
        once.first_time(10);
        assert!(!once.hub_last_id(10), "same history");
        assert!(!once.hub_last_id(12), "newer history");
        assert!(!once.first_time(10));
        assert!(once.hub_last_id(3), "ids went backwards");
        assert!(once.first_time(1));
        assert!(once.first_time(10));
    }
}
