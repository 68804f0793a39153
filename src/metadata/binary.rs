//! `-bin` values on the wire: base64 (RFC 4648, standard alphabet), unpadded when sent,
//! padded or not when received, several values joined with `,`.

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use http::header::HeaderValue;

/// Base64 for `-bin` values: standard alphabet, emits no padding, accepts either (P2), and
/// ignores non-zero trailing bits as grpc-go's non-strict decoder does.
pub(crate) const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Splits a received `-bin` value on `,` (P2: repeated names may be joined) and decodes each
/// part; padded and unpadded base64 are both accepted.
pub(crate) fn split_bin(
    value: &HeaderValue,
) -> impl Iterator<Item = Result<Vec<u8>, base64::DecodeError>> + '_ {
    value.as_bytes().split(|&b| b == b',').map(|part| BASE64.decode(part.trim_ascii()))
}

/// A `-bin` value as sent: unpadded base64.
pub(super) fn bin_value(value: &[u8]) -> HeaderValue {
    // Base64 output is always a valid header value.
    HeaderValue::from_maybe_shared(bytes::Bytes::from(BASE64.encode(value)))
        .unwrap_or_else(|_| HeaderValue::from_static(""))
}
