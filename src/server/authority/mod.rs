//! Accepting any `:authority`: a read-side filter between the socket and `h2`'s server.
//!
//! `h2` parses `:authority` into an `http::uri::Authority` and resets the stream with
//! PROTOCOL_ERROR when that fails (hyperium/h2#487, open). gRPC C-core (so Python's grpcio, Ruby,
//! PHP, ...) sends the percent-encoded socket path for `unix:` targets since 1.57, e.g.
//! `%2Frun%2Fapp.sock`, and `%` is not allowed in a URI host: without this filter, every call
//! from those clients fails. GRPC-WIRE.md 6: servers must accept any `:authority`.
//!
//! The filter reads the client's frames, decodes each header block with its own HPACK decoder
//! (which mirrors the client's encoder, as `h2`'s would), and:
//!
//! ```text
//! every :authority valid, nothing rewritten yet  -> the original frames, byte for byte
//! an :authority that h2 would refuse             -> the block re-encoded as plain literals,
//!                                                   with that :authority replaced by localhost
//! once one block was re-encoded                  -> every later block is re-encoded too
//! ```
//!
//! Re-encoded blocks use only literals that are never indexed, so `h2`'s decoder keeps no state
//! the client's later blocks could refer to: from the first rewrite on, this decoder alone
//! tracks the client's dynamic table. Other frames pass through untouched. Anything this filter
//! cannot follow (a malformed header block, a CONTINUATION out of place, a block over the size
//! limit) switches it to pass everything through unchanged, so `h2` reports the error itself.
//! Before any rewrite that is exactly what `h2` alone would do; after one, `h2`'s table no longer
//! matches the client's, so such a connection ends with a COMPRESSION_ERROR instead (a client
//! that sent a bad `:authority` and then a broken or oversized header block).

mod hpack;
mod huffman;

use std::io;
use std::mem::MaybeUninit;
use std::pin::Pin;
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
/// The smallest SETTINGS_MAX_FRAME_SIZE there is: re-encoded frames always fit.
const MAX_FRAME: usize = 16_384;
/// HTTP/2's initial SETTINGS_HEADER_TABLE_SIZE, which `h2`'s server keeps.
const HEADER_TABLE_SIZE: usize = 4096;
/// What replaces an `:authority` that `h2` would refuse.
const REPLACEMENT: &[u8] = b"localhost";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// Decoding every block, forwarding the original bytes.
    Watching,
    /// Decoding and re-encoding every block.
    Rewriting,
    /// Forwarding everything as it comes.
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

/// Wraps a server connection's byte stream; see the module docs.
#[derive(Debug)]
pub(crate) struct AuthorityFilter<IO> {
    io: IO,
    /// Bytes read from the socket and not yet processed.
    raw: BytesMut,
    /// Bytes ready for `h2`.
    out: BytesMut,
    mode: Mode,
    preface_left: usize,
    /// Payload bytes of a pass-through frame still to forward.
    copy_left: usize,
    block: Option<PendingBlock>,
    decoder: hpack::Decoder,
    /// The largest header block (encoded, and decoded as HTTP/2 counts it) this filter handles.
    limit: usize,
    eof: bool,
}

impl<IO> AuthorityFilter<IO> {
    /// `limit` is the server's SETTINGS_MAX_HEADER_LIST_SIZE: larger blocks are `h2`'s to refuse.
    pub(crate) fn new(io: IO, limit: usize) -> AuthorityFilter<IO> {
        AuthorityFilter {
            io,
            raw: BytesMut::new(),
            out: BytesMut::new(),
            mode: Mode::Watching,
            preface_left: PREFACE_LEN,
            copy_left: 0,
            block: None,
            decoder: hpack::Decoder::new(HEADER_TABLE_SIZE),
            limit: limit.max(MAX_FRAME),
            eof: false,
        }
    }

