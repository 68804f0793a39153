//! The wire header names and values the crate spells: this is the one place they are written.

use http::header::{HeaderName, HeaderValue};

/// `grpc-status`: the call's status code, decimal (trailers).
#[allow(dead_code)]
pub(crate) const GRPC_STATUS: HeaderName = HeaderName::from_static("grpc-status");
/// `grpc-message`: the percent-encoded status message (trailers).
#[allow(dead_code)]
pub(crate) const GRPC_MESSAGE: HeaderName = HeaderName::from_static("grpc-message");
/// `grpc-status-details-bin`: base64 of a serialized `google.rpc.Status` (trailers).
#[allow(dead_code)]
pub(crate) const GRPC_STATUS_DETAILS_BIN: HeaderName =
    HeaderName::from_static("grpc-status-details-bin");
/// `grpc-timeout`: the call's deadline as the time remaining (request headers).
#[allow(dead_code)]
pub(crate) const GRPC_TIMEOUT: HeaderName = HeaderName::from_static("grpc-timeout");
/// `grpc-encoding`: the message compression algorithm.
#[allow(dead_code)]
pub(crate) const GRPC_ENCODING: HeaderName = HeaderName::from_static("grpc-encoding");
/// `grpc-accept-encoding`: the compression algorithms the sender can decode.
#[allow(dead_code)]
pub(crate) const GRPC_ACCEPT_ENCODING: HeaderName = HeaderName::from_static("grpc-accept-encoding");
/// `te`: must be `trailers` on requests.
#[allow(dead_code)]
pub(crate) const TE: HeaderName = http::header::TE;
/// The `content-type` value of a gRPC message stream (protobuf by default).
#[allow(dead_code)]
pub(crate) const APPLICATION_GRPC: HeaderValue = HeaderValue::from_static("application/grpc");
/// The `te` value a gRPC request carries.
#[allow(dead_code)]
pub(crate) const TRAILERS: HeaderValue = HeaderValue::from_static("trailers");
