//! Message compression: the `grpc-encoding` and `grpc-accept-encoding` rules, and the gzip and
//! deflate algorithms behind them (the `compression` feature).
//!
//! Compression is per message (PROTOCOL-HTTP2.md, compression.md). The stream's headers name
//! the algorithm; each message's Compressed-Flag says whether that message uses it:
//!
//! ```text
//! HEADERS  grpc-encoding: gzip                          algorithm of this stream's flag-1 messages
//!          grpc-accept-encoding: identity,gzip,deflate  what the sender can decode
//! DATA     01 | 00 00 00 1d | 1f 8b 08 00 ...           flag 1: the body is gzip
//! DATA     00 | 00 00 00 03 | 0a 01 78                  flag 0: not compressed, legal under gzip
//! ```
//!
//! The rules, each enforced here or by the call machinery through this module:
//!
//! - `gzip` is RFC 1952; `deflate` is the **zlib-wrapped** RFC 1950 stream, not raw deflate.
//! - Each message is compressed on its own; nothing is carried from one message to the next.
//! - An unsupported `grpc-encoding` on a request is refused before any message is read:
//!   UNIMPLEMENTED, with `grpc-accept-encoding` listing what the server supports
//!   ([`UnsupportedEncoding`]). A client receives flag-1 messages in an encoding it does not
//!   support as INTERNAL.
//! - A message that fails to decompress is INTERNAL ([`DecodeError::Decompress`]).
//! - The receive limit holds for the decompressed size too: [`decompress`] stops inflating
//!   one byte past the limit, so a zip bomb costs at most the limit
//!   ([`DecodeError::DecompressedTooLarge`], RESOURCE_EXHAUSTED).
//! - A sender may leave any message uncompressed. [`encode_compressed`] never compresses the
//!   empty message (as grpc-go) and sends uncompressed what compression does not shrink (as
//!   C-core).
//! - Senders only compress with an encoding the peer listed in `grpc-accept-encoding`
//!   ([`AcceptEncoding`]).
//!
//! Without the `compression` feature, [`Encoding`] is only [`Encoding::Identity`], nothing is
//! compressed, and every other `grpc-encoding` is unsupported.
//!
//! ```
//! use bytes::BytesMut;
//! use h2grpc::codec::compression::{encode_compressed, Encoding};
//! use h2grpc::codec::decode_all;
//!
//! let mut wire = BytesMut::new();
//! encode_compressed(&String::from("hi"), Encoding::Identity, usize::MAX, &mut wire)?;
//! assert_eq!(&wire[..], &[0, 0, 0, 0, 4, 0x0a, 2, b'h', b'i']);
//! assert!(!decode_all(wire.freeze(), 64)?[0].compressed);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;

use bytes::{Bytes, BytesMut};
use http::HeaderValue;

use super::{encode_message, DecodeError, EncodeError};

/// A message encoding, as named by `grpc-encoding`.
///
/// [`Identity`](Encoding::Identity) (no compression) is the default. `Gzip` and `Deflate` exist
/// with the `compression` feature.
///
/// ```
/// use h2grpc::codec::compression::Encoding;
///
/// assert_eq!(Encoding::default(), Encoding::Identity);
/// assert_eq!(Encoding::Identity.name(), "identity");
/// assert_eq!(Encoding::from_name(b"identity"), Some(Encoding::Identity));
/// assert_eq!(Encoding::from_name(b"snappy"), None);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Encoding {
    /// `identity`: messages are not compressed.
    #[default]
    Identity,
    /// `gzip`: RFC 1952 (zlib `windowBits` 15|16). Needs the `compression` feature.
    #[cfg(feature = "compression")]
    Gzip,
    /// `deflate`: the zlib format, RFC 1950 (zlib `windowBits` 15), **not** raw RFC 1951
    /// deflate. Needs the `compression` feature.
    #[cfg(feature = "compression")]
    Deflate,
}

