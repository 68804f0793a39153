//! One server call, from the request headers to the last frame: validation, routing, the
//! handler, and the driver that watches for resets and deadlines while it flushes responses.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use h2::server::SendResponse;
use h2::RecvStream;
use http::StatusCode;

use super::context::CallContext;
use super::driver::{trace_head, CatchUnwind, Driver, Responder};
use super::handler::{Handler, RawCall};
use super::outbox::{Outbox, SendCompression};
use super::service::{Route, Router, ServiceOptions};
use super::ConnShared;
use crate::call::headers;
use crate::call::recv::MessageReader;
use crate::cancel::Cancellation;
use crate::codec::compression::{parse_grpc_encoding, AcceptEncoding, Encoding, ACCEPT_ENCODING};
use crate::metadata::{Metadata, GRPC_ACCEPT_ENCODING, GRPC_ENCODING, GRPC_TIMEOUT};
use crate::status::mapping::Side;
use crate::status::Status;
use crate::timeout::parse_grpc_timeout;
use crate::trace::{Direction, Payload};

/// Serves one request to completion.
pub(crate) async fn serve(
    request: http::Request<RecvStream>,
    mut respond: SendResponse<Bytes>,
    conn: Arc<ConnShared>,
) {
    let _live = LiveCall::enter(&conn.server.live_calls);
    let (parts, body) = request.into_parts();
    let server = &conn.server;
    let trace = server.config.calls.trace.call(Side::Server, || respond.stream_id().into());
    let (method, uri, headers) = (&parts.method, &parts.uri, &parts.headers);
    trace.emit(Direction::Recv, Payload::RequestHeaders { method, uri, headers });
    let call = match accept(&parts, &server.router, server.config.h2.max_header_list_size) {
        Ok(call) => call,
        Err((http_status, status)) => {
            // Not read: the body is dropped, and h2 resets the stream with NO_ERROR once this
            // Trailers-Only response is out, which is the spec's early closure.
            let mut response = headers::trailers_only(http_status, &status, None);
            if status.code() == crate::status::Code::Unimplemented
                && parts.headers.contains_key(GRPC_ENCODING)
            {
                response.headers_mut().insert(GRPC_ACCEPT_ENCODING, ACCEPT_ENCODING);
            }
            trace_head(&trace, &response, true);
            let _ = respond.send_response(response, true);
            return;
        }
    };
    let Accepted { path, handler, service, deadline, encoding, accepted } = call;
    let metadata = match Metadata::from_headers(parts.headers) {
        Ok(metadata) => metadata,
        Err(err) => {
            let status = Status::from(err);
            let response = headers::trailers_only(StatusCode::BAD_REQUEST, &status, None);
            trace_head(&trace, &response, true);
            let _ = respond.send_response(response, true);
            return;
        }
    };
    let wanted = service.send_compression.unwrap_or(server.config.calls.send_compression);
    let outbox = Arc::new(Outbox::new(SendCompression { wanted, accepted }));
    let cancellation = Cancellation::new();
    let ctx = CallContext {
        method: path,
        metadata,
        deadline,
        peer: conn.peer.clone(),
        authority: parts.uri.authority().cloned(),
        cancellation: cancellation.clone(),
        shutdown: server.shutdown.drain.clone(),
        outbox: outbox.clone(),
        request_compressed: false,
        trace: trace.clone(),
    };
    let mut responder = Responder::Pending(respond);
    // Interceptors: the server's, then the service's. A refusal is the call's status,
    // Trailers-Only with whatever metadata they set; the handler never runs. Plain ones run
    // here; if any is async, all of them run at the start of the handler's future instead, so
    // that its awaits are bounded by the call's deadline and cancellation like the handler's.
    let sync = server.interceptors.is_sync() && service.interceptors.is_sync();
    if sync {
        let refused = server.interceptors.run(&ctx).and_then(|()| service.interceptors.run(&ctx));
        if let Err(status) = refused {
            responder.finish(&outbox, None, &status, &trace);
            return;
        }
    }
    let max_recv = server.config.calls.max_recv_message_len;
    let mut reader = MessageReader::new(Side::Server, body, max_recv, trace.clone());
    reader.set_encoding(Ok(encoding));
    let raw = RawCall { ctx, reader, max_send_len: server.config.calls.max_send_message_len };
    let handler = if sync {
        CatchUnwind(handler.call(raw))
    } else {
        let interceptors = (server.interceptors.clone(), service.clone());
        CatchUnwind(Box::pin(async move {
            let mut raw = raw;
            raw.ctx = interceptors.0.run_async(raw.ctx).await?;
            raw.ctx = interceptors.1.interceptors.run_async(raw.ctx).await?;
            handler.call(raw).await
        }))
    };
    let forced = std::pin::pin!(conn.force.cancelled());
    let driver = Driver {
        handler,
        responder,
        outbox,
        cancellation,
        deadline: deadline.map(|d| Box::pin(tokio::time::sleep_until(d.into()))),
        forced: Some(forced),
        shutdown: &conn.server.shutdown,
        finished: false,
        trace,
    };
    driver.await
}

