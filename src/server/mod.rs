//! The server: bind a Unix socket (or TCP, or hand it any stream), route calls to services,
//! enforce deadlines and limits, and shut down gracefully.
//!
//! ```no_run
//! use h2grpc::server::{Server, Service};
//! use h2grpc::Status;
//!
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let echo = Service::new("echo.v1.Echo")
//!     .unary("Say", |_ctx, text: String| async move { Ok::<_, Status>(text) });
//! let server = Server::builder().add_service(echo).bind_unix("/tmp/echo.sock")?;
//! let shutdown = server.shutdown_handle();
//! let running = tokio::spawn(server.serve());
//! // ... later:
//! shutdown.shutdown();
//! running.await??;
//! # Ok(()) }
//! ```

pub(crate) mod authority;
mod broadcast;
mod call;
mod conn;
mod context;
mod driver;
mod handler;
mod intercept;
mod lifetime;
mod listener;
mod outbox;
mod service;
mod stream;

use std::future::Future;
use std::path::Path;
use std::pin::pin;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

pub use self::broadcast::{Broadcast, Event, SlowSubscriber, Subscription};
pub use self::context::CallContext;
pub use self::listener::Listener;
pub use self::service::Service;
pub use self::stream::{RequestStream, ResponseSink};

use self::intercept::Interceptors;
use self::service::Router;
use crate::call::defaults;
use crate::codec::compression::Encoding;
use crate::codec::DEFAULT_MAX_RECV_MESSAGE_LEN;
use crate::error::{Error, ErrorKind};
use crate::status::Status;
use crate::trace::Trace;
use crate::transport::{self, Peer, Target};

/// Limits and HTTP/2 settings, each with the default its setter documents.
#[derive(Clone, Debug)]
pub(crate) struct ServerConfig {
    pub(crate) max_recv_message_len: usize,
    pub(crate) max_send_message_len: usize,
    max_concurrent_streams: u32,
    pub(crate) max_header_list_size: u32,
    initial_stream_window_size: u32,
    initial_connection_window_size: u32,
    pub(crate) max_frame_size: u32,
    max_send_buffer_size: usize,
    pub(crate) handshake_timeout: Duration,
    shutdown_grace: Duration,
    socket_mode: Option<u32>,
    socket_group: Option<u32>,
    pub(crate) send_compression: Encoding,
    limits: lifetime::Limits,
    pub(crate) trace: Trace,
    /// TLS on every accepted connection (see [`Builder::tls`]).
    #[cfg(feature = "tls")]
    tls: Option<crate::transport::tls::ServerTls>,
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            max_recv_message_len: DEFAULT_MAX_RECV_MESSAGE_LEN,
            max_send_message_len: usize::MAX,
            max_concurrent_streams: 1024,
            max_header_list_size: defaults::MAX_HEADER_LIST_SIZE,
            initial_stream_window_size: defaults::STREAM_WINDOW,
            initial_connection_window_size: defaults::CONNECTION_WINDOW,
            max_frame_size: defaults::MAX_FRAME_SIZE,
            max_send_buffer_size: defaults::MAX_SEND_BUFFER_SIZE,
            handshake_timeout: Duration::from_secs(10),
            shutdown_grace: Duration::from_secs(10),
            socket_mode: None,
            socket_group: None,
            send_compression: Encoding::Identity,
            limits: lifetime::Limits::default(),
            trace: Trace::off(),
            #[cfg(feature = "tls")]
            tls: None,
        }
    }
}

impl ServerConfig {
    /// What `h2` is told for SETTINGS_MAX_HEADER_LIST_SIZE: 8 times `max_header_list_size`, so
    /// that a request over our limit still reaches us and ends RESOURCE_EXHAUSTED, where `h2`
    /// would answer HTTP 431 (which clients show as UNKNOWN). See the setter's docs.
    pub(crate) fn h2_header_list_size(&self) -> u32 {
        self.max_header_list_size.saturating_mul(8)
    }

