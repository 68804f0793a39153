//! Reading Length-Prefixed-Messages from DATA frame payloads, in whatever pieces they come.
//!
//! The [`Decoder`] is a two-state machine (tokio-util's `DecodeState`):
//!
//! ```text
//!            5 prefix bytes in; flag and length valid
//!   Header -------------------------------------------> Body { compressed, len }
//!     ^                                                     |
//!     +---------------- `len` body bytes in ----------------+  => RawMessage
//! ```
//!
//! Pushed chunks wait in a queue. A body lying inside one chunk is returned as a slice of it
//! (no copy); a body spanning chunks gets one buffer of exactly `len` bytes, filled piece by
//! piece. The length is checked against the limit before that buffer is reserved.

use std::collections::VecDeque;

use bytes::{Buf, Bytes, BytesMut};

use super::{DecodeError, FrameHeader, DEFAULT_MAX_RECV_MESSAGE_LEN, HEADER_LEN};

mod reference;

pub use self::reference::decode_all;

/// One received message body, still serialized (and still compressed if `compressed`).
///
/// ```
/// use h2grpc::codec::{decode_all, RawMessage};
///
/// let messages = decode_all(vec![0, 0, 0, 0, 2, 8, 1].into(), 64)?;
/// assert_eq!(messages, [RawMessage { compressed: false, data: vec![8, 1].into() }]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawMessage {
    /// The Compressed-Flag: the body must go through the stream's `grpc-encoding` first.
    pub compressed: bool,
    /// The body bytes, without the prefix.
    pub data: Bytes,
}

/// Where the decoder is inside the current message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Waiting for the 5-byte prefix of the next message.
    Header,
    /// The prefix is consumed and valid; waiting for `len` body bytes.
    Body { compressed: bool, len: usize },
}

/// A resumable decoder of Length-Prefixed-Messages, fed arbitrary chunks of bytes.
///
/// Push each DATA frame's payload with [`push`](Decoder::push), then call
/// [`next`](Decoder::next) until it returns `Ok(None)` ("need more bytes"). At the end of the
/// stream, [`finish`](Decoder::finish) reports a message cut short.
///
/// - Messages are returned **without copying** when the body lies inside one pushed chunk.
///   A body spanning chunks is assembled in one buffer of exactly its length, reserved once
///   when its first byte arrives.
/// - The announced length is checked against [`max_len`](Decoder::max_len) as soon as the
///   five prefix bytes are in, before anything is reserved for the body. A length within the
///   limit is trusted: a peer sending a prefix and one body byte makes the decoder reserve
///   the whole announced length, so `max_len` bounds the memory of one stream.
/// - **Errors are final.** After `next` returns an error the decoder drops what it buffered,
///   ignores later pushes, and `next` and `finish` keep returning that same error: the stream
///   is broken and the call must end with the error's [`Status`](crate::Status).
///
/// ```
/// use h2grpc::codec::{DecodeError, Decoder};
///
/// let mut decoder = Decoder::new();
/// decoder.push(vec![0, 0, 0, 0, 1, b'x', 0, 0].into()); // a message and half a prefix
/// assert_eq!(&decoder.next()?.expect("one message").data[..], b"x");
/// assert_eq!(decoder.next()?, None);
/// assert_eq!(decoder.buffered_len(), 2);
/// assert_eq!(decoder.finish(), Err(DecodeError::Truncated { expected: 5, got: 2 }));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Decoder {
    state: State,
    /// Pushed chunks not yet consumed; never holds an empty chunk.
    queue: VecDeque<Bytes>,
    /// Total length of the chunks in `queue`.
    queued: usize,
    /// The body being assembled when it spans chunks; reserved with exactly `len` bytes.
    partial: Option<BytesMut>,
    max_len: usize,
    compression: bool,
    /// The first error; once set, the decoder stays failed.
    failed: Option<DecodeError>,
}

impl Default for Decoder {
    fn default() -> Decoder {
        Decoder::new()
    }
}

impl Decoder {
    /// A decoder with the default limit, [`DEFAULT_MAX_RECV_MESSAGE_LEN`] (4 MiB), and no
    /// compression negotiated (flag `1` is an error).
    ///
    /// ```
    /// let decoder = h2grpc::codec::Decoder::new();
    /// assert_eq!(decoder.max_len(), 4 * 1024 * 1024);
    /// assert_eq!(decoder.buffered_len(), 0);
    /// ```
    pub fn new() -> Decoder {
        Decoder::with_max_len(DEFAULT_MAX_RECV_MESSAGE_LEN)
    }

    /// A decoder refusing bodies longer than `max` bytes; no compression negotiated.
    ///
    /// ```
    /// let decoder = h2grpc::codec::Decoder::with_max_len(1024);
    /// assert_eq!(decoder.max_len(), 1024);
    /// ```
    pub fn with_max_len(max: usize) -> Decoder {
        Decoder {
            state: State::Header,
            queue: VecDeque::new(),
            queued: 0,
            partial: None,
            max_len: max,
            compression: false,
            failed: None,
        }
    }

