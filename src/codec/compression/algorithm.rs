//! gzip and deflate through flate2 (miniz_oxide, pure Rust): compiled with the `compression`
//! feature only.

use std::io::{BufRead, Read, Write};

use bytes::{BufMut, Bytes, BytesMut};
use flate2::{bufread, write, Compression};

use super::{encode_message, DecodeError, EncodeError, Encoding};
use crate::codec::{encode_raw, HEADER_LEN};

pub(super) fn encode<M: prost::Message>(
    msg: &M,
    encoding: Encoding,
    max_len: usize,
    dst: &mut BytesMut,
) -> Result<usize, EncodeError> {
    // Serialized with its prefix first: the limit check and the uncompressed fallback are
    // then `encode_message`'s own.
    let mut plain = BytesMut::new();
    let total = encode_message(msg, max_len, &mut plain)?;
    let body = &plain[HEADER_LEN..];
    if body.is_empty() {
        dst.extend_from_slice(&plain);
        return Ok(total);
    }
    let mut packed = BytesMut::with_capacity(body.len() / 2);
    match compress(encoding, body, &mut packed) {
        Ok(()) if packed.len() < body.len() => encode_raw(&packed, true, dst),
        // Not smaller (or not compressible at all): the message leaves as it is.
        _ => {
            dst.extend_from_slice(&plain);
            Ok(total)
        }
    }
}

pub(super) fn compress(encoding: Encoding, src: &[u8], dst: &mut BytesMut) -> std::io::Result<()> {
    let start = dst.len();
    let level = Compression::default();
    let out = (&mut *dst).writer();
    let result = match encoding {
        Encoding::Gzip => {
            let mut encoder = write::GzEncoder::new(out, level);
            encoder.write_all(src).and_then(|()| encoder.finish().map(drop))
        }
        Encoding::Deflate => {
            let mut encoder = write::ZlibEncoder::new(out, level);
            encoder.write_all(src).and_then(|()| encoder.finish().map(drop))
        }
        Encoding::Identity => {
            let mut out = out;
            out.write_all(src)
        }
    };
    if result.is_err() {
        dst.truncate(start);
    }
    result
}

pub(super) fn decompress(
    encoding: Encoding,
    src: &[u8],
    max_len: usize,
) -> Result<Bytes, DecodeError> {
    match encoding {
        Encoding::Gzip => inflate(bufread::GzDecoder::new(src), encoding, src.len(), max_len),
        Encoding::Deflate => inflate(bufread::ZlibDecoder::new(src), encoding, src.len(), max_len),
        Encoding::Identity => super::decompress(encoding, src, max_len),
    }
}

/// The decoders over `&[u8]` expose the input they have not consumed.
trait Rest {
    fn rest(&self) -> usize;
}
impl<R: BufRead + AsRef<[u8]>> Rest for bufread::GzDecoder<R> {
    fn rest(&self) -> usize {
        self.get_ref().as_ref().len()
    }
}
impl<R: BufRead + AsRef<[u8]>> Rest for bufread::ZlibDecoder<R> {
    fn rest(&self) -> usize {
        self.get_ref().as_ref().len()
    }
}

/// Reads the whole decompressed body into a buffer that never grows past `max_len + 1`.
fn inflate(
    mut decoder: impl Read + Rest,
    encoding: Encoding,
    src_len: usize,
    max_len: usize,
) -> Result<Bytes, DecodeError> {
    let failed = |reason: String| DecodeError::Decompress { encoding: encoding.name(), reason };
    let limit = max_len.saturating_add(1);
    let mut out = Vec::new();
    let mut filled = 0;
    loop {
        if filled == out.len() {
            if filled >= limit {
                return Err(DecodeError::DecompressedTooLarge { max: max_len });
            }
            // Grow geometrically from about the compressed size, never past the limit.
            let grow = filled.max(src_len).max(4096).min(limit - filled);
            out.reserve_exact(grow);
            out.resize(filled + grow, 0);
        }
        match decoder.read(&mut out[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            Err(err) => return Err(failed(err.to_string())),
        }
    }
    out.truncate(filled);
    match decoder.rest() {
        0 => Ok(Bytes::from(out)),
        rest => Err(failed(format!("{rest} bytes follow the end of the compressed stream"))),
    }
}
