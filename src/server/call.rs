//! One server call, from the request headers to the last frame: validation, routing, the
//! handler, and the driver that watches for resets and deadlines while it flushes responses.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use h2::server::SendResponse;
use h2::{RecvStream, SendStream};
use http::StatusCode;

use super::context::CallContext;
use super::service::{BoxFuture, RawCall, Reply, Route, ServiceOptions};
use super::ConnShared;
use crate::call::headers;
use crate::call::recv::MessageReader;
use crate::call::send::{Outbox, OutboxState, SendCompression};
use crate::cancel::Cancellation;
use crate::codec::compression::{parse_grpc_encoding, AcceptEncoding, Encoding, ACCEPT_ENCODING};
use crate::metadata::{Metadata, GRPC_ACCEPT_ENCODING, GRPC_ENCODING, GRPC_TIMEOUT};
use crate::status::Status;
use crate::timeout::parse_grpc_timeout;
use crate::trace::{CallTrace, Direction, Payload, Preformatted, Side};

/// The server's reading of an `h2` failure on a call's stream: the client reset it, or the
/// connection failed. Either way the call is over for the client; the server-side status is
/// CANCELLED (PROTOCOL-HTTP2.md, "Connection failure" and the RST_STREAM table).
pub(crate) fn status_from_h2(err: &h2::Error) -> Status {
    match err.reason() {
        Some(reason) if err.is_reset() => status_from_reset(reason),
        _ => Status::cancelled(format!("the connection failed: {err}")),
    }
}

/// The server-side status of a call the client reset with `reason`: CANCELLED.
fn status_from_reset(reason: h2::Reason) -> Status {
    match reason {
        h2::Reason::CANCEL => Status::cancelled("the client cancelled the call"),
        reason => Status::cancelled(format!("the client reset the stream: {reason}")),
    }
}

