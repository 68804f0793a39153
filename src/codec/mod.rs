//! The gRPC Length-Prefixed-Message: how messages travel inside HTTP/2 DATA frames.
//!
//! Every request and response message, in both directions, is sent as a 5-byte prefix followed
//! by the message body (`PROTOCOL-HTTP2.md`, "Length-Prefixed-Message"):
//!
//! ```text
//! offset:  0        1        2        3        4        5 ............ 5+len
//!        +--------+--------+--------+--------+--------+-----------------+
//!        |  flag  |       len: u32, big-endian        | body: len bytes |
//!        +--------+--------+--------+--------+--------+-----------------+
//!        |<---------- prefix: HEADER_LEN = 5 -------->|<--- message --->|
//! ```
//!
//! - **flag** (Compressed-Flag): `0` = the body is not compressed; `1` = the body is compressed
//!   with the algorithm named by the stream's `grpc-encoding` header. Any other value is a
//!   protocol error, and so is `1` when no `grpc-encoding` was negotiated.
//! - **len** (Message-Length): the body length in bytes, **big-endian**. Zero is legal: the
//!   empty message (`grpc.testing.Empty`) is the prefix `00 00 00 00 00` with no body.
//!
//! A few encodings, `INPUT --> DECODED => status`:
//!
//! ```text
//! 00 00 00 00 03 61 62 63  --> RawMessage { compressed: false, data: "abc" }
//! 00 00 00 00 00           --> RawMessage { compressed: false, data: "" }
//! 01 00 00 00 02 1f 8b     --> RawMessage { compressed: true, data: [1f, 8b] }
//!                              (needs a negotiated grpc-encoding, else
//!                               CompressedWithoutEncoding => INTERNAL)
//! 07 00 00 00 00           --> BadFlag(7)                          => INTERNAL
//! 00 ff ff ff ff           --> TooLarge { len: 4294967295, max }   => RESOURCE_EXHAUSTED
//! 00 00 00 00 03 61 <EOS>  --> Truncated { expected: 3, got: 1 }   => INTERNAL
//! ```
//!
//! DATA frame boundaries have nothing to do with message boundaries: one frame may carry
//! several messages, or only part of a prefix, and one message may span many frames. The
//! [`Decoder`] therefore is resumable: feed it each frame's payload with [`Decoder::push`] and
//! pull whole messages with [`Decoder::next`] (`Ok(None)` means "need more bytes").
//!
//! ```text
//! DATA [00 00 00]  DATA [00 03 61]  DATA [62 63 00 00 00 00 00]
//!      \______ prefix ______/ \___ body ___/ \___ empty message ___/
//! ```
//!
//! The receive limit ([`DEFAULT_MAX_RECV_MESSAGE_LEN`], 4 MiB like every gRPC implementation)
//! is checked against the prefix **before** any memory is reserved for the body, so a peer
//! cannot make us allocate more than the limit by announcing a huge length.
//!
//! Sending is [`encode_message`] (a `prost` message) or [`encode_raw`] (an already serialized
//! body); both append prefix and body to a `BytesMut`, so several messages can be batched into
//! one DATA frame.
//!
//! Compression (`grpc-encoding`, gzip and deflate with the `compression` feature) sits on top:
//! [`compression`] holds its wire rules, compresses a message before framing and decompresses
//! a flag-`1` body under the same receive limit.
//!
//! ```
//! use bytes::{Bytes, BytesMut};
//! use h2grpc::codec::{encode_raw, Decoder};
//!
//! let mut wire = BytesMut::new();
//! encode_raw(b"abc", false, &mut wire)?;
//! assert_eq!(&wire[..], &[0, 0, 0, 0, 3, b'a', b'b', b'c']);
//!
//! let mut decoder = Decoder::new();
//! let mut wire = wire.freeze();
//! decoder.push(wire.split_to(2)); // half a prefix: not enough yet
//! assert_eq!(decoder.next()?, None);
//! decoder.push(wire);
//! let message = decoder.next()?.expect("a whole message");
//! assert_eq!(message.data, Bytes::from_static(b"abc"));
//! decoder.finish()?; // the stream ended on a message boundary
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod compression;
mod decode;
mod encode;
mod error;
mod frame;

pub use decode::{decode_all, Decoder, RawMessage};
pub use encode::{encode_message, encode_raw};
pub use error::{DecodeError, EncodeError};
pub use frame::FrameHeader;

/// Length of the message prefix: one flag byte and a big-endian `u32` length.
///
/// ```
/// assert_eq!(h2grpc::codec::HEADER_LEN, 5);
/// ```
pub const HEADER_LEN: usize = 5;

