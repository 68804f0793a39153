//! The HTTP/2 call machinery shared by the server and the client: how gRPC headers are built and
//! checked, and how length-prefixed messages flow over `h2` streams with flow control.
//!
//! Nothing here is public: users see [`server`](crate::server) and [`client`](crate::client).

pub(crate) mod headers;
pub(crate) mod recv;
pub(crate) mod send;

/// Pending messages are handed to `h2` in chunks of at least this many bytes when the writer is
/// ahead of the socket: one `send_data` (and a few full DATA frames) instead of one per message.
pub(crate) const COALESCE_BYTES: usize = 32 * 1024;
