//! What calls give back: [`Response`] for a single message, [`ResponseStream`] for a stream, and the
//! response-reading machinery both share.

use std::fmt;
use std::marker::PhantomData;

use std::task::{Context, Poll};

use bytes::Bytes;
use h2::client::ResponseFuture;
use h2::RecvStream;

use super::deadline::Deadline;
use super::keepalive::ActiveCall;
use super::replay::StreamRetry;
use super::shared_send::{reset, SharedSend};
use crate::call::headers::is_grpc_content_type;
use crate::call::recv::MessageReader;
use crate::codec::compression::{parse_grpc_encoding, Encoding, UnsupportedEncoding};
use crate::metadata::{Metadata, GRPC_ENCODING};
use crate::status::Status;
use crate::trace::{CallTrace, Direction, Payload};

/// A unary or client-streaming call's result: the message with its headers and trailers.
///
/// ```
/// # use h2grpc::client::Response;
/// # fn show(response: Response<String>) {
/// println!("served by {:?}", response.headers().get("x-served-by"));
/// let reply: String = response.into_inner();
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Response<T> {
    headers: Metadata,
    message: T,
    trailers: Metadata,
    /// The message arrived compressed (Compressed-Flag 1).
    #[cfg_attr(not(feature = "compression"), allow(dead_code))]
    compressed: bool,
}

impl<T> Response<T> {
    pub(crate) fn new(headers: Metadata, message: T, trailers: Metadata) -> Response<T> {
        Response { headers, message, trailers, compressed: false }
    }

    /// Whether the response message arrived compressed (Compressed-Flag 1). For diagnostics
    /// and interop tests: it is already decompressed.
    #[cfg(feature = "compression")]
    pub fn message_compressed(&self) -> bool {
        self.compressed
    }

    /// The response message.
    pub fn into_inner(self) -> T {
        self.message
    }

    /// The response message, borrowed.
    pub fn get_ref(&self) -> &T {
        &self.message
    }

    /// Response headers (initial metadata) the server sent.
    pub fn headers(&self) -> &Metadata {
        &self.headers
    }

    /// Trailing metadata the server sent with its OK status.
    pub fn trailers(&self) -> &Metadata {
        &self.trailers
    }

    /// Message, headers and trailers, taken apart.
    pub fn into_parts(self) -> (Metadata, T, Metadata) {
        (self.headers, self.message, self.trailers)
    }
}

/// The client's reading of an `h2` failure (PROTOCOL-HTTP2.md "Errors"; the mapping table is in
/// [`crate::status::mapping`]).
pub(crate) fn status_from_h2(err: &h2::Error) -> Status {
    Status::from_h2_error(err)
}

/// Whether an `h2` failure proves the server never processed the stream, so that the call may
/// be retried on another connection (PROTOCOL-HTTP2.md, "Idempotency and Retries"):
///
/// - the remote GOAWAY error: h2 gives it to the streams above the GOAWAY's last-stream-id
///   when the frame arrives, and to streams opened after it; streams the server had accepted
///   fail later, when the connection ends, with an I/O error instead;
/// - RST_STREAM(REFUSED_STREAM) from the server.
pub(crate) fn is_unprocessed(err: &h2::Error) -> bool {
    err.is_remote()
        && (err.is_go_away()
            || (err.is_reset() && err.reason() == Some(h2::Reason::REFUSED_STREAM)))
}

enum State {
    Waiting(ResponseFuture),
    Reading(MessageReader),
    Done(Option<Status>),
}

/// Reads a response: headers, messages, trailers, status — shared by every call kind.
pub(crate) struct ResponseReader {
    state: State,
    headers: Option<Metadata>,
    trailers: Option<Metadata>,
    send: Option<SharedSend>,
    pub(crate) deadline: Deadline,
    max_recv: usize,
    /// The stream failed before its response head in a way that proves the server never
    /// processed it ([`is_unprocessed`]).
    unprocessed: bool,
    /// The last message returned arrived compressed.
    last_compressed: bool,
    /// Counts the call as in flight on its connection, for keepalive, while the reader lives.
    _active: ActiveCall,
    pub(crate) trace: Option<CallTrace>,
    /// A streaming call under a retry policy, while uncommitted.
    retry: Option<Box<StreamRetry>>,
}

