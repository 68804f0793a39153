//! The driver of one server call: it polls the handler, the client's resets, the deadline and
//! the end of the shutdown grace period together, and moves the handler's response into `h2`.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use h2::server::SendResponse;
use h2::SendStream;
use http::StatusCode;

use super::handler::{BoxFuture, Reply};
use super::outbox::{Outbox, OutboxState};
use crate::call::headers;
use crate::call::send::poll_send_chunk;
use crate::cancel::Cancellation;
use crate::metadata::Metadata;
use crate::status::mapping::{from_h2_error, from_reset, Side};
use crate::status::Status;
use crate::trace::{CallTrace, Direction, Payload, Preformatted};

/// Reports response headers, or a Trailers-Only response when `end_stream`.
pub(super) fn trace_head(trace: &CallTrace, response: &http::Response<()>, end_stream: bool) {
    let (status, headers) = (response.status(), response.headers());
    trace.emit(Direction::Send, Payload::ResponseHeaders { status, headers, end_stream });
}

/// Runs the handler and catches its panic, so a panicking handler fails only its own call.
pub(super) struct CatchUnwind(pub(super) BoxFuture<Result<Reply, Status>>);

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
pub(super) enum Responder {
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
        trace: &CallTrace,
    ) -> Result<&mut SendStream<Bytes>, Status> {
        if let Responder::Pending(respond) = self {
            let metadata = state.take_headers();
            let encoding = state.freeze_encoding();
            let response = headers::response(encoding, metadata.as_ref());
            trace_head(trace, &response, false);
            let stream = respond
                .send_response(response, false)
                .map_err(|err| from_h2_error(Side::Server, &err))?;
            *self = Responder::Open(stream);
        }
        match self {
            Responder::Open(stream) => Ok(stream),
            // Only reached after `finish`, which the driver never follows with writes.
            _ => Err(Status::internal("the response has ended")),
        }
    }

    /// Moves queued messages into h2, as much as flow control allows now.
    fn poll_flush(
        &mut self,
        cx: &mut Context<'_>,
        outbox: &Outbox,
        trace: &CallTrace,
    ) -> Poll<Result<(), Status>> {
        loop {
            let mut state = outbox.lock();
            state.set_driver_waker(cx.waker());
            let pending = state.pending();
            if pending == 0 {
                return Poll::Ready(Ok(()));
            }
            let stream = self.open(&mut state, trace)?;
            ready!(poll_send_chunk(Side::Server, stream, cx, pending, |n| state.take_chunk(n)))?;
        }
    }

    /// Ends the response with `status`: Trailers-Only if nothing was sent, else the remaining
    /// messages and then trailers. Later writes to the sink fail.
    pub(super) fn finish(
        &mut self,
        outbox: &Outbox,
        unary: Option<(Bytes, Option<String>)>,
        status: &Status,
        trace: &CallTrace,
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
            mut open => match open.open(&mut state, trace) {
                Ok(stream) => send_tail(stream, rest, unary, status, &trailers, trace),
                Err(_) => Ok(()),
            },
        };
        // A failure here means the client is gone; there is nobody left to tell.
        let _ = result;
    }
}

/// The end of an open response: the messages still queued, the unary reply, the trailers.
fn send_tail(
    stream: &mut SendStream<Bytes>,
    rest: Bytes,
    unary: Option<(Bytes, Option<String>)>,
    status: &Status,
    trailers: &Metadata,
    trace: &CallTrace,
) -> Result<(), h2::Error> {
    if !rest.is_empty() {
        stream.send_data(rest, false)?;
    }
    if let Some((body, shown)) = unary {
        let shown = shown.as_deref().map(Preformatted);
        trace.sent(&body, 0, shown.as_ref().map(|s| s as &dyn std::fmt::Debug));
        stream.send_data(body, false)?;
    }
    let trailers = headers::trailers(status, Some(trailers));
    trace.emit(Direction::Send, Payload::Trailers { headers: &trailers });
    stream.send_trailers(trailers)
}

/// Polls the handler, the client's resets, the deadline and the end of the shutdown grace
/// period together, in the call's own task.
pub(super) struct Driver<'a, 'b> {
    pub(super) handler: CatchUnwind,
    pub(super) responder: Responder,
    pub(super) outbox: Arc<Outbox>,
    pub(super) cancellation: Cancellation,
    pub(super) deadline: Option<Pin<Box<tokio::time::Sleep>>>,
    /// Fires when the server's shutdown grace period is over. Polled once, to register this
    /// task's waker; then `None`, and the shutdown stage is read instead (an atomic load,
    /// where polling the future takes the token's locks on every wake-up), as `conn.rs` does.
    pub(super) forced: Option<Pin<&'a mut tokio_util::sync::WaitForCancellationFuture<'b>>>,
    pub(super) shutdown: &'b super::ShutdownSignal,
    /// The response is complete (or reset); the handler may still be running.
    pub(super) finished: bool,
    pub(super) trace: CallTrace,
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
                let status = match result {
                    Ok(reason) => {
                        this.trace.reset_received(reason);
                        from_reset(Side::Server, reason)
                    }
                    Err(err) => {
                        this.trace.h2_error(&err);
                        from_h2_error(Side::Server, &err)
                    }
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
            if let Poll::Ready(Err(status)) =
                this.responder.poll_flush(cx, &this.outbox, &this.trace)
            {
                this.end_early(status, false);
            }
        }
        Poll::Pending
    }
}
