//! Writing HTTP/2 frames and HPACK header blocks by hand, correct or not as a script asks
//! (RFC 9113 §4.1, RFC 7541). Only what a hostile peer needs: no Huffman, no table of our own.

/// Frame types (RFC 9113 §6).
pub(crate) const DATA: u8 = 0x0;
pub(crate) const HEADERS: u8 = 0x1;
pub(crate) const RST_STREAM: u8 = 0x3;
pub(crate) const SETTINGS: u8 = 0x4;
pub(crate) const PING: u8 = 0x6;
pub(crate) const GOAWAY: u8 = 0x7;
pub(crate) const WINDOW_UPDATE: u8 = 0x8;
pub(crate) const CONTINUATION: u8 = 0x9;

/// Frame flags.
pub(crate) const END_STREAM: u8 = 0x1;
pub(crate) const ACK: u8 = 0x1;
pub(crate) const END_HEADERS: u8 = 0x4;
pub(crate) const PADDED: u8 = 0x8;
pub(crate) const PRIORITY_FLAG: u8 = 0x20;

/// The client connection preface (RFC 9113 §3.4).
pub(crate) const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// The 9-byte frame header is the payload length (24 bits; longer payloads are cut), the type,
/// the flags and the stream id (the reserved bit kept as given).
pub(crate) fn frame(out: &mut Vec<u8>, ty: u8, flags: u8, stream: u32, payload: &[u8]) {
    let payload = &payload[..payload.len().min(0xff_ffff)];
    let len = (payload.len() as u32).to_be_bytes();
    out.extend_from_slice(&len[1..]);
    out.push(ty);
    out.push(flags);
    out.extend_from_slice(&stream.to_be_bytes());
    out.extend_from_slice(payload);
}

/// An HPACK integer with an `n`-bit prefix whose high bits are `first` (RFC 7541 §5.1).
fn integer(out: &mut Vec<u8>, first: u8, n: u32, mut value: u64) {
    let max = (1u64 << n) - 1;
    if value < max {
        out.push(first | value as u8);
        return;
    }
    out.push(first | max as u8);
    value -= max;
    while value >= 128 {
        out.push((value % 128) as u8 | 0x80);
        value /= 128;
    }
    out.push(value as u8);
}

fn string(out: &mut Vec<u8>, s: &[u8]) {
    integer(out, 0, 7, s.len() as u64);
    out.extend_from_slice(s);
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
            string(out, name);
            string(out, value);
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
