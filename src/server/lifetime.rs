//! Connection management on the server (gRFC A9, grpc-go's `keepalive.ServerParameters`): how
//! long a connection may sit without calls, and how old it may grow.
//!
//! ```text
//!  accepted ─────────────── max_connection_age (±10 %) ──────────▶ GOAWAY ── grace ──▶ closed
//!  last call ended ── max_connection_idle (no call since) ──▶ GOAWAY, closed once drained
//! ```
//!
//! GOAWAY here is `h2`'s graceful shutdown: GOAWAY(2^31-1), a PING, the final GOAWAY; calls in
//! flight go on, new ones go to a new connection (the h2grpc client retries the calls the
//! GOAWAY refused). `h2` sends no debug data, so the GOAWAY does not say "max_idle" or
//! "max_age" as grpc-go's do. After the age's grace period the connection is closed abruptly
//! and the calls still running are cancelled.

use std::collections::hash_map::RandomState;
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Waker};
use std::time::Duration;

use tokio::time::Sleep;

/// The calls running on one connection; the connection task is woken when the last one ends.
#[derive(Debug, Default)]
pub(crate) struct Calls {
    active: AtomicUsize,
    waker: Mutex<Option<Waker>>,
}

impl Calls {
    /// Counts one call until the guard drops.
    pub(crate) fn enter(self: &Arc<Self>) -> CallGuard {
        self.active.fetch_add(1, Ordering::AcqRel);
        CallGuard(self.clone())
    }

    fn idle(&self) -> bool {
        self.active.load(Ordering::Acquire) == 0
    }

    fn register(&self, waker: &Waker) {
        let mut slot = self.waker.lock().unwrap_or_else(|p| p.into_inner());
        if !slot.as_ref().is_some_and(|w| w.will_wake(waker)) {
            *slot = Some(waker.clone());
        }
    }
}

/// Held by a call's task while it runs.
#[derive(Debug)]
pub(crate) struct CallGuard(Arc<Calls>);

impl Drop for CallGuard {
    fn drop(&mut self) {
        if self.0.active.fetch_sub(1, Ordering::AcqRel) == 1 {
            let waker = self.0.waker.lock().unwrap_or_else(|p| p.into_inner()).take();
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }
}

/// The limits one connection lives under, as [`Builder`](super::Builder) set them.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Limits {
    pub(crate) max_idle: Option<Duration>,
    pub(crate) max_age: Option<Duration>,
    pub(crate) max_age_grace: Option<Duration>,
}

/// What the connection should do now.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// GOAWAY, let the calls in flight finish.
    Drain,
    /// Close now; the calls still running are cancelled.
    Close,
}

/// The timers of one connection.
pub(crate) struct Lifetime {
    limits: Limits,
    /// Armed while the connection has no calls.
    idle: Option<Pin<Box<Sleep>>>,
    /// Until the connection is too old, then until its grace period ends.
    age: Option<Pin<Box<Sleep>>>,
    aged: bool,
}

impl Lifetime {
    pub(crate) fn new(limits: Limits) -> Lifetime {
        let age = limits.max_age.map(|age| Box::pin(tokio::time::sleep(jittered(age))));
        Lifetime { limits, idle: None, age, aged: false }
    }

    /// Polls the timers; `Some` when one ran out. Each fires once, so a caller polls until
    /// `None` to register every wakeup.
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>, calls: &Calls) -> Option<Verdict> {
        if let Some(max_idle) = self.limits.max_idle {
            if calls.idle() {
                calls.register(cx.waker());
                // Checked again after registering: the last call may have ended in between.
                if calls.idle() {
                    let idle =
                        self.idle.get_or_insert_with(|| Box::pin(tokio::time::sleep(max_idle)));
                    if idle.as_mut().poll(cx).is_ready() {
                        self.limits.max_idle = None;
                        self.idle = None;
                        return Some(Verdict::Drain);
                    }
                }
            } else {
                self.idle = None;
            }
        }
        let age = self.age.as_mut()?;
        if age.as_mut().poll(cx).is_pending() {
            return None;
        }
        if self.aged {
            self.age = None;
            return Some(Verdict::Close);
        }
        // The grace timer is polled (and registered) by the caller's next poll.
        self.aged = true;
        self.age = self.limits.max_age_grace.map(|grace| Box::pin(tokio::time::sleep(grace)));
        Some(Verdict::Drain)
    }
}

/// `duration` ± up to 10 %, so that connections opened together do not all close together
/// (A9). The randomness is std's per-process hash keys; no RNG crate is needed for this.
fn jittered(duration: Duration) -> Duration {
    let random = RandomState::new().build_hasher().finish();
    let unit = (random >> 11) as f64 / (1u64 << 53) as f64; // in [0, 1)
    duration.mul_f64(0.9 + 0.2 * unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_ten_percent_and_varies() {
        let base = Duration::from_secs(100);
        let samples: Vec<Duration> = (0..200).map(|_| jittered(base)).collect();
        for sample in &samples {
            assert!(*sample >= Duration::from_secs(90) && *sample < Duration::from_secs(110));
        }
        assert!(samples.iter().any(|s| *s != samples[0]), "no jitter at all");
    }

    #[test]
    fn the_last_call_ending_wakes_the_connection() {
        struct Flag(std::sync::atomic::AtomicBool);
        impl std::task::Wake for Flag {
            fn wake(self: Arc<Self>) {
                self.0.store(true, Ordering::SeqCst);
            }
        }
        let calls = Arc::new(Calls::default());
        let first = calls.enter();
        let second = calls.enter();
        let flag = Arc::new(Flag(Default::default()));
        calls.register(&Waker::from(flag.clone()));
        drop(first);
        assert!(!flag.0.load(Ordering::SeqCst), "woken while a call still runs");
        drop(second);
        assert!(flag.0.load(Ordering::SeqCst));
        assert!(calls.idle());
    }
}
