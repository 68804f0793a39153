//! Writing HTTP/2 frames and HPACK header blocks by hand, correct or not as a script asks
//! (RFC 9113 §4.1, RFC 7541), with the wire pieces of [`crate::h2wire`]. Only what a hostile
//! peer needs: no Huffman, no table of our own.

pub(crate) use crate::h2wire::flag::{
    ACK, END_HEADERS, END_STREAM, PADDED, PRIORITY as PRIORITY_FLAG,
};
use crate::h2wire::{hpack, Head, MAX_LEN};
pub(crate) use crate::h2wire::{
    CONTINUATION, DATA, GOAWAY, HEADERS, PING, PREFACE, RST_STREAM, SETTINGS, WINDOW_UPDATE,
};

/// A frame: the head, with the payload length (longer payloads are cut at 2^24-1 bytes) and
/// the stream id as given, reserved bit included, then the payload.
pub(crate) fn frame(out: &mut Vec<u8>, ty: u8, flags: u8, stream: u32, payload: &[u8]) {
    let payload = &payload[..payload.len().min(MAX_LEN as usize)];
    Head { len: payload.len() as u32, kind: ty, flags, stream_id: stream }.write(out);
    out.extend_from_slice(payload);
}

/// An HPACK integer with an `n`-bit prefix whose high bits are `first` (RFC 7541 §5.1).
fn integer(out: &mut Vec<u8>, first: u8, n: u8, value: u64) {
    hpack::encode_integer(value, n, first, out);
}

/// How one header field is written into the block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FieldMode {
    /// Literal without indexing, new name (`0000 0000`).
    Literal,
    /// Literal with incremental indexing, new name (`0100 0000`): fills the dynamic table.
    Indexed,
    /// Literal never indexed, new name (`0001 0000`).
    Never,
    /// An indexed field (`1xxx xxxx`) whose index is the name's bytes, big-endian.
    Reference,
    /// Name and value copied into the block as they are: any HPACK bytes at all.
    Raw,
    /// A dynamic table size update (`001x xxxx`) to the size the name's bytes give.
    TableSize,
}

impl FieldMode {
    pub(crate) const ALL: [FieldMode; 6] = [
        FieldMode::Literal,
        FieldMode::Indexed,
        FieldMode::Never,
        FieldMode::Reference,
        FieldMode::Raw,
        FieldMode::TableSize,
    ];
}

/// Appends one field to an HPACK block.
pub(crate) fn field(out: &mut Vec<u8>, mode: FieldMode, name: &[u8], value: &[u8]) {
    let number = || name.iter().take(8).fold(0u64, |n, &b| n << 8 | u64::from(b));
    match mode {
        FieldMode::Literal | FieldMode::Indexed | FieldMode::Never => {
            out.push(match mode {
                FieldMode::Indexed => 0x40,
                FieldMode::Never => 0x10,
                _ => 0x00,
            });
            hpack::encode_string(name, out);
            hpack::encode_string(value, out);
        }
        FieldMode::Reference => integer(out, 0x80, 7, number()),
        FieldMode::Raw => {
            out.extend_from_slice(name);
            out.extend_from_slice(value);
        }
        FieldMode::TableSize => integer(out, 0x20, 5, number()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_use_the_prefix_then_continuation_bytes() {
        // RFC 7541 C.1.2: 1337 with a 5-bit prefix.
        let mut out = Vec::new();
        integer(&mut out, 0, 5, 1337);
        assert_eq!(out, [31, 154, 10]);
    }

    #[test]
    fn a_literal_field_is_a_zero_byte_then_two_strings() {
        let mut out = Vec::new();
        field(&mut out, FieldMode::Literal, b"te", b"trailers");
        assert_eq!(out, b"\x00\x02te\x08trailers");
    }

    #[test]
    fn a_frame_header_is_length_type_flags_stream() {
        let mut out = Vec::new();
        frame(&mut out, RST_STREAM, 0, 3, &[0, 0, 0, 8]);
        assert_eq!(out, [0, 0, 4, 3, 0, 0, 0, 0, 3, 0, 0, 0, 8]);
    }
}
