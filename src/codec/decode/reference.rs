//! [`decode_all`]: the one-shot reference decoder the streaming `Decoder` is checked against.

use bytes::{Buf, Bytes};

use super::RawMessage;
use crate::codec::{DecodeError, FrameHeader, HEADER_LEN};

/// Decodes a complete stream body in one go: the simple reference the streaming [`Decoder`]
/// is tested (and fuzzed) against. Compression counts as negotiated, so flag `1` is accepted.
///
/// Bodies are slices of `input` (no copy). Trailing bytes that do not complete a message are
/// [`DecodeError::Truncated`].
///
/// [`Decoder`]: super::Decoder
///
/// ```
/// use h2grpc::codec::{decode_all, DecodeError};
///
/// let wire = vec![0, 0, 0, 0, 1, b'a', 1, 0, 0, 0, 0];
/// let messages = decode_all(wire.into(), 16)?;
/// assert_eq!(messages.len(), 2);
/// assert_eq!(&messages[0].data[..], b"a");
/// assert!(messages[1].compressed && messages[1].data.is_empty());
///
/// let err = decode_all(vec![0, 0, 0, 0, 17].into(), 16).unwrap_err();
/// assert_eq!(err, DecodeError::TooLarge { len: 17, max: 16 });
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn decode_all(mut input: Bytes, max_len: usize) -> Result<Vec<RawMessage>, DecodeError> {
    let mut messages = Vec::new();
    while !input.is_empty() {
        let Some(head) = input.first_chunk::<HEADER_LEN>() else {
            return Err(DecodeError::Truncated { expected: HEADER_LEN, got: input.len() });
        };
        let header = FrameHeader::parse(*head)?;
        let len = usize::try_from(header.len)
            .ok()
            .filter(|&len| len <= max_len)
            .ok_or(DecodeError::TooLarge { len: u64::from(header.len), max: max_len })?;
        input.advance(HEADER_LEN);
        if input.len() < len {
            return Err(DecodeError::Truncated { expected: len, got: input.len() });
        }
        messages.push(RawMessage { compressed: header.compressed, data: input.split_to(len) });
    }
    Ok(messages)
}
