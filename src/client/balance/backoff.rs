//! Connection backoff, grpc `doc/connection-backoff.md`: initial 1 s, ×1.6, jitter ±20 %,
//! at most 120 s; the first wait has no jitter (as grpc-go).

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub(crate) const MULTIPLIER: f64 = 1.6;
pub(crate) const JITTER: f64 = 0.2;

/// The delays between the starts of connection attempts.
#[derive(Clone, Debug)]
pub(crate) struct Backoff {
    initial: Duration,
    max: Duration,
    /// The next delay before jitter; `None` before the first failure.
    current: Option<Duration>,
}

impl Backoff {
    pub(crate) fn new(initial: Duration, max: Duration) -> Backoff {
        Backoff { initial, max, current: None }
    }

    /// The delay after one more failure.
    pub(crate) fn next_delay(&mut self) -> Duration {
        match self.current {
            None => {
                self.current = Some(self.initial);
                self.initial
            }
            Some(current) => {
                let next = current.mul_f64(MULTIPLIER).min(self.max);
                self.current = Some(next);
                jittered(next)
            }
        }
    }

    /// Back to the initial delay, once a connection has proved itself (SETTINGS received).
    pub(crate) fn reset(&mut self) {
        self.current = None;
    }
}

/// `delay` × uniform(1 − JITTER, 1 + JITTER).
pub(crate) fn jittered(delay: Duration) -> Duration {
    delay.mul_f64(1.0 - JITTER + 2.0 * JITTER * random_unit())
}

/// A uniform number in [0, 1): std's randomly keyed hasher over a counter, enough to spread
/// backoffs apart without a random-number crate.
pub(crate) fn random_unit() -> f64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_follow_connection_backoff_md() {
        let mut b = Backoff::new(Duration::from_secs(1), Duration::from_secs(120));
        assert_eq!(b.next_delay(), Duration::from_secs(1));
        let second = b.next_delay().as_secs_f64();
        assert!((1.28..=1.92).contains(&second), "{second}");
        for _ in 0..20 {
            let d = b.next_delay().as_secs_f64();
            assert!(d <= 144.0, "{d}");
        }
        let last = b.next_delay().as_secs_f64();
        assert!((96.0..=144.0).contains(&last), "{last}");
        b.reset();
        assert_eq!(b.next_delay(), Duration::from_secs(1));
    }

    #[test]
    fn random_unit_stays_in_range_and_varies() {
        let draws: Vec<f64> = (0..100).map(|_| random_unit()).collect();
        assert!(draws.iter().all(|x| (0.0..1.0).contains(x)));
        assert!(draws.iter().any(|x| *x < 0.5) && draws.iter().any(|x| *x >= 0.5));
    }
}