    pub(crate) fn h2_builder(&self) -> h2::server::Builder {
        let mut builder = h2::server::Builder::new();
        // h2 counts the streams it resets itself (REFUSED_STREAM past max_concurrent_streams,
        // malformed requests) over a connection's life and ends the connection with
        // GOAWAY(ENHANCE_YOUR_CALM "too_many_internal_resets") at this cap, its defence against
        // peers that make a server reset streams while their work goes on ("MadeYouReset").
        // h2's own cap is 1,024, so a client that opened 5,000 streams at once lost the 1,024
        // it had been admitted. 64 per admitted stream keeps the defence and the admitted calls.
        let resets = (self.max_concurrent_streams as usize).saturating_mul(64).max(1024);
        builder
            .max_concurrent_streams(self.max_concurrent_streams)
            .max_header_list_size(self.h2_header_list_size())
            .max_local_error_reset_streams(Some(resets))
            .initial_window_size(self.initial_stream_window_size)
            .initial_connection_window_size(self.initial_connection_window_size)
            .max_frame_size(self.max_frame_size)
            .max_send_buffer_size(self.max_send_buffer_size);
        builder
    }
}

/// The two stages of shutdown: stop taking calls (drain), then cancel what is left (force).
///
/// Start them with [`start_drain`](Self::start_drain) and [`start_force`](Self::start_force),
/// never by cancelling a token directly: they also record the stage where a connection's loop,
/// which wakes for every frame, can read it without the tokens' locks.
#[derive(Clone, Debug, Default)]
pub(crate) struct ShutdownSignal {
    pub(crate) drain: CancellationToken,
    pub(crate) force: CancellationToken,
    stage: Arc<AtomicU8>,
}

impl ShutdownSignal {
    pub(crate) const DRAINING: u8 = 1;
    pub(crate) const FORCED: u8 = 2;

    pub(crate) fn start_drain(&self) {
        self.stage.fetch_max(Self::DRAINING, Ordering::Release);
        self.drain.cancel();
    }

    pub(crate) fn start_force(&self) {
        self.stage.fetch_max(Self::FORCED, Ordering::Release);
        self.drain.cancel();
        self.force.cancel();
    }

    /// 0 while serving, then [`DRAINING`](Self::DRAINING), then [`FORCED`](Self::FORCED).
    pub(crate) fn stage(&self) -> u8 {
        self.stage.load(Ordering::Acquire)
    }
}

pub(crate) struct ServerShared {
    pub(crate) router: Router,
    /// Run before every call's handler, in order (see [`Builder::intercept`]).
    pub(crate) interceptors: Interceptors,
    pub(crate) config: ServerConfig,
    pub(crate) shutdown: ShutdownSignal,
    /// Calls whose task is still alive (see [`ShutdownHandle::live_calls`]).
    pub(crate) live_calls: Arc<AtomicUsize>,
}

pub(crate) struct ConnShared {
    pub(crate) server: Arc<ServerShared>,
    pub(crate) peer: Peer,
    /// The server's `force`, as a child per connection: each call waits on it (to end with
    /// CANCELLED when the grace period is over) without contending with other connections.
    pub(crate) force: CancellationToken,
}

/// Builds a [`Server`]: services, limits, then a listener.
///
/// Setters take `&mut self` and return `&mut Self`, so a builder can be configured in one
/// chain or step by step; each documents its default.
///
/// ```
/// use h2grpc::server::Server;
/// let dir = tempfile::tempdir()?;
/// let server = Server::builder()
///     .max_recv_message_len(16 << 20)
///     .socket_mode(0o600)
///     .bind_unix(dir.path().join("app.sock"))?;
/// # drop(server);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Default)]
pub struct Builder {
    router: Router,
    interceptors: Interceptors,
    config: ServerConfig,
    /// The descriptor sets for reflection, if it is on.
    #[cfg(feature = "reflection")]
    reflection: Option<Vec<bytes::Bytes>>,
}