impl Encoding {
    /// Every encoding this build can send and receive, in the order `grpc-accept-encoding`
    /// lists them.
    ///
    /// ```
    /// use h2grpc::codec::compression::Encoding;
    /// assert_eq!(Encoding::SUPPORTED[0], Encoding::Identity);
    /// ```
    pub const SUPPORTED: &'static [Encoding] = &[
        Encoding::Identity,
        #[cfg(feature = "compression")]
        Encoding::Gzip,
        #[cfg(feature = "compression")]
        Encoding::Deflate,
    ];

    /// The content-coding name on the wire: `identity`, `gzip` or `deflate`.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Identity => "identity",
            #[cfg(feature = "compression")]
            Encoding::Gzip => "gzip",
            #[cfg(feature = "compression")]
            Encoding::Deflate => "deflate",
        }
    }

    /// The supported encoding called `name`, ignoring ASCII case and surrounding spaces
    /// (content-codings are case-insensitive, RFC 9110 §8.4.1); `None` for any other name.
    pub fn from_name(name: &[u8]) -> Option<Encoding> {
        let name = name.trim_ascii();
        Encoding::SUPPORTED.iter().copied().find(|e| e.name().as_bytes().eq_ignore_ascii_case(name))
    }

    /// Whether messages in this encoding are compressed (anything but identity).
    pub fn is_compressed(self) -> bool {
        self != Encoding::Identity
    }

    fn bit(self) -> u8 {
        match self {
            Encoding::Identity => 1,
            #[cfg(feature = "compression")]
            Encoding::Gzip => 2,
            #[cfg(feature = "compression")]
            Encoding::Deflate => 4,
        }
    }
}

impl fmt::Display for Encoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A `grpc-encoding` this build does not support (a name it does not know, or `gzip` and
/// `deflate` without the `compression` feature).
///
/// A server refuses such a request with UNIMPLEMENTED and a `grpc-accept-encoding` header
/// listing what it supports; see [`parse_grpc_encoding`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnsupportedEncoding {
    name: String,
}

impl UnsupportedEncoding {
    /// The encoding name that was received.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl fmt::Display for UnsupportedEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "message encoding {:?} is not supported; supported: {}",
            self.name,
            AcceptEncoding::supported()
        )
    }
}

impl std::error::Error for UnsupportedEncoding {}

/// Reads a stream's `grpc-encoding` header: absent, or `identity`, is
/// [`Encoding::Identity`]; a supported name is that encoding; anything else is an
/// [`UnsupportedEncoding`].
///
/// ```
/// use h2grpc::codec::compression::{parse_grpc_encoding, Encoding};
/// use http::HeaderValue;
///
/// assert_eq!(parse_grpc_encoding(None), Ok(Encoding::Identity));
/// let br = HeaderValue::from_static("br");
/// assert_eq!(parse_grpc_encoding(Some(&br)).unwrap_err().name(), "br");
/// ```
pub fn parse_grpc_encoding(value: Option<&HeaderValue>) -> Result<Encoding, UnsupportedEncoding> {
    let Some(value) = value else { return Ok(Encoding::Identity) };
    Encoding::from_name(value.as_bytes()).ok_or_else(|| UnsupportedEncoding {
        name: String::from_utf8_lossy(value.as_bytes()).into_owned(),
    })
}

/// The `grpc-accept-encoding` value h2grpc sends: [`AcceptEncoding::supported`], spelled out
/// once so that no header is built per call.
#[cfg(feature = "compression")]
pub(crate) const ACCEPT_ENCODING: HeaderValue = HeaderValue::from_static("identity,gzip,deflate");
#[cfg(not(feature = "compression"))]
pub(crate) const ACCEPT_ENCODING: HeaderValue = HeaderValue::from_static("identity");

/// A set of encodings: what a peer's `grpc-accept-encoding` says it can decode, or what this
/// build supports. `identity` is always in it: every peer decodes uncompressed messages.
///
/// ```
/// use h2grpc::codec::compression::{AcceptEncoding, Encoding};
/// use http::HeaderValue;
///
/// let peer = AcceptEncoding::parse([&HeaderValue::from_static("snappy, identity")]);
/// assert!(peer.contains(Encoding::Identity));
/// assert_eq!(peer.to_string(), "identity"); // what this build knows of the list
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct AcceptEncoding {
    bits: u8,
}

impl Default for AcceptEncoding {
    /// Only identity: what a peer that sent no `grpc-accept-encoding` accepts.
    fn default() -> AcceptEncoding {
        AcceptEncoding { bits: Encoding::Identity.bit() }
    }
}

impl AcceptEncoding {
    /// Every encoding this build supports: the `grpc-accept-encoding` h2grpc sends.
    pub fn supported() -> AcceptEncoding {
        let bits = Encoding::SUPPORTED.iter().fold(0, |bits, e| bits | e.bit());
        AcceptEncoding { bits }
    }

