//! `Channel`: one multiplexed HTTP/2 connection to a target, re-established on demand.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use h2::client::SendRequest;
use http::uri::{Authority, PathAndQuery, Scheme};

use crate::codec::DEFAULT_MAX_RECV_MESSAGE_LEN;
use crate::error::{Error, ErrorKind};
use crate::status::Status;
use crate::transport::Target;

/// Limits, HTTP/2 settings and reconnection policy of a [`Channel`].
#[derive(Clone, Debug)]
pub(crate) struct ClientConfig {
    pub(crate) max_recv_message_len: usize,
    pub(crate) max_send_message_len: usize,
    initial_stream_window_size: u32,
    initial_connection_window_size: u32,
    max_frame_size: u32,
    max_header_list_size: u32,
    max_send_buffer_size: usize,
    connect_timeout: Duration,
    backoff_initial: Duration,
    backoff_max: Duration,
}

impl Default for ClientConfig {
    fn default() -> ClientConfig {
        ClientConfig {
            max_recv_message_len: DEFAULT_MAX_RECV_MESSAGE_LEN,
            max_send_message_len: usize::MAX,
            initial_stream_window_size: 1024 * 1024,
            initial_connection_window_size: 4 * 1024 * 1024,
            max_frame_size: 16 * 1024,
            max_header_list_size: 16 * 1024,
            max_send_buffer_size: 128 * 1024,
            connect_timeout: Duration::from_secs(5),
            backoff_initial: Duration::from_millis(100),
            backoff_max: Duration::from_secs(5),
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
    config: ClientConfig,
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
        /// SETTINGS_MAX_FRAME_SIZE for frames the server sends us. Default 16 KiB.
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
        /// How long one connection attempt (connect + HTTP/2 handshake) may take. Default 5 s.
        connect_timeout: Duration
    }
    setter! {
        /// Wait before the first reconnection attempt after a failed one; it grows 1.6× per
        /// failure up to [`backoff_max`](Self::backoff_max). Default 100 ms.
        backoff_initial: Duration
    }
    setter! {
        /// Longest wait between reconnection attempts. Default 5 s.
        backoff_max: Duration
    }

    /// Connects now; fails if the server cannot be reached.
    pub async fn connect(&self) -> Result<Channel, Error> {
        let channel = self.connect_lazy();
        let conn = channel.inner.establish().await?;
        channel.inner.install(conn);
        Ok(channel)
    }

    /// A channel that connects on its first call.
    pub fn connect_lazy(&self) -> Channel {
        let authority = self.target.authority();
        // Target::authority is `localhost` or `host:port`, both valid authorities.
        let authority = Authority::try_from(authority.as_str())
            .unwrap_or_else(|_| Authority::from_static("localhost"));
        Channel {
            inner: Arc::new(Inner {
                target: self.target.clone(),
                authority,
                config: self.config.clone(),
                conn: Mutex::new(None),
                connecting: tokio::sync::Mutex::new(Backoff::default()),
            }),
        }
    }
}

/// A connection to one gRPC server, shared by every call and every clone.
///
/// Calls are multiplexed as HTTP/2 streams on one connection. When the connection drops (the
/// server restarted, GOAWAY), the next call reconnects; failed attempts back off, and calls made
/// while the server is unreachable fail fast with UNAVAILABLE unless they set
/// [`wait_for_ready`](super::CallOptions::wait_for_ready).
///
/// Targets: `unix:/path`, `unix:///abs/path`, `unix-abstract:name` (Linux), `host:port`.
/// Unix targets send `:authority: localhost`, as C-core and grpc-go do.
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
    target: Target,
    authority: Authority,
    pub(crate) config: ClientConfig,
    conn: Mutex<Option<Conn>>,
    connecting: tokio::sync::Mutex<Backoff>,
}

#[derive(Clone)]
struct Conn {
    send: SendRequest<Bytes>,
    closed: Arc<AtomicBool>,
}

#[derive(Default)]
struct Backoff {
    failures: u32,
    retry_at: Option<Instant>,
    last_error: Option<String>,
}

impl Channel {
    /// Connects to `target` now.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), h2grpc::Error> {
    /// let channel = h2grpc::client::Channel::connect("unix:/tmp/app.sock").await?;
    /// # drop(channel); Ok(()) }
    /// ```
    pub async fn connect(target: &str) -> Result<Channel, Error> {
        Channel::builder(target)?.connect().await
    }

    /// A channel to `target` that connects on its first call. Fails only if `target` does not
    /// parse.
    pub fn lazy(target: &str) -> Result<Channel, Error> {
        Ok(Channel::builder(target)?.connect_lazy())
    }

    /// A builder for a channel to `target`, to change limits and timeouts.
    pub fn builder(target: &str) -> Result<ChannelBuilder, Error> {
        Ok(ChannelBuilder::from(Target::parse(target)?))
    }

    /// The target this channel connects to.
    pub fn target(&self) -> &Target {
        &self.inner.target
    }