impl std::fmt::Debug for Builder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("services", &self.router.service_names().collect::<Vec<_>>())
            .field("interceptors", &self.interceptors)
            .field("config", &self.config)
            .finish()
    }
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

impl Builder {
    /// Adds a service. A later service with the same name replaces the earlier one's methods
    /// of the same names.
    pub fn add_service(&mut self, service: Service) -> &mut Self {
        self.router.add(service);
        self
    }

    setter! {
        /// Largest request message accepted, in bytes. Default 4 MiB (4,194,304), as every
        /// gRPC implementation; a larger message fails the call with RESOURCE_EXHAUSTED.
        max_recv_message_len: usize
    }
    setter! {
        /// Largest response message a handler may send. Default: unlimited (up to 4 GiB, the
        /// framing's limit); a larger message fails the send with RESOURCE_EXHAUSTED.
        max_send_message_len: usize
    }
    setter! {
        /// SETTINGS_MAX_CONCURRENT_STREAMS: calls one connection may have open at once.
        /// Default 1024; clients queue calls beyond it.
        ///
        /// A client that opens more at once has the excess streams refused with
        /// RST_STREAM(REFUSED_STREAM), which gRPC clients retry; the calls already admitted go
        /// on. `h2` counts the streams it resets on its own over a connection's life and ends
        /// the connection (GOAWAY ENHANCE_YOUR_CALM) past a cap, which h2grpc sets to 64 times
        /// this limit (65,536 by default). Bursts of HEADERS followed by the client's own
        /// RST_STREAM ("rapid reset") are a separate `h2` limit and still end the connection.
        max_concurrent_streams: u32
    }
    setter! {
        /// The largest request header list (metadata and pseudo-headers), counted as HTTP/2
        /// does: name + value + 32 per entry. Default 16 KiB, as C-core's hard limit.
        ///
        /// A request over it ends that call alone with RESOURCE_EXHAUSTED, naming the limit;
        /// the connection and its other calls go on. Past that, `h2` decides, so the wire has
        /// three bands (`n` is this limit; h2grpc advertises `8n` in
        /// SETTINGS_MAX_HEADER_LIST_SIZE so that `h2` lets the first band through):
        ///
        /// | header list | outcome |
        /// |---|---|
        /// | up to `n` | the call runs |
        /// | over `n`, up to `8n` (128 KiB) | RESOURCE_EXHAUSTED for that call |
        /// | over `8n`, under `32n` (512 KiB) | `h2` answers HTTP 431 for that call (clients show UNKNOWN or INTERNAL) |
        /// | `32n` or more | `h2` ends the connection: GOAWAY(ENHANCE_YOUR_CALM, "header_list_way_too_large"); calls in flight on it fail UNAVAILABLE and the client reconnects |
        ///
        /// The last band is `h2`'s defence against header blocks built to exhaust memory, four
        /// times the advertised size; it cannot be configured apart from the advertised size.
        /// `h2` also ends a connection whose header block comes in more than
        /// `max(5, 1.25 * 8n / max_frame_size)` CONTINUATION frames ("too_many_continuations"):
        /// with the default 256 KiB frames, a client that cuts its headers into 16 KiB frames
        /// meets that at 96 KiB. Python (`grpcio`, 8 KiB to 1 MiB) and Node (`grpc-js`) keep
        /// their channel through all of it (`tests/metadata_peers.rs`).
        max_header_list_size: u32
    }
    setter! {
        /// Each stream's HTTP/2 receive window. Default 1 MiB (HTTP/2's own default is 64 KiB,
        /// too small to keep a local socket busy).
        initial_stream_window_size: u32
    }
    setter! {
        /// The connection's HTTP/2 receive window, shared by its streams. Default 4 MiB.
        initial_connection_window_size: u32
    }
    setter! {
        /// SETTINGS_MAX_FRAME_SIZE: the largest frame the client may send us. Default 256 KiB
        /// (HTTP/2's own is 16 KiB, the least allowed), so a batch of messages can arrive as one
        /// frame; at most 16 MiB - 1.
        max_frame_size: u32
    }
    setter! {
        /// Bytes `h2` may hold per stream before a handler's `send` waits. Default 128 KiB.
        max_send_buffer_size: usize
    }
    setter! {
        /// How long a new connection may take to send the HTTP/2 preface. Default 10 s.
        handshake_timeout: Duration
    }
    setter! {
        /// How long [`ShutdownHandle::shutdown`] lets in-flight calls run before cancelling
        /// them. Default 10 s.
        shutdown_grace: Duration
    }

