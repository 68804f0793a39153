//! gRPC's HTTP/2 headers: the fixed values, the content-type rule, and the header blocks each
//! side builds. Header names live in [`crate::metadata`]; this file assembles them.

use http::header::{CONTENT_TYPE, USER_AGENT};
use http::{HeaderMap, HeaderValue, StatusCode};

use crate::codec::compression::{Encoding, ACCEPT_ENCODING};
use crate::metadata::{
    Metadata, APPLICATION_GRPC, GRPC_ACCEPT_ENCODING, GRPC_ENCODING, GRPC_TIMEOUT, TE, TRAILERS,
};
use crate::status::Status;

/// `user-agent` as the spec's User-Agents section asks: `grpc-<lang>-<variant>/<version>`.
pub(crate) const USER_AGENT_VALUE: &str = concat!("grpc-rust-h2grpc/", env!("CARGO_PKG_VERSION"));

/// Whether `value` is a gRPC content-type: `application/grpc`, or that followed by `+` or `;`
/// (`application/grpc+proto`, `application/grpc;charset=utf-8`). [P2; grpc-go ContentSubtype]
pub(crate) fn is_grpc_content_type(value: &HeaderValue) -> bool {
    let bytes = value.as_bytes();
    let prefix = b"application/grpc";
    bytes.len() >= prefix.len()
        && bytes[..prefix.len()].eq_ignore_ascii_case(prefix)
        && matches!(bytes.get(prefix.len()), None | Some(b'+') | Some(b';'))
}

/// The size of a request's header list as HTTP/2 counts it for SETTINGS_MAX_HEADER_LIST_SIZE
/// (RFC 9113 section 6.5.2): name + value + 32 for each field, the pseudo-headers included.
pub(crate) fn request_header_list_size(parts: &http::request::Parts) -> usize {
    const ENTRY: usize = 32;
    let field = |name: &str, value: usize| name.len() + value + ENTRY;
    let uri = &parts.uri;
    let mut size = field(":method", parts.method.as_str().len())
        + field(":path", uri.path_and_query().map_or(0, |p| p.as_str().len()))
        + uri.scheme_str().map_or(0, |s| field(":scheme", s.len()))
        + uri.authority().map_or(0, |a| field(":authority", a.as_str().len()));
    for (name, value) in &parts.headers {
        size += field(name.as_str(), value.len());
    }
    size
}

/// The compression headers of a header block (P2's Message-Encoding and
/// Message-Accept-Encoding): `grpc-encoding` when messages may be compressed, and, with the
/// `compression` feature, `grpc-accept-encoding` listing what we decode. Without the feature
/// identity is all there is and nothing is said.
fn compression(headers: &mut HeaderMap, encoding: Encoding) {
    if encoding.is_compressed() {
        headers.insert(GRPC_ENCODING, HeaderValue::from_static(encoding.name()));
    }
    if cfg!(feature = "compression") {
        headers.insert(GRPC_ACCEPT_ENCODING, ACCEPT_ENCODING);
    }
}

/// Response-Headers: `:status 200`, `content-type: application/grpc`, the compression headers
/// (`encoding` is what the response messages use), then the handler's response metadata.
pub(crate) fn response(encoding: Encoding, metadata: Option<&Metadata>) -> http::Response<()> {
    let mut response = http::Response::new(());
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, APPLICATION_GRPC);
    compression(headers, encoding);
    if let Some(metadata) = metadata {
        metadata.extend_into(headers);
    }
    response
}

/// Trailers-Only: one HEADERS frame with END_STREAM carrying `:status`, `content-type` and the
/// status fields. `http_status` is 200 for every gRPC outcome; 4xx only for requests that are
/// not gRPC at all.
pub(crate) fn trailers_only(
    http_status: StatusCode,
    status: &Status,
    metadata: Option<&Metadata>,
) -> http::Response<()> {
    let mut response = self::response(Encoding::Identity, metadata);
    *response.status_mut() = http_status;
    status.add_to_headers(response.headers_mut());
    response
}

/// Trailers: the status fields and the handler's trailing metadata.
pub(crate) fn trailers(status: &Status, metadata: Option<&Metadata>) -> HeaderMap {
    let mut trailers = HeaderMap::new();
    status.add_to_headers(&mut trailers);
    if let Some(metadata) = metadata {
        metadata.extend_into(&mut trailers);
    }
    trailers
}

