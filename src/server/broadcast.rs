//! Broadcast: one publisher, every subscribed call — the server-push pattern (ASP.NET Core's
//! hub context sending to all clients) as a server-streaming subscription.
//!
//! ```text
//!  background task ── publish(m) ──▶ [ ring of `capacity` encoded messages ]
//!                                        │          │          │
//!                               subscriber call  subscriber  subscriber ──▶ its own stream
//! ```
//!
//! Each message is encoded once, at `publish`; every subscriber copies the same bytes into its
//! own stream. The publisher never waits: a subscriber that falls more than `capacity` messages
//! behind (a client that stopped reading, a slow link) is handled by the broadcast's
//! [`SlowSubscriber`] policy, and the others never notice.

use std::fmt;
use std::future::{poll_fn, Future};
use std::marker::PhantomData;
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::Poll;

use bytes::{Bytes, BytesMut};
use tokio::sync::broadcast::{self, error::RecvError, error::TryRecvError};
use tokio_util::sync::{CancellationToken, WaitForCancellationFuture};

use super::{CallContext, ResponseSink};
use crate::codec::encode_message;
use crate::status::Status;

/// What happens to a subscriber that falls more than `capacity` messages behind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlowSubscriber {
    /// Skip ahead to the oldest message still held. The subscription reports how many
    /// messages it missed ([`Event::Missed`]) before going on.
    SkipAhead,
    /// End that subscriber's call with RESOURCE_EXHAUSTED.
    Disconnect,
}

/// A message as the ring holds it: decoded for handlers that look at it, framed for the wire.
/// One reference count for both, as each subscriber clones the item it receives out of the
/// ring (one atomic increment and decrement per delivery, not two).
struct Item<T>(Arc<Published<T>>);

struct Published<T> {
    message: Arc<T>,
    framed: Bytes,
}

impl<T> Clone for Item<T> {
    fn clone(&self) -> Self {
        Item(self.0.clone())
    }
}

/// What a subscription has next.
enum Next<T> {
    Item(Item<T>),
    /// This many messages were skipped: the subscriber fell behind.
    Missed(u64),
    /// The broadcast was closed (after its last message) or every publisher is gone.
    End,
}

/// A typed broadcast for server-streaming handlers: a background task publishes, each
/// subscribed call receives every message in order over its own stream.
///
/// Cheap to clone: clones publish to the same subscribers.
///
/// ```no_run
/// use std::time::Duration;
/// use h2grpc::server::{Broadcast, Service, SlowSubscriber};
///
/// let ticks: Broadcast<u64> = Broadcast::new(16, SlowSubscriber::SkipAhead);
/// let publisher = ticks.clone();
/// tokio::spawn(async move {
///     for n in 0.. {
///         publisher.publish(n);
///         tokio::time::sleep(Duration::from_secs(1)).await;
///     }
/// });
/// let service = Service::new("clock.Clock").server_streaming("Subscribe", move |ctx, _req: (), mut sink| {
///     let ticks = ticks.clone();
///     async move { ticks.serve(&ctx, &mut sink).await }
/// });
/// # let _ = service;
/// ```
pub struct Broadcast<T> {
    sender: broadcast::Sender<Item<T>>,
    policy: SlowSubscriber,
    closed: CancellationToken,
}

impl<T> Clone for Broadcast<T> {
    fn clone(&self) -> Self {
        Broadcast { sender: self.sender.clone(), policy: self.policy, closed: self.closed.clone() }
    }
}

impl<T> fmt::Debug for Broadcast<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Broadcast")
            .field("subscribers", &self.sender.receiver_count())
            .field("policy", &self.policy)
            .field("closed", &self.closed.is_cancelled())
            .finish()
    }
}

/// What a [`Subscription`] yields.
#[derive(Debug, PartialEq)]
pub enum Event<T> {
    /// The next published message.
    Message(Arc<T>),
    /// This many messages were skipped because the subscriber fell behind
    /// ([`SlowSubscriber::SkipAhead`] only).
    Missed(u64),
}

