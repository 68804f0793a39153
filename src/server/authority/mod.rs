//! Accepting any `:authority`: a read-side filter between the socket and `h2`'s server.
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

mod hpack;
mod huffman;

use std::io;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{ready, Context, Poll};

use bytes::{Buf, BufMut, BytesMut};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The client connection preface (RFC 9113 section 3.4).
const PREFACE_LEN: usize = 24;
const FRAME_HEADER_LEN: usize = 9;
const HEADERS: u8 = 0x1;
const CONTINUATION: u8 = 0x9;
const END_STREAM: u8 = 0x1;
const END_HEADERS: u8 = 0x4;
const PADDED: u8 = 0x8;
const PRIORITY: u8 = 0x20;
/// The smallest SETTINGS_MAX_FRAME_SIZE there is.
const MAX_FRAME: usize = 16_384;
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
            copy_left: PREFACE_LEN,
            block: None,
            decoder: hpack::Decoder::new(HEADER_TABLE_SIZE),
            limit,
            cap: limit.saturating_mul(4).max(MAX_FRAME),
            max_frame: max_frame.max(MAX_FRAME),
            eof: false,
            breakdown: Breakdown::default(),
            woken: false,
        }
    }

    /// The connection's [`Breakdown`], for its loop to watch.
    pub(crate) fn breakdown(&self) -> Breakdown {
        self.breakdown.clone()
    }

    /// How many of `read`, bytes just read into `h2`'s buffer with nothing before them in `raw`
    /// or `out`, can stay there: all up to the first header frame, or the first frame header
    /// cut short. Counts them off `copy_left`.
    fn keep(&mut self, read: &[u8]) -> usize {
        let mut kept = 0;
        loop {
            let n = self.copy_left.min(read.len() - kept);
            self.copy_left -= n;
            kept += n;
            if self.block.is_some() {
                // A CONTINUATION is due; `process` takes whatever comes instead.
                return kept;
            }
            let Some(head) = read.get(kept..kept + FRAME_HEADER_LEN) else {
                return kept;
            };
            if head[3] == HEADERS || head[3] == CONTINUATION {
                return kept;
            }
            self.copy_left = frame_len(head);
            kept += FRAME_HEADER_LEN;
        }
    }

    /// Moves the frames at the start of `raw` to `out`, up to the next payload to forward as
    /// is (`copy_left`), an incomplete frame, or Passthrough.
    fn process(&mut self) {
        while self.mode != Mode::Passthrough && self.copy_left == 0 {
            if self.raw.len() < FRAME_HEADER_LEN {
                return;
            }
            let len = frame_len(&self.raw);
            let (kind, flags) = (self.raw[3], self.raw[4]);
            let stream_id =
                u32::from_be_bytes([self.raw[5], self.raw[6], self.raw[7], self.raw[8]])
                    & 0x7fff_ffff;
            if kind != HEADERS && kind != CONTINUATION {
                if self.block.is_some() {
                    // Only CONTINUATION may follow a HEADERS without END_HEADERS.
                    return self.cannot_follow(h2::Reason::PROTOCOL_ERROR);
                }
                self.out.put_slice(&self.raw[..FRAME_HEADER_LEN]);
                self.raw.advance(FRAME_HEADER_LEN);
                // The payload goes from `raw` to `h2` once `out` is handed over.
                self.copy_left = len;
                continue;
            }
            if len > self.cap {
                return self.cannot_follow(h2::Reason::ENHANCE_YOUR_CALM);
            }
            if self.raw.len() < FRAME_HEADER_LEN + len {
                self.raw.reserve(FRAME_HEADER_LEN + len - self.raw.len());
                return;
            }
            let frame = self.raw.split_to(FRAME_HEADER_LEN + len);
            let payload = &frame[FRAME_HEADER_LEN..];
            let fragment = match (kind, &self.block) {
                (HEADERS, None) => match headers_fragment(payload, flags) {
                    Some(fragment) => fragment,
                    None => return self.cannot_follow_with(frame, h2::Reason::PROTOCOL_ERROR),
                },
                (CONTINUATION, Some(block)) if block.stream_id == stream_id => payload,
                _ => return self.cannot_follow_with(frame, h2::Reason::PROTOCOL_ERROR),
            };
            let block = self.block.get_or_insert_with(|| PendingBlock {
                stream_id,
                end_stream: flags & END_STREAM != 0,
                frames: BytesMut::new(),
                fragment: BytesMut::new(),
            });
            block.fragment.put_slice(fragment);
            if block.frames.is_empty() {
                block.frames = frame;
            } else {
                block.frames.put_slice(&frame);
            }
            if block.fragment.len() > self.cap {
                return self.cannot_follow(h2::Reason::ENHANCE_YOUR_CALM);
            }
            if flags & END_HEADERS != 0 {
                if let Some(block) = self.block.take() {
                    self.finish(block);
                }
            }
        }
    }

    /// Decodes a complete block and forwards it, original or re-encoded; decides the mode when
    /// the block is the first with an `:authority`.
    fn finish(&mut self, block: PendingBlock) {
        let Ok(decoded) = self.decoder.decode(&block.fragment, self.limit) else {
            self.block = Some(block);
            return self.cannot_follow(h2::Reason::COMPRESSION_ERROR);
        };
        let refused = |f: &hpack::Field| {
            f.name == ":authority" && http::uri::Authority::try_from(&f.value[..]).is_err()
        };
        if self.mode == Mode::Watching && !decoded.fields.iter().any(refused) {
            self.out.unsplit(block.frames);
            if decoded.fields.iter().any(|f| f.name == ":authority") {
                // Nothing was rewritten: h2's decoder state is the client's, h2 can go alone.
                self.pass_through();
            }
            return;
        }
        self.mode = Mode::Rewriting;
        let fields = decoded.fields.into_iter().map(|mut field| {
            if refused(&field) {
                field.value = bytes::Bytes::from_static(REPLACEMENT);
            }
            field
        });
        let fields: Vec<_> = fields.collect();
        let mut encoded = BytesMut::new();
        hpack::encode(&fields, &mut encoded);
        let (id, end_stream) = (block.stream_id, block.end_stream);
        write_header_frames(id, end_stream, encoded, self.max_frame, &mut self.out);
    }

    /// A block this filter cannot follow: Passthrough while Watching, the end of the connection
    /// while Rewriting (see the module docs).
    fn cannot_follow(&mut self, reason: h2::Reason) {
        match self.mode {
            Mode::Rewriting => self.break_down(reason),
            _ => self.give_up(),
        }
    }

    fn cannot_follow_with(&mut self, frame: BytesMut, reason: h2::Reason) {
        match self.mode {
            Mode::Rewriting => self.break_down(reason),
            _ => self.give_up_with(frame),
        }
    }

    /// Ends a rewritten connection: nothing more reaches `h2`, and the loop sends GOAWAY.
    fn break_down(&mut self, reason: h2::Reason) {
        let _ = self.breakdown.0.set(reason);
        self.block = None;
        self.raw = BytesMut::new();
        self.copy_left = 0;
    }

    /// Stops filtering: forwards the collected block and everything after it as received.
    fn give_up(&mut self) {
        if let Some(block) = self.block.take() {
            self.out.unsplit(block.frames);
        }
        self.pass_through();
    }

    fn give_up_with(&mut self, frame: BytesMut) {
        if let Some(block) = self.block.take() {
            self.out.unsplit(block.frames);
        }
        self.out.unsplit(frame);
        self.pass_through();
    }

    /// Passthrough from here on: what `raw` holds follows `out`, and the decoder's table goes.
    fn pass_through(&mut self) {
        self.mode = Mode::Passthrough;
        self.out.unsplit(std::mem::take(&mut self.raw));
        self.decoder = hpack::Decoder::new(HEADER_TABLE_SIZE);
    }

    /// Hands `buf` what is ready: `out`, then the payload at the start of `raw`, processing
    /// the frames after it, until `buf` is full or more must be read.
    fn hand_out(&mut self, buf: &mut ReadBuf<'_>) {
        while buf.remaining() > 0 {
            if !self.out.is_empty() {
                let n = buf.remaining().min(self.out.len());
                buf.put_slice(&self.out[..n]);
                self.out.advance(n);
            } else if self.mode == Mode::Passthrough {
                // Reads go straight into `buf` from now on: give the memory back.
                self.out = BytesMut::new();
                return;
            } else if self.copy_left > 0 && !self.raw.is_empty() {
                let n = buf.remaining().min(self.raw.len()).min(self.copy_left);
                buf.put_slice(&self.raw[..n]);
                self.raw.advance(n);
                self.copy_left -= n;
                self.process();
            } else {
                return;
            }
        }
    }
}

