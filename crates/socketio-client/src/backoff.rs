//! The reconnection policy: exponential backoff with jitter, as
//! socket.io-client computes it. Pure: the caller supplies the randomness.

use std::time::Duration;

/// The smallest delay ever used between two attempts, whatever the
/// configuration says, so a client can never retry back to back.
pub const MIN_DELAY_FLOOR: Duration = Duration::from_millis(50);

/// When and how often to reconnect after the connection is lost.
#[derive(Debug, Clone, PartialEq)]
pub struct ReconnectPolicy {
    /// Whether to reconnect at all.
    pub enabled: bool,
    /// Give up after this many failed attempts (`None`: never give up).
    pub max_attempts: Option<u32>,
    /// First delay (socket.io-client's `reconnectionDelay`, default 1 s).
    pub delay: Duration,
    /// Largest delay (`reconnectionDelayMax`, default 5 s).
    pub delay_max: Duration,
    /// Jitter as a fraction of the delay, 0 to 1 (`randomizationFactor`, default 0.5).
    pub randomization: f64,
    /// Growth factor per attempt (default 2).
    pub factor: f64,
}

impl Default for ReconnectPolicy {
    fn default() -> Self {
        Self {
            enabled: true,
            max_attempts: None,
            delay: Duration::from_secs(1),
            delay_max: Duration::from_secs(5),
            randomization: 0.5,
            factor: 2.0,
        }
    }
}

impl ReconnectPolicy {
    /// No reconnection at all.
    pub fn disabled() -> Self {
        Self {
            enabled: false,
            ..Self::default()
        }
    }

    /// Whether attempt number `attempt` (1-based) may still be made.
    pub fn allows(&self, attempt: u32) -> bool {
        self.enabled && self.max_attempts.is_none_or(|max| attempt <= max)
    }

    /// The delay before attempt number `attempt` (1-based). `u` is a uniform
    /// random number in `[0, 1)`: it picks the jitter and its sign. The result
    /// lies in `[delay·factor^(attempt-1)·(1-randomization), … ·(1+randomization)]`,
    /// capped at `delay_max`, and never below [`MIN_DELAY_FLOOR`].
    pub fn delay_for(&self, attempt: u32, u: f64) -> Duration {
        let u = if u.is_finite() {
            u.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let jitter = if self.randomization.is_finite() {
            self.randomization.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let factor = if self.factor.is_finite() && self.factor >= 1.0 {
            self.factor
        } else {
            1.0
        };
        let exp = attempt.saturating_sub(1).min(64) as i32;
        let base = self.delay.as_secs_f64() * factor.powi(exp);
        let deviation = u * jitter * base;
        // Like socket.io-client: one bit of the same draw picks the sign.
        let with_jitter = if ((u * 10.0) as u32) & 1 == 0 {
            base - deviation
        } else {
            base + deviation
        };
        let max = self.delay_max.max(MIN_DELAY_FLOOR).as_secs_f64();
        let secs = with_jitter.clamp(MIN_DELAY_FLOOR.as_secs_f64(), max);
        Duration::from_secs_f64(secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn defaults_match_socket_io_client() {
        let p = ReconnectPolicy::default();
        assert_eq!(p.delay_for(1, 0.0), Duration::from_secs(1));
        assert_eq!(p.delay_for(2, 0.0), Duration::from_secs(2));
        assert_eq!(p.delay_for(3, 0.0), Duration::from_secs(4));
        assert_eq!(p.delay_for(4, 0.0), Duration::from_secs(5));
        assert_eq!(p.delay_for(1000, 0.0), Duration::from_secs(5));
        // floor(u·10) picks the sign: u = 0.25 → 2, even → minus 12.5 %;
        // u = 0.3 → 3, odd → plus 15 %; u = 0.15 → 1, odd → plus 7.5 %.
        assert_eq!(p.delay_for(1, 0.25), Duration::from_millis(875));
        assert_eq!(p.delay_for(1, 0.3), Duration::from_millis(1150));
        assert_eq!(p.delay_for(1, 0.15), Duration::from_millis(1075));
    }

    #[test]
    fn limits_and_disable() {
        let p = ReconnectPolicy {
            max_attempts: Some(2),
            ..Default::default()
        };
        assert!(p.allows(1) && p.allows(2) && !p.allows(3));
        assert!(!ReconnectPolicy::disabled().allows(1));
    }

    #[test]
    fn never_back_to_back_even_when_misconfigured() {
        let p = ReconnectPolicy {
            delay: Duration::ZERO,
            randomization: 5.0,
            factor: f64::NAN,
            ..Default::default()
        };
        assert!(p.delay_for(1, 0.99) >= MIN_DELAY_FLOOR);
        assert!(p.delay_for(1, f64::NAN) >= MIN_DELAY_FLOOR);
    }

    proptest! {
        #[test]
        fn delay_stays_in_bounds(attempt in 1u32..100, u in 0.0f64..1.0, min_ms in 0u64..10_000, max_ms in 0u64..60_000, r in 0.0f64..1.0) {
            let p = ReconnectPolicy { delay: Duration::from_millis(min_ms), delay_max: Duration::from_millis(max_ms), randomization: r, ..Default::default() };
            let d = p.delay_for(attempt, u);
            prop_assert!(d >= MIN_DELAY_FLOOR);
            prop_assert!(d <= Duration::from_millis(max_ms).max(MIN_DELAY_FLOOR));
        }
    }
}
