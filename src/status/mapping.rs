//! Codes for calls that ended without a `grpc-status`: the two tables of the spec.
//!
//! - [`code_from_http_status`]: a response whose headers and trailers carry no `grpc-status`
//!   (`doc/http-grpc-status-mapping.md`). When `grpc-status` is present it always wins, even
//!   with a non-200 `:status`; servers never use this table to pick HTTP codes.
//! - [`code_from_h2_reason`]: a stream reset with RST_STREAM (`doc/PROTOCOL-HTTP2.md`,
//!   "Errors").
//!
//! [`Status::from_h2_error`] builds on the second for any error `h2` reports, as the client
//! reads it; the server reads the same errors per [`Side`]. This file is the one place an `h2`
//! error or an RST_STREAM reason becomes a status.

use h2::Reason;

use super::{Code, Status};

/// The code for an HTTP response without `grpc-status` (http-grpc-status-mapping.md).
///
/// | HTTP status | code |
/// |---|---|
/// | 400 Bad Request | `INTERNAL` |
/// | 401 Unauthorized | `UNAUTHENTICATED` |
/// | 403 Forbidden | `PERMISSION_DENIED` |
/// | 404 Not Found | `UNIMPLEMENTED` |
/// | 429 Too Many Requests | `UNAVAILABLE` |
/// | 431 Request Header Fields Too Large | `INTERNAL` (grpc-go lacks this row) |
/// | 502 Bad Gateway, 503 Service Unavailable, 504 Gateway Timeout | `UNAVAILABLE` |
/// | anything else, 200 included | `UNKNOWN` |
///
/// ```
/// use h2grpc::{status::mapping::code_from_http_status, Code};
/// assert_eq!(code_from_http_status(404), Code::Unimplemented);
/// assert_eq!(code_from_http_status(200), Code::Unknown);
/// ```
pub fn code_from_http_status(status: u16) -> Code {
    match status {
        400 => Code::Internal,
        401 => Code::Unauthenticated,
        403 => Code::PermissionDenied,
        404 => Code::Unimplemented,
        429 => Code::Unavailable,
        431 => Code::Internal,
        502..=504 => Code::Unavailable,
        _ => Code::Unknown,
    }
}

/// The code for a stream the peer reset with RST_STREAM (PROTOCOL-HTTP2.md, "Errors").
///
/// | RST_STREAM error | code |
/// |---|---|
/// | NO_ERROR (0), PROTOCOL_ERROR (1), INTERNAL_ERROR (2) | `INTERNAL` |
/// | FLOW_CONTROL_ERROR (3): grpc-go says RESOURCE_EXHAUSTED; we follow the spec | `INTERNAL` |
/// | SETTINGS_TIMEOUT (4) | `INTERNAL` |
/// | STREAM_CLOSED (5): the spec has no mapping (no stream is open); as grpc-go | `INTERNAL` |
/// | FRAME_SIZE_ERROR (6) | `INTERNAL` |
/// | REFUSED_STREAM (7): nothing was processed, a retry is safe | `UNAVAILABLE` |
/// | CANCEL (8) | `CANCELLED` |
/// | COMPRESSION_ERROR (9), CONNECT_ERROR (10) | `INTERNAL` |
/// | ENHANCE_YOUR_CALM (11): the exhausted resource is bandwidth | `RESOURCE_EXHAUSTED` |
/// | INADEQUATE_SECURITY (12) | `PERMISSION_DENIED` |
/// | HTTP_1_1_REQUIRED (13) and unknown codes: not in the spec's table | `INTERNAL` |
///
/// NO_ERROR maps to INTERNAL because a reset before trailers means the call did not finish
/// (negative-http2-interop rst_after_data). A caller that cancelled past its deadline should
/// report DEADLINE_EXCEEDED instead of CANCELLED; that needs the deadline, so it is the
/// caller's job.
///
/// ```
/// use h2grpc::{status::mapping::code_from_h2_reason, Code};
/// assert_eq!(code_from_h2_reason(h2::Reason::CANCEL), Code::Cancelled);
/// assert_eq!(code_from_h2_reason(h2::Reason::REFUSED_STREAM), Code::Unavailable);
/// ```
pub fn code_from_h2_reason(reason: Reason) -> Code {
    match u32::from(reason) {
        7 => Code::Unavailable,
        8 => Code::Cancelled,
        11 => Code::ResourceExhausted,
        12 => Code::PermissionDenied,
        // 0..=6, 9, 10, 13 and unknown codes.
        _ => Code::Internal,
    }
}

