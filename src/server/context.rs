//! The call context every handler receives.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use super::outbox::Outbox;
use crate::cancel::Cancellation;
use crate::metadata::Metadata;
use crate::status::Status;
use crate::trace::CallTrace;
use crate::transport::Peer;

/// Everything a handler may want to know about its call, and the ways to shape the response's
/// metadata — ASP.NET Core's `ServerCallContext`.
///
/// Owned by the handler and cheap to move into tasks. Response headers must be set before the
/// first response message is sent (`set_header` fails from then on); trailers may be set until
/// the call ends (`set_trailer` fails from then on).
///
/// ```no_run
/// use h2grpc::server::{CallContext, Service};
/// use h2grpc::Status;
///
/// let service = Service::new("demo.Demo").unary("Who", |ctx: CallContext, _req: ()| async move {
///     let uid = ctx.peer().uid().ok_or_else(|| Status::permission_denied("not a unix peer"))?;
///     ctx.set_header("x-served-by", "demo")?;
///     ctx.set_trailer("x-uid", &uid.to_string())?;
///     if ctx.is_cancelled() {
///         return Err(Status::cancelled("client left"));
///     }
///     Ok(())
/// });
/// # let _ = service;
/// ```
#[derive(Debug)]
pub struct CallContext {
    pub(crate) method: Arc<str>,
    pub(crate) metadata: Metadata,
    pub(crate) deadline: Option<Instant>,
    pub(crate) peer: Peer,
    pub(crate) authority: Option<http::uri::Authority>,
    pub(crate) cancellation: Cancellation,
    pub(crate) shutdown: CancellationToken,
    pub(crate) outbox: Arc<Outbox>,
    /// Whether the single request of a unary or server-streaming call arrived compressed.
    #[cfg_attr(not(feature = "compression"), allow(dead_code))]
    pub(crate) request_compressed: bool,
    /// The wire trace of this call (inert when tracing is off).
    pub(crate) trace: CallTrace,
}

impl CallContext {
    pub(crate) fn outbox(&self) -> Arc<Outbox> {
        self.outbox.clone()
    }

    /// The method's path, `/package.Service/Method`.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The request's custom metadata (reserved `grpc-*` and HTTP/2 headers are not included).
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// The request's metadata, to change before the handler sees it. An async interceptor,
    /// which owns the context, can leave what it learned there (the user a token belongs
    /// to); [`Metadata::insert`] replaces whatever the client sent under that key, so the
    /// client cannot forge it.
    ///
    /// ```
    /// let mut builder = h2grpc::Server::builder();
    /// builder.intercept_async(|mut ctx| async move {
    ///     let user = "alice"; // looked up from the token
    ///     ctx.metadata_mut().insert("x-user", user)?;
    ///     Ok(ctx)
    /// });
    /// ```
    pub fn metadata_mut(&mut self) -> &mut Metadata {
        &mut self.metadata
    }

    /// The `:authority` the client sent: `localhost` from most Unix-socket clients (grpc-go,
    /// grpc-js). One that is not a valid URI authority, like the percent-encoded socket path
    /// gRPC C-core (Python's grpcio) sends for `unix:` targets, reads as `localhost` here: `h2`
    /// would refuse the request otherwise, and the server accepts any `:authority`.
    pub fn authority(&self) -> Option<&str> {
        self.authority.as_ref().map(|a| a.as_str())
    }

    /// When the call's `grpc-timeout` runs out, if the client set one. The library enforces it:
    /// at the deadline the call is cancelled and the client gets DEADLINE_EXCEEDED.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Time left until the deadline (zero once passed), or `None` without a deadline. Pass it on
    /// as the timeout of calls this handler makes.
    pub fn time_remaining(&self) -> Option<Duration> {
        self.deadline.map(|d| d.saturating_duration_since(Instant::now()))
    }