    /// Adds an interceptor: a function that sees every call's context (path, metadata, peer
    /// credentials, deadline) after routing and before the handler. It may refuse the call
    /// with a [`Status`], which the client receives at once (Trailers-Only; the handler never
    /// runs), and may add response headers and trailers through the context
    /// ([`CallContext::set_header`]), sent with the response or with the refusal. Several run
    /// in the order they were added, the first refusal ending the call; then come the
    /// service's own ([`Service::intercept`]). Default: none.
    ///
    /// The natural place for "only uid 1000 may call this socket":
    ///
    /// ```
    /// use h2grpc::{Server, Status};
    ///
    /// let mut builder = Server::builder();
    /// builder.intercept(|ctx| match ctx.peer().uid() {
    ///     Some(1000) => Ok(()),
    ///     _ => Err(Status::permission_denied("only uid 1000 may call this server")),
    /// });
    /// builder.intercept(|ctx| ctx.set_header("x-served-by", "h2grpc"));
    /// ```
    pub fn intercept<F>(&mut self, interceptor: F) -> &mut Self
    where
        F: Fn(&CallContext) -> Result<(), Status> + Send + Sync + 'static,
    {
        self.interceptors.push(interceptor);
        self
    }

    /// Adds an interceptor that may `await` before the handler runs: look a token up, ask a
    /// database or another service. It takes the call's context and hands it back to let the
    /// call go on, or returns a [`Status`] to refuse it (Trailers-Only, with whatever metadata
    /// it set; the handler never runs). It runs in order with the plain interceptors
    /// ([`intercept`](Self::intercept)), within the call's deadline: a client that cancels or
    /// runs out of time while it waits ends the call as it would during the handler. A panic
    /// refuses the call with INTERNAL. Default: none.
    ///
    /// ```
    /// use std::collections::HashMap;
    /// use std::sync::Arc;
    /// use h2grpc::{Server, Status};
    ///
    /// // Stands for a token store behind an await: a database, an auth service.
    /// let tokens = Arc::new(tokio::sync::RwLock::new(HashMap::from([("t0k3n", "alice")])));
    /// let mut builder = Server::builder();
    /// builder.intercept_async(move |ctx| {
    ///     let tokens = tokens.clone();
    ///     async move {
    ///         let token = ctx.metadata().get("authorization").unwrap_or_default();
    ///         let token = token.strip_prefix("Bearer ").unwrap_or_default();
    ///         match tokens.read().await.get(token) {
    ///             Some(user) => ctx.set_header("x-user", user)?,
    ///             None => return Err(Status::unauthenticated("unknown bearer token")),
    ///         }
    ///         Ok(ctx)
    ///     }
    /// });
    /// ```
    pub fn intercept_async<F, Fut>(&mut self, interceptor: F) -> &mut Self
    where
        F: Fn(CallContext) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Result<CallContext, Status>> + Send + 'static,
    {
        self.interceptors.push_async(interceptor);
        self
    }

    setter! {
        /// Compresses response messages with this encoding when the client accepts it (its
        /// `grpc-accept-encoding` lists it; otherwise they go uncompressed). A service may
        /// choose otherwise ([`Service::send_compression`]), and a handler per call
        /// ([`CallContext::set_compression`]). Requests are decompressed whatever this says.
        /// Default: [`Encoding::Identity`], no compression.
        ///
        /// ```
        /// use h2grpc::codec::compression::Encoding;
        /// let mut builder = h2grpc::Server::builder();
        /// builder.send_compression(Encoding::Gzip);
        /// ```
        #[cfg(feature = "compression")]
        send_compression: Encoding
    }

