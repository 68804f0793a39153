//! Writing Length-Prefixed-Messages: prefix and body appended to a `BytesMut`.
//!
//! ```text
//! msg "abc" --> dst: [ .. earlier messages .. | 00 | 00 00 00 03 | 61 62 63 ]
//!                                               flag  len (BE)     body
//! ```
//!
//! The body length is known before anything is written (`prost::Message::encoded_len`, or the
//! slice length), so the destination is reserved once for prefix and body together and no
//! length is patched in afterwards: no `advance_mut`, no `unsafe`.

use bytes::{BufMut, BytesMut};

use super::{EncodeError, FrameHeader, HEADER_LEN};

/// The largest body the prefix can describe: the Message-Length field is a `u32`.
fn prefix_limit() -> usize {
    usize::try_from(u32::MAX).unwrap_or(usize::MAX)
}

/// Checks a body of `len` bytes against `max_len` and the `u32` prefix field; returns the
/// prefix's length field and the total bytes to append (prefix and body).
fn checked_len(len: usize, max_len: usize) -> Result<(u32, usize), EncodeError> {
    let max = max_len.min(prefix_limit());
    let error = EncodeError { len, max };
    let wire_len = u32::try_from(len).map_err(|_| error.clone())?;
    // On 32-bit targets a 4 GiB body plus its prefix does not fit a usize.
    match HEADER_LEN.checked_add(len) {
        Some(total) if len <= max => Ok((wire_len, total)),
        _ => Err(error),
    }
}

/// Appends `msg` to `dst` as one uncompressed Length-Prefixed-Message (flag `0`) and returns
/// how many bytes were appended (`HEADER_LEN` + the body).
///
/// `dst` is reserved exactly once, for prefix and body together; call it several times on
/// one buffer to batch messages into one DATA frame. A message whose encoding exceeds `max_len`
/// (or `u32::MAX`) is refused with an [`EncodeError`] and `dst` is left untouched.
///
/// ```
/// use bytes::BytesMut;
/// use h2grpc::codec::encode_message;
///
/// let mut dst = BytesMut::new();
/// // A `String` encodes as field 1: tag 0x0a, length 2, "hi".
/// let n = encode_message(&String::from("hi"), 1024, &mut dst)?;
/// assert_eq!(n, 9);
/// assert_eq!(&dst[..], &[0, 0, 0, 0, 4, 0x0a, 2, b'h', b'i']);
///
/// // The empty message still gets its 5-byte prefix.
/// encode_message(&(), 1024, &mut dst)?;
/// assert_eq!(&dst[9..], &[0, 0, 0, 0, 0]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn encode_message<M: prost::Message>(
    msg: &M,
    max_len: usize,
    dst: &mut BytesMut,
) -> Result<usize, EncodeError> {
    let len = msg.encoded_len();
    let (wire_len, total) = checked_len(len, max_len)?;
    dst.reserve(total);
    let start = dst.len();
    let header = FrameHeader { compressed: false, len: wire_len };
    dst.put_slice(&header.to_bytes());
    // `encode` only fails when the buffer has no room left; a `BytesMut` grows, and we have
    // just reserved enough, so this cannot happen. Still, never panic: undo and report.
    if msg.encode(dst).is_err() {
        dst.truncate(start);
        return Err(EncodeError { len, max: max_len });
    }
    Ok(total)
}

