//! Accepting any `:authority`: a read-side filter between the socket and `h2`'s server.
//!
//! **Delete this module** once `h2` accepts an `:authority` that is not a URI authority
//! (hyperium/h2#487 fixed upstream: a request whose `:authority` is `%2Frun%2Fapp.sock`
//! reaches the server instead of a PROTOCOL_ERROR reset). Then `server/conn.rs` hands `h2`
//! the socket itself, and the `authority_rewriter` fuzz target and its corpus go too. Until
//! then it wraps every connection, TCP included: C-core derives `:authority` from its target
//! over TCP as well, and `h2` refuses the one of an `ipv4:` list of addresses:
//! `tests/balancing_peers.rs` (`a_grpcio_round_robin_client_spreads_over_three_h2grpc_servers`)
//! fails with the filter off for TCP ("Received RST_STREAM with error code 1").
//!
//! `h2` parses `:authority` into an `http::uri::Authority` and resets the stream with
//! PROTOCOL_ERROR when that fails (hyperium/h2#487, open). gRPC C-core (so Python's grpcio, Ruby,
//! PHP, ...) sends the percent-encoded socket path for `unix:` targets since 1.57, e.g.
//! `%2Frun%2Fapp.sock`, and `%` is not allowed in a URI host: without this filter, every call
//! from those clients fails. GRPC-WIRE.md 6: servers must accept any `:authority`.
//!
//! The filter reads the client's frames, decodes each header block with its own HPACK decoder
//! (which mirrors the client's encoder, as `h2`'s would), and is in one of three modes:
//!
//! ```text
//! Watching    no block with an :authority seen yet      -> the original frames, byte for byte
//!   |  |
//!   |  +- first :authority valid -> Passthrough         -> everything as it comes, unread
//!   |                  (also from any mode on a block this filter cannot follow, see below)
//!   +---- an :authority h2 would refuse -> Rewriting    -> every block from this one on
//!                                                          re-encoded as plain literals, a
//!                                                          refused :authority as localhost
//! ```
//!
//! Passthrough is the common case: our own client, Node and tonic send a valid `:authority`, so
//! after their first request the filter reads straight into `h2`'s buffer, with no decoding, no
//! copy and no bookkeeping, for the rest of the connection. A gRPC channel targets one authority
//! and sends it on every call, so the first one stands for the others. If a client did send a
//! refused `:authority` later on such a connection, `h2` answers that stream itself, with
//! PROTOCOL_ERROR, exactly as without this filter: the price of not decoding every block twice.
//! Watching goes on through blocks with no `:authority` (a malformed request, say); the first
//! block that has one decides for the whole connection: one whose first `:authority` was
//! refused (C-core) is rewritten to its end.
//!
//! HPACK state is why the modes only go one way. Passthrough is sound because nothing was
//! rewritten before it: `h2` saw the client's blocks byte for byte, so its decoder holds the
//! client's dynamic table and can decode the rest alone. Re-encoded blocks use only literals
//! that are never indexed, so `h2`'s decoder keeps no state the client's later blocks could refer
//! to: from the first rewrite on, this decoder alone tracks the client's dynamic table, and it
//! must see every later block, hence Rewriting never ends.
//!
//! Other frames (DATA above all) are copied only where they must be: in every mode the socket
//! is read straight into `h2`'s buffer, and those bytes stay there up to the first HEADERS or
//! CONTINUATION frame header, or a frame header cut by the read. Only that tail is copied aside
//! (`raw`) to be decoded; a payload read into `raw` goes from there to `h2`, and only header
//! frames and the heads of other frames pass through `out`:
//!
//! ```text
//! socket --read--> h2's buffer: [preface | SETTINGS | DATA ...] [HEADERS | DATA ...]
//!                               |      left where it is       | copied to `raw`
//! raw:  [HEADERS] [DATA head] [DATA payload] [HEADERS ...]
//!          |           |             +--------------------> h2's buffer, after `out`
//!          +-----------+--> `out` (original or re-encoded) -> h2's buffer
//! ```
//!
//! Frames pass this way whatever their length, up to the 2^24-1 bytes HTTP/2 allows, so the
//! server may advertise any SETTINGS_MAX_FRAME_SIZE. Header blocks are collected whole, up to
//! four times the SETTINGS_MAX_HEADER_LIST_SIZE that `h2` is given (`h2`'s own abuse limit:
//! it ends a connection whose decoded block reaches that); re-encoded blocks are cut into
//! frames of the server's SETTINGS_MAX_FRAME_SIZE, as few as `h2` counts CONTINUATIONs. A re-encoded block keeps every field up to the
//! first that takes it past `h2`'s limit, so `h2` refuses an oversized request exactly as it
//! would have refused the original.
//!
//! Anything this filter cannot follow (a malformed header block, a CONTINUATION out of place, a
//! block over the collection limit):
//!
//! - while Watching, switches it to Passthrough, so `h2` reports the error itself, exactly as
//!   it would alone: nothing was rewritten, `h2`'s table is the client's;
//! - while Rewriting, ends the connection: `h2`'s table is not the client's, so the original
//!   bytes cannot be handed over. The filter reads nothing more and raises its [`Breakdown`],
//!   on which the connection sends GOAWAY (PROTOCOL_ERROR for frames out of place,
//!   COMPRESSION_ERROR for a block it cannot decode, ENHANCE_YOUR_CALM for one too large,
//!   the reasons `h2` would give) and closes, so the client reconnects. Handing `h2` the
//!   original bytes instead left a C-core client's connection open, refusing every later
//!   call, since their `:authority` was no longer rewritten (issue 14).

