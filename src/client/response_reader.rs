//! [`ResponseReader`]: how a call reads its response (head, messages, trailers, status),
//! shared by every call kind and under the public [`Response`](super::Response) and
//! [`ResponseStream`](super::ResponseStream).

use std::task::{Context, Poll};

use bytes::Bytes;
use h2::client::ResponseFuture;
use h2::RecvStream;

use super::deadline::Deadline;
use super::keepalive::ActiveCall;
use super::replay::{is_unprocessed, StreamRetry};
use super::shared_send::{reset, SharedSend};
use crate::call::headers::is_grpc_content_type;
use crate::call::recv::MessageReader;
use crate::codec::compression::{parse_grpc_encoding, Encoding, UnsupportedEncoding};
use crate::metadata::{Metadata, GRPC_ENCODING};
use crate::status::mapping::{from_h2_error, Side};
use crate::status::Status;
use crate::trace::{CallTrace, Direction, Payload};

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
    trace: CallTrace,
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
        trace: CallTrace,
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
    pub(crate) fn fail(&mut self, status: Status) -> Status {
        let status = self.deadline.adjust(status);
        self.reset();
        self.state = State::Done(Some(status.clone()));
        status
    }

    /// Resets the stream with CANCEL if the call has not ended.
    fn reset(&self) {
        if let (false, Some(send)) = (matches!(self.state, State::Done(_)), &self.send) {
            reset(send, h2::Reason::CANCEL, &self.trace);
        }
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
                    self.trace.h2_error(&err);
                    let status = from_h2_error(Side::Client, &err);
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
            let (status, headers) = (response.status(), response.headers());
            let end_stream = response.body().is_end_stream();
            let payload = Payload::ResponseHeaders { status, headers, end_stream };
            self.trace.emit(Direction::Recv, payload);
            return match head(response) {
                Ok(Head::Body(headers, body, encoding)) => {
                    if let Some(retry) = &self.retry {
                        retry.replay.commit();
                    }
                    self.headers = Some(headers);
                    let (max, trace) = (self.max_recv, self.trace.clone());
                    let mut reader = MessageReader::new(Side::Client, body, max, trace);
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
        if let Poll::Ready(result) = reader.poll_message(cx) {
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
                self.trace.emit(Direction::Recv, Payload::Trailers { headers: &trailers });
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
            Ok(Err(err)) => from_h2_error(Side::Client, &err),
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

    /// Decodes a message [`message`](Self::message) returned.
    pub(crate) fn decode<T: prost::Message + Default + std::fmt::Debug>(
        &self,
        bytes: Bytes,
    ) -> Result<T, Status> {
        crate::call::recv::decode_message(bytes, self.last_compressed, &self.trace, "response")
    }

    /// Whether the last message [`message`](Self::message) returned arrived compressed.
    #[cfg_attr(not(feature = "compression"), allow(dead_code))]
    pub(crate) fn last_compressed(&self) -> bool {
        self.last_compressed
    }
}

impl Drop for ResponseReader {
    fn drop(&mut self) {
        // Dropping a response before its end cancels the call (RST_STREAM CANCEL).
        self.reset();
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
