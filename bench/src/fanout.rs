//! W6, broadcast fan-out: one publisher in the server, `subscribers` server-streaming calls.
//!
//! Both stacks run the same publisher: it waits until every subscriber is in, then publishes
//! stamped messages as fast as the server's one worker lets it (one `yield_now` between two
//! publishes, so the subscriber tasks run in between), for the requested time, then ends every
//! subscription with OK. Each message's first 8 bytes are its publish time (nanoseconds since
//! the Unix epoch, little-endian), so the client can measure publish-to-receipt latency across
//! processes. A subscriber that falls behind the ring (`CAPACITY` messages) skips ahead on both
//! stacks (h2grpc's `SlowSubscriber::SkipAhead`, tonic's `BroadcastStream` lag errors
//! dropped); deliveries count what reached the clients.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::{BufMut, BytesMut};

use crate::{BoxError, Payload, SubscribeReq};

/// Messages a subscriber may fall behind before it skips ahead.
pub const CAPACITY: usize = 1024;

fn now_ns() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
}

/// A `size`-byte message stamped with the time now.
pub fn stamped(size: usize) -> Payload {
    let mut data = BytesMut::with_capacity(size.max(8));
    data.put_u64_le(now_ns());
    data.resize(size.max(8), 0x5a);
    Payload { data: data.freeze() }
}

/// The publisher: waits until `subscribed()` reaches `request.subscribers` (fails after 60 s),
/// then calls `publish` with stamped messages for `request.millis`, one `yield_now` apart.
/// Returns how many it published.
pub async fn publish(
    request: SubscribeReq,
    subscribed: impl Fn() -> usize,
    mut publish: impl FnMut(Payload),
) -> Result<u64, BoxError> {
    let give_up = Instant::now() + Duration::from_secs(60);
    while subscribed() < request.subscribers as usize {
        if Instant::now() > give_up {
            return Err(
                format!("only {} of {} subscribed", subscribed(), request.subscribers).into()
            );
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let end = Instant::now() + Duration::from_millis(u64::from(request.millis));
    let mut published = 0;
    while Instant::now() < end {
        publish(stamped(request.size as usize));
        published += 1;
        tokio::task::yield_now().await;
    }
    Ok(published)
}

/// What one subscriber received: for each message, when (ns since the Unix epoch) and after
/// how long (publish to receipt, ns).
#[derive(Clone, Debug, Default)]
pub struct Received {
    /// Receipt time of each message.
    pub at_ns: Vec<u64>,
    /// Publish-to-receipt latency of each message.
    pub latency_ns: Vec<u64>,
}

impl Received {
    /// Records one received message.
    pub fn record(&mut self, message: &Payload) -> Result<(), BoxError> {
        let stamp: [u8; 8] = message
            .data
            .get(..8)
            .and_then(|b| b.try_into().ok())
            .ok_or("a broadcast message without its stamp")?;
        let now = now_ns();
        self.at_ns.push(now);
        self.latency_ns.push(now.saturating_sub(u64::from_le_bytes(stamp)));
        Ok(())
    }
}

/// W6's figures from every subscriber's [`Received`]: deliveries per second and latency
/// percentiles over the messages received within `millis` of the first receipt (so that what
/// a stack delivers after its publisher stopped, draining its rings, does not count).
pub fn figures(all: &[Received], millis: u32) -> Result<(f64, f64, f64), BoxError> {
    let start = all.iter().filter_map(|r| r.at_ns.first()).min().ok_or("no message arrived")?;
    let end = start + u64::from(millis) * 1_000_000;
    let mut latencies: Vec<u64> = all
        .iter()
        .flat_map(|r| r.at_ns.iter().zip(&r.latency_ns))
        .filter(|(at, _)| **at <= end)
        .map(|(_, latency)| *latency)
        .collect();
    latencies.sort_unstable();
    let n = latencies.len();
    let per_s = n as f64 / (f64::from(millis) / 1000.0);
    let us = |i: usize| latencies[i.min(n - 1)] as f64 / 1000.0;
    Ok((per_s, us(n / 2), us(n * 99 / 100)))
}
