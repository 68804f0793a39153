//! [`Raw`]: a message as bytes, so that the library's typed calls carry messages whose types are
//! only known at run time (encoded and decoded with prost-reflect around the call).

use std::fmt;

use bytes::{Buf, BufMut, Bytes};
use prost::encoding::{DecodeContext, WireType};
use prost::DecodeError;

/// A serialized protobuf message, sent and received as it is.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct Raw(pub(crate) Bytes);

impl fmt::Debug for Raw {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Raw({} bytes)", self.0.len())
    }
}

impl prost::Message for Raw {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        buf.put_slice(&self.0);
    }

    /// Never reached: `merge` takes the bytes whole.
    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: WireType,
        buf: &mut impl Buf,
        ctx: DecodeContext,
    ) -> Result<(), DecodeError> {
        prost::encoding::skip_field(wire_type, tag, buf, ctx)
    }

    fn encoded_len(&self) -> usize {
        self.0.len()
    }

    fn clear(&mut self) {
        self.0 = Bytes::new();
    }

    /// Keeps the bytes as they are, unparsed.
    fn merge(&mut self, mut buf: impl Buf) -> Result<(), DecodeError> {
        let more = buf.copy_to_bytes(buf.remaining());
        self.0 = if self.0.is_empty() { more } else { [&self.0[..], &more[..]].concat().into() };
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::*;

    #[test]
    fn bytes_go_through_unparsed() {
        let bytes = Bytes::from_static(&[0x0a, 0x02, b'h', b'i', 0xff]); // not even valid
        let raw = Raw::decode(bytes.clone()).unwrap();
        assert_eq!(raw.0, bytes);
        assert_eq!(raw.encode_to_vec(), bytes.to_vec());
        assert_eq!(raw.encoded_len(), 5);
    }
}
