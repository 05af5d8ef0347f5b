//! Token buckets, so one client cannot flood the others: [`TokenBucket`]
//! per connection, [`KeyedBuckets`] per token and per client address (the
//! HTTP API). Pure: the caller passes the time.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

/// A token bucket: `burst` tokens, refilled at `per_sec`.
#[derive(Debug, Clone)]
pub struct TokenBucket {
    burst: f64,
    per_sec: f64,
    tokens: f64,
    last: Instant,
}

impl TokenBucket {
    /// A full bucket.
    pub fn new(burst: u32, per_sec: f64, now: Instant) -> Self {
        let burst = f64::from(burst.max(1));
        Self {
            burst,
            per_sec: per_sec.max(0.0),
            tokens: burst,
            last: now,
        }
    }

    /// Takes a token if one is left at `now`.
    pub fn try_take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now.max(self.last);
        self.tokens = (self.tokens + elapsed * self.per_sec).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

impl TokenBucket {
    /// Whether it has refilled completely by `now` (forgetting it loses nothing).
    fn is_full(&self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens + elapsed * self.per_sec >= self.burst
    }
}

/// Most keys tracked before the full buckets are forgotten.
const MAX_KEYS: usize = 10_000;

/// One [`TokenBucket`] per key (a token's name, a client address), the
/// same shape for each; bounded in memory.
#[derive(Debug)]
pub struct KeyedBuckets {
    burst: u32,
    per_sec: f64,
    buckets: Mutex<HashMap<String, TokenBucket>>,
}

impl KeyedBuckets {
    /// Buckets of `burst` tokens refilled at `per_sec`.
    pub fn new(burst: u32, per_sec: f64) -> Self {
        Self {
            burst,
            per_sec,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes a token from `key`'s bucket if one is left at `now`.
    pub fn try_take(&self, key: &str, now: Instant) -> bool {
        let mut map = self.buckets.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() >= MAX_KEYS && !map.contains_key(key) {
            map.retain(|_, b| !b.is_full(now));
            if map.len() >= MAX_KEYS {
                // Every key is busy: refuse newcomers rather than grow.
                return false;
            }
        }
        map.entry(key.to_owned())
            .or_insert_with(|| TokenBucket::new(self.burst, self.per_sec, now))
            .try_take(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn keyed_buckets_are_separate_and_bounded() {
        let t0 = Instant::now();
        let k = KeyedBuckets::new(2, 1.0);
        assert!(k.try_take("a", t0) && k.try_take("a", t0));
        assert!(!k.try_take("a", t0), "a's bucket is empty");
        assert!(k.try_take("b", t0), "b has its own");
        assert!(k.try_take("a", t0 + Duration::from_secs(1)));
        for i in 0..MAX_KEYS {
            k.try_take(&format!("k{i}"), t0);
        }
        let len = k.buckets.lock().map(|m| m.len()).unwrap_or(0);
        assert!(len <= MAX_KEYS, "{len}");
        // Later, the full buckets are forgotten and a newcomer gets one.
        assert!(k.try_take("new", t0 + Duration::from_secs(10)));
    }

    #[test]
    fn burst_then_refill() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(3, 2.0, t0);
        assert!(b.try_take(t0) && b.try_take(t0) && b.try_take(t0));
        assert!(!b.try_take(t0));
        assert!(!b.try_take(t0 + Duration::from_millis(400)));
        assert!(b.try_take(t0 + Duration::from_millis(500)));
        // Never more than the burst, however long it rested.
        let later = t0 + Duration::from_secs(3600);
        assert!((0..3).all(|_| b.try_take(later)));
        assert!(!b.try_take(later));
    }

    #[test]
    fn time_going_backwards_does_not_mint_tokens() {
        let t0 = Instant::now() + Duration::from_secs(10);
        let mut b = TokenBucket::new(1, 1.0, t0);
        assert!(b.try_take(t0));
        assert!(!b.try_take(t0 - Duration::from_secs(5)));
    }
}
