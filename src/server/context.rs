//! The call context every handler receives.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::call::send::Outbox;
use crate::cancel::Cancellation;
use crate::metadata::Metadata;
use crate::status::Status;
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