mod blocks;

use std::io;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{ready, Context, Poll};

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::h2wire::{forward_write, hpack, MIN_MAX_FRAME_SIZE, PREFACE};

/// HTTP/2's initial SETTINGS_HEADER_TABLE_SIZE, which `h2`'s server keeps.
const HEADER_TABLE_SIZE: usize = 4096;
/// What replaces an `:authority` that `h2` would refuse.
const REPLACEMENT: &[u8] = b"localhost";

/// Where the filter is; see the module docs. Modes only go down this list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Decoding every block, forwarding the original bytes: no block had an `:authority` yet.
    Watching,
    /// Decoding and re-encoding every block: one had an `:authority` that `h2` would refuse.
    Rewriting,
    /// Forwarding everything as it comes, reading straight into `h2`'s buffer once `out` is
    /// empty: the first `:authority` was valid, or the filter gave up.
    Passthrough,
}

/// A header block being collected: HEADERS, then CONTINUATION frames until END_HEADERS.
#[derive(Debug)]
struct PendingBlock {
    stream_id: u32,
    end_stream: bool,
    /// The frames exactly as received.
    frames: BytesMut,
    /// The block fragment, without padding and priority fields.
    fragment: BytesMut,
}

/// Raised when the filter stops in the middle of a rewritten connection: the reason the
/// connection must end with. Shared between the filter, inside `h2`, and the connection loop,
/// which checks it on each wake-up (one atomic load).
#[derive(Clone, Debug, Default)]
pub(crate) struct Breakdown(Arc<OnceLock<h2::Reason>>);

impl Breakdown {
    /// The reason, once raised.
    pub(crate) fn reason(&self) -> Option<h2::Reason> {
        self.0.get().copied()
    }
}

