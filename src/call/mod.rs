//! The HTTP/2 call machinery shared by the server and the client: how gRPC headers are built and
//! checked, and how length-prefixed messages flow over `h2` streams with flow control.
//!
//! Nothing here is public: users see [`server`](crate::server) and [`client`](crate::client).

pub(crate) mod headers;
pub(crate) mod recv;
pub(crate) mod send;
pub(crate) mod settings;

/// Pending messages are handed to `h2` in chunks of at least this many bytes when the writer is
/// ahead of the socket: one `send_data` (one DATA frame, as both sides allow frames up to
/// [`defaults::MAX_FRAME_SIZE`]) and one socket write instead of one per message.
pub(crate) const COALESCE_BYTES: usize = 64 * 1024;

/// HTTP/2 settings both sides use by default (each builder setter documents its own). HTTP/2's
/// own 64 KiB windows are too small to keep a local socket busy.
pub(crate) mod defaults {
    /// Each stream's receive window.
    pub(crate) const STREAM_WINDOW: u32 = 1024 * 1024;
    /// The connection's receive window, shared by its streams.
    pub(crate) const CONNECTION_WINDOW: u32 = 4 * 1024 * 1024;
    /// SETTINGS_MAX_FRAME_SIZE for frames we receive. HTTP/2's 16 KiB default cuts every
    /// coalesced chunk into several frames, and `h2` writes each DATA frame with its own
    /// syscall: 256 KiB lets a chunk of messages leave as one frame and one write, and arrive
    /// whole, so a message inside it is decoded without being copied. A peer may still send
    /// smaller frames.
    pub(crate) const MAX_FRAME_SIZE: u32 = 256 * 1024;
    /// SETTINGS_MAX_HEADER_LIST_SIZE for header blocks we receive.
    pub(crate) const MAX_HEADER_LIST_SIZE: u32 = 16 * 1024;
    /// Bytes `h2` may hold per stream before a sender waits: four 64 KiB chunks. 128 KiB gave
    /// a stream of 64 KiB messages 1985-3670 MiB/s, 256 KiB 3743-4779 (`bench-run`, W3
    /// 64 KiB). The price: a reader that stops reading leaves up to this much per stream
    /// queued in `h2`.
    pub(crate) const MAX_SEND_BUFFER_SIZE: usize = 256 * 1024;
}
