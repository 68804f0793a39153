//! [`Status`] as trailers: `grpc-status`, `grpc-message` and `grpc-status-details-bin`.
//!
//! ```text
//! Status { code: Unknown, message: "\tfail 100%", details: [08 02], metadata: {k: v} }
//!     <-->
//! grpc-status: 2
//! grpc-message: %09fail 100%25
//! grpc-status-details-bin: CAI
//! k: v
//! ```
//!
//! `grpc-message` is UTF-8, percent-encoded (PROTOCOL-HTTP2.md, "Status-Message"): bytes
//! 0x20..=0x7E except `%` go out as they are, every other byte as `%XX` with uppercase hex.
//! Whitespace is never trimmed. Decoding never fails: a broken `%` sequence stays as it is and
//! invalid UTF-8 becomes U+FFFD.
//!
//! Reading trailers never panics and never loses the status to a malformed extra:
//! - `grpc-status` that does not parse, or is above 16, gives [`Code::Unknown`] with a message
//!   saying what arrived (statuscodes.md: "Error parsing returned status");
//! - `grpc-status-details-bin` that is not base64, has several values, or is not a
//!   `google.rpc.Status` is ignored; one whose code differs from `grpc-status` gives
//!   [`Code::Internal`] "grpc-status-details-bin mismatch" (grpc-go `status.FromProto` rules);
//!   details are also dropped when `grpc-status` is above 16: the status becomes UNKNOWN, and
//!   details naming the original code would contradict it;
//! - a `-bin` metadata entry that is not base64 is dropped and the status is kept: the status
//!   is the call's outcome and matters more than one unreadable trailer.

use std::borrow::Cow;

use base64::Engine as _;
use bytes::Bytes;
use http::header::{HeaderMap, HeaderValue};
use percent_encoding::{percent_decode, utf8_percent_encode, AsciiSet, CONTROLS};
use prost::Message as _;

use super::{Code, Status};
use crate::metadata::{
    split_bin, Metadata, BASE64, GRPC_MESSAGE, GRPC_STATUS, GRPC_STATUS_DETAILS_BIN,
};

/// Bytes `grpc-message` sends as `%XX`: controls (0x00..=0x1F, 0x7F) and `%`. The encoder
/// always encodes bytes above 0x7E, so the spec's set is exactly this one.
const GRPC_MESSAGE_ENCODED: &AsciiSet = &CONTROLS.add(b'%');

/// The two fields of `google.rpc.Status` needed to check `grpc-status-details-bin` against
/// `grpc-status`; `details` (field 3) is skipped as an unknown field.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct RpcStatus {
    #[prost(int32, tag = "1")]
    pub(crate) code: i32,
    #[prost(string, tag = "2")]
    pub(crate) message: String,
}

impl Status {
    /// Writes the status into `headers` (trailers, or a Trailers-Only response): `grpc-status`
    /// in decimal, `grpc-message` percent-encoded (left out when empty), and
    /// `grpc-status-details-bin` as unpadded base64 (only when there are details); these
    /// replace any previous values. Then the status metadata is appended.
    ///
    /// ```
    /// let status = h2grpc::Status::not_found("no user\n42");
    /// let mut headers = http::HeaderMap::new();
    /// status.add_to_headers(&mut headers);
    /// assert_eq!(headers["grpc-status"], "5");
    /// assert_eq!(headers["grpc-message"], "no user%0A42");
    /// assert!(!headers.contains_key("grpc-status-details-bin"));
    /// ```
    pub fn add_to_headers(&self, headers: &mut HeaderMap) {
        // `try_insert` fails only when the map is out of room for new names (24,576): losing
        // a field there beats a panic.
        let _ = headers.try_insert(GRPC_STATUS, self.code().header_value());
        // Empty fields (every OK status) are not encoded at all: no allocation per call.
        let message = match self.message() {
            "" => None,
            text => HeaderValue::from_str(&encode_grpc_message(text)).ok(),
        };
        match message {
            Some(value) => drop(headers.try_insert(GRPC_MESSAGE, value)),
            None => drop(headers.remove(GRPC_MESSAGE)),
        }
        let details = match &self.details()[..] {
            [] => None,
            bytes => HeaderValue::from_maybe_shared(Bytes::from(BASE64.encode(bytes))).ok(),
        };
        match details {
            Some(value) => drop(headers.try_insert(GRPC_STATUS_DETAILS_BIN, value)),
            None => drop(headers.remove(GRPC_STATUS_DETAILS_BIN)),
        }
        self.metadata().extend_into(headers);
    }

    /// The status as a new header map; see [`Status::add_to_headers`].
    ///
    /// ```
    /// use h2grpc::{Code, Status};
    /// let status = Status::new(Code::Unknown, "100% broken");
    /// let headers = status.to_headers();
    /// assert_eq!(headers["grpc-message"], "100%25 broken");
    /// assert_eq!(Status::from_headers(&headers), Some(status));
    /// ```
    pub fn to_headers(&self) -> HeaderMap {
        let mut headers = HeaderMap::new();
        self.add_to_headers(&mut headers);
        headers
    }