impl ResponseReader {
    pub(crate) fn new(
        response: ResponseFuture,
        send: Option<SharedSend>,
        deadline: Deadline,
        max_recv: usize,
        active: ActiveCall,
        trace: Option<CallTrace>,
    ) -> ResponseReader {
        ResponseReader {
            state: State::Waiting(response),
            headers: None,
            trailers: None,
            send,
            deadline,
            max_recv,
            unprocessed: false,
            last_compressed: false,
            _active: active,
            trace,
            retry: None,
        }
    }

    /// Whether the call failed in a way that proves the server never processed it, so that it
    /// may be sent again (see [`is_unprocessed`]).
    pub(crate) fn unprocessed(&self) -> bool {
        self.unprocessed
    }

    /// Ends the call with `status`, resetting the stream with CANCEL if it is still open.
    fn fail(&mut self, status: Status) -> Status {
        let status = self.deadline.adjust(status);
        if !matches!(self.state, State::Done(_)) {
            if let Some(send) = &self.send {
                reset(send, h2::Reason::CANCEL, self.trace.as_ref());
            }
        }
        self.state = State::Done(Some(status.clone()));
        status
    }

    pub(crate) fn cancel(&mut self) {
        if !matches!(self.state, State::Done(_)) {
            self.fail(Status::cancelled("the call was cancelled by the client"));
        }
    }

    pub(crate) async fn headers(&mut self) -> Result<&Metadata, Status> {
        if let State::Waiting(_) = self.state {
            self.read_head().await?;
        }
        Ok(self.headers.get_or_insert_with(Metadata::new))
    }

    async fn read_head(&mut self) -> Result<(), Status> {
        loop {
            let State::Waiting(response) = &mut self.state else { return Ok(()) };
            let response = match self.deadline.run(response).await {
                Ok(Ok(response)) => response,
                Ok(Err(err)) => {
                    if let Some(trace) = &self.trace {
                        trace.h2_error(&err);
                    }
                    let status = status_from_h2(&err);
                    if self.retry.is_some() {
                        match self.again(status).await {
                            Ok(()) => continue,
                            Err(status) => return Err(self.fail(status)),
                        }
                    }
                    self.unprocessed = is_unprocessed(&err);
                    return Err(self.fail(status));
                }
                Err(deadline) => return Err(self.fail(deadline)),
            };
            if let Some(trace) = &self.trace {
                let (status, headers) = (response.status(), response.headers());
                let end_stream = response.body().is_end_stream();
                let payload = Payload::ResponseHeaders { status, headers, end_stream };
                trace.emit(Direction::Recv, payload);
            }
            return match head(response) {
                Ok(Head::Body(headers, body, encoding)) => {
                    if let Some(retry) = &self.retry {
                        retry.replay.commit();
                    }
                    self.headers = Some(headers);
                    let mut reader = MessageReader::new(body, self.max_recv, self.trace.clone());
                    reader.set_encoding(encoding);
                    self.state = State::Reading(reader);
                    Ok(())
                }
                Ok(Head::TrailersOnly(headers, status)) => {
                    // A Trailers-Only failure leaves the call uncommitted: it may be retried.
                    let status = match self.retry.is_some() && !status.is_ok() {
                        true => match self.again(status).await {
                            Ok(()) => continue,
                            Err(status) => status,
                        },
                        false => status,
                    };
                    self.headers = Some(headers.clone());
                    self.trailers = Some(headers);
                    self.state = State::Done(Some(status));
                    Ok(())
                }
                Err(status) => Err(self.fail(status)),
            };
        }
    }

    /// Under a retry policy, a failure before the response head: the next attempt, or the
    /// status to report.
    async fn again(&mut self, status: Status) -> Result<(), Status> {
        let (Some(retry), Some(send)) = (self.retry.as_mut(), self.send.as_ref()) else {
            return Err(status);
        };
        let (response, active, trace) = retry.again(status, send, &mut self.deadline).await?;
        self.state = State::Waiting(response);
        self._active = active;
        self.trace = trace;
        Ok(())
    }