impl<T: prost::Message + Send + Sync + 'static> Broadcast<T> {
    /// A broadcast holding up to `capacity` messages for subscribers that are behind (at least
    /// one), with `policy` for those that fall further behind.
    pub fn new(capacity: usize, policy: SlowSubscriber) -> Broadcast<T> {
        let (sender, _) = broadcast::channel(capacity.max(1));
        Broadcast { sender, policy, closed: CancellationToken::new() }
    }

    /// Publishes `message` to every current subscriber, encoding it once; never waits. Returns
    /// how many subscribers it went to.
    pub fn publish(&self, message: T) -> usize {
        let mut framed = BytesMut::new();
        // A message over 4 GiB cannot be framed; there is nobody to tell but the publisher's
        // subscribers, who simply never see it.
        if encode_message(&message, usize::MAX, &mut framed).is_err() {
            return 0;
        }
        let item =
            Item(Arc::new(Published { message: Arc::new(message), framed: framed.freeze() }));
        self.sender.send(item).unwrap_or(0)
    }

    /// How many subscriptions are live: a call that ended (the client cancelled or
    /// disconnected) no longer counts.
    pub fn subscribers(&self) -> usize {
        self.sender.receiver_count()
    }

    /// Ends every subscription cleanly: [`serve`](Self::serve) returns `Ok` (the clients see
    /// status OK), [`Subscription::recv`] returns `None`. Later subscriptions end at once.
    pub fn close(&self) {
        self.closed.cancel();
    }

    /// A subscription starting with the next published message.
    pub fn subscribe(&self) -> Subscription<T> {
        Subscription {
            receiver: self.sender.subscribe(),
            policy: self.policy,
            closed: self.closed.clone(),
            held: None,
            _type: PhantomData,
        }
    }

    /// Forwards every published message to `sink` until the client cancels, the server shuts
    /// down or the broadcast is closed (then `Ok`), or this subscriber falls behind under
    /// [`SlowSubscriber::Disconnect`] (then RESOURCE_EXHAUSTED).
    pub async fn serve(&self, ctx: &CallContext, sink: &mut ResponseSink<T>) -> Result<(), Status> {
        self.serve_with(ctx, sink, |_missed| None).await
    }

    /// Like [`serve`](Self::serve); under [`SlowSubscriber::SkipAhead`], `on_missed(n)` may
    /// return a message telling the client it missed `n` messages, sent before the next one.
    pub async fn serve_with(
        &self,
        ctx: &CallContext,
        sink: &mut ResponseSink<T>,
        on_missed: impl FnMut(u64) -> Option<T> + Send,
    ) -> Result<(), Status> {
        self.subscribe().forward(ctx, sink, on_missed).await
    }
}

/// One subscriber's view of a [`Broadcast`]: every message published after it was created, in
/// order. Dropping it unsubscribes.
pub struct Subscription<T> {
    receiver: broadcast::Receiver<Item<T>>,
    policy: SlowSubscriber,
    closed: CancellationToken,
    /// What the last batch ([`Subscription::append_ready`]) stopped at, if not a message: it
    /// comes next.
    held: Option<Next<T>>,
    _type: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for Subscription<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription").field("policy", &self.policy).finish_non_exhaustive()
    }
}