    /// Closes a connection that has had no call for this long: GOAWAY, as grpc-go's
    /// `MaxConnectionIdle` (gRFC A9). The time runs from the end of the connection's last call
    /// (or from its start); a connection with a call in flight is never idle, however long the
    /// call. The client reconnects when it next calls. Default: off.
    ///
    /// ```
    /// use std::time::Duration;
    /// let mut builder = h2grpc::Server::builder();
    /// builder.max_connection_idle(Duration::from_secs(300)); // None turns it off again
    /// ```
    pub fn max_connection_idle(&mut self, idle: impl Into<Option<Duration>>) -> &mut Self {
        self.config.limits.max_idle = idle.into();
        self
    }

    /// Closes each connection gracefully once it is this old, give or take 10 % (so that
    /// connections opened together do not all close together): GOAWAY, the calls in flight
    /// finish, new calls go to a new connection. grpc-go's `MaxConnectionAge` (gRFC A9), used
    /// to spread clients over new server instances. Default: off.
    ///
    /// ```
    /// use std::time::Duration;
    /// let mut builder = h2grpc::Server::builder();
    /// builder
    ///     .max_connection_age(Duration::from_secs(3600))
    ///     .max_connection_age_grace(Duration::from_secs(60));
    /// ```
    pub fn max_connection_age(&mut self, age: impl Into<Option<Duration>>) -> &mut Self {
        self.config.limits.max_age = age.into();
        self
    }

    /// How long the calls in flight on a connection closed for its
    /// [age](Self::max_connection_age) may still run; then the connection is closed and they
    /// are cancelled. grpc-go's `MaxConnectionAgeGrace`. Default: no limit (the connection
    /// closes when its last call ends).
    pub fn max_connection_age_grace(&mut self, grace: impl Into<Option<Duration>>) -> &mut Self {
        self.config.limits.max_age_grace = grace.into();
        self
    }

