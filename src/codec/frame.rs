//! The 5-byte message prefix, [`FrameHeader`], parsed and written side by side.
//!
//! ```text
//! [ 01 | 00 00 01 00 ]  <-->  FrameHeader { compressed: true, len: 256 }
//!   flag  len (u32 BE)
//! ```

use super::{DecodeError, HEADER_LEN};

/// The prefix in front of every gRPC message: the Compressed-Flag and the Message-Length.
///
/// ```text
/// byte 0      bytes 1..5
/// +--------+---------------------------+
/// | 00/01  | len, u32 big-endian       |
/// +--------+---------------------------+
/// ```
///
/// ```
/// use h2grpc::codec::FrameHeader;
///
/// let header = FrameHeader { compressed: false, len: 3 };
/// assert_eq!(header.to_bytes(), [0, 0, 0, 0, 3]);
/// assert_eq!(FrameHeader::parse([0, 0, 0, 0, 3])?, header);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    /// The Compressed-Flag: whether the body is compressed with the stream's `grpc-encoding`.
    pub compressed: bool,
    /// The Message-Length: how many body bytes follow the prefix.
    pub len: u32,
}

impl FrameHeader {
    /// Parses a prefix. Flag `0` and `1` are accepted; any other flag is
    /// [`DecodeError::BadFlag`]. The length is not checked against any limit here.
    ///
    /// Whether flag `1` is allowed on this stream (a `grpc-encoding` was negotiated) is the
    /// [`Decoder`](super::Decoder)'s business, not the prefix's.
    ///
    /// ```
    /// use h2grpc::codec::{DecodeError, FrameHeader};
    ///
    /// let header = FrameHeader::parse([1, 0, 0, 1, 0])?;
    /// assert_eq!(header, FrameHeader { compressed: true, len: 256 });
    /// assert_eq!(FrameHeader::parse([2, 0, 0, 0, 0]), Err(DecodeError::BadFlag(2)));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn parse(bytes: [u8; HEADER_LEN]) -> Result<FrameHeader, DecodeError> {
        let [flag, l0, l1, l2, l3] = bytes;
        let compressed = match flag {
            0 => false,
            1 => true,
            other => return Err(DecodeError::BadFlag(other)),
        };
        Ok(FrameHeader { compressed, len: u32::from_be_bytes([l0, l1, l2, l3]) })
    }

    /// Writes the prefix: the flag byte, then the length big-endian.
    ///
    /// ```
    /// use h2grpc::codec::FrameHeader;
    ///
    /// let header = FrameHeader { compressed: true, len: 0x0102_0304 };
    /// assert_eq!(header.to_bytes(), [1, 1, 2, 3, 4]);
    /// ```
    pub fn to_bytes(self) -> [u8; HEADER_LEN] {
        let [l0, l1, l2, l3] = self.len.to_be_bytes();
        [u8::from(self.compressed), l0, l1, l2, l3]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_reads_the_length_big_endian() {
        let header = FrameHeader::parse([0, 0x12, 0x34, 0x56, 0x78]).unwrap();
        assert_eq!(header.len, 0x1234_5678);
        assert!(!header.compressed);
    }

    #[test]
    fn parse_accepts_the_largest_length() {
        let header = FrameHeader::parse([0, 0xff, 0xff, 0xff, 0xff]).unwrap();
        assert_eq!(header.len, u32::MAX);
    }

    #[test]
    fn parse_rejects_every_flag_from_2_to_255() {
        for flag in 2..=u8::MAX {
            assert_eq!(FrameHeader::parse([flag, 0, 0, 0, 1]), Err(DecodeError::BadFlag(flag)));
        }
    }

    #[test]
    fn to_bytes_and_parse_round_trip() {
        for compressed in [false, true] {
            for len in [0, 1, 255, 256, 0x00ff_ffff, u32::MAX] {
                let header = FrameHeader { compressed, len };
                assert_eq!(FrameHeader::parse(header.to_bytes()), Ok(header));
            }
        }
    }
}
