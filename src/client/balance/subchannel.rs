//! A subchannel: one connection to one [`Address`], kept up by a task of its own with its own
//! connection backoff.

use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::backoff::Backoff;
use super::{first, ConnectivityState, Host, Link};
use crate::transport::Address;

pub(crate) struct Subchannel<C> {
    pub(crate) address: Address,
    /// Reconnect at once when the connection is lost (round_robin), or go IDLE until a call
    /// needs it (pick_first).
    auto_reconnect: bool,
    backoff: (Duration, Duration),
    state: Mutex<SubState<C>>,
    /// Wakes the task to re-read `wanted` and `shutdown`.
    poke: watch::Sender<()>,
}

struct SubState<C> {
    state: Option<ConnectivityState>,
    conn: Option<C>,
    /// A task is running for this subchannel.
    running: bool,
    /// The policy wants this subchannel connected.
    wanted: bool,
    shutdown: bool,
    /// Failed since it was last READY: counts as TRANSIENT_FAILURE while it reconnects.
    failed: bool,
    last_error: Option<String>,
}

impl<C> Default for SubState<C> {
    fn default() -> Self {
        SubState {
            state: None,
            conn: None,
            running: false,
            wanted: false,
            shutdown: false,
            failed: false,
            last_error: None,
        }
    }
}

impl<C: Link> Subchannel<C> {
    pub(crate) fn new(
        address: Address,
        auto_reconnect: bool,
        backoff: (Duration, Duration),
    ) -> Arc<Subchannel<C>> {
        Arc::new(Subchannel {
            address,
            auto_reconnect,
            backoff,
            state: Mutex::new(SubState::default()),
            poke: watch::Sender::new(()),
        })
    }

    /// A subchannel over a connection made by other means, which cannot redial.
    pub(crate) fn fixed(address: Address, conn: C) -> Arc<Subchannel<C>> {
        let sub = Subchannel::new(address, false, (Duration::ZERO, Duration::ZERO));
        let mut state = sub.lock();
        state.state = Some(ConnectivityState::Ready);
        state.conn = Some(conn);
        drop(state);
        sub
    }

    fn lock(&self) -> MutexGuard<'_, SubState<C>> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The live connection, if READY.
    pub(crate) fn conn(&self) -> Option<C> {
        self.lock().conn.as_ref().filter(|c| !c.is_closed()).cloned()
    }

    /// The state as the policies count it: a subchannel that failed stays TRANSIENT_FAILURE
    /// while it reconnects, until it is READY again.
    pub(crate) fn state(&self) -> ConnectivityState {
        let state = self.lock();
        match state.state.unwrap_or(ConnectivityState::Idle) {
            ConnectivityState::Ready if state.conn.as_ref().is_some_and(C::is_closed) => {
                ConnectivityState::Idle
            }
            ConnectivityState::Connecting if state.failed => ConnectivityState::TransientFailure,
            other => other,
        }
    }

    pub(crate) fn last_error(&self) -> Option<String> {
        self.lock().last_error.clone()
    }

    /// Starts connecting (if no task is already at it) and keeps at it, with backoff, until
    /// [`release`](Self::release)d or shut down.
    pub(crate) fn ensure_connecting<H: Host<Conn = C>>(self: &Arc<Self>, channel: &Weak<H>) {
        let mut state = self.lock();
        if state.shutdown {
            return;
        }
        state.wanted = true;
        if state.running {
            return;
        }
        state.running = true;
        state.state = Some(ConnectivityState::Connecting);
        drop(state);
        tokio::spawn(run(self.clone(), channel.clone()));
    }

    /// No longer wanted (pick_first chose another address): close the connection, stop
    /// trying, and forget past failures so that the next pass tries this address again.
    pub(crate) fn release(&self) {
        let mut state = self.lock();
        state.wanted = false;
        state.failed = false;
        state.conn = None;
        if !state.running {
            state.state = Some(ConnectivityState::Idle);
        }
        drop(state);
        self.poke.send_replace(());
    }

    /// Removed from the address list or the channel is gone: close and stop for good.
    pub(crate) fn shutdown(&self) {
        let mut state = self.lock();
        state.shutdown = true;
        state.wanted = false;
        state.conn = None;
        state.state = Some(ConnectivityState::Shutdown);
        drop(state);
        self.poke.send_replace(());
    }

    /// Whether the task should go on; if not, marks it stopped.
    fn keep_going(&self) -> bool {
        let mut state = self.lock();
        if state.wanted && !state.shutdown {
            return true;
        }
        state.running = false;
        if !state.shutdown {
            state.state = Some(ConnectivityState::Idle);
        }
        false
    }

    fn set(&self, new: ConnectivityState, conn: Option<C>, error: Option<String>) {
        let mut state = self.lock();
        if state.shutdown {
            return;
        }
        match new {
            ConnectivityState::Ready => state.failed = false,
            ConnectivityState::TransientFailure => state.failed = true,
            _ => {}
        }
        if !state.wanted && new != ConnectivityState::TransientFailure {
            // Released while connecting: the connection just made is not wanted.
            state.conn = None;
            return;
        }
        state.state = Some(new);
        state.conn = conn;
        if error.is_some() {
            state.last_error = error;
        }
    }
}

/// Tells the channel that a subchannel changed, and asks for re-resolution after a loss or a
/// failure.
fn changed<H: Host>(channel: &Weak<H>, resolve: bool) -> bool {
    let Some(inner) = channel.upgrade() else { return false };
    inner.balancer().subchannel_changed(resolve);
    true
}

/// The subchannel's task: connect, wait for the connection to end, reconnect; attempts start
/// at most as often as the backoff allows.
async fn run<H: Host>(sub: Arc<Subchannel<H::Conn>>, channel: Weak<H>) {
    let mut poke = sub.poke.subscribe();
    let mut backoff = Backoff::new(sub.backoff.0, sub.backoff.1);
    while sub.keep_going() {
        sub.set(ConnectivityState::Connecting, None, None);
        if !changed(&channel, false) {
            break;
        }
        let started = Instant::now();
        let delay = backoff.next_delay();
        let Some(inner) = channel.upgrade() else { break };
        let result = inner.dial(&sub.address, delay).await;
        drop(inner);
        match result {
            Ok(conn) => {
                backoff.reset();
                let mut closed = conn.closed_watch();
                poke.borrow_and_update();
                sub.set(ConnectivityState::Ready, Some(conn), None);
                if !changed(&channel, false) {
                    break;
                }
                if !sub.lock().wanted {
                    continue;
                }
                first(closed.wait_for(|closed| *closed), poke.changed()).await;
                sub.set(ConnectivityState::Idle, None, None);
                if !sub.auto_reconnect {
                    sub.lock().wanted = false;
                }
                if !changed(&channel, true) {
                    break;
                }
            }
            Err(err) => {
                poke.borrow_and_update();
                sub.set(ConnectivityState::TransientFailure, None, Some(err.to_string()));
                if !changed(&channel, true) {
                    break;
                }
                first(tokio::time::sleep_until((started + delay).into()), poke.changed()).await;
            }
        }
    }
    changed(&channel, false);
}
