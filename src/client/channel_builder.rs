//! [`ChannelBuilder`]: a channel's limits, settings, balancing, retries and keepalive, then
//! the channel.

use std::sync::Arc;
use std::time::Duration;

use http::uri::Authority;
use tokio::io::{AsyncRead, AsyncWrite};

use super::balance::{BalanceConfig, Balancer, DnsResolver, Resolver, StaticResolver};
use super::channel::Channel;
use super::config::ClientConfig;
use super::inner::Inner;
use super::keepalive::KeepaliveShared;
use super::retry_policy::Throttle;
use super::CallOptions;
use crate::call::settings::{setter, shared_setters};
#[cfg(feature = "compression")]
use crate::codec::compression::Encoding;
use crate::error::{Error, ErrorKind};
use crate::status::Status;
use crate::transport::{IntoTarget, Target};

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
    pub(super) config: ClientConfig,
}

impl ChannelBuilder {
    shared_setters!();

    setter! {
        /// How long one connection attempt (connect + HTTP/2 handshake) may take at least; an
        /// attempt may also run until the next one is due by the backoff. Default 20 s (grpc's
        /// MIN_CONNECT_TIMEOUT).
        connect_timeout: Duration => config.connect_timeout;

        /// Time between the starts of the first and second connection attempts to one address;
        /// later gaps grow 1.6× with ±20 % jitter up to [`backoff_max`](Self::backoff_max), and
        /// a connection that completes its handshake resets it. Default 1 s for TCP addresses, as
        /// in grpc's `connection-backoff.md`; 100 ms for Unix sockets, a local server whose
        /// restart should be picked up quickly.
        backoff_initial: Duration => Some(config.backoff_initial);

        /// Longest gap between connection attempts to one address. Default 120 s for TCP (grpc's
        /// MAX_BACKOFF), 5 s for Unix sockets.
        backoff_max: Duration => Some(config.backoff_max);

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
        send_compression: Encoding => config.calls.send_compression;
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
        keepalive_timeout: Duration => config.keepalive_timeout;

        /// Whether keepalive PINGs go out even when no call is in flight (gRPC's
        /// KEEPALIVE_WITHOUT_CALLS / `permit_without_stream`), to notice a dead server before
        /// the next call is made. Default `false`; servers may count such PINGs as abuse.
        keepalive_while_idle: bool => config.keepalive_while_idle;

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
        tls: crate::transport::tls::ClientTls => Some(config.tls);
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

// The constructors that go through a builder live with it, so that `channel.rs` need not
// import this file, which imports it.
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
}

impl From<Target> for ChannelBuilder {
    fn from(target: Target) -> ChannelBuilder {
        ChannelBuilder { target, config: ClientConfig::default() }
    }
}
