//! Just enough HPACK (RFC 7541) to re-encode a client's header blocks: a complete decoder
//! (static and dynamic tables, Huffman strings) and an encoder that writes only literals that
//! are never added to a table.
//!
//! ```text
//! first byte   representation                      prefix   table
//! 1xxxxxxx     indexed field                       7 bits   -
//! 01xxxxxx     literal, incremental indexing       6 bits   inserted
//! 001xxxxx     dynamic table size update           5 bits   resized
//! 0001xxxx     literal, never indexed              4 bits   -
//! 0000xxxx     literal, without indexing           4 bits   -
//! ```
//!
//! A literal's index names the field (0: the name follows as a string). A string is one bit H
//! (Huffman) and a 7-bit-prefix length, then the bytes.

use std::collections::VecDeque;

use bytes::{BufMut, Bytes};

use super::huffman;

/// RFC 7541 Appendix A. Index 1 is `STATIC[0]`.
const STATIC: [(&str, &str); 61] = [
    (":authority", ""),
    (":method", "GET"),
    (":method", "POST"),
    (":path", "/"),
    (":path", "/index.html"),
    (":scheme", "http"),
    (":scheme", "https"),
    (":status", "200"),
    (":status", "204"),
    (":status", "206"),
    (":status", "304"),
    (":status", "400"),
    (":status", "404"),
    (":status", "500"),
    ("accept-charset", ""),
    ("accept-encoding", "gzip, deflate"),
    ("accept-language", ""),
    ("accept-ranges", ""),
    ("accept", ""),
    ("access-control-allow-origin", ""),
    ("age", ""),
    ("allow", ""),
    ("authorization", ""),
    ("cache-control", ""),
    ("content-disposition", ""),
    ("content-encoding", ""),
    ("content-language", ""),
    ("content-length", ""),
    ("content-location", ""),
    ("content-range", ""),
    ("content-type", ""),
    ("cookie", ""),
    ("date", ""),
    ("etag", ""),
    ("expect", ""),
    ("expires", ""),
    ("from", ""),
    ("host", ""),
    ("if-match", ""),
    ("if-modified-since", ""),
    ("if-none-match", ""),
    ("if-range", ""),
    ("if-unmodified-since", ""),
    ("last-modified", ""),
    ("link", ""),
    ("location", ""),
    ("max-forwards", ""),
    ("proxy-authenticate", ""),
    ("proxy-authorization", ""),
    ("range", ""),
    ("referer", ""),
    ("refresh", ""),
    ("retry-after", ""),
    ("server", ""),
    ("set-cookie", ""),
    ("strict-transport-security", ""),
    ("transfer-encoding", ""),
    ("user-agent", ""),
    ("vary", ""),
    ("via", ""),
    ("www-authenticate", ""),
];

/// Per-entry overhead in the table size (RFC 7541 section 4.1).
const ENTRY_OVERHEAD: usize = 32;

/// One decoded header field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Field {
    pub(crate) name: Bytes,
    pub(crate) value: Bytes,
    /// Sent as "never indexed" (e.g. a credential): re-encoded the same way.
    pub(crate) sensitive: bool,
}

/// Why a header block did not decode. The connection's compression state is then unknown.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum DecodeError {
    Truncated,
    IntegerOverflow,
    BadIndex(usize),
    Huffman,
    /// A size update above the SETTINGS_HEADER_TABLE_SIZE in force, or after a field.
    BadSizeUpdate(usize),
}

impl From<huffman::InvalidHuffman> for DecodeError {
    fn from(_: huffman::InvalidHuffman) -> DecodeError {
        DecodeError::Huffman
    }
}

/// A decoded header block.
#[derive(Debug)]
pub(crate) struct Block {
    pub(crate) fields: Vec<Field>,
    /// Fields past `limit` bytes (counted as HTTP/2 counts a header list) were dropped; the
    /// list in `fields` still exceeds the limit, so the peer's own limit check still fires.
    pub(crate) truncated: bool,
}

/// The decoding side of one connection's HPACK context.
#[derive(Debug)]
pub(crate) struct Decoder {
    table: VecDeque<(Bytes, Bytes)>,
    size: usize,
    max_size: usize,
    /// The SETTINGS_HEADER_TABLE_SIZE this side advertised: the most a size update may ask.
    settings_max: usize,
}

impl Decoder {
    pub(crate) fn new(settings_max: usize) -> Decoder {
        Decoder { table: VecDeque::new(), size: 0, max_size: settings_max, settings_max }
    }