impl<T: Send + Sync + 'static> Subscription<T> {
    /// The next event; `None` once the broadcast is closed or every publisher is gone. Under
    /// [`SlowSubscriber::Disconnect`], falling behind is an `Err` with RESOURCE_EXHAUSTED.
    pub async fn recv(&mut self) -> Option<Result<Event<T>, Status>> {
        let closed = self.closed.clone();
        let next = self.next(pin!(closed.cancelled())).await;
        match next {
            Next::Item(item) => Some(Ok(Event::Message(item.0.message.clone()))),
            Next::Missed(missed) if self.policy == SlowSubscriber::SkipAhead => {
                Some(Ok(Event::Missed(missed)))
            }
            Next::Missed(missed) => Some(Err(lagged(missed))),
            Next::End => None,
        }
    }

    /// The next item, the count of those missed after falling behind, or the end, waiting for
    /// it. Messages published before [`Broadcast::close`] are still delivered; the end comes
    /// after them. `closed` is this subscription's `self.closed.cancelled()`, kept by the
    /// caller across calls.
    async fn next(&mut self, mut closed: Pin<&mut WaitForCancellationFuture<'_>>) -> Next<T> {
        if let Some(ready) = self.try_next() {
            return ready;
        }
        let mut received = pin!(self.receiver.recv());
        let received = poll_fn(|cx| {
            if let Poll::Ready(received) = received.as_mut().poll(cx) {
                return Poll::Ready(Some(received));
            }
            closed.as_mut().poll(cx).map(|()| None)
        })
        .await;
        match received {
            Some(Ok(item)) => Next::Item(item),
            Some(Err(RecvError::Lagged(missed))) => Next::Missed(missed),
            Some(Err(RecvError::Closed)) | None => Next::End,
        }
    }

    /// What is already there without waiting: `None` if nothing is (and the broadcast is
    /// open).
    fn try_next(&mut self) -> Option<Next<T>> {
        if let Some(held) = self.held.take() {
            return Some(held);
        }
        match self.receiver.try_recv() {
            Ok(item) => Some(Next::Item(item)),
            Err(TryRecvError::Lagged(missed)) => Some(Next::Missed(missed)),
            Err(TryRecvError::Closed) => Some(Next::End),
            Err(TryRecvError::Empty) if self.closed.is_cancelled() => Some(Next::End),
            Err(TryRecvError::Empty) => None,
        }
    }

    /// Appends the next message's framed bytes to `buf` if it is already there (`true`);
    /// anything else it finds is held for [`try_next`](Self::try_next) (`false`). A burst is
    /// copied this way into the outbox under one lock and leaves in one DATA frame.
    fn append_ready(&mut self, buf: &mut BytesMut) -> bool {
        match self.try_next() {
            Some(Next::Item(item)) => {
                buf.extend_from_slice(&item.0.framed);
                true
            }
            other => {
                self.held = other;
                false
            }
        }
    }
}

impl<T: prost::Message + Send + Sync + 'static> Subscription<T> {
    /// Forwards this subscription's messages to `sink`, as [`Broadcast::serve_with`] does. For
    /// handlers that send something first — a snapshot, the current state — subscribing
    /// before taking the snapshot, so that no change falls in between.
    pub async fn forward(
        mut self,
        ctx: &CallContext,
        sink: &mut ResponseSink<T>,
        mut on_missed: impl FnMut(u64) -> Option<T> + Send,
    ) -> Result<(), Status> {
        let policy = self.policy;
        let mut cancelled = pin!(ctx.cancelled());
        let mut shutting_down = pin!(ctx.server_shutting_down());
        let closed = self.closed.clone();
        let mut closed = pin!(closed.cancelled());
        let mut draining = false;
        loop {
            let next = if draining {
                // The server is shutting down: deliver what was already published, then end.
                self.try_next().unwrap_or(Next::End)
            } else {
                let mut next = pin!(self.next(closed.as_mut()));
                let polled = poll_fn(|cx| {
                    if cancelled.as_mut().poll(cx).is_ready() {
                        return Poll::Ready(Err(true));
                    }
                    if let Poll::Ready(next) = next.as_mut().poll(cx) {
                        return Poll::Ready(Ok(next));
                    }
                    shutting_down.as_mut().poll(cx).map(|()| Err(false))
                })
                .await;
                match polled {
                    Ok(next) => next,
                    // The client is gone: nothing more to deliver.
                    Err(true) => return Ok(()),
                    Err(false) => {
                        draining = true;
                        continue;
                    }
                }
            };
            match next {
                Next::End => return Ok(()),
                Next::Item(item) => {
                    // This message and those published since, in order, in one write.
                    let framed = &item.0.framed;
                    sink.push_framed(framed, None, &mut |buf| self.append_ready(buf)).await?
                }
                Next::Missed(missed) if policy == SlowSubscriber::Disconnect => {
                    return Err(lagged(missed))
                }
                Next::Missed(missed) => {
                    if let Some(notice) = on_missed(missed) {
                        sink.send_undebuggable(&notice).await?;
                    }
                }
            }
        }
    }
}

fn lagged(missed: u64) -> Status {
    Status::resource_exhausted(format!(
        "subscriber fell behind by {missed} messages and was disconnected"
    ))
}
