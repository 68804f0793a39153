//! The status a malformed wire piece becomes: bad custom metadata and a bad `grpc-timeout`.
//!
//! The pure wire modules (`metadata`, `timeout`) know nothing of [`Status`]; this file is the
//! one place that says which code each of their errors is answered with.
//!
//! ```text
//! InvalidTimeout  => INTERNAL  "malformed grpc-timeout: ..."
//! InvalidMetadata => INTERNAL  "malformed metadata: ..."
//! ```

use super::Status;
use crate::metadata::InvalidMetadata;
use crate::timeout::InvalidTimeout;

/// A malformed `grpc-timeout` becomes `INTERNAL`, with the error's text as the message
/// (grpc-go answers one with Trailers-Only, `:status 400`, grpc-status `INTERNAL`).
///
/// ```
/// use h2grpc::{timeout::parse_grpc_timeout, Code, Status};
///
/// let status = Status::from(parse_grpc_timeout(b"").unwrap_err());
/// assert_eq!(status.code(), Code::Internal);
/// assert!(status.message().starts_with("malformed grpc-timeout: \"\""));
/// ```
impl From<InvalidTimeout> for Status {
    fn from(err: InvalidTimeout) -> Status {
        Status::internal(err.to_string())
    }
}

impl From<InvalidMetadata> for Status {
    /// Malformed metadata is an INTERNAL error (grpc-go: "malformed binary metadata").
    fn from(err: InvalidMetadata) -> Status {
        Status::internal(format!("malformed metadata: {err}"))
    }
}

#[cfg(test)]
mod tests {
    use http::header::{HeaderMap, HeaderValue};

    use super::*;
    use crate::metadata::Metadata;
    use crate::status::Code;
    use crate::timeout::parse_grpc_timeout;

    #[test]
    fn invalid_metadata_becomes_an_internal_status() {
        let mut headers = HeaderMap::new();
        headers.append("x-bin", HeaderValue::from_static("@"));
        let err = Metadata::from_headers(headers).unwrap_err();
        let status = Status::from(err);
        assert_eq!(status.code(), Code::Internal);
        assert!(status.message().starts_with("malformed metadata: "), "{status}");
    }

    #[test]
    fn invalid_timeout_becomes_internal_status() {
        let err = parse_grpc_timeout(b"1x").unwrap_err();
        let status = Status::from(err.clone());
        assert_eq!(status.code(), Code::Internal);
        assert_eq!(status.message(), err.to_string());
    }
}
