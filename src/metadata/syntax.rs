//! The syntax of metadata keys and values (P2 "Custom-Metadata"), and the reserved names.

use http::header::{HeaderName, HeaderValue};

use super::invalid::{InvalidMetadata, Kind};

/// Whether `name` is reserved for the protocol and never custom metadata: `grpc-*`, `te`,
/// `content-type`, the connection-level headers HTTP/2 forbids (`connection`, `keep-alive`,
/// `transfer-encoding`, `upgrade`, `proxy-connection`, `host`) and pseudo-headers (`:path`).
/// `user-agent` is not reserved: applications may read it. Neither are the two retry headers
/// of gRFC A6, which applications read and write as grpc-go's do (its `isReservedHeader`
/// leaves them out): a server reads `grpc-previous-rpc-attempts` and sets
/// `grpc-retry-pushback-ms` in its trailers. Case-insensitive.
///
/// ```
/// use h2grpc::metadata::is_reserved;
/// assert!(is_reserved("grpc-timeout"));
/// assert!(!is_reserved("grpc-retry-pushback-ms"));
/// assert!(is_reserved("Content-Type"));
/// assert!(!is_reserved("user-agent"));
/// ```
pub fn is_reserved(name: &str) -> bool {
    // gRPC's own request headers (P2); the connection-specific fields HTTP/2 forbids
    // (RFC 9113 §8.2.2); and `host`, which `:authority` replaces (§8.3.1).
    const EXACT: [&[&str]; 3] = [
        &["te", "content-type"],
        &["connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade"],
        &["host"],
    ];
    const RETRY: [&str; 2] = ["grpc-previous-rpc-attempts", "grpc-retry-pushback-ms"];
    let grpc = name.as_bytes().get(..5).is_some_and(|p| p.eq_ignore_ascii_case(b"grpc-"))
        && !RETRY.iter().any(|r| r.eq_ignore_ascii_case(name));
    grpc || name.starts_with(':')
        || EXACT.iter().copied().flatten().any(|r| r.eq_ignore_ascii_case(name))
}

pub(super) fn is_bin(key: &str) -> bool {
    let key = key.as_bytes();
    key.len() >= 4 && key[key.len() - 4..].eq_ignore_ascii_case(b"-bin")
}

fn valid_key(key: &str, binary: bool) -> Result<HeaderName, InvalidMetadata> {
    let key_chars = |b: &u8| matches!(b, b'0'..=b'9' | b'a'..=b'z' | b'_' | b'-' | b'.');
    if key.is_empty() || !key.as_bytes().iter().all(key_chars) {
        return Err(InvalidMetadata::new(key, Kind::BadKey));
    }
    if is_reserved(key) {
        return Err(InvalidMetadata::new(key, Kind::Reserved));
    }
    match (binary, is_bin(key)) {
        (false, true) => Err(InvalidMetadata::new(key, Kind::BinKeyForText)),
        (true, false) => Err(InvalidMetadata::new(key, Kind::TextKeyForBin)),
        _ => HeaderName::from_bytes(key.as_bytes())
            .map_err(|_| InvalidMetadata::new(key, Kind::BadKey)),
    }
}

pub(super) fn text_key(key: &str) -> Result<HeaderName, InvalidMetadata> {
    valid_key(key, false)
}

pub(super) fn bin_key(key: &str) -> Result<HeaderName, InvalidMetadata> {
    valid_key(key, true)
}

pub(super) fn text_value(key: &str, value: &str) -> Result<HeaderValue, InvalidMetadata> {
    if let Some(&b) = value.as_bytes().iter().find(|b| !(0x20..=0x7E).contains(*b)) {
        return Err(InvalidMetadata::new(key, Kind::BadByte(b)));
    }
    if value.starts_with(' ') || value.ends_with(' ') {
        return Err(InvalidMetadata::new(key, Kind::EdgeSpace));
    }
    HeaderValue::from_str(value).map_err(|_| InvalidMetadata::new(key, Kind::BadByte(0)))
}