    /// Lets the call be retried under `retry` while it is uncommitted.
    pub(crate) fn with_retry(mut self, retry: StreamRetry) -> ResponseReader {
        self.retry = Some(Box::new(retry));
        self
    }

    /// The next message; `Ok(None)` at an OK end; the status of any other end as `Err`.
    pub(crate) async fn message(&mut self) -> Result<Option<Bytes>, Status> {
        loop {
            match &mut self.state {
                State::Waiting(_) => self.read_head().await?,
                State::Reading(_) => match std::future::poll_fn(|cx| self.poll_body(cx)).await {
                    Ok(Some(message)) => return Ok(Some(message)),
                    Ok(None) => self.read_trailers().await?,
                    Err(status) => return Err(self.fail(status)),
                },
                State::Done(None) => return Ok(None),
                State::Done(Some(status)) if status.is_ok() => return Ok(None),
                State::Done(Some(status)) => return Err(status.clone()),
            }
        }
    }

    /// The next message of the body, `Ok(None)` at its end, or why it failed (a reset, a bad
    /// message, the deadline). A plain poll rather than nested futures: this runs once per
    /// message of every stream.
    fn poll_body(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<Bytes>, Status>> {
        let State::Reading(reader) = &mut self.state else { return Poll::Ready(Ok(None)) };
        if let Poll::Ready(result) = reader.poll_message(cx, status_from_h2) {
            self.last_compressed = reader.last_compressed();
            return Poll::Ready(result);
        }
        self.deadline.poll_expired(cx).map(Err)
    }

    async fn read_trailers(&mut self) -> Result<(), Status> {
        let State::Reading(reader) = &mut self.state else { return Ok(()) };
        let trailers = std::future::poll_fn(|cx| reader.poll_trailers(cx));
        let status = match self.deadline.run(trailers).await {
            Ok(Ok(Some(trailers))) => {
                if let Some(trace) = &self.trace {
                    trace.emit(Direction::Recv, Payload::Trailers { headers: &trailers });
                }
                // Like the status's own metadata: an undecodable `-bin` entry is dropped alone.
                self.trailers = Some(Metadata::from_headers_lossy(&trailers));
                if Status::is_plain_ok(&trailers) {
                    // The usual end: nothing in an OK status is kept beyond the trailers, so
                    // none is built (one allocation and a second metadata copy per call).
                    self.state = State::Done(None);
                    return Ok(());
                }
                Status::from_headers(&trailers).unwrap_or_else(|| {
                    Status::unknown("the server's trailers carry no grpc-status")
                })
            }
            Ok(Ok(None)) => Status::internal("the server ended the stream without trailers"),
            Ok(Err(err)) => status_from_h2(&err),
            Err(deadline) => deadline,
        };
        if status.is_ok() {
            self.state = State::Done(Some(status));
            Ok(())
        } else {
            Err(self.fail(status))
        }
    }

    pub(crate) fn trailers(&self) -> Option<&Metadata> {
        self.trailers.as_ref()
    }

    pub(crate) fn into_metadata(mut self) -> (Metadata, Metadata) {
        // Taken, not cloned: `Drop` forbids moving fields out, and only `state` matters to it.
        (self.headers.take().unwrap_or_default(), self.trailers.take().unwrap_or_default())
    }

    /// Reads a single response message and the OK status after it.
    pub(crate) async fn single<T: prost::Message + Default + std::fmt::Debug>(
        mut self,
    ) -> Result<Response<T>, Status> {
        let Some(first) = self.message().await? else {
            return Err(Status::unimplemented(
                "response cardinality violation: the server sent no response message",
            ));
        };
        let compressed = self.last_compressed;
        // Decoded (and traced) now, in wire order; a second message still fails first.
        let decoded =
            crate::call::recv::decode_message(first, compressed, self.trace.as_ref(), "response");
        if self.message().await?.is_some() {
            return Err(self.fail(Status::unimplemented(
                "response cardinality violation: the server sent more than one response message",
            )));
        }
        let message = decoded?;
        let (headers, trailers) = self.into_metadata();
        Ok(Response { compressed, ..Response::new(headers, message, trailers) })
    }
}

impl Drop for ResponseReader {
    fn drop(&mut self) {
        // Dropping a response before its end cancels the call (RST_STREAM CANCEL).
        if !matches!(self.state, State::Done(_)) {
            if let Some(send) = &self.send {
                reset(send, h2::Reason::CANCEL, self.trace.as_ref());
            }
        }
    }
}

enum Head {
    /// Response headers, the body, and the `grpc-encoding` of its flag-1 messages.
    Body(Metadata, RecvStream, Result<Encoding, UnsupportedEncoding>),
    TrailersOnly(Metadata, Status),
}

/// Checks response headers (PROTOCOL-HTTP2.md "Responses", http-grpc-status-mapping.md):
/// `grpc-status` wins when present, whatever the HTTP status; otherwise a non-200 status maps
/// through the HTTP table, and a 200 that is not gRPC is UNKNOWN.
fn head(response: http::Response<RecvStream>) -> Result<Head, Status> {
    let (parts, body) = response.into_parts();
    let trailers_only = body.is_end_stream();
    if let Some(status) = Status::from_headers(&parts.headers) {
        let headers = Metadata::from_headers_lossy(&parts.headers);
        return Ok(Head::TrailersOnly(headers, status));
    }
    if parts.status != http::StatusCode::OK {
        return Err(Status::from_http_status(parts.status.as_u16()));
    }
    match parts.headers.get(http::header::CONTENT_TYPE) {
        Some(ct) if is_grpc_content_type(ct) => {}
        other => {
            return Err(Status::unknown(format!(
                "the response is not gRPC: content-type {:?}",
                other
                    .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                    .unwrap_or_default()
            )))
        }
    }
    if trailers_only {
        return Err(Status::unknown("the server ended the call without a grpc-status"));
    }
    // An encoding we do not support fails the call only if a compressed message comes.
    let encoding = parse_grpc_encoding(parts.headers.get(GRPC_ENCODING));
    let headers = Metadata::from_headers(parts.headers).map_err(Status::from)?;
    Ok(Head::Body(headers, body, encoding))
}

/// The server's messages on a server-streaming or bidi call.
///
/// `message()` returns `Ok(None)` after the last message when the call ended OK, and the
/// status as `Err` otherwise. Dropping it before the end cancels the call (RST_STREAM CANCEL).
///
/// ```no_run
/// # async fn f(mut stream: h2grpc::client::ResponseStream<String>) -> Result<(), h2grpc::Status> {
/// while let Some(reply) = stream.message().await? {
///     println!("{reply}");
/// }
/// println!("trailers: {:?}", stream.trailers());
/// # Ok(()) }
/// ```
pub struct ResponseStream<T> {
    reader: ResponseReader,
    _type: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for ResponseStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Streaming").finish_non_exhaustive()
    }
}

