//! Name resolution and load balancing: a [`Resolver`] gives addresses, one [`Subchannel`] per
//! address keeps a connection, and the policy (pick_first or round_robin) picks one for each
//! call (grpc `doc/load-balancing.md`, GRPC-WIRE.md section 10).
//!
//! ```text
//! mod.rs         Balancer: address list, policies, channel state, waiting for a pick
//! host.rs        Host, Link: what the balancer needs from its channel and connections
//! list.rs        List: the subchannels and what the balancer knows of them
//! resolve.rs     the re-resolution task (timer, requests, minimum interval)
//! resolver.rs    Resolver trait, DnsResolver, StaticResolver
//! subchannel.rs  one address: its connection, its task and backoff
//! backoff.rs     connection backoff (1 s, ×1.6, ±20 %, 120 s)
//! state.rs       ConnectivityState
//! ```

mod backoff;
mod host;
mod list;
mod resolve;
mod resolver;
mod state;
mod subchannel;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use tokio::sync::{watch, Notify};

pub(crate) use self::backoff::jittered;
pub(crate) use self::host::{Host, Link};
use self::list::List;
pub use self::resolver::{DnsResolver, Resolution, Resolver, StaticResolver};
use self::state::aggregate;
pub use self::state::ConnectivityState;
use self::subchannel::Subchannel;
use crate::status::Status;
use crate::transport::Address;

/// How calls are spread over a channel's addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Policy {
    /// The first address that connects, in order, takes every call (the gRPC default).
    PickFirst,
    /// Every address is kept connected; each call goes to the next READY one.
    RoundRobin,
}

/// Resolution and reconnection settings, from the builder.
#[derive(Clone, Debug)]
pub(crate) struct BalanceConfig {
    pub(crate) policy: Policy,
    pub(crate) min_resolve_interval: Duration,
    pub(crate) resolve_refresh: Duration,
    pub(crate) backoff: (Duration, Duration),
}

pub(crate) struct Balancer<H: Host> {
    /// The target as the user named it, for messages.
    target: String,
    config: BalanceConfig,
    resolver: Arc<dyn Resolver>,
    list: Mutex<List<H::Conn>>,
    /// Bumped on every change that may let a waiting call proceed.
    generation: watch::Sender<u64>,
    state: watch::Sender<ConnectivityState>,
    resolve_now: Arc<Notify>,
    /// Dropped with the balancer: ends the resolution task.
    alive: watch::Sender<()>,
    cursor: AtomicUsize,
}

enum Pick<C> {
    Conn(C),
    Queue,
    Fail(Status),
}

impl<H: Host> Balancer<H> {
    pub(crate) fn new(
        target: String,
        config: BalanceConfig,
        resolver: Arc<dyn Resolver>,
    ) -> Balancer<H> {
        Balancer {
            target,
            config,
            resolver,
            list: Mutex::default(),
            generation: watch::Sender::new(0),
            state: watch::Sender::new(ConnectivityState::Idle),
            resolve_now: Arc::new(Notify::new()),
            alive: watch::Sender::new(()),
            cursor: AtomicUsize::new(0),
        }
    }

    fn lock(&self) -> MutexGuard<'_, List<H::Conn>> {
        self.list.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Installs a connection made by other means ([`connect_with_io`]); nothing is dialled.
    ///
    /// [`connect_with_io`]: crate::client::ChannelBuilder::connect_with_io
    pub(crate) fn install_fixed(&self, conn: H::Conn) {
        let mut list = self.lock();
        list.fixed = true;
        list.started = true;
        list.resolved = true;
        list.subchannels = vec![Subchannel::fixed(Address::Unix("".into()), conn)];
        drop(list);
        self.subchannel_changed(false);
    }

    pub(crate) fn state(&self) -> ConnectivityState {
        *self.state.borrow()
    }

    pub(crate) fn watch_state(&self) -> watch::Receiver<ConnectivityState> {
        self.state.subscribe()
    }