    /// File mode for the Unix socket created by [`bind_unix`](Self::bind_unix), e.g. `0o600`
    /// so that only the owner may connect. It is set before the socket appears at its path and
    /// before it accepts a connection, so the socket is never reachable with the umask's wider
    /// mode. Default: left to the umask.
    ///
    /// ```
    /// use std::os::unix::fs::PermissionsExt;
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("admin.sock");
    /// let server = h2grpc::Server::builder().socket_mode(0o600).bind_unix(&path)?;
    /// assert_eq!(std::fs::metadata(&path)?.permissions().mode() & 0o777, 0o600);
    /// # drop(server);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn socket_mode(&mut self, mode: u32) -> &mut Self {
        self.config.socket_mode = Some(mode);
        self
    }

    /// Group (a gid) of the Unix socket created by [`bind_unix`](Self::bind_unix), set like
    /// [`socket_mode`](Self::socket_mode) before the socket is reachable: with `0o660`, the
    /// members of that group may connect. The process must be in the group (or root).
    /// Default: the process's group.
    ///
    /// ```
    /// use std::os::unix::fs::MetadataExt;
    /// let dir = tempfile::tempdir()?;
    /// let gid = std::fs::metadata(dir.path())?.gid(); // a group this process is in
    /// let path = dir.path().join("shared.sock");
    /// let server = h2grpc::Server::builder()
    ///     .socket_mode(0o660)
    ///     .socket_group(gid)
    ///     .bind_unix(&path)?;
    /// assert_eq!(std::fs::metadata(&path)?.gid(), gid);
    /// # drop(server);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn socket_group(&mut self, gid: u32) -> &mut Self {
        self.config.socket_group = Some(gid);
        self
    }

    /// Serves gRPC server reflection, `grpc.reflection.v1` and `v1alpha`, describing this
    /// server's services from `file_descriptor_sets`: the `FILE_DESCRIPTOR_SET` constants
    /// generated with `h2grpc_build::configure().file_descriptor_set(true)`, or any encoded
    /// `google.protobuf.FileDescriptorSet` (`protoc --include_imports -o`). Calls add up.
    ///
    /// Reflection lists every service the server serves, and describes those whose
    /// descriptors it has: the sets given, its own, and health's when
    /// [`HealthReporter::service`](crate::health::HealthReporter::service) is served. See
    /// [`reflection`](crate::reflection). Requires the `reflection` feature.
    ///
    /// ```
    /// pub mod helloworld {
    ///     h2grpc::include_proto!("helloworld");
    /// }
    /// # struct MyGreeter;
    /// # impl helloworld::greeter_server::Greeter for MyGreeter {}
    /// let dir = tempfile::tempdir()?;
    /// let server = h2grpc::Server::builder()
    ///     .add_service(helloworld::greeter_server::service(MyGreeter))
    ///     .add_reflection([helloworld::FILE_DESCRIPTOR_SET])
    ///     .bind_unix(dir.path().join("greeter.sock"))?;
    /// # drop(server);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Panics
    ///
    /// If a set does not decode as a `FileDescriptorSet`: generated sets always do, so this is
    /// a build mistake, reported where it is made. Check sets read at run time with
    /// [`reflection::check`](crate::reflection::check) first.
    #[cfg(feature = "reflection")]
    pub fn add_reflection<I>(&mut self, file_descriptor_sets: I) -> &mut Self
    where
        I: IntoIterator,
        I::Item: Into<bytes::Bytes>,
    {
        let sets = self.reflection.get_or_insert_with(Vec::new);
        for set in file_descriptor_sets {
            let set = set.into();
            if let Err(err) = crate::reflection::check_set(&set, sets.len()) {
                panic!("add_reflection: {err}");
            }
            sets.push(set);
        }
        self
    }

    /// The wire trace: each call's request headers, messages, response headers, trailers
    /// and resets, and the connection's GOAWAY, as the server sees them (see [`trace`]).
    /// Default: off, at no cost.
    ///
    /// ```
    /// use h2grpc::trace::Trace;
    /// let mut builder = h2grpc::Server::builder();
    /// builder.trace(Trace::from_env()); // H2GRPC_TRACE=1 writes the trace to stderr
    /// ```
    ///
    /// [`trace`]: crate::trace
    pub fn trace(&mut self, trace: Trace) -> &mut Self {
        self.config.trace = trace;
        self
    }

    /// Serves TLS (feature `tls`): every connection accepted by [`serve`](Server::serve)
    /// starts with a TLS handshake that must finish within the handshake timeout and
    /// negotiate ALPN `h2`; a connection that fails is closed, and logged in the
    /// [`trace`](Self::trace), without affecting any other. With client certificates (see
    /// [`ServerTls::require_client_cert`](crate::transport::tls::ServerTls::require_client_cert)),
    /// each call's [`Peer::tls`] carries the client's verified identity. Default: cleartext.
    ///
    /// ```no_run
    /// use h2grpc::{transport::tls::ServerTls, Server};
    /// # fn f() -> Result<(), Box<dyn std::error::Error>> {
    /// let tls = ServerTls::from_pem(std::fs::read("server.pem")?, std::fs::read("server.key")?)?
    ///     .require_client_cert(std::fs::read("clients-ca.pem")?)?;
    /// let server = Server::builder().tls(tls).bind_tcp("0.0.0.0:8443")?;
    /// # drop(server); Ok(()) }
    /// ```
    #[cfg(feature = "tls")]
    pub fn tls(&mut self, tls: crate::transport::tls::ServerTls) -> &mut Self {
        self.config.tls = Some(tls);
        self
    }

    fn build(&mut self, listener: Option<transport::Listener>) -> Server {
        #[cfg(feature = "reflection")]
        if let Some(sets) = self.reflection.take() {
            let served: Vec<String> = self.router.service_names().map(str::to_owned).collect();
            // Every set was checked by add_reflection, and the built-in ones by the tests.
            if let Ok(services) = crate::reflection::services(sets, served) {
                for service in services {
                    self.router.add(service);
                }
            }
        }
        let shared = ServerShared {
            router: std::mem::take(&mut self.router),
            interceptors: std::mem::take(&mut self.interceptors),
            config: self.config.clone(),
            shutdown: ShutdownSignal::default(),
            live_calls: Arc::default(),
        };
        Server { shared: Arc::new(shared), listener }
    }

    /// Binds a Unix domain socket at `path` and returns the server, ready to [`serve`].
    ///
    /// A stale socket file (nobody listening) is removed first. A live socket, or a path that
    /// is not a socket (a regular file, a directory), is refused: the user's file is never
    /// deleted. The services added so far move into the server.
    ///
    /// [`serve`]: Server::serve
    pub fn bind_unix(&mut self, path: impl AsRef<Path>) -> Result<Server, Error> {
        let path = path.as_ref();
        let (mode, group) = (self.config.socket_mode, self.config.socket_group);
        let listener = crate::transport::unix::bind_unix_as(path, mode, group)?;
        Ok(self.build(Some(transport::Listener::Unix { listener, path: Some(path.to_path_buf()) })))
    }

    /// Binds a Linux abstract Unix socket (`unix-abstract:name` for clients): no file, no
    /// permissions.
    #[cfg(target_os = "linux")]
    pub fn bind_unix_abstract(&mut self, name: &str) -> Result<Server, Error> {
        let listener = crate::transport::unix::bind_unix_abstract(name)?;
        Ok(self.build(Some(transport::Listener::Unix { listener, path: None })))
    }

    /// Binds a TCP listener (cleartext HTTP/2 with prior knowledge). Use port 0 for any free
    /// port and read it back with [`Server::local_target`].
    pub fn bind_tcp(&mut self, addr: impl std::net::ToSocketAddrs) -> Result<Server, Error> {
        let listener = crate::transport::tcp::bind_tcp(addr)?;
        Ok(self.build(Some(transport::Listener::Tcp(listener))))
    }

    /// A server with no listener, for [`Server::serve_connection`] on streams you accept
    /// yourself (an in-memory duplex, a socket pair, an inherited fd).
    pub fn build_unbound(&mut self) -> Server {
        self.build(None)
    }
}

