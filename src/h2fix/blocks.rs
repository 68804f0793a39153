//! The filter's work on the client's frames: which bytes stay in `h2`'s buffer, header blocks
//! collected, decoded, forwarded or re-encoded; see the parent module's docs.

use bytes::{Buf, BufMut, BytesMut};
use tokio::io::ReadBuf;

use super::{AuthorityFilter, Mode, PendingBlock, HEADER_TABLE_SIZE, REPLACEMENT};
use crate::h2wire::{flag, hpack, Head, CONTINUATION, HEADERS, HEAD_LEN};

impl<IO> AuthorityFilter<IO> {
    /// How many of `read`, bytes just read into `h2`'s buffer with nothing before them in `raw`
    /// or `out`, can stay there: all up to the first header frame, or the first frame header
    /// cut short. Counts them off `copy_left`.
    pub(super) fn keep(&mut self, read: &[u8]) -> usize {
        let mut kept = 0;
        loop {
            let n = self.copy_left.min(read.len() - kept);
            self.copy_left -= n;
            kept += n;
            if self.block.is_some() {
                // A CONTINUATION is due; `process` takes whatever comes instead.
                return kept;
            }
            let Some(head) = Head::parse(&read[kept..]) else {
                return kept;
            };
            if head.kind == HEADERS || head.kind == CONTINUATION {
                return kept;
            }
            self.copy_left = head.payload_len();
            kept += HEAD_LEN;
        }
    }

    /// Moves the frames at the start of `raw` to `out`, up to the next payload to forward as
    /// is (`copy_left`), an incomplete frame, or Passthrough.
    pub(super) fn process(&mut self) {
        while self.mode != Mode::Passthrough && self.copy_left == 0 {
            let Some(Head { len, kind, flags, stream_id }) = Head::parse(&self.raw) else {
                return;
            };
            let len = len as usize;
            if kind != HEADERS && kind != CONTINUATION {
                if self.block.is_some() {
                    // Only CONTINUATION may follow a HEADERS without END_HEADERS.
                    return self.cannot_follow(h2::Reason::PROTOCOL_ERROR);
                }
                self.out.put_slice(&self.raw[..HEAD_LEN]);
                self.raw.advance(HEAD_LEN);
                // The payload goes from `raw` to `h2` once `out` is handed over.
                self.copy_left = len;
                continue;
            }
            if len > self.cap {
                return self.cannot_follow(h2::Reason::ENHANCE_YOUR_CALM);
            }
            if self.raw.len() < HEAD_LEN + len {
                self.raw.reserve(HEAD_LEN + len - self.raw.len());
                return;
            }
            let frame = self.raw.split_to(HEAD_LEN + len);
            let payload = &frame[HEAD_LEN..];
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
                end_stream: flags & flag::END_STREAM != 0,
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
            if flags & flag::END_HEADERS != 0 {
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
    pub(super) fn give_up(&mut self) {
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
    pub(super) fn hand_out(&mut self, buf: &mut ReadBuf<'_>) {
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

/// The block fragment of a HEADERS payload, without its padding and priority fields; `None` if
/// they do not fit (`h2` then reports the malformed frame).
pub(super) fn headers_fragment(payload: &[u8], flags: u8) -> Option<&[u8]> {
    let mut fragment = payload;
    let mut pad = 0;
    if flags & flag::PADDED != 0 {
        pad = usize::from(*fragment.first()?);
        fragment = &fragment[1..];
    }
    if flags & flag::PRIORITY != 0 {
        fragment = fragment.get(5..)?;
    }
    fragment.get(..fragment.len().checked_sub(pad)?)
}

/// One HEADERS frame and as many CONTINUATION frames of up to `max_frame` bytes as `block` needs.
pub(super) fn write_header_frames(
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
        let mut flags = if last { flag::END_HEADERS } else { 0 };
        if kind == HEADERS && end_stream {
            flags |= flag::END_STREAM;
        }
        // `max_frame` is a SETTINGS_MAX_FRAME_SIZE, within the head's 24 bits.
        Head { len: chunk.len() as u32, kind, flags, stream_id }.write(dst);
        dst.unsplit(chunk);
        if last {
            return;
        }
        kind = CONTINUATION;
    }
}
