//! The frame head: every HTTP/2 frame starts with these 9 bytes (RFC 9113 §4.1).
//!
//! ```text
//! offset: 0          3      4       5                   9
//!         +----------+------+-------+-------------------+-----------------------+
//!         | length   | type | flags | R | stream id     | payload: length bytes |
//!         | 24 bits  | 8    | 8     | 1 | 31 bits       |                       |
//!         +----------+------+-------+-------------------+-----------------------+
//!
//! 00 00 04 03 00 00 00 00 01 | 00 00 00 08  --> RST_STREAM stream 1, CANCEL
//! ```

use bytes::BufMut;

/// Frame types (RFC 9113 §6), in the order of their codes.
pub(crate) const DATA: u8 = 0x0;
pub(crate) const HEADERS: u8 = 0x1;
pub(crate) const PRIORITY: u8 = 0x2;
pub(crate) const RST_STREAM: u8 = 0x3;
pub(crate) const SETTINGS: u8 = 0x4;
pub(crate) const PUSH_PROMISE: u8 = 0x5;
pub(crate) const PING: u8 = 0x6;
pub(crate) const GOAWAY: u8 = 0x7;
pub(crate) const WINDOW_UPDATE: u8 = 0x8;
pub(crate) const CONTINUATION: u8 = 0x9;

/// The flags frame types define, by bit: ACK on SETTINGS and PING shares END_STREAM's bit.
pub(crate) mod flag {
    pub(crate) const END_STREAM: u8 = 0x1;
    pub(crate) const ACK: u8 = 0x1;
    pub(crate) const END_HEADERS: u8 = 0x4;
    pub(crate) const PADDED: u8 = 0x8;
    /// On HEADERS: 5 bytes of stream dependency and weight precede the block.
    pub(crate) const PRIORITY: u8 = 0x20;
}

/// The client connection preface (RFC 9113 §3.4), before the client's first frame.
pub(crate) const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// The length of a frame head.
pub(crate) const HEAD_LEN: usize = 9;

/// The largest payload length a head can state (24 bits).
pub(crate) const MAX_LEN: u32 = 0xff_ffff;

/// The smallest SETTINGS_MAX_FRAME_SIZE there is, and its initial value (RFC 9113 §6.5.2).
pub(crate) const MIN_MAX_FRAME_SIZE: usize = 16_384;

/// One frame head, decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Head {
    /// The payload length, at most [`MAX_LEN`].
    pub(crate) len: u32,
    pub(crate) kind: u8,
    pub(crate) flags: u8,
    /// The stream id: 31 bits when parsed; written as given, reserved bit included (a hostile
    /// peer may set it).
    pub(crate) stream_id: u32,
}

impl Head {
    /// The head at the start of `bytes`, `None` if fewer than [`HEAD_LEN`] bytes are there.
    pub(crate) fn parse(bytes: &[u8]) -> Option<Head> {
        let &[l0, l1, l2, kind, flags, s0, s1, s2, s3] = bytes.first_chunk::<HEAD_LEN>()?;
        let len = u32::from_be_bytes([0, l0, l1, l2]);
        let stream_id = u32::from_be_bytes([s0, s1, s2, s3]) & 0x7fff_ffff;
        Some(Head { len, kind, flags, stream_id })
    }

    /// Appends the 9 bytes. The length's top byte is dropped: callers keep it within
    /// [`MAX_LEN`].
    pub(crate) fn write(&self, dst: &mut impl BufMut) {
        dst.put_slice(&self.len.to_be_bytes()[1..]);
        dst.put_u8(self.kind);
        dst.put_u8(self.flags);
        dst.put_u32(self.stream_id);
    }

    /// The payload length as a `usize`.
    pub(crate) fn payload_len(&self) -> usize {
        self.len as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_head_is_length_type_flags_stream_and_reads_back() {
        let head = Head { len: 4, kind: RST_STREAM, flags: 0, stream_id: 3 };
        let mut out = Vec::new();
        head.write(&mut out);
        assert_eq!(out, [0, 0, 4, 3, 0, 0, 0, 0, 3]);
        assert_eq!(Head::parse(&out), Some(head));
        assert_eq!(Head::parse(&out[..8]), None);
    }

    #[test]
    fn parse_drops_the_reserved_bit_and_reads_24_bit_lengths() {
        let head = Head::parse(&[0xff, 0xff, 0xff, 0xfa, 0x25, 0x80, 0, 0, 1, 0xaa]).unwrap();
        assert_eq!(head, Head { len: MAX_LEN, kind: 0xfa, flags: 0x25, stream_id: 1 });
    }
}