    /// Who called: uid, gid and pid over a Unix socket (`SO_PEERCRED`), the address over TCP.
    pub fn peer(&self) -> &Peer {
        &self.peer
    }

    /// The call's cancellation signal: fires when the client cancels, the connection dies, the
    /// deadline passes or the server shuts down past its grace period.
    pub fn cancellation(&self) -> &Cancellation {
        &self.cancellation
    }

    /// Whether the call has been cancelled.
    pub fn is_cancelled(&self) -> bool {
        self.cancellation.is_cancelled()
    }

    /// Resolves once the call is cancelled.
    pub async fn cancelled(&self) {
        self.cancellation.cancelled().await
    }

    /// Resolves once the server begins a graceful shutdown. Long-lived calls (subscriptions,
    /// watches) should end then, so that the server can drain before its grace period runs
    /// out; calls that finish by themselves need not watch it.
    pub async fn server_shutting_down(&self) {
        self.shutdown.cancelled().await
    }

    /// Adds an ASCII response header (custom metadata). Fails with FAILED_PRECONDITION once a
    /// response message was sent (the headers leave with the first one), or if the key or value
    /// is not valid metadata.
    pub fn set_header(&self, key: &str, value: &str) -> Result<(), Status> {
        let mut state = self.outbox.lock();
        state.headers_mut()?.append(key, value)?;
        Ok(())
    }

    /// Adds a binary (`-bin`) response header.
    pub fn set_header_bin(&self, key: &str, value: &[u8]) -> Result<(), Status> {
        let mut state = self.outbox.lock();
        state.headers_mut()?.append_bin(key, value)?;
        Ok(())
    }

    /// Compresses this call's response messages with `encoding`, if the client accepts it (its
    /// `grpc-accept-encoding` lists it; otherwise they go uncompressed, as gRPC asks). Overrides
    /// the service's and the server's choice. Like a header, it must be set before the first
    /// response message: FAILED_PRECONDITION after. Single messages may still go uncompressed
    /// ([`ResponseSink::send_uncompressed`](super::ResponseSink::send_uncompressed)), and so
    /// does any message compression would not shrink.
    ///
    /// ```no_run
    /// use h2grpc::codec::compression::Encoding;
    /// use h2grpc::server::{CallContext, Service};
    ///
    /// let service = Service::new("logs.v1.Logs").unary("Dump", |ctx: CallContext, _: ()| async move {
    ///     ctx.set_compression(Encoding::Gzip)?;
    ///     Ok(vec![0u8; 1 << 20]) // a megabyte of zeros: about a kilobyte on the wire
    /// });
    /// # let _ = service;
    /// ```
    #[cfg(feature = "compression")]
    pub fn set_compression(
        &self,
        encoding: crate::codec::compression::Encoding,
    ) -> Result<(), Status> {
        self.outbox.lock().set_compression(encoding)
    }

    /// Whether the request message of a unary or server-streaming call arrived compressed
    /// (Compressed-Flag 1); `false` in other call kinds, where
    /// [`RequestStream::last_message_compressed`](super::RequestStream::last_message_compressed)
    /// tells per message. For diagnostics and interop tests: the library has already
    /// decompressed it.
    #[cfg(feature = "compression")]
    pub fn request_compressed(&self) -> bool {
        self.request_compressed
    }

    /// Adds an ASCII trailer (trailing metadata), sent with the status when the call ends.
    /// Fails once the call has ended (the handler returned, or the call was cancelled) or if
    /// the key or value is not valid metadata.
    pub fn set_trailer(&self, key: &str, value: &str) -> Result<(), Status> {
        self.outbox.lock().trailers_mut()?.append(key, value)?;
        Ok(())
    }

    /// Adds a binary (`-bin`) trailer.
    pub fn set_trailer_bin(&self, key: &str, value: &[u8]) -> Result<(), Status> {
        self.outbox.lock().trailers_mut()?.append_bin(key, value)?;
        Ok(())
    }
}
