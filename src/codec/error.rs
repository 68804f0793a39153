//! What can go wrong with a Length-Prefixed-Message, and the one table that maps each failure
//! to the gRPC status the receiver (or sender) reports.
//!
//! ```text
//! DecodeError::BadFlag(_)                 => INTERNAL
//! DecodeError::CompressedWithoutEncoding  => INTERNAL
//! DecodeError::TooLarge { .. }            => RESOURCE_EXHAUSTED
//! DecodeError::Truncated { .. }           => INTERNAL
//! DecodeError::UnsupportedEncoding { .. } => INTERNAL
//! DecodeError::Decompress { .. }          => INTERNAL
//! DecodeError::DecompressedTooLarge { .. } => RESOURCE_EXHAUSTED
//! EncodeError { .. }                      => RESOURCE_EXHAUSTED
//! ```

use std::fmt;

use crate::status::{Code, Status};

/// Why received bytes are not a valid sequence of Length-Prefixed-Messages.
///
/// Each error converts into the [`Status`] the spec asks for; the message names the offending
/// values.
///
/// ```
/// use h2grpc::codec::{decode_all, DecodeError};
/// use h2grpc::{Code, Status};
///
/// let err = decode_all(vec![0, 0, 0, 0, 3, b'a'].into(), 100).unwrap_err();
/// assert_eq!(err, DecodeError::Truncated { expected: 3, got: 1 });
/// let status = Status::from(err);
/// assert_eq!(status.code(), Code::Internal);
/// assert!(status.message().contains('3') && status.message().contains('1'));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// The Compressed-Flag byte was neither `0` nor `1`; the value is the flag received.
    BadFlag(u8),
    /// The Compressed-Flag was `1`, but no `grpc-encoding` was negotiated for the stream (it
    /// was absent or `identity`), so the body cannot be compressed.
    CompressedWithoutEncoding,
    /// The Message-Length exceeds the receive limit.
    TooLarge {
        /// The length the peer announced.
        len: u64,
        /// The receive limit in force.
        max: usize,
    },
    /// The stream ended partway through a message: inside the 5-byte prefix (`expected` is
    /// [`HEADER_LEN`](super::HEADER_LEN)) or inside the body (`expected` is the body length).
    Truncated {
        /// How many bytes the prefix or body needed.
        expected: usize,
        /// How many of them arrived before the stream ended.
        got: usize,
    },
    /// The Compressed-Flag was `1` under a `grpc-encoding` this side does not support. (A
    /// server refuses such a request before reading it, with UNIMPLEMENTED; this is the
    /// client's case.)
    UnsupportedEncoding {
        /// The `grpc-encoding` the peer named.
        name: String,
    },
    /// A compressed body did not decompress: corrupt, truncated, or followed by stray bytes.
    Decompress {
        /// The encoding it claimed (`gzip`, `deflate`).
        encoding: &'static str,
        /// What the decompressor reported.
        reason: String,
    },
    /// A compressed body inflates past the receive limit. Decompression stopped one byte past
    /// the limit, so the true size is unknown (and never held in memory).
    DecompressedTooLarge {
        /// The receive limit in force.
        max: usize,
    },
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::BadFlag(flag) => write!(
                f,
                "received unexpected payload format: compressed flag {flag} (must be 0 or 1)"
            ),
            DecodeError::CompressedWithoutEncoding => f.write_str(
                "received unexpected payload format: compressed flag 1 is invalid \
                 when no grpc-encoding was negotiated",
            ),
            DecodeError::TooLarge { len, max } => {
                write!(f, "received message larger than max ({len} vs. {max})")
            }
            DecodeError::Truncated { expected, got } => {
                write!(f, "stream ended inside a message: expected {expected} bytes, got {got}")
            }
            DecodeError::UnsupportedEncoding { name } => write!(
                f,
                "received a message compressed with {name:?}, which is not supported; \
                 supported: {}",
                super::compression::AcceptEncoding::supported()
            ),
            DecodeError::Decompress { encoding, reason } => {
                write!(f, "failed to decompress a {encoding} message: {reason}")
            }
            DecodeError::DecompressedTooLarge { max } => {
                write!(f, "received message after decompression larger than max ({max})")
            }
        }
    }
}

impl std::error::Error for DecodeError {}

