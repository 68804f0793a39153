//! The HPACK Huffman code (RFC 7541, Appendix B) and a decoder for it.
//!
//! Each symbol (a byte, or 256 = EOS) has a code of 5 to 30 bits. A Huffman-coded string is the
//! concatenation of its bytes' codes, padded to a whole byte with the most significant bits of
//! EOS (all ones); padding longer than 7 bits, padding that is not all ones, or an EOS symbol in
//! the string is a decoding error (RFC 7541, section 5.2).

/// The code of each byte, right-aligned (RFC 7541 Appendix B, "code as hex").
const CODES: [u32; 256] = [
    0x1ff8, 0x7fffd8, 0xfffffe2, 0xfffffe3, 0xfffffe4, 0xfffffe5, 0xfffffe6, 0xfffffe7, 0xfffffe8,
    0xffffea, 0x3ffffffc, 0xfffffe9, 0xfffffea, 0x3ffffffd, 0xfffffeb, 0xfffffec, 0xfffffed,
    0xfffffee, 0xfffffef, 0xffffff0, 0xffffff1, 0xffffff2, 0x3ffffffe, 0xffffff3, 0xffffff4,
    0xffffff5, 0xffffff6, 0xffffff7, 0xffffff8, 0xffffff9, 0xffffffa, 0xffffffb, 0x14, 0x3f8,
    0x3f9, 0xffa, 0x1ff9, 0x15, 0xf8, 0x7fa, 0x3fa, 0x3fb, 0xf9, 0x7fb, 0xfa, 0x16, 0x17, 0x18,
    0x0, 0x1, 0x2, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x5c, 0xfb, 0x7ffc, 0x20, 0xffb,
    0x3fc, 0x1ffa, 0x21, 0x5d, 0x5e, 0x5f, 0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68,
    0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f, 0x70, 0x71, 0x72, 0xfc, 0x73, 0xfd, 0x1ffb, 0x7fff0,
    0x1ffc, 0x3ffc, 0x22, 0x7ffd, 0x3, 0x23, 0x4, 0x24, 0x5, 0x25, 0x26, 0x27, 0x6, 0x74, 0x75,
    0x28, 0x29, 0x2a, 0x7, 0x2b, 0x76, 0x2c, 0x8, 0x9, 0x2d, 0x77, 0x78, 0x79, 0x7a, 0x7b, 0x7ffe,
    0x7fc, 0x3ffd, 0x1ffd, 0xffffffc, 0xfffe6, 0x3fffd2, 0xfffe7, 0xfffe8, 0x3fffd3, 0x3fffd4,
    0x3fffd5, 0x7fffd9, 0x3fffd6, 0x7fffda, 0x7fffdb, 0x7fffdc, 0x7fffdd, 0x7fffde, 0xffffeb,
    0x7fffdf, 0xffffec, 0xffffed, 0x3fffd7, 0x7fffe0, 0xffffee, 0x7fffe1, 0x7fffe2, 0x7fffe3,
    0x7fffe4, 0x1fffdc, 0x3fffd8, 0x7fffe5, 0x3fffd9, 0x7fffe6, 0x7fffe7, 0xffffef, 0x3fffda,
    0x1fffdd, 0xfffe9, 0x3fffdb, 0x3fffdc, 0x7fffe8, 0x7fffe9, 0x1fffde, 0x7fffea, 0x3fffdd,
    0x3fffde, 0xfffff0, 0x1fffdf, 0x3fffdf, 0x7fffeb, 0x7fffec, 0x1fffe0, 0x1fffe1, 0x3fffe0,
    0x1fffe2, 0x7fffed, 0x3fffe1, 0x7fffee, 0x7fffef, 0xfffea, 0x3fffe2, 0x3fffe3, 0x3fffe4,
    0x7ffff0, 0x3fffe5, 0x3fffe6, 0x7ffff1, 0x3ffffe0, 0x3ffffe1, 0xfffeb, 0x7fff1, 0x3fffe7,
    0x7ffff2, 0x3fffe8, 0x1ffffec, 0x3ffffe2, 0x3ffffe3, 0x3ffffe4, 0x7ffffde, 0x7ffffdf,
    0x3ffffe5, 0xfffff1, 0x1ffffed, 0x7fff2, 0x1fffe3, 0x3ffffe6, 0x7ffffe0, 0x7ffffe1, 0x3ffffe7,
    0x7ffffe2, 0xfffff2, 0x1fffe4, 0x1fffe5, 0x3ffffe8, 0x3ffffe9, 0xffffffd, 0x7ffffe3, 0x7ffffe4,
    0x7ffffe5, 0xfffec, 0xfffff3, 0xfffed, 0x1fffe6, 0x3fffe9, 0x1fffe7, 0x1fffe8, 0x7ffff3,
    0x3fffea, 0x3fffeb, 0x1ffffee, 0x1ffffef, 0xfffff4, 0xfffff5, 0x3ffffea, 0x7ffff4, 0x3ffffeb,
    0x7ffffe6, 0x3ffffec, 0x3ffffed, 0x7ffffe7, 0x7ffffe8, 0x7ffffe9, 0x7ffffea, 0x7ffffeb,
    0xffffffe, 0x7ffffec, 0x7ffffed, 0x7ffffee, 0x7ffffef, 0x7fffff0, 0x3ffffee,
];