/// A gRPC server: services, limits and (usually) a bound listener.
pub struct Server {
    shared: Arc<ServerShared>,
    listener: Option<transport::Listener>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").field("listener", &self.listener).finish_non_exhaustive()
    }
}

/// Starts and observes graceful shutdown of a [`Server`]. Cheap to clone.
///
/// `shutdown()` stops accepting connections, removes the socket file (only one the server
/// bound itself), sends GOAWAY on every connection and lets in-flight calls finish for the
/// grace period; then it cancels what is left (handlers see their cancellation fire, clients
/// get CANCELLED). [`Server::serve`] returns when all is done.
#[derive(Clone, Debug)]
pub struct ShutdownHandle {
    signal: ShutdownSignal,
    live_calls: Arc<AtomicUsize>,
}

impl ShutdownHandle {
    /// Begins graceful shutdown; returns at once.
    pub fn shutdown(&self) {
        self.signal.start_drain();
    }

    /// Cancels every in-flight call now, without waiting for the grace period.
    pub fn shutdown_now(&self) {
        self.signal.start_force();
    }

    /// Test hook: how many calls still have a task on this server, from the request headers
    /// until the handler has returned and the last frame is out (or the stream is gone).
    #[doc(hidden)]
    pub fn live_calls(&self) -> usize {
        self.live_calls.load(Ordering::Acquire)
    }
}

impl Server {
    /// A builder with every default.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// What a client passes to [`Channel::connect`](crate::client::Channel::connect) to reach
    /// this server, or `None` for an unbound server.
    pub fn local_target(&self) -> Option<Target> {
        self.listener.as_ref().map(transport::Listener::local_target)
    }

