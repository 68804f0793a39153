//! `Channel`: calls spread over the connections to a target's addresses, re-established on
//! demand.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use h2::client::SendRequest;
use http::uri::{Authority, PathAndQuery, Scheme};
use tokio::io::{AsyncRead, AsyncWrite};

use super::balance::{
    BalanceConfig, Balancer, ConnectivityState, DnsResolver, Policy, Resolver, StaticResolver,
};
pub(crate) use super::connection::Conn;
use super::intercept::Interceptors;
use super::keepalive::{ActiveCall, Calls, KeepaliveShared};
use super::retry::{RetryConfig, Throttle};
use super::CallOptions;
use crate::call::defaults;
use crate::codec::compression::Encoding;
use crate::codec::DEFAULT_MAX_RECV_MESSAGE_LEN;
use crate::error::{Error, ErrorKind};
use crate::status::Status;
use crate::trace::Trace;
use crate::transport::{IntoTarget, Target};

/// grpc's MIN_CONNECT_TIMEOUT (connection-backoff.md).
const MIN_CONNECT_TIMEOUT: Duration = Duration::from_secs(20);

/// Limits, HTTP/2 settings and reconnection policy of a [`Channel`].
#[derive(Clone, Debug)]
pub(crate) struct ClientConfig {
    pub(crate) max_recv_message_len: usize,
    pub(crate) max_send_message_len: usize,
    pub(crate) initial_stream_window_size: u32,
    pub(crate) initial_connection_window_size: u32,
    pub(crate) max_frame_size: u32,
    pub(crate) max_header_list_size: u32,
    pub(crate) max_send_buffer_size: usize,
    pub(crate) connect_timeout: Duration,
    backoff_initial: Option<Duration>,
    backoff_max: Option<Duration>,
    pub(crate) policy: Policy,
    pub(crate) resolver: Option<Arc<dyn Resolver>>,
    pub(crate) min_resolve_interval: Duration,
    pub(crate) resolve_refresh: Duration,
    pub(crate) retry: RetryConfig,
    pub(crate) send_compression: Encoding,
    /// Run on every call's options, in order (see [`ChannelBuilder::intercept`]).
    pub(crate) interceptors: Interceptors,
    keepalive_interval: Option<Duration>,
    keepalive_timeout: Duration,
    keepalive_while_idle: bool,
    pub(crate) trace: Trace,
    /// TLS on every connection (see [`ChannelBuilder::tls`]).
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<crate::transport::tls::ClientTls>,
}

impl Default for ClientConfig {
    fn default() -> ClientConfig {
        ClientConfig {
            max_recv_message_len: DEFAULT_MAX_RECV_MESSAGE_LEN,
            max_send_message_len: usize::MAX,
            initial_stream_window_size: defaults::STREAM_WINDOW,
            initial_connection_window_size: defaults::CONNECTION_WINDOW,
            max_frame_size: defaults::MAX_FRAME_SIZE,
            max_header_list_size: defaults::MAX_HEADER_LIST_SIZE,
            max_send_buffer_size: defaults::MAX_SEND_BUFFER_SIZE,
            connect_timeout: MIN_CONNECT_TIMEOUT,
            backoff_initial: None,
            backoff_max: None,
            policy: Policy::PickFirst,
            resolver: None,
            min_resolve_interval: Duration::from_secs(30),
            resolve_refresh: Duration::from_secs(60),
            retry: RetryConfig::default(),
            send_compression: Encoding::Identity,
            interceptors: Interceptors::default(),
            keepalive_interval: None,
            keepalive_timeout: Duration::from_secs(20),
            keepalive_while_idle: false,
            trace: Trace::off(),
            #[cfg(feature = "tls")]
            tls: None,
        }
    }
}

/// Configures a [`Channel`]; every setter states its default.
///
/// ```no_run
/// # async fn f() -> Result<(), h2grpc::Error> {
/// use std::time::Duration;
/// use h2grpc::client::Channel;
/// let channel = Channel::builder("unix:/run/app.sock")?
///     .max_recv_message_len(16 << 20)
///     .connect_timeout(Duration::from_secs(1))
///     .connect()
///     .await?;
/// # drop(channel); Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct ChannelBuilder {
    target: Target,
    pub(crate) config: ClientConfig,
}