/// Appends an already serialized (and, if `compressed`, already compressed) body to `dst` as
/// one Length-Prefixed-Message, and returns how many bytes were appended.
///
/// There is no send limit here: the caller knows its payload. A payload longer than
/// `u32::MAX` cannot be described by the prefix and is refused with an [`EncodeError`]
/// whose `max` is `u32::MAX`; `dst` is then left untouched.
///
/// ```
/// use bytes::BytesMut;
/// use h2grpc::codec::encode_raw;
///
/// let mut dst = BytesMut::new();
/// encode_raw(b"abc", false, &mut dst)?;
/// encode_raw(&[0x1f, 0x8b], true, &mut dst)?;
/// assert_eq!(
///     &dst[..],
///     &[0, 0, 0, 0, 3, b'a', b'b', b'c', 1, 0, 0, 0, 2, 0x1f, 0x8b]
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn encode_raw(
    payload: &[u8],
    compressed: bool,
    dst: &mut BytesMut,
) -> Result<usize, EncodeError> {
    let (len, total) = checked_len(payload.len(), usize::MAX)?;
    dst.reserve(total);
    dst.put_slice(&FrameHeader { compressed, len }.to_bytes());
    dst.put_slice(payload);
    Ok(total)
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::codec::decode_all;

    #[test]
    fn encode_writes_the_exact_prefix_and_body() {
        let mut dst = BytesMut::new();
        let n = encode_message(&b"abc".to_vec(), 100, &mut dst).unwrap();
        // Vec<u8> is a BytesValue: field 1, wire type 2, length 3.
        assert_eq!(&dst[..], &[0, 0, 0, 0, 5, 0x0a, 3, b'a', b'b', b'c']);
        assert_eq!(n, dst.len());

        let mut raw = BytesMut::new();
        assert_eq!(encode_raw(b"abc", false, &mut raw), Ok(8));
        assert_eq!(&raw[..], &[0, 0, 0, 0, 3, b'a', b'b', b'c']);
    }

    #[test]
    fn encode_reserves_once_for_prefix_and_body() {
        let msg = vec![0x55u8; 1000];
        let mut dst = BytesMut::new();
        let n = encode_message(&msg, usize::MAX, &mut dst).unwrap();
        // One exact reservation from empty: nothing grew in steps, nothing spare.
        assert_eq!(n, HEADER_LEN + 1003);
        assert_eq!(dst.capacity(), n);
    }

    #[test]
    fn encode_batches_messages_without_reallocating() {
        let msg = String::from("hello");
        let one = HEADER_LEN + prost::Message::encoded_len(&msg);
        let mut dst = BytesMut::with_capacity(3 * one);
        let (ptr, cap) = (dst.as_ptr(), dst.capacity());
        for _ in 0..3 {
            encode_message(&msg, 1024, &mut dst).unwrap();
        }
        assert_eq!(dst.len(), 3 * one);
        assert_eq!((dst.as_ptr(), dst.capacity()), (ptr, cap));
        let decoded = decode_all(dst.freeze(), 1024).unwrap();
        assert_eq!(decoded.len(), 3);
    }

    #[test]
    fn encode_accepts_exactly_max_and_refuses_max_plus_one() {
        let msg = vec![1u8; 10]; // encodes to 12 bytes
        let mut dst = BytesMut::new();
        assert_eq!(encode_message(&msg, 12, &mut dst), Ok(17));
        assert_eq!(encode_message(&msg, 11, &mut dst), Err(EncodeError { len: 12, max: 11 }));
        assert_eq!(dst.len(), 17, "a refused message leaves dst untouched");
    }

    #[test]
    fn encode_of_the_empty_message_is_a_bare_prefix() {
        let mut dst = BytesMut::new();
        assert_eq!(encode_message(&(), 0, &mut dst), Ok(HEADER_LEN));
        assert_eq!(&dst[..], &[0; HEADER_LEN]);
    }

    #[test]
    #[cfg(target_pointer_width = "64")]
    fn encode_refuses_lengths_the_prefix_cannot_express() {
        let limit = prefix_limit();
        assert_eq!(checked_len(limit, usize::MAX), Ok((u32::MAX, limit + HEADER_LEN)));
        let error = EncodeError { len: limit + 1, max: limit };
        assert_eq!(checked_len(limit + 1, usize::MAX), Err(error));
    }

    #[test]
    fn encoded_messages_decode_back() {
        let mut dst = BytesMut::new();
        encode_raw(b"", false, &mut dst).unwrap();
        encode_raw(b"xyz", true, &mut dst).unwrap();
        let decoded = decode_all(dst.freeze(), 3).unwrap();
        assert_eq!(decoded[0].data, Bytes::new());
        assert!(decoded[1].compressed);
        assert_eq!(decoded[1].data, Bytes::from_static(b"xyz"));
    }
}