    /// Moves what can be processed from `raw` to `out`.
    fn process(&mut self) {
        loop {
            if self.mode == Mode::Passthrough {
                let raw = self.raw.split();
                self.out.unsplit(raw);
                return;
            }
            if self.preface_left > 0 || self.copy_left > 0 {
                let left = if self.preface_left > 0 {
                    &mut self.preface_left
                } else {
                    &mut self.copy_left
                };
                let n = (*left).min(self.raw.len());
                if n == 0 {
                    return;
                }
                *left -= n;
                let chunk = self.raw.split_to(n);
                self.out.unsplit(chunk);
                continue;
            }
            if self.raw.len() < FRAME_HEADER_LEN {
                return;
            }
            let len = usize::from(self.raw[0]) << 16
                | usize::from(self.raw[1]) << 8
                | usize::from(self.raw[2]);
            let (kind, flags) = (self.raw[3], self.raw[4]);
            let stream_id =
                u32::from_be_bytes([self.raw[5], self.raw[6], self.raw[7], self.raw[8]])
                    & 0x7fff_ffff;
            let header_frame = kind == HEADERS || kind == CONTINUATION;
            if !header_frame {
                if self.block.is_some() {
                    // Only CONTINUATION may follow a HEADERS without END_HEADERS.
                    return self.give_up();
                }
                let header = self.raw.split_to(FRAME_HEADER_LEN);
                self.out.unsplit(header);
                self.copy_left = len;
                continue;
            }
            if len > self.limit {
                return self.give_up();
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
                    None => return self.give_up_with(frame),
                },
                (CONTINUATION, Some(block)) if block.stream_id == stream_id => payload,
                _ => return self.give_up_with(frame),
            };
            let block = self.block.get_or_insert_with(|| PendingBlock {
                stream_id,
                end_stream: flags & END_STREAM != 0,
                frames: BytesMut::new(),
                fragment: BytesMut::new(),
            });
            block.fragment.put_slice(fragment);
            block.frames.put_slice(&frame);
            if block.fragment.len() > self.limit {
                return self.give_up();
            }
            if flags & END_HEADERS != 0 {
                if let Some(block) = self.block.take() {
                    if !self.finish(block) {
                        return;
                    }
                }
            }
        }
    }

    /// Decodes a complete block and forwards it, original or re-encoded. `false` if the filter
    /// gave up.
    fn finish(&mut self, block: PendingBlock) -> bool {
        let Ok(decoded) = self.decoder.decode(&block.fragment, self.limit) else {
            self.block = Some(block);
            self.give_up();
            return false;
        };
        let refused = |f: &hpack::Field| {
            f.name == ":authority" && http::uri::Authority::try_from(&f.value[..]).is_err()
        };
        if self.mode == Mode::Watching && !decoded.fields.iter().any(refused) {
            self.out.unsplit(block.frames);
            return true;
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
        write_header_frames(block.stream_id, block.end_stream, encoded, &mut self.out);
        true
    }

    /// Stops filtering: forwards the collected block and everything after it as received.
    fn give_up(&mut self) {
        if let Some(block) = self.block.take() {
            self.out.unsplit(block.frames);
        }
        self.mode = Mode::Passthrough;
        let raw = self.raw.split();
        self.out.unsplit(raw);
    }

    fn give_up_with(&mut self, frame: BytesMut) {
        if let Some(block) = self.block.take() {
            self.out.unsplit(block.frames);
        }
        self.out.unsplit(frame);
        self.give_up();
    }
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

/// One HEADERS frame and as many CONTINUATION frames as `block` needs.
fn write_header_frames(stream_id: u32, end_stream: bool, mut block: BytesMut, dst: &mut BytesMut) {
    let mut kind = HEADERS;
    loop {
        let chunk = block.split_to(block.len().min(MAX_FRAME));
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
        loop {
            if !this.out.is_empty() {
                let n = buf.remaining().min(this.out.len());
                buf.put_slice(&this.out[..n]);
                this.out.advance(n);
                return Poll::Ready(Ok(()));
            }
            if this.eof {
                // A truncated frame at the end: forward what there is, h2 reports it.
                if !this.raw.is_empty() || this.block.is_some() {
                    this.give_up();
                    continue;
                }
                return Poll::Ready(Ok(()));
            }
            // Fast path: payload that only needs forwarding goes straight into `buf`.
            let direct = match this.mode {
                Mode::Passthrough => buf.remaining(),
                _ if this.raw.is_empty() && this.preface_left == 0 => {
                    this.copy_left.min(buf.remaining())
                }
                _ => 0,
            };
            // Neither path zero-fills memory: `buf` is usually uninitialized (h2 reads into the
            // spare capacity of its buffer), and zeroing it, or an 8 KiB stack buffer, on every
            // read cost more than all of h2's work on a small message.
            if direct > 0 {
                let n = if direct >= buf.remaining() {
                    // All of `buf` may take payload: the socket reads straight into it.
                    let before = buf.filled().len();
                    ready!(Pin::new(&mut this.io).poll_read(cx, buf))?;
                    buf.filled().len() - before
                } else {
                    // Only `direct` bytes belong to the frame being forwarded.
                    let mut chunk = [MaybeUninit::<u8>::uninit(); 8192];
                    let len = direct.min(chunk.len());
                    let mut read = ReadBuf::uninit(&mut chunk[..len]);
                    ready!(Pin::new(&mut this.io).poll_read(cx, &mut read))?;
                    buf.put_slice(read.filled());
                    read.filled().len()
                };
                if this.mode != Mode::Passthrough {
                    this.copy_left -= n;
                }
                return Poll::Ready(Ok(()));
            }
            let mut chunk = [MaybeUninit::<u8>::uninit(); 8192];
            let mut read = ReadBuf::uninit(&mut chunk);
            ready!(Pin::new(&mut this.io).poll_read(cx, &mut read))?;
            if read.filled().is_empty() {
                this.eof = true;
            } else {
                this.raw.put_slice(read.filled());
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