/// Counts a call in [`ServerShared::live_calls`](super::ServerShared) while its task lives.
struct LiveCall(Arc<AtomicUsize>);

impl LiveCall {
    fn enter(count: &Arc<AtomicUsize>) -> LiveCall {
        count.fetch_add(1, Ordering::AcqRel);
        LiveCall(count.clone())
    }
}

impl Drop for LiveCall {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

struct Accepted {
    path: Arc<str>,
    handler: Arc<dyn Handler>,
    service: Arc<ServiceOptions>,
    deadline: Option<Instant>,
    /// The request's `grpc-encoding`, supported.
    encoding: Encoding,
    /// The request's `grpc-accept-encoding`: what the response may be compressed with.
    accepted: AcceptEncoding,
}

/// The checks a request passes before a handler runs, in the order grpc-go applies them. An
/// `Err` is the HTTP status and gRPC status of a Trailers-Only refusal.
fn accept(
    parts: &http::request::Parts,
    router: &Router,
    max_header_list_size: u32,
) -> Result<Accepted, (StatusCode, Status)> {
    // First, as C-core's transport does: metadata over the limit is RESOURCE_EXHAUSTED for this
    // call (h2 is told a larger limit so that such requests reach us; see the setter).
    let size = headers::request_header_list_size(parts);
    if size > max_header_list_size as usize {
        return Err((
            StatusCode::OK,
            Status::resource_exhausted(format!(
                "request metadata of {size} bytes exceeds the server's limit of \
                 {max_header_list_size} bytes (server::Builder::max_header_list_size)"
            )),
        ));
    }
    if parts.method != http::Method::POST {
        return Err((
            StatusCode::METHOD_NOT_ALLOWED,
            Status::internal(format!("gRPC requires POST, got {}", parts.method)),
        ));
    }
    match parts.headers.get(http::header::CONTENT_TYPE) {
        Some(ct) if headers::is_grpc_content_type(ct) => {}
        other => {
            let shown = other.map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
            return Err((
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                Status::internal(format!(
                    "invalid gRPC request content-type {:?}: expected application/grpc",
                    shown.unwrap_or_default()
                )),
            ));
        }
    }
    // `te: trailers` is required of clients, but a server gains nothing by refusing a request
    // without it: like grpc-go (and unlike C-core) we accept it.
    let path = parts.uri.path();
    let method = match router.route(path) {
        Route::Found(method) => method,
        Route::UnknownService(service) => {
            return Err((
                StatusCode::OK,
                Status::unimplemented(format!("unknown service {service}")),
            ))
        }
        Route::UnknownMethod { service, method } => {
            return Err((
                StatusCode::OK,
                Status::unimplemented(format!("unknown method {method} for service {service}")),
            ))
        }
        Route::Malformed => {
            return Err((
                StatusCode::OK,
                Status::unimplemented(format!("malformed method name: {path:?}")),
            ))
        }
    };
    // An encoding we cannot decode is refused before any message is read; the refusal lists
    // what we accept in grpc-accept-encoding (compression.md). Without the `compression`
    // feature that is identity alone.
    let encoding = parse_grpc_encoding(parts.headers.get(GRPC_ENCODING))
        .map_err(|err| (StatusCode::OK, Status::unimplemented(err.to_string())))?;
    // What the response may be compressed with; without the feature nothing is, unasked.
    let accepted = match cfg!(feature = "compression") {
        true => AcceptEncoding::parse(parts.headers.get_all(GRPC_ACCEPT_ENCODING)),
        false => AcceptEncoding::default(),
    };
    let deadline = match parts.headers.get(GRPC_TIMEOUT) {
        None => None,
        Some(value) => match parse_grpc_timeout(value.as_bytes()) {
            Ok(timeout) => Some(Instant::now().checked_add(timeout).unwrap_or_else(far_future)),
            Err(err) => return Err((StatusCode::BAD_REQUEST, err.into())),
        },
    };
    if let Some(deadline) = deadline {
        if deadline <= Instant::now() {
            return Err((
                StatusCode::OK,
                Status::deadline_exceeded("deadline exceeded on arrival"),
            ));
        }
    }
    Ok(Accepted {
        path: method.path.clone(),
        handler: method.handler.clone(),
        service: method.service.clone(),
        deadline,
        encoding,
        accepted,
    })
}

fn far_future() -> Instant {
    // About 30 years: further than any `grpc-timeout` means in practice.
    Instant::now() + std::time::Duration::from_secs(86400 * 365 * 30)
}
