//! [`Builder`]: a server's services, interceptors, limits and settings, then its listener.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::config::ServerConfig;
use super::intercept::Interceptors;
use super::service::Router;
use super::{CallContext, Server, ServerShared, Service, ShutdownSignal};
use crate::call::settings::{setter, shared_setters};
#[cfg(feature = "compression")]
use crate::codec::compression::Encoding;
use crate::error::Error;
use crate::status::Status;
use crate::transport;

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
    /// The service made when the server is built, if any (reflection).
    #[cfg(feature = "reflection")]
    late: Option<LateServices>,
}

/// Services made when the server is built, from the names of every other one: reflection,
/// which lists them (`Builder::add_reflection`, in `reflection/`). The server hands `make` the
/// `inputs` gathered and the names, and adds what it returns; it knows nothing else of them.
#[cfg(feature = "reflection")]
pub(crate) struct LateServices {
    pub(crate) inputs: Vec<bytes::Bytes>,
    pub(crate) make: fn(Vec<bytes::Bytes>, Vec<String>) -> Vec<Service>,
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

impl Builder {
    /// Adds a service. A later service with the same name replaces the earlier one's methods
    /// of the same names.
    pub fn add_service(&mut self, service: Service) -> &mut Self {
        self.router.add(service);
        self
    }

    shared_setters!();

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
        max_concurrent_streams: u32 => config.max_concurrent_streams;

        /// How long a new connection may take to send the HTTP/2 preface. Default 10 s.
        handshake_timeout: Duration => config.handshake_timeout;

        /// How long [`ShutdownHandle::shutdown`](super::ShutdownHandle::shutdown) lets in-flight calls run before cancelling
        /// them. Default 10 s.
        shutdown_grace: Duration => config.shutdown_grace;
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
        send_compression: Encoding => config.calls.send_compression;
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

    setter! {
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
        socket_mode: u32 => Some(config.socket_mode);

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
        socket_group: u32 => Some(config.socket_group);

        /// Serves TLS (feature `tls`): every connection accepted by [`serve`](Server::serve)
        /// starts with a TLS handshake that must finish within the handshake timeout and
        /// negotiate ALPN `h2`; a connection that fails is closed, and logged in the
        /// [`trace`](Self::trace), without affecting any other. With client certificates (see
        /// [`ServerTls::require_client_cert`](crate::transport::tls::ServerTls::require_client_cert)),
        /// each call's [`Peer::tls`](crate::transport::Peer::tls) carries the client's verified identity. Default: cleartext.
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
        tls: crate::transport::tls::ServerTls => Some(config.tls);
    }

    /// The inputs of the services `make` makes when the server is built (see
    /// [`LateServices`]), to add to.
    #[cfg(feature = "reflection")]
    pub(crate) fn late_inputs(
        &mut self,
        make: fn(Vec<bytes::Bytes>, Vec<String>) -> Vec<Service>,
    ) -> &mut Vec<bytes::Bytes> {
        &mut self.late.get_or_insert_with(|| LateServices { inputs: Vec::new(), make }).inputs
    }

    pub(super) fn build(&mut self, listener: Option<transport::Listener>) -> Server {
        #[cfg(feature = "reflection")]
        if let Some(late) = self.late.take() {
            let served = self.router.service_names().map(str::to_owned).collect();
            for service in (late.make)(late.inputs, served) {
                self.router.add(service);
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
