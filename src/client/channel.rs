//! `Channel`: calls spread over the connections to a target's addresses, re-established on
//! demand.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use h2::client::SendRequest;
use http::uri::{PathAndQuery, Scheme};
use tokio::sync::watch;

use super::balance::{ConnectivityState, Host, Link};
use super::connection::Conn;
use super::inner::Inner;
use super::keepalive::{ActiveCall, Calls};
use crate::error::Error;
use crate::status::Status;
use crate::transport::{Address, Target};

/// Calls to one gRPC target, shared by every clone.
///
/// The target's name is resolved to addresses (DNS gives every IPv4 and IPv6 address of a
/// `host:port`; `ipv4:`/`ipv6:` lists and `unix:` sockets are used as given; see [`Resolver`](super::Resolver)
/// for your own source), each address gets its own connection (a subchannel) with its own
/// reconnection backoff, and the balancing policy picks one per call: pick_first (the
/// default) or [`round_robin`](super::ChannelBuilder::round_robin). Calls are multiplexed as HTTP/2
/// streams. When a connection drops (the server restarted, GOAWAY), it is re-established and
/// the name resolved again; calls made while no address is reachable fail fast with
/// UNAVAILABLE unless they set [`wait_for_ready`](super::CallOptions::wait_for_ready). Failed
/// calls are retried only under a [`RetryPolicy`](super::RetryPolicy) (gRFC A6). [`state`](Channel::state) tells
/// the connectivity state.
///
/// Targets: `unix:/path`, `unix:///abs/path`, `unix-abstract:name` (Linux), `host:port`,
/// `dns:///host:port`, `ipv4:a:port,b:port`, `ipv6:[a]:port,[b]:port`. Unix targets send
/// `:authority: localhost`, as C-core and grpc-go do.
#[derive(Clone)]
pub struct Channel {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Channel").field("target", &self.inner.target).finish_non_exhaustive()
    }
}

impl Channel {
    /// The target this channel connects to.
    pub fn target(&self) -> &Target {
        &self.inner.target
    }

    /// The channel's connectivity state. A new channel is IDLE until its first call (or
    /// [`ChannelBuilder::connect`](super::ChannelBuilder::connect)).
    ///
    /// ```
    /// use h2grpc::client::ConnectivityState;
    /// let channel = h2grpc::Channel::lazy("ipv4:127.0.0.1:50051")?;
    /// assert_eq!(channel.state(), ConnectivityState::Idle);
    /// # Ok::<(), h2grpc::Error>(())
    /// ```
    pub fn state(&self) -> ConnectivityState {
        self.inner.balancer.state()
    }

    /// Waits until the state is no longer `from`, and returns the new one: how a client
    /// running as a background service logs "server gone" and "server back".
    ///
    /// ```no_run
    /// # async fn f(channel: h2grpc::Channel) {
    /// let mut state = channel.state();
    /// loop {
    ///     state = channel.state_changed(state).await;
    ///     eprintln!("channel to {} is now {state}", channel.target());
    /// }
    /// # }
    /// ```
    pub async fn state_changed(&self, from: ConnectivityState) -> ConnectivityState {
        let mut watch = self.inner.balancer.watch_state();
        let state = match watch.wait_for(|state| *state != from).await {
            Ok(state) => *state,
            Err(_) => ConnectivityState::Shutdown,
        };
        state
    }

    /// Closes every connection of the channel (and of its clones) and moves it to SHUTDOWN;
    /// later calls fail with UNAVAILABLE. Calls in flight go on until they end.
    pub fn shutdown(&self) {
        self.inner.balancer.shutdown();
    }

    pub(crate) fn uri(&self, path: &str) -> Result<http::Uri, Status> {
        let path = PathAndQuery::try_from(path)
            .map_err(|_| Status::internal(format!("invalid method path {path:?}")))?;
        let mut parts = http::uri::Parts::default();
        parts.scheme = Some(self.inner.scheme());
        parts.authority = Some(self.inner.authority.clone());
        parts.path_and_query = Some(path);
        http::Uri::from_parts(parts).map_err(|err| Status::internal(err.to_string()))
    }
}

impl Inner {
    /// `https` over TLS, else `http`.
    fn scheme(&self) -> Scheme {
        #[cfg(feature = "tls")]
        if self.config.tls.is_some() {
            return Scheme::HTTPS;
        }
        Scheme::HTTP
    }

    /// A ready sender on a live connection picked by the balancing policy, the guard that
    /// counts the call as in flight on it until the call drops it, and the connection (to
    /// forget it if it turns out to be closing).
    ///
    /// A connection that failed `ready()` was never used by this call, so retrying on a fresh
    /// connection is safe (PROTOCOL-HTTP2.md: only provably unprocessed calls are retried).
    pub(crate) async fn ready_sender(
        self: &Arc<Self>,
        wait_for_ready: bool,
        deadline: Option<Instant>,
    ) -> Result<(SendRequest<Bytes>, ActiveCall, Conn), Status> {
        for _ in 0..3 {
            let conn = self.balancer.pick(self, wait_for_ready, deadline).await?;
            let active = conn.calls.as_ref().map(Calls::enter).unwrap_or_default();
            match conn.send.clone().ready().await {
                Ok(send) => return Ok((send, active, conn)),
                Err(_) => conn.forget(),
            }
        }
        Err(Status::unavailable(format!(
            "connection to {} keeps closing before a call can start",
            self.target
        )))
    }
}

impl Host for Inner {
    type Conn = Conn;

    fn balancer(&self) -> &super::balance::Balancer<Inner> {
        &self.balancer
    }

    fn dial(
        &self,
        address: &Address,
        backoff: Duration,
    ) -> impl Future<Output = Result<Conn, Error>> + Send {
        self.establish(address, backoff)
    }
}

impl Link for Conn {
    fn is_closed(&self) -> bool {
        Conn::is_closed(self)
    }

    fn closed_watch(&self) -> watch::Receiver<bool> {
        Conn::closed_watch(self)
    }
}