    /// A connection for one call, by the policy. Waits while the channel is connecting; in
    /// TRANSIENT_FAILURE fails at once with UNAVAILABLE, unless `wait_for_ready`.
    pub(crate) async fn pick(
        &self,
        channel: &Arc<H>,
        wait_for_ready: bool,
        deadline: Option<Instant>,
    ) -> Result<H::Conn, Status> {
        let mut generation = self.generation.subscribe();
        loop {
            generation.borrow_and_update();
            let last = match self.try_pick(channel) {
                Pick::Conn(conn) => return Ok(conn),
                Pick::Fail(status) if !wait_for_ready || self.lock().shutdown => {
                    return Err(status)
                }
                Pick::Fail(status) => Some(status),
                Pick::Queue => None,
            };
            let changed = generation.changed();
            let timed_out = match deadline {
                None => changed.await.is_err(),
                Some(at) => {
                    !matches!(tokio::time::timeout_at(at.into(), changed).await, Ok(Ok(())))
                }
            };
            if timed_out {
                let why =
                    last.map_or_else(String::new, |s| format!(" (last error: {})", s.message()));
                return Err(Status::deadline_exceeded(format!(
                    "deadline exceeded while waiting for a connection to {}{why}",
                    self.target
                )));
            }
        }
    }

    fn try_pick(&self, channel: &Arc<H>) -> Pick<H::Conn> {
        let mut list = self.lock();
        if list.shutdown {
            return Pick::Fail(Status::unavailable(format!(
                "the channel to {} was shut down",
                self.target
            )));
        }
        if list.fixed {
            return match list.subchannels.first().and_then(|s| s.conn()) {
                Some(conn) => Pick::Conn(conn),
                None => Pick::Fail(Status::unavailable(
                    "the connection this channel was given has closed; a channel made with \
                     connect_with_io cannot reconnect",
                )),
            };
        }
        let weak = Arc::downgrade(channel);
        if !list.started {
            list.started = true;
            tokio::spawn(resolve::run(
                weak.clone(),
                self.resolver.clone(),
                self.resolve_settings(),
            ));
            drop(list);
            self.refresh_state();
            return Pick::Queue;
        }
        if !list.resolved {
            return match &list.resolve_error {
                Some(err) => Pick::Fail(self.resolve_failure(err)),
                None => Pick::Queue,
            };
        }
        let pick = match self.config.policy {
            Policy::RoundRobin => self.pick_round_robin(&list, &weak),
            Policy::PickFirst => self.pick_first(&mut list, &weak),
        };
        drop(list);
        if matches!(pick, Pick::Queue) {
            self.refresh_state();
        }
        pick
    }

    fn pick_round_robin(&self, list: &List<H::Conn>, weak: &Weak<H>) -> Pick<H::Conn> {
        let ready: Vec<H::Conn> = list.subchannels.iter().filter_map(|s| s.conn()).collect();
        if !ready.is_empty() {
            let i = self.cursor.fetch_add(1, Ordering::Relaxed) % ready.len();
            return Pick::Conn(ready[i].clone());
        }
        for sub in &list.subchannels {
            sub.ensure_connecting(weak);
        }
        let connecting =
            list.subchannels.iter().any(|s| s.state() != ConnectivityState::TransientFailure);
        if connecting {
            Pick::Queue
        } else {
            Pick::Fail(self.all_failed(list))
        }
    }

    fn pick_first(&self, list: &mut List<H::Conn>, weak: &Weak<H>) -> Pick<H::Conn> {
        if let Some(conn) = list.selected.as_ref().and_then(|s| s.conn()) {
            return Pick::Conn(conn);
        }
        list.selected = None;
        if let Some(chosen) = list.subchannels.iter().find(|s| s.conn().is_some()).cloned() {
            for other in list.subchannels.iter().filter(|s| !Arc::ptr_eq(s, &chosen)) {
                other.release();
            }
            let conn = chosen.conn();
            list.selected = Some(chosen);
            return conn.map_or(Pick::Queue, Pick::Conn);
        }
        // One address at a time, in order: the first that has not failed in this pass.
        match list.subchannels.iter().find(|s| s.state() != ConnectivityState::TransientFailure) {
            Some(next) => {
                next.ensure_connecting(weak);
                Pick::Queue
            }
            None => {
                // All failed: each keeps retrying with its backoff (sticky TRANSIENT_FAILURE).
                for sub in &list.subchannels {
                    sub.ensure_connecting(weak);
                }
                Pick::Fail(self.all_failed(list))
            }
        }
    }

    fn all_failed(&self, list: &List<H::Conn>) -> Status {
        let errors: Vec<String> = list
            .subchannels
            .iter()
            .map(|s| {
                format!(
                    "{}: {}",
                    s.address,
                    s.last_error().unwrap_or_else(|| "not connected".into())
                )
            })
            .collect();
        Status::unavailable(format!(
            "{} is unreachable: no address could be connected ({}); calls that should wait set \
             wait_for_ready",
            self.target,
            errors.join("; ")
        ))
    }