/// Serves one request to completion.
pub(crate) async fn serve(
    request: http::Request<RecvStream>,
    mut respond: SendResponse<Bytes>,
    conn: Arc<ConnShared>,
) {
    let _live = LiveCall::enter(&conn.server.live_calls);
    let (parts, body) = request.into_parts();
    let server = &conn.server;
    let trace = server.config.trace.call(Side::Server, || respond.stream_id().into());
    if let Some(trace) = &trace {
        let (method, uri, headers) = (&parts.method, &parts.uri, &parts.headers);
        trace.emit(Direction::Recv, Payload::RequestHeaders { method, uri, headers });
    }
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
    let wanted = service.send_compression.unwrap_or(server.config.send_compression);
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
    let mut reader = MessageReader::new(body, server.config.max_recv_message_len, trace.clone());
    reader.set_encoding(Ok(encoding));
    let raw = RawCall { ctx, reader, max_send_len: server.config.max_send_message_len };
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

/// Reports response headers, or a Trailers-Only response when `end_stream`.
fn trace_head(trace: &Option<CallTrace>, response: &http::Response<()>, end_stream: bool) {
    if let Some(trace) = trace {
        let (status, headers) = (response.status(), response.headers());
        trace.emit(Direction::Send, Payload::ResponseHeaders { status, headers, end_stream });
    }
}

struct Accepted {
    path: Arc<str>,
    handler: Arc<dyn super::service::Handler>,
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
    router: &super::service::Router,
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

/// Runs the handler and catches its panic, so a panicking handler fails only its own call.
struct CatchUnwind(BoxFuture<Result<Reply, Status>>);

impl Future for CatchUnwind {
    type Output = Result<Reply, Status>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let fut = self.0.as_mut();
        match std::panic::catch_unwind(AssertUnwindSafe(|| fut.poll(cx))) {
            Ok(poll) => poll,
            Err(_) => Poll::Ready(Err(Status::internal("the handler panicked"))),
        }
    }
}

/// The response side of the stream, as it progresses.
enum Responder {
    /// Nothing sent yet.
    Pending(SendResponse<Bytes>),
    /// Headers sent; DATA may follow.
    Open(SendStream<Bytes>),
    /// Trailers sent, or the stream was reset.
    Done,
}

impl Responder {
    fn poll_reset(&mut self, cx: &mut Context<'_>) -> Poll<Result<h2::Reason, h2::Error>> {
        match self {
            Responder::Pending(respond) => respond.poll_reset(cx),
            Responder::Open(stream) => stream.poll_reset(cx),
            Responder::Done => Poll::Pending,
        }
    }

    fn open(
        &mut self,
        state: &mut OutboxState,
        trace: &Option<CallTrace>,
    ) -> Result<&mut SendStream<Bytes>, h2::Error> {
        if let Responder::Pending(respond) = self {
            let metadata = state.take_headers();
            let encoding = state.freeze_encoding();
            let response = headers::response(encoding, metadata.as_ref());
            trace_head(trace, &response, false);
            let stream = respond.send_response(response, false)?;
            *self = Responder::Open(stream);
        }
        match self {
            Responder::Open(stream) => Ok(stream),
            // Only reached after `finish`, which the driver never follows with writes.
            _ => Err(h2::Error::from(h2::Reason::INTERNAL_ERROR)),
        }
    }

    /// Moves queued messages into h2, as much as flow control allows now.
    fn poll_flush(
        &mut self,
        cx: &mut Context<'_>,
        outbox: &Outbox,
        trace: &Option<CallTrace>,
    ) -> Poll<Result<(), h2::Error>> {
        loop {
            let mut state = outbox.lock();
            state.set_driver_waker(cx.waker());
            let pending = state.pending();
            if pending == 0 {
                return Poll::Ready(Ok(()));
            }
            let stream = self.open(&mut state, trace)?;
            stream.reserve_capacity(pending);
            let capacity = stream.capacity();
            if capacity == 0 {
                drop(state);
                match stream.poll_capacity(cx) {
                    Poll::Ready(Some(Ok(_))) => continue,
                    Poll::Ready(Some(Err(err))) => return Poll::Ready(Err(err)),
                    Poll::Ready(None) => {
                        return Poll::Ready(Err(h2::Error::from(h2::Reason::STREAM_CLOSED)))
                    }
                    Poll::Pending => return Poll::Pending,
                }
            }
            let chunk = state.take_chunk(capacity);
            stream.send_data(chunk, false)?;
        }
    }

    /// Ends the response with `status`: Trailers-Only if nothing was sent, else the remaining
    /// messages and then trailers. Later writes to the sink fail.
    fn finish(
        &mut self,
        outbox: &Outbox,
        unary: Option<(Bytes, Option<String>)>,
        status: &Status,
        trace: &Option<CallTrace>,
    ) {
        let mut state = outbox.lock();
        let trailers = std::mem::take(&mut state.trailers);
        let rest = state.take_all();
        state
            .close(Status::failed_precondition("the call has ended; no more messages can be sent"));
        let result = match std::mem::replace(self, Responder::Done) {
            Responder::Pending(mut respond) if unary.is_none() && rest.is_empty() => {
                let headers_md = state.take_headers();
                let mut response =
                    headers::trailers_only(StatusCode::OK, status, headers_md.as_ref());
                trailers.extend_into(response.headers_mut());
                trace_head(trace, &response, true);
                respond.send_response(response, true).map(drop)
            }
            mut open => {
                let sent = open.open(&mut state, trace).and_then(|stream| {
                    if !rest.is_empty() {
                        stream.send_data(rest, false)?;
                    }
                    if let Some((body, shown)) = unary {
                        if let Some(trace) = trace {
                            let shown = shown.as_deref().map(Preformatted);
                            trace.sent(&body, shown.as_ref().map(|s| s as &dyn std::fmt::Debug));
                        }
                        stream.send_data(body, false)?;
                    }
                    let trailers = headers::trailers(status, Some(&trailers));
                    if let Some(trace) = trace {
                        trace.emit(Direction::Send, Payload::Trailers { headers: &trailers });
                    }
                    stream.send_trailers(trailers)
                });
                sent
            }
        };
        // A failure here means the client is gone; there is nobody left to tell.
        let _ = result;
    }
}

/// Polls the handler, the client's resets, the deadline and the end of the shutdown grace
/// period together, in the call's own task.
struct Driver<'a, 'b> {
    handler: CatchUnwind,
    responder: Responder,
    outbox: Arc<Outbox>,
    cancellation: Cancellation,
    deadline: Option<Pin<Box<tokio::time::Sleep>>>,
    /// Fires when the server's shutdown grace period is over. Polled once, to register this
    /// task's waker; then `None`, and the shutdown stage is read instead (an atomic load,
    /// where polling the future takes the token's locks on every wake-up), as `conn.rs` does.
    forced: Option<Pin<&'a mut tokio_util::sync::WaitForCancellationFuture<'b>>>,
    shutdown: &'b super::ShutdownSignal,
    /// The response is complete (or reset); the handler may still be running.
    finished: bool,
    trace: Option<CallTrace>,
}

impl Driver<'_, '_> {
    /// Ends the call before the handler did: fires its cancellation, fails its sink with
    /// `status`, and sends `status` if `send` (a reset stream takes nothing more).
    fn end_early(&mut self, status: Status, send: bool) {
        self.cancellation.cancel();
        // Closing first drops the messages h2 has not taken yet: the call is over, and queued
        // ahead of the status they would hold it back until a client that may have stopped
        // reading opens its window (h2 buffers whatever `send_data` gets, past the window).
        self.outbox.close(status.clone());
        if send {
            self.responder.finish(&self.outbox, None, &status, &self.trace);
        } else {
            self.responder = Responder::Done;
        }
        self.finished = true;
        self.deadline = None;
    }
}

impl Future for Driver<'_, '_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        if !this.finished {
            if let Poll::Ready(result) = this.responder.poll_reset(cx) {
                if let Some(trace) = &this.trace {
                    match &result {
                        Ok(reason) => trace.reset_received(*reason),
                        Err(err) => trace.h2_error(err),
                    }
                }
                let status = match result {
                    Ok(reason) => status_from_reset(reason),
                    Err(err) => status_from_h2(&err),
                };
                this.end_early(status, false);
            }
        }
        if let Some(deadline) = &mut this.deadline {
            if deadline.as_mut().poll(cx).is_ready() {
                this.end_early(Status::deadline_exceeded("deadline exceeded"), true);
            }
        }
        if let Some(mut forced) = this.forced.take() {
            // Registered with this task's waker, which stays the same for the task's life.
            let _ = forced.as_mut().poll(cx);
        }
        if !this.finished && this.shutdown.stage() >= super::ShutdownSignal::FORCED {
            let status = "the server is shutting down: its grace period is over (or \
                          shutdown_now was called)";
            this.end_early(Status::cancelled(status), true);
        }
        if let Poll::Ready(result) = Pin::new(&mut this.handler).poll(cx) {
            if !this.finished {
                match result {
                    Ok(Reply::Unary(body, shown)) => {
                        let unary = Some((body, shown));
                        this.responder.finish(&this.outbox, unary, &Status::ok(), &this.trace)
                    }
                    Ok(Reply::Streamed) => {
                        this.responder.finish(&this.outbox, None, &Status::ok(), &this.trace)
                    }
                    Err(status) => this.responder.finish(&this.outbox, None, &status, &this.trace),
                }
                this.finished = true;
            }
            return Poll::Ready(());
        }
        if !this.finished {
            if let Poll::Ready(Err(err)) = this.responder.poll_flush(cx, &this.outbox, &this.trace)
            {
                this.end_early(status_from_h2(&err), false);
            }
        }
        Poll::Pending
    }
}