    /// Decodes one complete header block, updating the dynamic table. Field bytes beyond `limit`
    /// are not kept (the table is still maintained), so a block of indexed references to large
    /// entries cannot make this allocate more than about `limit` plus one field.
    pub(crate) fn decode(&mut self, mut src: &[u8], limit: usize) -> Result<Block, DecodeError> {
        let mut block = Block { fields: Vec::new(), truncated: false };
        let mut list_size = 0usize;
        let mut seen_field = false;
        while let Some(&first) = src.first() {
            let field = if first & 0x80 != 0 {
                let index = integer(&mut src, 7)?;
                let (name, value) = self.get(index)?;
                Field { name, value, sensitive: false }
            } else if first & 0xc0 == 0x40 {
                let field = self.literal(&mut src, 6, false)?;
                self.insert(field.name.clone(), field.value.clone());
                field
            } else if first & 0xe0 == 0x20 {
                let new_max = integer(&mut src, 5)?;
                if seen_field || new_max > self.settings_max {
                    return Err(DecodeError::BadSizeUpdate(new_max));
                }
                self.max_size = new_max;
                self.evict(0);
                continue;
            } else {
                let sensitive = first & 0xf0 == 0x10;
                self.literal(&mut src, 4, sensitive)?
            };
            seen_field = true;
            if block.truncated {
                continue;
            }
            list_size += field.name.len() + field.value.len() + ENTRY_OVERHEAD;
            block.fields.push(field);
            block.truncated = list_size > limit;
        }
        Ok(block)
    }

    fn literal(&self, src: &mut &[u8], prefix: u8, sensitive: bool) -> Result<Field, DecodeError> {
        let index = integer(src, prefix)?;
        let name = if index == 0 { string(src)? } else { self.get(index)?.0 };
        let value = string(src)?;
        Ok(Field { name, value, sensitive })
    }

    fn get(&self, index: usize) -> Result<(Bytes, Bytes), DecodeError> {
        match index {
            1..=61 => {
                let (name, value) = STATIC[index - 1];
                Ok((Bytes::from_static(name.as_bytes()), Bytes::from_static(value.as_bytes())))
            }
            _ => index
                .checked_sub(62)
                .and_then(|i| self.table.get(i))
                .cloned()
                .ok_or(DecodeError::BadIndex(index)),
        }
    }

    fn insert(&mut self, name: Bytes, value: Bytes) {
        let size = name.len() + value.len() + ENTRY_OVERHEAD;
        if size > self.max_size {
            // Not an error: the table is emptied and nothing is added (section 4.4).
            self.table.clear();
            self.size = 0;
            return;
        }
        self.evict(size);
        self.size += size;
        self.table.push_front((name, value));
    }

    /// Evicts the oldest entries until `incoming` more bytes fit.
    fn evict(&mut self, incoming: usize) {
        while self.size + incoming > self.max_size {
            let Some((name, value)) = self.table.pop_back() else { break };
            self.size -= name.len() + value.len() + ENTRY_OVERHEAD;
        }
    }
}

/// An integer with an N-bit prefix (section 5.1); consumes it from `src`.
fn integer(src: &mut &[u8], prefix: u8) -> Result<usize, DecodeError> {
    let (&first, mut rest) = src.split_first().ok_or(DecodeError::Truncated)?;
    let mask = (1u8 << prefix) - 1;
    let mut value = usize::from(first & mask);
    if value == usize::from(mask) {
        let mut shift = 0;
        loop {
            let (&byte, tail) = rest.split_first().ok_or(DecodeError::Truncated)?;
            rest = tail;
            // Four continuation bytes carry 28 bits: more than any sane length or index.
            if shift > 21 {
                return Err(DecodeError::IntegerOverflow);
            }
            value += usize::from(byte & 0x7f) << shift;
            shift += 7;
            if byte & 0x80 == 0 {
                break;
            }
        }
    }
    *src = rest;
    Ok(value)
}

/// A string literal (section 5.2); consumes it from `src`.
fn string(src: &mut &[u8]) -> Result<Bytes, DecodeError> {
    let huffman = src.first().ok_or(DecodeError::Truncated)? & 0x80 != 0;
    let len = integer(src, 7)?;
    if src.len() < len {
        return Err(DecodeError::Truncated);
    }
    let (bytes, rest) = src.split_at(len);
    *src = rest;
    Ok(if huffman { Bytes::from(huffman::decode(bytes)?) } else { Bytes::copy_from_slice(bytes) })
}

/// Encodes `fields` as literals with literal names that no table ever stores: the peer's
/// decoder needs no state in common with ours. Never-indexed fields stay never indexed.
pub(crate) fn encode<'a>(fields: impl IntoIterator<Item = &'a Field>, dst: &mut impl BufMut) {
    for field in fields {
        dst.put_u8(if field.sensitive { 0x10 } else { 0x00 });
        encode_string(&field.name, dst);
        encode_string(&field.value, dst);
    }
}

/// A string literal without Huffman coding (section 5.2).
pub(crate) fn encode_string(s: &[u8], dst: &mut impl BufMut) {
    encode_integer(s.len() as u64, 7, 0x00, dst);
    dst.put_slice(s);
}

/// An integer with a `prefix`-bit prefix whose high bits are `flags` (section 5.1). Any
/// `u64` is written, however long: a hostile peer may want one no decoder takes.
pub(crate) fn encode_integer(mut value: u64, prefix: u8, flags: u8, dst: &mut impl BufMut) {
    let mask = (1u64 << prefix) - 1;
    if value < mask {
        dst.put_u8(flags | value as u8);
        return;
    }
    dst.put_u8(flags | mask as u8);
    value -= mask;
    while value >= 0x80 {
        dst.put_u8((value & 0x7f) as u8 | 0x80);
        value >>= 7;
    }
    dst.put_u8(value as u8);
}

#[cfg(test)]
mod tests;