    /// The largest body accepted, in bytes. Default: 4 MiB.
    ///
    /// ```
    /// assert_eq!(h2grpc::codec::Decoder::default().max_len(), 4_194_304);
    /// ```
    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// Changes the limit. It applies from the next prefix on; a body already announced keeps
    /// the limit it was checked against. Default: 4 MiB.
    ///
    /// ```
    /// use h2grpc::codec::{DecodeError, Decoder};
    ///
    /// let mut decoder = Decoder::new();
    /// decoder.set_max_len(2);
    /// decoder.push(vec![0, 0, 0, 0, 3].into());
    /// assert_eq!(decoder.next(), Err(DecodeError::TooLarge { len: 3, max: 2 }));
    /// ```
    pub fn set_max_len(&mut self, max: usize) {
        self.max_len = max;
    }

    /// Whether a `grpc-encoding` other than `identity` was negotiated for the stream. When
    /// not (the default), a message with flag `1` is [`DecodeError::CompressedWithoutEncoding`].
    ///
    /// ```
    /// use h2grpc::codec::Decoder;
    ///
    /// let mut decoder = Decoder::new();
    /// decoder.set_compression_negotiated(true); // e.g. `grpc-encoding: gzip` was received
    /// decoder.push(vec![1, 0, 0, 0, 1, 0xaa].into());
    /// assert!(decoder.next()?.expect("a message").compressed);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set_compression_negotiated(&mut self, yes: bool) {
        self.compression = yes;
    }

    /// Feeds the payload of one DATA frame. Any split is fine: a chunk may hold several
    /// messages, part of a prefix, or nothing at all. Nothing is decoded or copied here.
    ///
    /// ```
    /// let mut decoder = h2grpc::codec::Decoder::new();
    /// decoder.push(bytes::Bytes::new());
    /// decoder.push(vec![0, 0].into());
    /// assert_eq!(decoder.buffered_len(), 2);
    /// ```
    pub fn push(&mut self, chunk: Bytes) {
        if chunk.is_empty() || self.failed.is_some() {
            return;
        }
        self.queued += chunk.len();
        self.queue.push_back(chunk);
    }

    /// The next whole message, `Ok(None)` when more bytes are needed, or the error that broke
    /// the stream (then returned again on every later call).
    ///
    /// ```
    /// use h2grpc::codec::Decoder;
    ///
    /// let mut decoder = Decoder::new();
    /// decoder.push(vec![0, 0, 0, 0, 0, 0, 0, 0].into()); // an empty message, then 3 bytes
    /// assert_eq!(decoder.next()?.expect("the empty message").data.len(), 0);
    /// assert_eq!(decoder.next()?, None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[allow(clippy::should_implement_trait)] // fallible and resumable: not an Iterator
    pub fn next(&mut self) -> Result<Option<RawMessage>, DecodeError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        match self.step() {
            Ok(message) => Ok(message),
            Err(err) => {
                self.queue = VecDeque::new();
                self.queued = 0;
                self.partial = None;
                self.failed = Some(err.clone());
                Err(err)
            }
        }
    }

    /// Bytes pushed but not yet returned in a message: a partial prefix, a consumed prefix
    /// whose body is incomplete (counted as its 5 bytes), body bytes, and any later messages
    /// not yet pulled. Zero exactly when the decoder sits on a message boundary.
    ///
    /// ```
    /// let mut decoder = h2grpc::codec::Decoder::new();
    /// decoder.push(vec![0, 0, 0, 0, 4, 1, 2].into());
    /// assert_eq!(decoder.next(), Ok(None));
    /// assert_eq!(decoder.buffered_len(), 7);
    /// ```
    pub fn buffered_len(&self) -> usize {
        let prefix = match self.state {
            State::Header => 0,
            State::Body { .. } => HEADER_LEN,
        };
        prefix + self.partial_len() + self.queued
    }

    /// Checks the end of the stream: `Ok` when the buffered bytes are a whole number of valid
    /// messages (normally none: call it after `next` returned `Ok(None)`), otherwise the error
    /// `next` would report, or [`DecodeError::Truncated`] for a prefix or body cut short.
    ///
    /// ```
    /// use h2grpc::codec::{DecodeError, Decoder};
    ///
    /// let mut decoder = Decoder::new();
    /// decoder.push(vec![0, 0, 0, 0, 10, 1, 2, 3].into());
    /// assert_eq!(decoder.next(), Ok(None));
    /// assert_eq!(decoder.finish(), Err(DecodeError::Truncated { expected: 10, got: 3 }));
    /// ```
    pub fn finish(&self) -> Result<(), DecodeError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        // Walk the queued bytes without consuming them, as `next` would.
        let mut bytes = self.queue.iter().flat_map(|c| c.iter().copied());
        let (mut left, mut state) = (self.queued, self.state);
        // Body bytes of the current message already copied out of the queue.
        let mut have = self.partial_len();
        loop {
            if let State::Body { len, .. } = state {
                let need = len.saturating_sub(have);
                if left < need {
                    let got = have + left;
                    return Err(DecodeError::Truncated { expected: len, got });
                }
                if need > 0 {
                    bytes.nth(need - 1);
                }
                (left, have, state) = (left - need, 0, State::Header);
            } else if left == 0 {
                return Ok(());
            } else if left < HEADER_LEN {
                let got = left;
                return Err(DecodeError::Truncated { expected: HEADER_LEN, got });
            } else {
                let mut head = [0; HEADER_LEN];
                head.iter_mut().zip(&mut bytes).for_each(|(d, b)| *d = b);
                left -= HEADER_LEN;
                state = self.check(head)?;
            }
        }
    }

    /// How many body bytes were already copied into the spanning buffer.
    fn partial_len(&self) -> usize {
        self.partial.as_ref().map_or(0, BytesMut::len)
    }

    /// Validates a prefix against this stream's rules and returns the state it leads to.
    fn check(&self, head: [u8; HEADER_LEN]) -> Result<State, DecodeError> {
        let header = FrameHeader::parse(head)?;
        if header.compressed && !self.compression {
            return Err(DecodeError::CompressedWithoutEncoding);
        }
        let len = usize::try_from(header.len).ok().filter(|&len| len <= self.max_len).ok_or_else(
            || DecodeError::TooLarge { len: u64::from(header.len), max: self.max_len },
        )?;
        let compressed = header.compressed;
        Ok(State::Body { compressed, len })
    }

    /// One turn of the state machine; errors are made final by `next`.
    fn step(&mut self) -> Result<Option<RawMessage>, DecodeError> {
        if self.state == State::Header {
            // The prefix is read where it lies when the front chunk holds it whole (the usual
            // case), and copied together from several chunks only when it spans them.
            let front = self.queue.front().and_then(|c| c.first_chunk::<HEADER_LEN>()).copied();
            let head = match front {
                Some(head) => {
                    self.advance_front(HEADER_LEN);
                    head
                }
                None if self.queued < HEADER_LEN => return Ok(None),
                None => {
                    let mut head = [0; HEADER_LEN];
                    self.copy_out(&mut head);
                    head
                }
            };
            self.state = self.check(head)?;
        }
        let State::Body { compressed, len } = self.state else {
            return Ok(None);
        };
        let partial = match self.partial.take() {
            Some(partial) => partial,
            None if len == 0 => BytesMut::new(),
            // No body byte yet: reserve nothing for a length the peer may never send.
            None if self.queue.is_empty() => return Ok(None),
            // The whole body lies in the front chunk: hand out a slice of it, no copy.
            None if self.queue.front().is_some_and(|c| c.len() >= len) => {
                self.state = State::Header;
                let data = self.take_front(len);
                return Ok(Some(RawMessage { compressed, data }));
            }
            // The body spans chunks: one buffer of exactly `len` bytes (`len` is within the
            // limit), filled piece by piece as the chunks arrive.
            None => BytesMut::with_capacity(len),
        };
        match self.fill(partial, len) {
            Some(data) => {
                self.state = State::Header;
                Ok(Some(RawMessage { compressed, data }))
            }
            None => Ok(None),
        }
    }

    /// Copies queued bytes into `partial` up to `len` bytes; parks it again if still short.
    fn fill(&mut self, mut partial: BytesMut, len: usize) -> Option<Bytes> {
        while partial.len() < len {
            let Some(front) = self.queue.front() else {
                self.partial = Some(partial);
                return None;
            };
            let n = front.len().min(len - partial.len());
            partial.extend_from_slice(&front[..n]);
            self.advance_front(n);
        }
        Some(partial.freeze())
    }

    /// Fills `dst` from the front of the queue (the caller checked there is enough).
    fn copy_out(&mut self, dst: &mut [u8]) {
        let mut filled = 0;
        while filled < dst.len() {
            let Some(front) = self.queue.front() else {
                return;
            };
            let n = front.len().min(dst.len() - filled);
            dst[filled..filled + n].copy_from_slice(&front[..n]);
            filled += n;
            self.advance_front(n);
        }
    }

    /// Splits up to `n` bytes off the front chunk without copying.
    fn take_front(&mut self, n: usize) -> Bytes {
        let Some(front) = self.queue.front_mut() else {
            return Bytes::new();
        };
        let data = front.split_to(n.min(front.len()));
        self.queued -= data.len();
        if front.is_empty() {
            self.queue.pop_front(); // the queue never holds an empty chunk
        }
        data
    }

    /// Drops up to `n` bytes from the front chunk.
    fn advance_front(&mut self, n: usize) {
        let Some(front) = self.queue.front_mut() else {
            return;
        };
        let n = n.min(front.len());
        front.advance(n);
        self.queued -= n;
        if front.is_empty() {
            self.queue.pop_front();
        }
    }
}

#[cfg(test)]
mod tests;
