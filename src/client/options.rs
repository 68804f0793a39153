//! Per-call options: deadline, metadata, wait-for-ready.

use std::time::{Duration, Instant};

use crate::codec::compression::Encoding;
use crate::metadata::Metadata;
use crate::status::Status;

/// Options for one call: a timeout or deadline, request metadata, and whether to wait for the
/// channel to (re)connect.
///
/// ```
/// use std::time::Duration;
/// use h2grpc::client::CallOptions;
///
/// let options = CallOptions::new()
///     .timeout(Duration::from_secs(2))
///     .header("x-request-id", "42")?
///     .wait_for_ready(true);
/// assert_eq!(options.metadata().get("x-request-id"), Some("42"));
/// # Ok::<(), h2grpc::Status>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct CallOptions {
    pub(crate) deadline: Option<Instant>,
    pub(crate) metadata: Metadata,
    pub(crate) wait_for_ready: bool,
    /// The request compression, over the channel's; `None` keeps the channel's.
    pub(crate) compression: Option<Encoding>,
}

impl CallOptions {
    /// No deadline, no metadata, fail fast.
    pub fn new() -> CallOptions {
        CallOptions::default()
    }

    /// The call must finish within `timeout` from now: sent as `grpc-timeout` (the time left
    /// when the stream opens) and enforced locally — at the deadline the stream is reset and
    /// the call fails with DEADLINE_EXCEEDED.
    pub fn timeout(self, timeout: Duration) -> CallOptions {
        let deadline = Instant::now().checked_add(timeout);
        CallOptions { deadline, ..self }
    }

    /// Like [`timeout`](Self::timeout), with an absolute deadline (e.g. a server handler's own
    /// [`CallContext::deadline`](crate::server::CallContext::deadline), to propagate it).
    pub fn deadline(self, deadline: Instant) -> CallOptions {
        CallOptions { deadline: Some(deadline), ..self }
    }

    /// Replaces the request metadata.
    pub fn metadata_map(self, metadata: Metadata) -> CallOptions {
        CallOptions { metadata, ..self }
    }

    /// The request metadata, to change in place (an interceptor adding a token, say).
    ///
    /// ```
    /// let mut options = h2grpc::CallOptions::new();
    /// options.metadata_mut().insert("authorization", "Bearer 42")?;
    /// assert_eq!(options.metadata().get("authorization"), Some("Bearer 42"));
    /// # Ok::<(), h2grpc::Status>(())
    /// ```
    pub fn metadata_mut(&mut self) -> &mut Metadata {
        &mut self.metadata
    }

    /// Compresses this call's request messages with `encoding`, instead of the channel's
    /// choice ([`ChannelBuilder::send_compression`](super::ChannelBuilder::send_compression)).
    /// The server must support it, or it refuses the call with UNIMPLEMENTED. Messages that
    /// compression does not shrink, and the empty message, still go uncompressed.
    ///
    /// ```
    /// use h2grpc::codec::compression::Encoding;
    /// let options = h2grpc::CallOptions::new().compression(Encoding::Gzip);
    /// assert_eq!(options.get_compression(), Some(Encoding::Gzip));
    /// ```
    #[cfg(feature = "compression")]
    pub fn compression(self, encoding: Encoding) -> CallOptions {
        CallOptions { compression: Some(encoding), ..self }
    }

    /// The request compression set by [`compression`](Self::compression), if any (`None`:
    /// the channel's).
    #[cfg(feature = "compression")]
    pub fn get_compression(&self) -> Option<Encoding> {
        self.compression
    }

    /// Adds an ASCII request header.
    pub fn header(mut self, key: &str, value: &str) -> Result<CallOptions, Status> {
        self.metadata.append(key, value)?;
        Ok(self)
    }

    /// Adds a binary (`-bin`) request header.
    pub fn header_bin(mut self, key: &str, value: &[u8]) -> Result<CallOptions, Status> {
        self.metadata.append_bin(key, value)?;
        Ok(self)
    }

    /// Wait for the channel to connect instead of failing fast with UNAVAILABLE while the
    /// server is unreachable; the deadline still applies. Default `false`, as in gRPC.
    pub fn wait_for_ready(self, wait: bool) -> CallOptions {
        CallOptions { wait_for_ready: wait, ..self }
    }

    /// The request metadata.
    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// The deadline, if any.
    pub fn get_deadline(&self) -> Option<Instant> {
        self.deadline
    }
}