fn frame_len(head: &[u8]) -> usize {
    usize::from(head[0]) << 16 | usize::from(head[1]) << 8 | usize::from(head[2])
}

/// The block fragment of a HEADERS payload, without its padding and priority fields; `None` if
/// they do not fit (`h2` then reports the malformed frame).
fn headers_fragment(payload: &[u8], flags: u8) -> Option<&[u8]> {
    let mut fragment = payload;
    let mut pad = 0;
    if flags & PADDED != 0 {
        pad = usize::from(*fragment.first()?);
        fragment = &fragment[1..];
    }
    if flags & PRIORITY != 0 {
        fragment = fragment.get(5..)?;
    }
    fragment.get(..fragment.len().checked_sub(pad)?)
}

/// One HEADERS frame and as many CONTINUATION frames of up to `max_frame` bytes as `block` needs.
fn write_header_frames(
    stream_id: u32,
    end_stream: bool,
    mut block: BytesMut,
    max_frame: usize,
    dst: &mut BytesMut,
) {
    let mut kind = HEADERS;
    loop {
        let chunk = block.split_to(block.len().min(max_frame));
        let last = block.is_empty();
        let mut flags = if last { END_HEADERS } else { 0 };
        if kind == HEADERS && end_stream {
            flags |= END_STREAM;
        }
        let len = chunk.len();
        dst.put_slice(&[(len >> 16) as u8, (len >> 8) as u8, len as u8, kind, flags]);
        dst.put_u32(stream_id);
        dst.unsplit(chunk);
        if last {
            return;
        }
        kind = CONTINUATION;
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
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests;