    /// A handle to shut the server down from elsewhere.
    pub fn shutdown_handle(&self) -> ShutdownHandle {
        ShutdownHandle {
            signal: self.shared.shutdown.clone(),
            live_calls: self.shared.live_calls.clone(),
        }
    }

    /// Accepts connections and serves them until [`ShutdownHandle::shutdown`]; then drains, and
    /// returns once every connection is closed. The socket file is removed on the way out.
    pub async fn serve(mut self) -> Result<(), Error> {
        let Some(listener) = self.listener.take() else {
            return Err(Error::new(
                ErrorKind::Bind,
                "this server has no listener: use bind_unix or bind_tcp, or serve_connection",
            ));
        };
        let (listener, socket_path) = listener.into_tokio().map_err(|err| {
            Error::with_source(ErrorKind::Bind, "cannot register the listener with tokio", err)
        })?;
        let shutdown = self.shared.shutdown.clone();
        let mut connections = JoinSet::new();
        {
            let mut drained = pin!(shutdown.drain.cancelled());
            loop {
                let accepted = {
                    let mut accept = pin!(listener.accept());
                    std::future::poll_fn(|cx| {
                        while let Poll::Ready(Some(_)) = connections.poll_join_next(cx) {}
                        if drained.as_mut().poll(cx).is_ready() {
                            return Poll::Ready(None);
                        }
                        accept.as_mut().poll(cx).map(Some)
                    })
                    .await
                };
                match accepted {
                    None => break,
                    Some(Ok(stream)) => {
                        let peer = stream.peer();
                        let shared = self.shared.clone();
                        #[cfg(feature = "tls")]
                        if shared.config.tls.is_some() {
                            connections.spawn(serve_tls(stream, peer, shared));
                            continue;
                        }
                        connections.spawn(conn::serve_connection(stream, peer, shared));
                    }
                    // Out of file descriptors and the like: back off briefly, keep serving.
                    Some(Err(_)) => tokio::time::sleep(Duration::from_millis(10)).await,
                }
            }
        }
        // The file first, while the listener still holds the path: a server started meanwhile
        // finds it live and refuses, instead of binding a file this one would then remove.
        if let Some(path) = socket_path {
            crate::transport::unix::remove_socket_file(&path);
        }
        drop(listener);
        let grace = tokio::time::sleep(self.shared.config.shutdown_grace);
        let mut grace = pin!(grace);
        let mut forced = pin!(shutdown.force.cancelled());
        std::future::poll_fn(|cx| {
            if grace.as_mut().poll(cx).is_ready() || forced.as_mut().poll(cx).is_ready() {
                shutdown.start_force();
            }
            loop {
                match connections.poll_join_next(cx) {
                    Poll::Ready(Some(_)) => continue,
                    Poll::Ready(None) => return Poll::Ready(()),
                    Poll::Pending => return Poll::Pending,
                }
            }
        })
        .await;
        Ok(())
    }

    /// Serves one already-connected stream (any `AsyncRead + AsyncWrite`) until it closes.
    /// `peer` is what handlers see as [`CallContext::peer`].
    pub fn serve_connection<IO>(&self, io: IO, peer: Peer) -> impl Future<Output = ()> + Send
    where
        IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        conn::serve_connection(io, peer, self.shared.clone())
    }
}

/// One accepted connection under TLS: the handshake (see [`tls::accept`]), then HTTP/2.
///
/// [`tls::accept`]: crate::transport::tls::accept
#[cfg(feature = "tls")]
async fn serve_tls(stream: crate::transport::Stream, peer: Peer, shared: Arc<ServerShared>) {
    let config = &shared.config;
    let Some(tls) = &config.tls else { return };
    let drain = &shared.shutdown.drain;
    let accepted = crate::transport::tls::accept(
        tls,
        stream,
        peer,
        config.handshake_timeout,
        drain,
        &config.trace,
    )
    .await;
    if let Some((stream, peer)) = accepted {
        conn::serve_connection(stream, peer, shared.clone()).await;
    }
}