/// The default limit on a received message body: 4 MiB (4,194,304 bytes), the default of
/// grpc-go, grpc-java and C-core on both client and server.
///
/// ```
/// use h2grpc::codec::{Decoder, DEFAULT_MAX_RECV_MESSAGE_LEN};
/// assert_eq!(DEFAULT_MAX_RECV_MESSAGE_LEN, 4_194_304);
/// assert_eq!(Decoder::new().max_len(), DEFAULT_MAX_RECV_MESSAGE_LEN);
/// ```
pub const DEFAULT_MAX_RECV_MESSAGE_LEN: usize = 4 * 1024 * 1024;

#[cfg(test)]
mod tests {
    use bytes::{Bytes, BytesMut};
    use proptest::prelude::*;

    use super::*;

    /// The concatenated wire encoding of `messages`, and the same messages as `RawMessage`s.
    fn encode_all(messages: &[Vec<u8>]) -> (Bytes, Vec<RawMessage>) {
        let mut wire = BytesMut::new();
        for m in messages {
            encode_raw(m, false, &mut wire).unwrap();
        }
        let expected = messages
            .iter()
            .map(|m| RawMessage { compressed: false, data: Bytes::copy_from_slice(m) })
            .collect();
        (wire.freeze(), expected)
    }

    /// Cuts `wire` at the given offsets (taken modulo its length, in any order).
    fn chunk(wire: &Bytes, cuts: &[usize]) -> Vec<Bytes> {
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (wire.len() + 1)).collect();
        cuts.push(0);
        cuts.push(wire.len());
        cuts.sort_unstable();
        cuts.windows(2).map(|w| wire.slice(w[0]..w[1])).collect()
    }

    /// Pushes every chunk, draining the decoder after each, then checks the end of stream.
    fn stream_decode(chunks: Vec<Bytes>, max: usize) -> Result<Vec<RawMessage>, DecodeError> {
        let mut decoder = Decoder::with_max_len(max);
        decoder.set_compression_negotiated(true);
        let mut out = Vec::new();
        for c in chunks {
            decoder.push(c);
            while let Some(m) = decoder.next()? {
                out.push(m);
            }
        }
        decoder.finish()?;
        Ok(out)
    }

    /// Pushes the chunks, draining only after those picked by `drains`, then asks `finish`.
    fn finish_after_partial_drain(
        chunks: Vec<Bytes>,
        drains: &[bool],
        max: usize,
    ) -> Result<(), DecodeError> {
        let mut decoder = Decoder::with_max_len(max);
        decoder.set_compression_negotiated(true);
        for (i, c) in chunks.into_iter().enumerate() {
            decoder.push(c);
            if drains.get(i).copied().unwrap_or(false) {
                while let Ok(Some(_)) = decoder.next() {}
            }
        }
        decoder.finish()
    }

    fn messages() -> impl Strategy<Value = Vec<Vec<u8>>> {
        prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 0..8)
    }

    proptest! {
        #[test]
        fn decode_yields_exactly_the_encoded_messages_under_any_chunking(
            messages in messages(),
            cuts in prop::collection::vec(any::<usize>(), 0..20),
        ) {
            let (wire, expected) = encode_all(&messages);
            let chunks = chunk(&wire, &cuts);
            prop_assert_eq!(stream_decode(chunks, DEFAULT_MAX_RECV_MESSAGE_LEN)?, expected);
        }

        #[test]
        fn decode_all_agrees_with_the_streaming_decoder_on_any_bytes(
            input in prop::collection::vec(any::<u8>(), 0..64),
            cuts in prop::collection::vec(any::<usize>(), 0..8),
            max in 0usize..16,
        ) {
            let input = Bytes::from(input);
            let streamed = stream_decode(chunk(&input, &cuts), max);
            prop_assert_eq!(decode_all(input, max), streamed);
        }

        #[test]
        fn decode_all_agrees_with_the_streaming_decoder_on_valid_encodings(
            messages in messages(),
            cuts in prop::collection::vec(any::<usize>(), 0..20),
            truncate_by in 0usize..4,
        ) {
            let (wire, _) = encode_all(&messages);
            let wire = wire.slice(..wire.len().saturating_sub(truncate_by));
            let streamed = stream_decode(chunk(&wire, &cuts), 200);
            prop_assert_eq!(decode_all(wire, 200), streamed);
        }

        #[test]
        fn finish_agrees_with_decode_all_however_far_the_decoder_was_drained(
            messages in messages(),
            cuts in prop::collection::vec(any::<usize>(), 0..20),
            drains in prop::collection::vec(any::<bool>(), 0..20),
            truncate_by in 0usize..4,
        ) {
            let (wire, _) = encode_all(&messages);
            let wire = wire.slice(..wire.len().saturating_sub(truncate_by));
            let finished = finish_after_partial_drain(chunk(&wire, &cuts), &drains, 200);
            prop_assert_eq!(decode_all(wire, 200).map(drop), finished);
        }
    }
}