/// Wraps a server connection's byte stream; see the module docs.
#[derive(Debug)]
pub(crate) struct AuthorityFilter<IO> {
    io: IO,
    /// Bytes read from the socket and not yet in `out` or `h2`'s buffer: `copy_left` bytes to
    /// forward as they are, then frames to process.
    raw: BytesMut,
    /// Bytes ready for `h2`, before those in `raw`.
    out: BytesMut,
    mode: Mode,
    /// Bytes to forward as they are (the preface, then each non-header frame's payload) before
    /// the next frame header; the first of them are at the start of `raw`, if it has any.
    copy_left: usize,
    block: Option<PendingBlock>,
    decoder: hpack::Decoder,
    /// `h2`'s SETTINGS_MAX_HEADER_LIST_SIZE: decoded fields past it are not re-encoded.
    limit: usize,
    /// The largest header block (encoded) this filter collects: `h2`'s abuse limit.
    cap: usize,
    /// The server's SETTINGS_MAX_FRAME_SIZE, which re-encoded frames fill: `h2` allows a block
    /// only so many CONTINUATION frames, counted from its header list and frame sizes.
    max_frame: usize,
    eof: bool,
    breakdown: Breakdown,
    /// Whether the task was woken once since the breakdown, for the loop to act on it.
    woken: bool,
}

impl<IO> AuthorityFilter<IO> {
    /// `limit` is the SETTINGS_MAX_HEADER_LIST_SIZE given to `h2`: larger blocks are `h2`'s to
    /// refuse; `max_frame` its SETTINGS_MAX_FRAME_SIZE.
    pub(crate) fn new(io: IO, limit: usize, max_frame: usize) -> AuthorityFilter<IO> {
        AuthorityFilter {
            io,
            raw: BytesMut::new(),
            out: BytesMut::new(),
            mode: Mode::Watching,
            copy_left: PREFACE.len(),
            block: None,
            decoder: hpack::Decoder::new(HEADER_TABLE_SIZE),
            limit,
            cap: limit.saturating_mul(4).max(MIN_MAX_FRAME_SIZE),
            max_frame: max_frame.max(MIN_MAX_FRAME_SIZE),
            eof: false,
            breakdown: Breakdown::default(),
            woken: false,
        }
    }

    /// The connection's [`Breakdown`], for its loop to watch.
    pub(crate) fn breakdown(&self) -> Breakdown {
        self.breakdown.clone()
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for AuthorityFilter<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.mode == Mode::Passthrough && this.out.is_empty() {
            return Pin::new(&mut this.io).poll_read(cx, buf);
        }
        let start = buf.filled().len();
        loop {
            this.hand_out(buf);
            if buf.filled().len() > start || buf.remaining() == 0 {
                return Poll::Ready(Ok(()));
            }
            if this.breakdown.reason().is_some() {
                // Once woken, the connection loop sends GOAWAY and h2 reads no more; should it
                // read again all the same, it finds the end of the stream.
                if std::mem::replace(&mut this.woken, true) {
                    return Poll::Ready(Ok(()));
                }
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            if this.mode == Mode::Passthrough {
                return Pin::new(&mut this.io).poll_read(cx, buf);
            }
            if this.eof {
                // A truncated frame at the end: forward what there is, h2 reports it.
                if !this.raw.is_empty() || this.block.is_some() {
                    this.give_up();
                    continue;
                }
                return Poll::Ready(Ok(()));
            }
            // Straight into `buf`, which is usually uninitialized (h2 reads into the spare
            // capacity of its buffer): zeroing it, or a stack buffer, on every read cost more
            // than all of h2's work on a small message.
            ready!(Pin::new(&mut this.io).poll_read(cx, buf))?;
            let read = &buf.filled()[start..];
            if read.is_empty() {
                this.eof = true;
                continue;
            }
            // Bytes after anything waiting in `raw` must wait behind it.
            let kept = if this.raw.is_empty() { this.keep(read) } else { 0 };
            if kept < read.len() {
                this.raw.extend_from_slice(&read[kept..]);
                buf.set_filled(start + kept);
                this.process();
            }
        }
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for AuthorityFilter<IO> {
    forward_write!(io; poll_write, poll_write_vectored, is_write_vectored, poll_flush, poll_shutdown);
}

#[cfg(test)]
mod tests;