macro_rules! setter {
    ($(#[$doc:meta])* $name:ident: $ty:ty) => {
        $(#[$doc])*
        pub fn $name(&mut self, value: $ty) -> &mut Self {
            self.config.$name = value;
            self
        }
    };
}

impl ChannelBuilder {
    setter! {
        /// Largest response message accepted. Default 4 MiB; larger fails with
        /// RESOURCE_EXHAUSTED.
        max_recv_message_len: usize
    }
    setter! {
        /// Largest request message that may be sent. Default unlimited (4 GiB framing limit).
        max_send_message_len: usize
    }
    setter! {
        /// Each stream's HTTP/2 receive window. Default 1 MiB.
        initial_stream_window_size: u32
    }
    setter! {
        /// The connection's HTTP/2 receive window. Default 4 MiB.
        initial_connection_window_size: u32
    }
    setter! {
        /// SETTINGS_MAX_FRAME_SIZE: the largest frame the server may send us. Default 256 KiB
        /// (HTTP/2's own is 16 KiB, the least allowed), so a batch of messages can arrive as one
        /// frame; at most 16 MiB - 1.
        max_frame_size: u32
    }
    setter! {
        /// Largest response header block accepted. Default 16 KiB.
        max_header_list_size: u32
    }
    setter! {
        /// Bytes `h2` may hold per stream before `send` waits. Default 128 KiB.
        max_send_buffer_size: usize
    }
    setter! {
        /// How long one connection attempt (connect + HTTP/2 handshake) may take at least; an
        /// attempt may also run until the next one is due by the backoff. Default 20 s (grpc's
        /// MIN_CONNECT_TIMEOUT).
        connect_timeout: Duration
    }

    /// Time between the starts of the first and second connection attempts to one address;
    /// later gaps grow 1.6× with ±20 % jitter up to [`backoff_max`](Self::backoff_max), and
    /// a connection that completes its handshake resets it. Default 1 s for TCP addresses, as
    /// in grpc's `connection-backoff.md`; 100 ms for Unix sockets, a local server whose
    /// restart should be picked up quickly.
    pub fn backoff_initial(&mut self, value: Duration) -> &mut Self {
        self.config.backoff_initial = Some(value);
        self
    }

    /// Longest gap between connection attempts to one address. Default 120 s for TCP (grpc's
    /// MAX_BACKOFF), 5 s for Unix sockets.
    pub fn backoff_max(&mut self, value: Duration) -> &mut Self {
        self.config.backoff_max = Some(value);
        self
    }

    setter! {
        /// Compresses request messages with this encoding (a call may choose otherwise with
        /// [`CallOptions::compression`]). The server must support it: one that does not
        /// refuses the call with UNIMPLEMENTED. Responses are decompressed whatever this
        /// says: with the `compression` feature every call tells the server it accepts
        /// `identity,gzip,deflate`. Default: [`Encoding::Identity`], no compression.
        ///
        /// ```
        /// use h2grpc::codec::compression::Encoding;
        /// let mut builder = h2grpc::Channel::builder("unix:/run/app.sock")?;
        /// builder.send_compression(Encoding::Gzip);
        /// # Ok::<(), h2grpc::Error>(())
        /// ```
        #[cfg(feature = "compression")]
        send_compression: Encoding
    }

    /// Adds an interceptor: a function run on every call, before its headers are built, with
    /// the method's path and the call's [`CallOptions`] to change: add metadata (a token, a
    /// tracing id), set a default deadline. An `Err` fails the call with that status before
    /// anything is sent. Several run in the order they were added. Default: none.
    ///
    /// ```
    /// let mut builder = h2grpc::Channel::builder("unix:/run/app.sock")?;
    /// builder.intercept(|_path, options| {
    ///     options.metadata_mut().insert("authorization", "Bearer s3cr3t")?;
    ///     Ok(())
    /// });
    /// # Ok::<(), h2grpc::Error>(())
    /// ```
    pub fn intercept<F>(&mut self, interceptor: F) -> &mut Self
    where
        F: Fn(&str, &mut CallOptions) -> Result<(), Status> + Send + Sync + 'static,
    {
        self.config.interceptors.push(interceptor);
        self
    }

    /// Adds an interceptor that may `await`: fetch a bearer token, refresh one that expired.
    /// It takes the method's path and the call's [`CallOptions`] and hands the options back,
    /// or fails the call with a [`Status`] before anything is sent. It runs in order with the
    /// plain interceptors ([`intercept`](Self::intercept)), before the call waits for a
    /// connection. Default: none.
    ///
    /// A failed call is not retried here: a caller that gets UNAUTHENTICATED can tell its
    /// token source to refresh and call again, and the interceptor picks the new token up.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use tokio::sync::Mutex;
    ///
    /// // Stands for a token cache that refreshes over the network when empty.
    /// let token: Arc<Mutex<Option<String>>> = Arc::default();
    /// let mut builder = h2grpc::Channel::builder("unix:/run/app.sock")?;
    /// builder.intercept_async(move |_path, mut options| {
    ///     let token = token.clone();
    ///     async move {
    ///         let mut token = token.lock().await;
    ///         let token = token.get_or_insert_with(|| "fetched".to_owned());
    ///         options.metadata_mut().insert("authorization", &format!("Bearer {token}"))?;
    ///         Ok(options)
    ///     }
    /// });
    /// # Ok::<(), h2grpc::Error>(())
    /// ```
    pub fn intercept_async<F, Fut>(&mut self, interceptor: F) -> &mut Self
    where
        F: Fn(&str, CallOptions) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<CallOptions, Status>> + Send + 'static,
    {
        self.config.interceptors.push_async(interceptor);
        self
    }

    /// Keepalive: after this long without reading anything from the server, send an HTTP/2
    /// PING; if no answer comes within [`keepalive_timeout`](Self::keepalive_timeout), the
    /// connection is closed, every call on it fails with UNAVAILABLE, and the next call
    /// reconnects. This is how a dead server (a frozen process, a peer gone without closing
    /// the socket) is noticed while calls wait for it. Default: off, as in every gRPC
    /// implementation.
    ///
    /// PINGs go out only while calls are in flight, unless
    /// [`keepalive_while_idle`](Self::keepalive_while_idle). gRFC A8 sets the smallest sensible
    /// interval at **10 s**, and servers enforce their own minimum (grpc-go's default: 5 min
    /// without calls) by closing the connection with GOAWAY `too_many_pings`; when that
    /// happens, the channel doubles its interval for later connections. Shorter intervals are
    /// taken as given, not raised to 10 s: on a Unix socket to a server you run yourself,
    /// detecting a hung peer within a second can be what you want.
    ///
    /// ```
    /// use std::time::Duration;
    /// let mut builder = h2grpc::client::Channel::builder("unix:/run/app.sock")?;
    /// builder.keepalive_interval(Duration::from_secs(30)); // or Some(..), or None for off
    /// # Ok::<(), h2grpc::Error>(())
    /// ```
    pub fn keepalive_interval(&mut self, interval: impl Into<Option<Duration>>) -> &mut Self {
        self.config.keepalive_interval = interval.into();
        self
    }

    setter! {
        /// How long to wait for the answer to a keepalive PING before the connection is
        /// declared dead. Default 20 s (gRPC's default).
        keepalive_timeout: Duration
    }
    setter! {
        /// Whether keepalive PINGs go out even when no call is in flight (gRPC's
        /// KEEPALIVE_WITHOUT_CALLS / `permit_without_stream`), to notice a dead server before
        /// the next call is made. Default `false`; servers may count such PINGs as abuse.
        keepalive_while_idle: bool
    }

    /// The wire trace: each call's request headers, messages, response headers, trailers
    /// and resets, as the client sees them (see [`trace`](crate::trace)). Default: off, at no
    /// cost.
    ///
    /// ```
    /// use h2grpc::{trace::Trace, Channel};
    /// let mut builder = Channel::builder("unix:/run/app.sock")?;
    /// builder.trace(Trace::from_env()); // H2GRPC_TRACE=1 writes the trace to stderr
    /// # Ok::<(), h2grpc::Error>(())
    /// ```
    pub fn trace(&mut self, trace: Trace) -> &mut Self {
        self.config.trace = trace;
        self
    }

    /// Speaks TLS to the server (feature `tls`), verifying its certificate by `tls`'s roots and
    /// server name, presenting `tls`'s client certificate if it has one, negotiating ALPN `h2`
    /// and sending `:scheme https`. An `https://` target sets this with the roots of the
    /// `tls-webpki-roots` or `tls-native-roots` feature; this replaces them. A certificate
    /// that fails verification fails the connection with [`ErrorKind::Tls`], and calls with
    /// UNAVAILABLE, the reason named (unknown issuer, name mismatch, expired). Default:
    /// cleartext, except for `https://` targets.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), Box<dyn std::error::Error>> {
    /// use h2grpc::{transport::tls::ClientTls, Channel};
    /// let tls = ClientTls::new().ca_pem(std::fs::read("ca.pem")?)?;
    /// let channel = Channel::builder("https://api.internal:8443")?.tls(tls).connect().await?;
    /// # drop(channel); Ok(()) }
    /// ```
    #[cfg(feature = "tls")]
    pub fn tls(&mut self, tls: crate::transport::tls::ClientTls) -> &mut Self {
        self.config.tls = Some(tls);
        self
    }

    /// Connects now; fails if no address of the target can be reached (or, with
    /// pick_first, once the first address that connects is found).
    pub async fn connect(&self) -> Result<Channel, Error> {
        let channel = self.connect_lazy();
        let pick = channel.inner.balancer.pick(&channel.inner, false, None).await;
        pick.map_err(|status| Error::new(ErrorKind::Connect, status.message().to_owned()))?;
        Ok(channel)
    }

    /// A channel over `io`, a stream connected by other means: a socket pair, an in-memory
    /// `tokio::io::duplex`, an inherited descriptor, a [`Tap`](crate::trace::Tap) around a
    /// socket. The HTTP/2 handshake happens now, within
    /// [`connect_timeout`](Self::connect_timeout).
    ///
    /// The builder's target is never dialled: it names the channel and gives `:authority`.
    /// Once `io` closes, calls fail with UNAVAILABLE, as there is nothing to reconnect to.
    ///
    /// ```
    /// use h2grpc::{Channel, Peer, Server, Service, Status};
    ///
    /// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let echo = Service::new("echo.v1.Echo")
    ///     .unary("Say", |_ctx, text: String| async move { Ok::<_, Status>(text) });
    /// let server = Server::builder().add_service(echo).build_unbound();
    /// let (client_io, server_io) = tokio::io::duplex(64 * 1024);
    /// tokio::spawn(server.serve_connection(server_io, Peer::Unknown));
    ///
    /// let channel = Channel::builder("unix:/in-memory")?.connect_with_io(client_io).await?;
    /// let options = h2grpc::CallOptions::new();
    /// let reply: String = channel.unary("/echo.v1.Echo/Say", &"hi".to_string(), options).await?.into_inner();
    /// assert_eq!(reply, "hi");
    /// # Ok(()) }
    /// ```
    pub async fn connect_with_io<IO>(&self, io: IO) -> Result<Channel, Error>
    where
        IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let channel = self.channel();
        let limit = self.config.connect_timeout;
        let conn = match tokio::time::timeout(limit, channel.inner.handshake(io)).await {
            Ok(conn) => conn?,
            Err(_) => {
                let msg = format!("the HTTP/2 handshake took longer than {limit:?}");
                return Err(Error::new(ErrorKind::Handshake, msg));
            }
        };
        channel.inner.balancer.install_fixed(conn);
        Ok(channel)
    }

    /// A channel that connects on its first call.
    pub fn connect_lazy(&self) -> Channel {
        self.channel()
    }

    fn channel(&self) -> Channel {
        let authority = self.target.authority();
        // Target::authority is `localhost` or `host:port`, both valid authorities.
        let authority = Authority::try_from(authority.as_str())
            .unwrap_or_else(|_| Authority::from_static("localhost"));
        let config = &self.config;
        let resolver: Arc<dyn Resolver> = match (&config.resolver, &self.target) {
            (Some(resolver), _) => resolver.clone(),
            (None, Target::Tcp { host, port }) => Arc::new(DnsResolver::new(host.clone(), *port)),
            (None, target) => {
                Arc::new(StaticResolver::new(target.static_addresses().unwrap_or_default()))
            }
        };
        let unix = self.target.is_unix() && config.resolver.is_none();
        let backoff = (
            config.backoff_initial.unwrap_or(Duration::from_millis(if unix { 100 } else { 1000 })),
            config.backoff_max.unwrap_or(Duration::from_secs(if unix { 5 } else { 120 })),
        );
        let mut retry = config.retry.clone();
        retry.throttle = retry.throttling.map(|(max, ratio)| Arc::new(Throttle::new(max, ratio)));
        let balance = BalanceConfig {
            policy: config.policy,
            min_resolve_interval: config.min_resolve_interval,
            resolve_refresh: config.resolve_refresh,
            backoff,
        };
        Channel {
            inner: Arc::new(Inner {
                target: self.target.clone(),
                authority,
                config: ClientConfig { retry, ..self.config.clone() },
                balancer: Balancer::new(self.target.to_string(), balance, resolver),
                keepalive: Arc::new(KeepaliveShared::new(
                    config.keepalive_interval,
                    config.keepalive_timeout,
                    config.keepalive_while_idle,
                )),
            }),
        }
    }
}

/// Calls to one gRPC target, shared by every clone.
///
/// The target's name is resolved to addresses (DNS gives every IPv4 and IPv6 address of a
/// `host:port`; `ipv4:`/`ipv6:` lists and `unix:` sockets are used as given; see [`Resolver`]
/// for your own source), each address gets its own connection (a subchannel) with its own
/// reconnection backoff, and the balancing policy picks one per call: pick_first (the
/// default) or [`round_robin`](ChannelBuilder::round_robin). Calls are multiplexed as HTTP/2
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

pub(crate) struct Inner {
    pub(crate) target: Target,
    authority: Authority,
    pub(crate) config: ClientConfig,
    pub(crate) balancer: Balancer,
    pub(crate) keepalive: Arc<KeepaliveShared>,
}

impl Channel {
    /// Connects to `target` now: a target string (`"unix:/run/app.sock"`, `"host:port"`), a
    /// [`Target`], or a Unix socket's [`Path`](std::path::Path) (see [`IntoTarget`]).
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), h2grpc::Error> {
    /// use h2grpc::Channel;
    /// let channel = Channel::connect("unix:/tmp/app.sock").await?;
    /// let same = Channel::connect(std::path::Path::new("/tmp/app.sock")).await?;
    /// # drop((channel, same)); Ok(()) }
    /// ```
    pub async fn connect(target: impl IntoTarget) -> Result<Channel, Error> {
        Channel::builder(target)?.connect().await
    }

    /// A channel to `target` that connects on its first call. Fails only if `target` is a
    /// string that does not parse.
    ///
    /// ```
    /// let channel = h2grpc::Channel::lazy(std::path::Path::new("/run/app.sock"))?;
    /// assert_eq!(channel.target().to_string(), "unix:/run/app.sock");
    /// # Ok::<(), h2grpc::Error>(())
    /// ```
    pub fn lazy(target: impl IntoTarget) -> Result<Channel, Error> {
        Ok(Channel::builder(target)?.connect_lazy())
    }

    /// A builder for a channel to `target`, to change limits and timeouts.
    ///
    /// With the `tls` feature, `https://host[:port]` target strings speak TLS (port 443 by
    /// default); see `ChannelBuilder::tls`.
    pub fn builder(target: impl IntoTarget) -> Result<ChannelBuilder, Error> {
        let (target, https) = target.into_target_and_https()?;
        #[cfg_attr(not(feature = "tls"), allow(unused_mut))]
        let mut builder = ChannelBuilder::from(target);
        #[cfg(feature = "tls")]
        if https {
            builder.tls(crate::transport::tls::ClientTls::for_https());
        }
        #[cfg(not(feature = "tls"))]
        let _ = https;
        Ok(builder)
    }

    /// The target this channel connects to.
    pub fn target(&self) -> &Target {
        &self.inner.target
    }

    /// The channel's connectivity state. A new channel is IDLE until its first call (or
    /// [`ChannelBuilder::connect`]).
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

impl From<Target> for ChannelBuilder {
    fn from(target: Target) -> ChannelBuilder {
        ChannelBuilder { target, config: ClientConfig::default() }
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