/// The length in bits of each byte's code.
const LENGTHS: [u8; 256] = [
    13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 30, 28,
    28, 28, 28, 28, 28, 28, 28, 28, 6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6, 5, 5,
    5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10, 13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
    7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6, 15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6,
    6, 5, 6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28, 20, 22, 20, 20, 22, 22, 22, 23, 22,
    23, 23, 23, 23, 23, 24, 23, 24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24, 22,
    21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23, 21, 21, 22, 21, 23, 22, 23, 23, 20,
    22, 22, 22, 23, 22, 22, 23, 26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25, 19,
    21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27, 20, 24, 20, 21, 22, 21, 21, 23, 22,
    22, 25, 25, 24, 24, 26, 23, 26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
];

/// EOS: 30 one bits. Only ever seen as padding.
const EOS_LEN: u32 = 30;

/// The code is canonical: the codes of one length are consecutive numbers, given to the bytes in
/// increasing order. So a byte's code is `first_code[len]` plus its rank among the bytes of that
/// length, and decoding needs no search and no table built at run time: the tables below are
/// computed, and the claim checked for every byte, at compile time.
struct Canonical {
    /// The smallest code of each length (meaningless where `count` is 0).
    first_code: [u32; 31],
    /// How many bytes have a code of each length.
    count: [u16; 31],
    /// Where the bytes with a code of each length start in `bytes`.
    start: [u16; 31],
    /// The bytes ordered by code length, then by value (= by code).
    bytes: [u8; 256],
}

static CANONICAL: Canonical = canonical();

const fn canonical() -> Canonical {
    let mut count = [0u16; 31];
    let mut i = 0;
    while i < 256 {
        count[LENGTHS[i] as usize] += 1;
        i += 1;
    }
    let mut start = [0u16; 31];
    let mut len = 1;
    while len < 31 {
        start[len] = start[len - 1] + count[len - 1];
        len += 1;
    }
    let mut next = start;
    let mut bytes = [0u8; 256];
    let mut first_code = [0u32; 31];
    let mut i = 0;
    while i < 256 {
        let len = LENGTHS[i] as usize;
        if next[len] == start[len] {
            first_code[len] = CODES[i];
        }
        // The canonical claim, checked for every byte: a failure stops the build.
        assert!(CODES[i] == first_code[len] + (next[len] - start[len]) as u32);
        bytes[next[len] as usize] = i as u8;
        next[len] += 1;
        i += 1;
    }
    Canonical { first_code, count, start, bytes }
}

/// Why a Huffman string did not decode.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct InvalidHuffman;

/// Decodes a Huffman-coded string.
pub(crate) fn decode(src: &[u8]) -> Result<Vec<u8>, InvalidHuffman> {
    let table = &CANONICAL;
    let mut out = Vec::with_capacity(src.len() * 8 / 5);
    let (mut code, mut len) = (0u32, 0u32);
    for byte in src {
        for shift in (0..8).rev() {
            code = (code << 1) | u32::from((byte >> shift) & 1);
            len += 1;
            if len >= 5 {
                let at = len as usize;
                let rank = code.wrapping_sub(table.first_code[at]);
                if rank < u32::from(table.count[at]) {
                    out.push(table.bytes[usize::from(table.start[at]) + rank as usize]);
                    code = 0;
                    len = 0;
                } else if len >= EOS_LEN {
                    // No byte has a code this long: EOS, or garbage.
                    return Err(InvalidHuffman);
                }
            }
        }
    }
    // What is left must be a prefix of EOS shorter than a byte.
    if len > 7 || code != (1 << len) - 1 {
        return Err(InvalidHuffman);
    }
    Ok(out)
}

#[cfg(test)]
pub(crate) fn encode(src: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u64, 0u32);
    for &byte in src {
        acc = (acc << LENGTHS[usize::from(byte)]) | u64::from(CODES[usize::from(byte)]);
        bits += u32::from(LENGTHS[usize::from(byte)]);
        while bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
        acc &= (1 << bits) - 1;
    }
    if bits > 0 {
        out.push(((acc << (8 - bits)) | ((1 << (8 - bits)) - 1)) as u8);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_reads_the_rfc_7541_examples() {
        // RFC 7541 C.4.1 and C.4.3.
        let www = [0xf1, 0xe3, 0xc2, 0xe5, 0xf2, 0x3a, 0x6b, 0xa0, 0xab, 0x90, 0xf4, 0xff];
        assert_eq!(decode(&www).unwrap(), b"www.example.com");
        let custom = [0x25, 0xa8, 0x49, 0xe9, 0x5b, 0xb8, 0xe8, 0xb4, 0xbf];
        assert_eq!(decode(&custom).unwrap(), b"custom-value");
    }

    #[test]
    fn every_byte_round_trips_alone_and_together() {
        for byte in 0..=255u8 {
            assert_eq!(decode(&encode(&[byte])).unwrap(), [byte], "byte {byte}");
        }
        let all: Vec<u8> = (0..=255u8).chain((0..=255u8).rev()).collect();
        assert_eq!(decode(&encode(&all)).unwrap(), all);
        assert_eq!(decode(b"").unwrap(), b"");
    }

    #[test]
    fn decode_rejects_bad_padding_and_eos() {
        // 'a' is 00011 (5 bits): padding with zeros instead of ones.
        assert_eq!(decode(&[0b0001_1000]), Err(InvalidHuffman));
        // A whole byte of padding.
        assert_eq!(decode(&[0b0001_1111, 0xff]), Err(InvalidHuffman));
        // EOS itself (30 ones) inside the string.
        assert_eq!(decode(&[0xff, 0xff, 0xff, 0xfc]), Err(InvalidHuffman));
    }
}
