//! Client keepalive (gRFC A8): HTTP/2 PINGs on a connection that has gone quiet, and the
//! connection closed when one goes unanswered, so that calls to a dead peer fail UNAVAILABLE
//! instead of hanging.
//!
//! ```text
//! last byte read ──── interval ────▶ PING ──── timeout ────▶ no PONG: the connection fails,
//!        ▲                                │                   every call on it UNAVAILABLE
//!        └──────── PONG (a read) ◀────────┘
//! ```
//!
//! - The interval runs from the last byte read, never from the last PING sent (A8): a busy
//!   connection is never pinged.
//! - Without calls on the connection nothing is sent, unless `keepalive_while_idle` (A8's
//!   KEEPALIVE_WITHOUT_CALLS). A call that starts after a quiet spell longer than the interval
//!   gets a PING at once.
//! - GOAWAY `ENHANCE_YOUR_CALM` with debug data `too_many_pings` doubles the interval for the
//!   channel's next connections (A8).
//!
//! The connection's driver (`client/driver.rs`) polls the `h2` connection and the pinger
//! ([`Keepalive::run`]) together. To fail the connection, the pinger makes the socket wrapper
//! ([`Watched`]) return an I/O error on its next read or write: `h2` then fails every stream with that error, whose message says
//! why ("keepalive ping not acknowledged within 20s"), and closes the connection.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::Notify;

use crate::h2wire::{forward_write, watch_reads};

/// A channel's keepalive settings; the interval may double over the channel's life.
#[derive(Debug)]
pub(crate) struct KeepaliveShared {
    interval: Mutex<Option<Duration>>,
    timeout: Duration,
    while_idle: bool,
}

impl KeepaliveShared {
    pub(crate) fn new(interval: Option<Duration>, timeout: Duration, while_idle: bool) -> Self {
        KeepaliveShared { interval: Mutex::new(interval), timeout, while_idle }
    }

    /// The interval a new connection pings at, `None` if keepalive is off.
    pub(crate) fn interval(&self) -> Option<Duration> {
        *self.interval.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A8: the server said `too_many_pings`; new connections ping half as often.
    fn back_off(&self) {
        let mut interval = self.interval.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(interval) = interval.as_mut() {
            *interval = interval.saturating_mul(2);
        }
    }

    /// What one new connection needs: `None` if keepalive is off.
    pub(crate) fn for_connection(&self) -> Option<Keepalive> {
        self.interval().map(|interval| Keepalive {
            interval,
            timeout: self.timeout,
            while_idle: self.while_idle,
            activity: Arc::new(Activity::new()),
            calls: Arc::new(Calls::default()),
        })
    }
}

/// One connection's keepalive: its settings, read activity and call count.
#[derive(Debug)]
pub(crate) struct Keepalive {
    interval: Duration,
    timeout: Duration,
    while_idle: bool,
    activity: Arc<Activity>,
    calls: Arc<Calls>,
}

impl Keepalive {
    /// The guard a call holds while it is in flight on this connection.
    pub(crate) fn calls(&self) -> &Arc<Calls> {
        &self.calls
    }

    /// Wraps the connection's socket, to see reads and to fail it.
    pub(crate) fn watch<T>(&self, io: T) -> Watched<T> {
        Watched { io, activity: self.activity.clone() }
    }

    /// Pings whenever the connection has been quiet for the interval (and has calls, unless
    /// `while_idle`). Returns `true` after failing the connection, `false` when `h2` reports it
    /// closed.
    pub(crate) async fn run(self, mut ping_pong: h2::PingPong) -> bool {
        loop {
            let due = self.activity.last_read().checked_add(self.interval);
            // An interval beyond the end of time: never ping.
            let Some(due) = due else { return std::future::pending().await };
            if Instant::now() < due {
                tokio::time::sleep_until(due.into()).await;
                continue; // something may have been read meanwhile
            }
            if !self.while_idle && !self.calls.any() {
                self.calls.wait_for_one().await;
                continue;
            }
            match tokio::time::timeout(self.timeout, ping_pong.ping(h2::Ping::opaque())).await {
                // The PONG was a read: the next PING is due an interval after it.
                Ok(Ok(_pong)) => {}
                // The connection is closing anyway.
                Ok(Err(_)) => return false,
                Err(_elapsed) => {
                    let timeout = self.timeout;
                    self.activity.fail(format!(
                        "keepalive ping not acknowledged within {timeout:?}; the server is \
                         unresponsive"
                    ));
                    return true;
                }
            }
        }
    }
}

/// When the connection last read a byte, and the error that fails it.
#[derive(Debug)]
struct Activity {
    base: Instant,
    /// Nanoseconds from `base` to the last read.
    last_read: AtomicU64,
    /// Set with `failed`, so that reads and writes need not lock to see nothing happened.
    is_failed: AtomicBool,
    failed: Mutex<Option<String>>,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            base: Instant::now(),
            last_read: AtomicU64::new(0),
            is_failed: AtomicBool::new(false),
            failed: Mutex::new(None),
        }
    }

    fn touch(&self) {
        let nanos = u64::try_from(self.base.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.last_read.store(nanos, Ordering::Relaxed);
    }

    fn last_read(&self) -> Instant {
        self.base + Duration::from_nanos(self.last_read.load(Ordering::Relaxed))
    }

    fn fail(&self, message: String) {
        *self.failed.lock().unwrap_or_else(|p| p.into_inner()) = Some(message);
        self.is_failed.store(true, Ordering::Release);
    }

    fn error(&self) -> Option<io::Error> {
        if !self.is_failed.load(Ordering::Acquire) {
            return None;
        }
        let failed = self.failed.lock().unwrap_or_else(|p| p.into_inner());
        failed.as_ref().map(|message| io::Error::new(io::ErrorKind::TimedOut, message.clone()))
    }
}