impl<T: prost::Message + Default + fmt::Debug> ResponseStream<T> {
    pub(crate) fn new(reader: ResponseReader) -> ResponseStream<T> {
        ResponseStream { reader, _type: PhantomData }
    }

    /// The next message, `Ok(None)` at an OK end, or the call's failure.
    pub async fn message(&mut self) -> Result<Option<T>, Status> {
        match self.reader.message().await? {
            Some(bytes) => crate::call::recv::decode_message(
                bytes,
                self.reader.last_compressed,
                self.reader.trace.as_ref(),
                "response",
            )
            .map(Some),
            None => Ok(None),
        }
    }

    /// The response headers, waiting for them if needed.
    pub async fn headers(&mut self) -> Result<&Metadata, Status> {
        self.reader.headers().await
    }

    /// The trailing metadata, once the stream has ended.
    pub fn trailers(&self) -> Option<&Metadata> {
        self.reader.trailers()
    }

    /// Cancels the call (RST_STREAM CANCEL); later reads fail with CANCELLED.
    pub fn cancel(&mut self) {
        self.reader.cancel();
    }

    /// Whether the last message [`message`](Self::message) returned arrived compressed
    /// (Compressed-Flag 1). For diagnostics and interop tests: it is already decompressed.
    #[cfg(feature = "compression")]
    pub fn last_message_compressed(&self) -> bool {
        self.reader.last_compressed
    }
}