    /// The status in received trailers (or Trailers-Only headers); `None` when there is no
    /// `grpc-status`, so the caller can fall back to [`Status::from_http_status`]. Never
    /// fails on what a peer sends: see the [module docs](self) for each malformed case.
    /// Metadata is every non-reserved header.
    ///
    /// ```
    /// use h2grpc::{Code, Status};
    /// let mut trailers = http::HeaderMap::new();
    /// trailers.insert("grpc-status", "14".parse()?);
    /// trailers.insert("grpc-message", "try%20again%0A".parse()?);
    /// trailers.insert("retry-hint", "soon".parse()?);
    /// let status = Status::from_headers(&trailers).unwrap();
    /// assert_eq!(status.code(), Code::Unavailable);
    /// assert_eq!(status.message(), "try again\n");
    /// assert_eq!(status.metadata().get("retry-hint"), Some("soon"));
    ///
    /// trailers.insert("grpc-status", "99".parse()?);
    /// assert_eq!(Status::from_headers(&trailers).unwrap().code(), Code::Unknown);
    /// assert_eq!(Status::from_headers(&http::HeaderMap::new()), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn from_headers(headers: &HeaderMap) -> Option<Status> {
        let raw = headers.get(GRPC_STATUS)?;
        let message = headers
            .get(GRPC_MESSAGE)
            .map(|value| decode_grpc_message(value.as_bytes()))
            .unwrap_or_default();
        let number = parse_status_number(raw.as_bytes());
        let (code, message) = match number {
            Some(n) if n <= 16 => (Code::from_i32(n as i32), message),
            Some(n) => (Code::Unknown, explain(format!("unknown grpc-status {n}"), message)),
            None => {
                let raw = String::from_utf8_lossy(raw.as_bytes());
                (Code::Unknown, explain(format!("unparsable grpc-status {raw:?}"), message))
            }
        };
        let wire_code = number.unwrap_or(Code::Unknown as u64);
        let status = match single_details(headers) {
            None => Status::new(code, message),
            Some(details) => match RpcStatus::decode(&details[..]) {
                Ok(rpc) if u64::try_from(rpc.code).ok() != Some(wire_code) => {
                    Status::internal(format!(
                        "grpc-status-details-bin mismatch: grpc-status is {wire_code}, \
                         details say {}",
                        rpc.code
                    ))
                }
                // Details are kept only when they describe the status returned: a code above
                // 16 became UNKNOWN, and details saying 17 would contradict it once rendered.
                Ok(_) if code as u64 == wire_code => Status::with_details(code, message, details),
                Ok(_) | Err(_) => Status::new(code, message),
            },
        };
        Some(status.with_metadata(Metadata::from_headers_lossy(headers)))
    }

    /// Whether `headers` end a call plainly OK: `grpc-status: 0` and no details, so that
    /// [`from_headers`](Status::from_headers) would return OK (details could contradict the
    /// code and make it INTERNAL). A caller that keeps nothing of an OK status but the headers
    /// themselves can then skip building one.
    pub(crate) fn is_plain_ok(headers: &HeaderMap) -> bool {
        headers.get(GRPC_STATUS).is_some_and(|v| v == "0")
            && !headers.contains_key(GRPC_STATUS_DETAILS_BIN)
    }
}

/// Percent-encodes a status message for `grpc-message`. Borrows when nothing needs encoding.
///
/// ```
/// use h2grpc::status::trailers::encode_grpc_message;
/// assert_eq!(encode_grpc_message("plain words"), "plain words");
/// assert_eq!(encode_grpc_message("\t100% ☺"), "%09100%25 %E2%98%BA");
/// ```
pub fn encode_grpc_message(message: &str) -> Cow<'_, str> {
    utf8_percent_encode(message, GRPC_MESSAGE_ENCODED).into()
}

/// Decodes a received `grpc-message`. Never fails: a `%` not followed by two hex digits is
/// kept as it is, hex may be either case, and invalid UTF-8 becomes U+FFFD.
///
/// ```
/// use h2grpc::status::trailers::decode_grpc_message;
/// assert_eq!(decode_grpc_message(b"%e2%98%BA ok"), "☺ ok");
/// assert_eq!(decode_grpc_message(b"100% %zz %4"), "100% %zz %4");
/// assert_eq!(decode_grpc_message(b"%FF"), "\u{FFFD}");
/// ```
pub fn decode_grpc_message(raw: &[u8]) -> String {
    percent_decode(raw).decode_utf8_lossy().into_owned()
}

/// `grpc-status` is decimal ASCII (P2); anything else, or a number past `u64`, is `None`.
fn parse_status_number(raw: &[u8]) -> Option<u64> {
    if raw.is_empty() || !raw.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(raw).ok()?.parse().ok()
}

/// `what`, followed by the peer's own message when it sent one.
fn explain(what: String, peer_message: String) -> String {
    if peer_message.is_empty() {
        what
    } else {
        format!("{what}: {peer_message}")
    }
}

/// The details if exactly one non-empty `grpc-status-details-bin` value decodes (grpc-go:
/// missing, multiple or unparsable details are ignored).
fn single_details(headers: &HeaderMap) -> Option<Bytes> {
    let mut values = headers.get_all(GRPC_STATUS_DETAILS_BIN).into_iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return None;
    };
    let mut parts = split_bin(value);
    match (parts.next(), parts.next()) {
        (Some(Ok(bytes)), None) if !bytes.is_empty() => Some(Bytes::from(bytes)),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