/// The calls in flight on one connection, for "ping only while calls are active".
#[derive(Debug, Default)]
pub(crate) struct Calls {
    active: AtomicUsize,
    started: Notify,
}

impl Calls {
    fn any(&self) -> bool {
        self.active.load(Ordering::Acquire) > 0
    }

    async fn wait_for_one(&self) {
        // `notify_one` keeps a permit when nobody waits, so a call that starts between the
        // check and the wait is not missed; a stale permit only costs one more check.
        while !self.any() {
            self.started.notified().await;
        }
    }

    /// Counts a call until the guard drops.
    pub(crate) fn enter(self: &Arc<Self>) -> ActiveCall {
        self.active.fetch_add(1, Ordering::AcqRel);
        self.started.notify_one();
        ActiveCall(Some(self.clone()))
    }
}

/// Held by a call while it is in flight; counted only on connections with keepalive.
#[derive(Debug, Default)]
pub(crate) struct ActiveCall(Option<Arc<Calls>>);

impl Drop for ActiveCall {
    fn drop(&mut self) {
        if let Some(calls) = self.0.take() {
            calls.active.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

/// The connection's socket, seen by keepalive: each read moves the "last read" mark, and once
/// keepalive has failed the connection every read and write returns that error. Only
/// connections with keepalive have one.
#[derive(Debug)]
pub(crate) struct Watched<T> {
    io: T,
    activity: Arc<Activity>,
}

impl<T> Watched<T> {
    fn error(&self) -> Option<io::Error> {
        self.activity.error()
    }

    fn saw(&mut self, read: &[u8]) {
        if !read.is_empty() {
            self.activity.touch();
        }
    }
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    watch_reads!(io, guard Self::error, seen Self::saw);
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    forward_write!(io, guard Self::error;
        poll_write, poll_write_vectored, is_write_vectored, poll_flush, poll_shutdown);
}

/// Whether `err` (how a connection ended) is the server's GOAWAY `ENHANCE_YOUR_CALM` with
/// debug data `too_many_pings`. `h2` has no accessor for the debug data; its `Display` shows
/// it.
fn is_too_many_pings(err: &h2::Error) -> bool {
    err.is_go_away()
        && err.is_remote()
        && err.reason() == Some(h2::Reason::ENHANCE_YOUR_CALM)
        && err.to_string().contains("too_many_pings")
}

/// After the connection ended with `err`: on the server's `too_many_pings` the channel's
/// interval doubles.
pub(crate) fn connection_ended(shared: &KeepaliveShared, err: &h2::Error) {
    if is_too_many_pings(err) {
        shared.back_off();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_many_pings_is_recognised_only_with_its_debug_data() {
        // h2 builds remote GOAWAY errors only from frames; a local one is never "remote".
        let local = h2::Error::from(h2::Reason::ENHANCE_YOUR_CALM);
        assert!(!is_too_many_pings(&local));
    }

    #[test]
    fn back_off_doubles_the_interval_and_leaves_off_alone() {
        let shared = KeepaliveShared::new(Some(Duration::from_secs(10)), Duration::ZERO, false);
        shared.back_off();
        assert_eq!(shared.interval(), Some(Duration::from_secs(20)));
        let off = KeepaliveShared::new(None, Duration::ZERO, false);
        off.back_off();
        assert_eq!(off.interval(), None);
        let huge = KeepaliveShared::new(Some(Duration::MAX), Duration::ZERO, false);
        huge.back_off();
        assert_eq!(huge.interval(), Some(Duration::MAX));
    }
}