/// Request-Headers for a call: `POST`, an absolute URI (so `h2` emits `:scheme` and
/// `:authority`), `te: trailers`, `content-type`, `user-agent`, an optional `grpc-timeout`
/// right after the pseudo-headers, the compression headers (`encoding` is what the request
/// messages use), then custom metadata.
pub(crate) fn request(
    uri: http::Uri,
    timeout: Option<HeaderValue>,
    encoding: Encoding,
    metadata: &Metadata,
) -> http::Request<()> {
    let mut request = http::Request::new(());
    *request.method_mut() = http::Method::POST;
    *request.uri_mut() = uri;
    let headers = request.headers_mut();
    headers.reserve(7 + metadata.len());
    if let Some(timeout) = timeout {
        headers.insert(GRPC_TIMEOUT, timeout);
    }
    headers.insert(TE, TRAILERS);
    headers.insert(CONTENT_TYPE, APPLICATION_GRPC);
    headers.insert(USER_AGENT, HeaderValue::from_static(USER_AGENT_VALUE));
    compression(headers, encoding);
    metadata.extend_into(headers);
    request
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_content_types_are_recognised_as_grpc_go_does() {
        for ok in [
            "application/grpc",
            "application/grpc+proto",
            "application/grpc+json",
            "application/grpc;charset=utf-8",
            "application/grpc+",
            "Application/GRPC",
        ] {
            assert!(is_grpc_content_type(&HeaderValue::from_static(ok)), "{ok}");
        }
        for bad in ["application/json", "application/grpcx", "application/grp", "", "text/plain"] {
            assert!(!is_grpc_content_type(&HeaderValue::from_static(bad)), "{bad}");
        }
    }

    #[test]
    fn request_headers_put_grpc_timeout_first_and_carry_te_trailers() {
        let uri: http::Uri = "http://localhost/pkg.Svc/Method".parse().unwrap();
        let timeout = Some(HeaderValue::from_static("1S"));
        let req = request(uri, timeout, Encoding::Identity, &Metadata::new());
        let mut names: Vec<_> = req.headers().keys().map(|k| k.as_str()).collect();
        if cfg!(feature = "compression") {
            assert_eq!(names.pop(), Some("grpc-accept-encoding"));
        }
        assert_eq!(names, ["grpc-timeout", "te", "content-type", "user-agent"]);
        assert_eq!(req.headers()["te"], "trailers");
        assert_eq!(req.method(), http::Method::POST);
    }

    #[cfg(feature = "compression")]
    #[test]
    fn compression_headers_come_before_custom_metadata() {
        let uri: http::Uri = "http://localhost/pkg.Svc/Method".parse().unwrap();
        let mut metadata = Metadata::new();
        metadata.insert("x-custom", "1").unwrap();
        let req = request(uri, None, Encoding::Gzip, &metadata);
        let names: Vec<_> = req.headers().keys().map(|k| k.as_str()).collect();
        let tail = ["grpc-encoding", "grpc-accept-encoding", "x-custom"];
        assert_eq!(names[names.len() - 3..], tail);
        assert_eq!(req.headers()["grpc-encoding"], "gzip");
        assert_eq!(req.headers()["grpc-accept-encoding"], "identity,gzip,deflate");

        let resp = response(Encoding::Deflate, Some(&metadata));
        let names: Vec<_> = resp.headers().keys().map(|k| k.as_str()).collect();
        assert_eq!(names, ["content-type", "grpc-encoding", "grpc-accept-encoding", "x-custom"]);
        assert_eq!(resp.headers()["grpc-encoding"], "deflate");
        let plain = response(Encoding::Identity, None);
        assert!(!plain.headers().contains_key("grpc-encoding"));
    }

    #[test]
    fn trailers_only_carries_status_and_content_type() {
        let resp = trailers_only(StatusCode::OK, &Status::unimplemented("nope"), None);
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.headers()["content-type"], "application/grpc");
        assert_eq!(resp.headers()["grpc-status"], "12");
        assert_eq!(resp.headers()["grpc-message"], "nope");
    }
}
