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

mod broadcast;
mod builder;
mod call;
mod config;
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
use std::pin::pin;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

pub use self::broadcast::{Broadcast, Event, SlowSubscriber, Subscription};
pub use self::builder::Builder;
pub use self::context::CallContext;
pub use self::listener::Listener;
pub use self::service::Service;
pub use self::stream::{RequestStream, ResponseSink};

use self::config::ServerConfig;
use self::intercept::Interceptors;
use self::service::Router;
use crate::error::{Error, ErrorKind};
use crate::transport::{self, Peer, Target};

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
    router: Router,
    /// Run before every call's handler, in order (see [`Builder::intercept`]).
    interceptors: Interceptors,
    config: ServerConfig,
    shutdown: ShutdownSignal,
    /// Calls whose task is still alive (see [`ShutdownHandle::live_calls`]).
    live_calls: Arc<AtomicUsize>,
}

pub(crate) struct ConnShared {
    server: Arc<ServerShared>,
    peer: Peer,
    /// The server's `force`, as a child per connection: each call waits on it (to end with
    /// CANCELLED when the grace period is over) without contending with other connections.
    force: CancellationToken,
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
        &config.calls.trace,
    )
    .await;
    if let Some((stream, peer)) = accepted {
        conn::serve_connection(stream, peer, shared.clone()).await;
    }
}