    fn resolve_failure(&self, err: &str) -> Status {
        Status::unavailable(format!("cannot resolve {}: {err}", self.target))
    }

    fn resolve_settings(&self) -> resolve::Settings {
        resolve::Settings {
            min_interval: self.config.min_resolve_interval,
            refresh: self.config.resolve_refresh,
            resolve_now: self.resolve_now.clone(),
            alive: self.alive.subscribe(),
        }
    }

    /// A subchannel changed state: recompute the channel's, wake waiting calls, and after a
    /// loss or failure ask for re-resolution.
    pub(crate) fn subchannel_changed(&self, resolve: bool) {
        if resolve {
            self.resolve_now.notify_one();
        }
        self.refresh_state();
        self.generation.send_modify(|g| *g += 1);
    }

    /// A new address list: keep the subchannels of addresses still listed (and their
    /// connections), add new ones, shut down the rest.
    pub(crate) fn update_addresses(&self, addrs: Vec<Address>, channel: &Weak<H>) {
        let mut list = self.lock();
        if list.shutdown {
            return;
        }
        let old = std::mem::take(&mut list.subchannels);
        let auto_reconnect = self.config.policy == Policy::RoundRobin;
        for addr in addrs {
            if list.subchannels.iter().any(|s| s.address == addr) {
                continue;
            }
            let sub = match old.iter().find(|s| s.address == addr) {
                Some(sub) => sub.clone(),
                None => Subchannel::new(addr, auto_reconnect, self.config.backoff),
            };
            list.subchannels.push(sub);
        }
        for gone in old.iter().filter(|s| !list.subchannels.iter().any(|k| Arc::ptr_eq(k, s))) {
            gone.shutdown();
        }
        if let Some(selected) = &list.selected {
            if !list.subchannels.iter().any(|s| Arc::ptr_eq(s, selected)) {
                list.selected = None;
            }
        }
        if auto_reconnect {
            for sub in &list.subchannels {
                sub.ensure_connecting(channel);
            }
        }
        list.resolved = true;
        list.resolve_error = None;
        drop(list);
        self.subchannel_changed(false);
    }

    /// Resolution failed: calls fail with it while no address is known.
    pub(crate) fn resolution_failed(&self, error: String) {
        let mut list = self.lock();
        list.resolve_error = Some(error);
        drop(list);
        self.subchannel_changed(false);
    }

    /// Closes every connection; later calls fail. Final.
    pub(crate) fn shutdown(&self) {
        let mut list = self.lock();
        list.shutdown = true;
        list.selected = None;
        for sub in list.subchannels.drain(..) {
            sub.shutdown();
        }
        drop(list);
        self.subchannel_changed(false);
    }

    fn refresh_state(&self) {
        let list = self.lock();
        let state = if list.shutdown {
            ConnectivityState::Shutdown
        } else if !list.started {
            ConnectivityState::Idle
        } else if !list.resolved {
            match list.resolve_error {
                Some(_) => ConnectivityState::TransientFailure,
                None => ConnectivityState::Connecting,
            }
        } else {
            let states: Vec<ConnectivityState> = match (self.config.policy, &list.selected) {
                (Policy::PickFirst, Some(selected)) => vec![selected.state()],
                _ => list.subchannels.iter().map(|s| s.state()).collect(),
            };
            aggregate(&states)
        };
        drop(list);
        self.state.send_if_modified(|old| std::mem::replace(old, state) != state);
    }
}

/// Waits for the first of two futures to finish; `true` if it was `a` (tokio's `select!`
/// needs its `macros` feature, which adds a crate).
pub(crate) async fn first<A: std::future::Future, B: std::future::Future>(a: A, b: B) -> bool {
    use std::task::Poll;
    let (mut a, mut b) = (std::pin::pin!(a), std::pin::pin!(b));
    std::future::poll_fn(|cx| {
        if a.as_mut().poll(cx).is_ready() {
            Poll::Ready(true)
        } else if b.as_mut().poll(cx).is_ready() {
            Poll::Ready(false)
        } else {
            Poll::Pending
        }
    })
    .await
}

impl<H: Host> Drop for Balancer<H> {
    fn drop(&mut self) {
        for sub in self.lock().subchannels.drain(..) {
            sub.shutdown();
        }
    }
}