    pub(crate) fn uri(&self, path: &str) -> Result<http::Uri, Status> {
        let path = PathAndQuery::try_from(path)
            .map_err(|_| Status::internal(format!("invalid method path {path:?}")))?;
        let mut parts = http::uri::Parts::default();
        parts.scheme = Some(Scheme::HTTP);
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
    /// A ready sender on a live connection: the current one, or a new one.
    ///
    /// A connection that failed `ready()` was never used by this call, so retrying on a fresh
    /// connection is safe (PROTOCOL-HTTP2.md: only provably unprocessed calls are retried).
    pub(crate) async fn ready_sender(
        &self,
        wait_for_ready: bool,
        deadline: Option<Instant>,
    ) -> Result<SendRequest<Bytes>, Status> {
        for _ in 0..3 {
            let conn = self.connection(wait_for_ready, deadline).await?;
            match conn.send.clone().ready().await {
                Ok(send) => return Ok(send),
                Err(_) => self.forget(&conn),
            }
        }
        Err(Status::unavailable(format!(
            "connection to {} keeps closing before a call can start",
            self.target
        )))
    }

    async fn connection(
        &self,
        wait_for_ready: bool,
        deadline: Option<Instant>,
    ) -> Result<Conn, Status> {
        if let Some(conn) = self.current() {
            return Ok(conn);
        }
        loop {
            let mut backoff = self.connecting.lock().await;
            if let Some(conn) = self.current() {
                return Ok(conn);
            }
            let now = Instant::now();
            if let Some(retry_at) = backoff.retry_at.filter(|at| *at > now) {
                if !wait_for_ready {
                    return Err(Status::unavailable(format!(
                        "{} is unreachable (last attempt: {}); next attempt in {} ms",
                        self.target,
                        backoff.last_error.as_deref().unwrap_or("unknown error"),
                        (retry_at - now).as_millis()
                    )));
                }
                drop(backoff);
                if deadline.is_some_and(|d| d <= retry_at) {
                    if let Some(d) = deadline {
                        tokio::time::sleep_until(d.into()).await;
                    }
                    return Err(Status::deadline_exceeded(
                        "deadline exceeded while waiting for the connection",
                    ));
                }
                tokio::time::sleep_until(retry_at.into()).await;
                continue;
            }
            match self.establish().await {
                Ok(conn) => {
                    *backoff = Backoff::default();
                    self.install(conn.clone());
                    return Ok(conn);
                }
                Err(err) => {
                    let wait = self
                        .config
                        .backoff_initial
                        .mul_f64(1.6f64.powi(backoff.failures.min(30) as i32))
                        .min(self.config.backoff_max);
                    backoff.failures += 1;
                    backoff.retry_at = Some(Instant::now() + wait);
                    backoff.last_error = Some(err.to_string());
                    if !wait_for_ready {
                        return Err(err.into());
                    }
                }
            }
        }
    }

    fn current(&self) -> Option<Conn> {
        let conn = self.conn.lock().unwrap_or_else(|p| p.into_inner());
        conn.as_ref().filter(|c| !c.closed.load(Ordering::Acquire)).cloned()
    }

    fn install(&self, conn: Conn) {
        *self.conn.lock().unwrap_or_else(|p| p.into_inner()) = Some(conn);
    }

    fn forget(&self, dead: &Conn) {
        dead.closed.store(true, Ordering::Release);
    }

    async fn establish(&self) -> Result<Conn, Error> {
        let attempt = async {
            let io = crate::transport::connect(&self.target).await?;
            let mut builder = h2::client::Builder::new();
            builder
                .initial_window_size(self.config.initial_stream_window_size)
                .initial_connection_window_size(self.config.initial_connection_window_size)
                .max_frame_size(self.config.max_frame_size)
                .max_header_list_size(self.config.max_header_list_size)
                .max_send_buffer_size(self.config.max_send_buffer_size)
                .enable_push(false);
            let handshake_failed = |err| {
                Error::with_source(
                    ErrorKind::Handshake,
                    format!("HTTP/2 handshake with {} failed: is it a gRPC server?", self.target),
                    err,
                )
            };
            let (send, mut connection) =
                builder.handshake::<_, Bytes>(io).await.map_err(handshake_failed)?;
            let ping_pong = connection.ping_pong();
            let closed = Arc::new(AtomicBool::new(false));
            let flag = closed.clone();
            tokio::spawn(async move {
                let _ = connection.await;
                flag.store(true, Ordering::Release);
            });
            // h2's handshake only writes our preface. Until the server's SETTINGS arrive, h2
            // assumes no stream limit, and calls over the server's MAX_CONCURRENT_STREAMS would
            // be refused (REFUSED_STREAM) instead of queued. The server sends its SETTINGS
            // before it answers our PING, so once the PONG is back the limits are known (as
            // grpc-go waits for the server's SETTINGS before a connection is ready).
            if let Some(mut ping_pong) = ping_pong {
                ping_pong.ping(h2::Ping::opaque()).await.map_err(handshake_failed)?;
            }
            Ok(Conn { send, closed })
        };
        match tokio::time::timeout(self.config.connect_timeout, attempt).await {
            Ok(result) => result,
            Err(_) => Err(Error::new(
                ErrorKind::Connect,
                format!(
                    "connecting to {} took longer than {:?}; is the server overloaded?",
                    self.target, self.config.connect_timeout
                ),
            )),
        }
    }
}