impl From<DecodeError> for Status {
    /// The one mapping from framing failures to status codes. Spec references:
    /// `PROTOCOL-HTTP2.md` ("Length-Prefixed-Message"), `doc/compression.md`, and grpc-go
    /// `rpc_util.go` (`checkRecvPayload`, `recvMsg`), whose messages we reuse.
    fn from(err: DecodeError) -> Status {
        let code = match err {
            // Any flag but 0/1: grpc-go checkRecvPayload, "received unexpected payload format".
            DecodeError::BadFlag(_) => Code::Internal,
            // Flag 1 without grpc-encoding: PROTOCOL-HTTP2.md "If Message-Encoding omitted,
            // Compressed-Flag must be 0"; compression.md test case 6 requires INTERNAL.
            DecodeError::CompressedWithoutEncoding => Code::Internal,
            // Over the receive limit: grpc-go recvMsg, and the status-code table of
            // statuscodes.md ("Client/Server receives a message larger than configured").
            DecodeError::TooLarge { .. } => Code::ResourceExhausted,
            // Stream ended mid-message: grpc-go maps io.ErrUnexpectedEOF to INTERNAL.
            DecodeError::Truncated { .. } => Code::Internal,
            // Flag 1 in an unsupported encoding reaches only a client (a server refuses the
            // encoding at call start with UNIMPLEMENTED): INTERNAL, as grpc-go's client.
            DecodeError::UnsupportedEncoding { .. } => Code::Internal,
            // statuscodes.md: "Could not decompress, but compression algorithm supported".
            DecodeError::Decompress { .. } => Code::Internal,
            // The zip-bomb guard: over the receive limit once decompressed, like the prefix
            // check (grpc-go rpc_util.go decompress).
            DecodeError::DecompressedTooLarge { .. } => Code::ResourceExhausted,
        };
        Status::new(code, err.to_string())
    }
}

/// A message too large to send: over the configured send limit, or over the `u32` the
/// Message-Length field can express.
///
/// Converts into a [`Code::ResourceExhausted`] status, like grpc-go's "trying to send message
/// larger than max".
///
/// ```
/// use bytes::BytesMut;
/// use h2grpc::codec::{encode_message, EncodeError};
/// use h2grpc::{Code, Status};
///
/// let mut dst = BytesMut::new();
/// let err = encode_message(&vec![7u8; 10], 8, &mut dst).unwrap_err();
/// assert_eq!(err, EncodeError { len: 12, max: 8 }); // 10 bytes + tag + length
/// assert!(dst.is_empty());
/// let status = Status::from(err);
/// assert_eq!(status.code(), Code::ResourceExhausted);
/// assert_eq!(status.message(), "sent message larger than max (12 vs. 8)");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EncodeError {
    /// The encoded body length that was refused.
    pub len: usize,
    /// The limit in force: the send limit, or `u32::MAX` when the body does not fit the prefix.
    pub max: usize,
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let EncodeError { len, max } = self;
        write!(f, "sent message larger than max ({len} vs. {max})")
    }
}

impl std::error::Error for EncodeError {}

impl From<EncodeError> for Status {
    /// RESOURCE_EXHAUSTED, as statuscodes.md lists for "Client/Server sends a message larger
    /// than configured" (grpc-go `prepareMsg`/`sendMsg`).
    fn from(err: EncodeError) -> Status {
        Status::resource_exhausted(err.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_flag_maps_to_internal_naming_the_flag() {
        let status = Status::from(DecodeError::BadFlag(7));
        assert_eq!(status.code(), Code::Internal);
        assert_eq!(
            status.message(),
            "received unexpected payload format: compressed flag 7 (must be 0 or 1)"
        );
    }

    #[test]
    fn compressed_without_encoding_maps_to_internal_mentioning_the_flag() {
        let status = Status::from(DecodeError::CompressedWithoutEncoding);
        assert_eq!(status.code(), Code::Internal);
        assert!(status.message().contains("compressed flag"));
        assert!(status.message().contains("invalid"));
    }

    #[test]
    fn too_large_maps_to_resource_exhausted_naming_both_numbers() {
        let err = DecodeError::TooLarge { len: 5_000_000, max: 4_194_304 };
        let status = Status::from(err);
        assert_eq!(status.code(), Code::ResourceExhausted);
        assert_eq!(status.message(), "received message larger than max (5000000 vs. 4194304)");
    }

    #[test]
    fn truncated_maps_to_internal_naming_both_numbers() {
        let status = Status::from(DecodeError::Truncated { expected: 1000, got: 17 });
        assert_eq!(status.code(), Code::Internal);
        assert!(status.message().contains("1000"));
        assert!(status.message().contains("17"));
    }

    #[test]
    fn decompression_failures_map_to_internal_and_the_bomb_to_resource_exhausted() {
        let unsupported = DecodeError::UnsupportedEncoding { name: "br".into() };
        assert_eq!(Status::from(unsupported).code(), Code::Internal);
        let corrupt = DecodeError::Decompress { encoding: "gzip", reason: "bad header".into() };
        let status = Status::from(corrupt);
        assert_eq!(status.code(), Code::Internal);
        assert_eq!(status.message(), "failed to decompress a gzip message: bad header");
        let bomb = Status::from(DecodeError::DecompressedTooLarge { max: 4_194_304 });
        assert_eq!(bomb.code(), Code::ResourceExhausted);
        assert!(bomb.message().contains("4194304"), "{}", bomb.message());
    }

    #[test]
    fn encode_error_maps_to_resource_exhausted_naming_both_numbers() {
        let status = Status::from(EncodeError { len: 9, max: 4 });
        assert_eq!(status.code(), Code::ResourceExhausted);
        assert_eq!(status.message(), "sent message larger than max (9 vs. 4)");
    }
}