    /// Reads `grpc-accept-encoding` header values: comma-separated names, spaces trimmed,
    /// repeated headers joined (grpc-go). Names this build does not support are skipped.
    pub fn parse<'a>(values: impl IntoIterator<Item = &'a HeaderValue>) -> AcceptEncoding {
        let mut accept = AcceptEncoding::default();
        for value in values {
            for name in value.as_bytes().split(|b| *b == b',') {
                if let Some(encoding) = Encoding::from_name(name) {
                    accept.bits |= encoding.bit();
                }
            }
        }
        accept
    }

    /// Whether `encoding` is in the set.
    pub fn contains(self, encoding: Encoding) -> bool {
        self.bits & encoding.bit() != 0
    }

    /// The encodings in the set, in [`Encoding::SUPPORTED`] order.
    pub fn iter(self) -> impl Iterator<Item = Encoding> {
        Encoding::SUPPORTED.iter().copied().filter(move |e| self.contains(*e))
    }

    /// The set as a header value: `identity,gzip,deflate` with the `compression` feature,
    /// `identity` without.
    pub fn to_header_value(self) -> HeaderValue {
        // Names are lowercase ASCII letters and commas: always a valid header value.
        HeaderValue::from_str(&self.to_string()).unwrap_or(HeaderValue::from_static("identity"))
    }
}

impl fmt::Display for AcceptEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, encoding) in self.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(encoding.name())?;
        }
        Ok(())
    }
}

impl fmt::Debug for AcceptEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

/// Appends `msg` to `dst` as one Length-Prefixed-Message, compressed with `encoding` (flag
/// `1`) when that makes it smaller, and returns how many bytes were appended.
///
/// Left uncompressed (flag `0`), as a sender may always choose: everything under
/// [`Encoding::Identity`], the empty message, and a message compression does not shrink.
/// `max_len` applies to the serialized message before compression, as in [`encode_message`].
///
/// ```
/// use bytes::BytesMut;
/// use h2grpc::codec::compression::{encode_compressed, Encoding};
///
/// let mut dst = BytesMut::new();
/// encode_compressed(&(), Encoding::default(), 1024, &mut dst)?; // the empty message
/// assert_eq!(&dst[..], &[0, 0, 0, 0, 0]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn encode_compressed<M: prost::Message>(
    msg: &M,
    encoding: Encoding,
    max_len: usize,
    dst: &mut BytesMut,
) -> Result<usize, EncodeError> {
    match encoding {
        Encoding::Identity => encode_message(msg, max_len, dst),
        #[cfg(feature = "compression")]
        compressed => algorithm::encode(msg, compressed, max_len, dst),
    }
}

/// Compresses `src` with `encoding` and appends the result to `dst` (identity appends `src`
/// as it is). The error is flate2's; writing to memory does not fail in practice.
///
/// ```
/// use bytes::BytesMut;
/// use h2grpc::codec::compression::{compress, Encoding};
///
/// let mut dst = BytesMut::new();
/// compress(Encoding::Identity, b"abc", &mut dst)?;
/// assert_eq!(&dst[..], b"abc");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn compress(encoding: Encoding, src: &[u8], dst: &mut BytesMut) -> std::io::Result<()> {
    match encoding {
        Encoding::Identity => {
            dst.extend_from_slice(src);
            Ok(())
        }
        #[cfg(feature = "compression")]
        compressed => algorithm::compress(compressed, src, dst),
    }
}

/// Decompresses one message body, refusing to produce more than `max_len` bytes: inflating
/// stops one byte past the limit, whatever the compressed stream announces, so memory stays
/// bounded by the limit ([`DecodeError::DecompressedTooLarge`]). A stream that is corrupt,
/// truncated or followed by stray bytes is [`DecodeError::Decompress`]. Identity returns
/// `src` as it is.
///
/// ```
/// use h2grpc::codec::compression::{decompress, Encoding};
///
/// assert_eq!(&decompress(Encoding::Identity, b"abc", 3)?[..], b"abc");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn decompress(encoding: Encoding, src: &[u8], max_len: usize) -> Result<Bytes, DecodeError> {
    match encoding {
        Encoding::Identity if src.len() > max_len => {
            Err(DecodeError::DecompressedTooLarge { max: max_len })
        }
        Encoding::Identity => Ok(Bytes::copy_from_slice(src)),
        #[cfg(feature = "compression")]
        compressed => algorithm::decompress(compressed, src, max_len),
    }
}

#[cfg(feature = "compression")]
mod algorithm;

#[cfg(test)]
mod tests;