/// Which end of the connection a call runs on (the HTTP/2 client or server): the two read the
/// same `h2` failure differently. Also names the side that saw a
/// [trace event](crate::trace::Event).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    /// The gRPC client (the HTTP/2 client).
    Client,
    /// The gRPC server.
    Server,
}

/// The status `side` reports for an error `h2` gave on a call's stream or connection.
///
/// - the client: [`Status::from_h2_error`];
/// - the server: the client reset the stream, or the connection failed; either way the call
///   is over for the client, and the server-side status is CANCELLED (PROTOCOL-HTTP2.md,
///   "Connection failure" and the RST_STREAM table).
pub(crate) fn from_h2_error(side: Side, err: &h2::Error) -> Status {
    match (side, err.reason()) {
        (_, Some(reason)) if err.is_reset() && err.is_remote() => from_reset(side, reason),
        (Side::Client, Some(reason)) if err.is_reset() => {
            Status::new(code_from_h2_reason(reason), format!("stream reset locally: {reason:?}"))
        }
        (Side::Client, _) if err.is_go_away() => {
            Status::unavailable(format!("connection closing: {err}"))
        }
        (Side::Client, _) if err.is_io() => Status::unavailable(format!("connection lost: {err}")),
        (Side::Client, _) => Status::internal(format!("http/2 error: {err}")),
        (Side::Server, Some(reason)) if err.is_reset() => from_reset(Side::Server, reason),
        (Side::Server, _) => Status::cancelled(format!("the connection failed: {err}")),
    }
}

/// The status `side` reports when the peer reset the call's stream with `reason`: the client
/// reads [`code_from_h2_reason`]; for the server, whatever the reason, the client is gone and
/// the call CANCELLED.
pub(crate) fn from_reset(side: Side, reason: Reason) -> Status {
    match (side, reason) {
        (Side::Client, reason) => {
            Status::new(code_from_h2_reason(reason), format!("stream reset by peer: {reason:?}"))
        }
        (Side::Server, Reason::CANCEL) => Status::cancelled("the client cancelled the call"),
        (Side::Server, reason) => {
            Status::cancelled(format!("the client reset the stream: {reason}"))
        }
    }
}

impl Status {
    /// The status a client reports for an error `h2` reported on a call's stream or
    /// connection:
    ///
    /// - the stream was reset, by the peer or locally: [`code_from_h2_reason`], with the
    ///   message "stream reset by peer: CANCEL" (or "stream reset locally: ...");
    /// - the connection received or sent GOAWAY: `UNAVAILABLE`;
    /// - the connection failed with an IO error: `UNAVAILABLE`, "connection lost: ...";
    /// - anything else (a misuse of the h2 API): `INTERNAL` with the error text.
    ///
    /// ```
    /// use h2grpc::{Code, Status};
    /// let err = h2::Error::from(h2::Reason::INTERNAL_ERROR);
    /// assert_eq!(Status::from_h2_error(&err).code(), Code::Internal);
    /// ```
    pub fn from_h2_error(err: &h2::Error) -> Status {
        from_h2_error(Side::Client, err)
    }

    /// The status for an HTTP response that carried no `grpc-status`:
    /// [`code_from_http_status`] and a message naming the HTTP status.
    ///
    /// ```
    /// use h2grpc::{Code, Status};
    /// let status = Status::from_http_status(404);
    /// assert_eq!(status.code(), Code::Unimplemented);
    /// assert_eq!(status.message(), "HTTP status 404 without grpc-status");
    /// ```
    pub fn from_http_status(status: u16) -> Status {
        Status::new(
            code_from_http_status(status),
            format!("HTTP status {status} without grpc-status"),
        )
    }
}

#[cfg(test)]
mod tests;
