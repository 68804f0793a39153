//! The outbox a server handler's sink writes into and the call driver drains into `h2` as
//! flow control allows, with the response metadata and compression settled along the way.
//!
//! ```text
//!  handler task(s)                      call driver (owns the h2 SendStream)
//!  sink.send(m) ──encode──▶ [ outbox: SendQueue ] ─take_chunk(capacity)─▶ send_data ─▶ DATA
//!        ▲ waits while the outbox holds          │ wakes the sink when it drains
//!        └───────── ≥ COALESCE_BYTES ◀────────────┘
//! ```
//!
//! One writer of `h2` per stream (the driver) keeps `h2`'s single per-stream waker for
//! capacity and resets with one task.

use std::sync::{Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use bytes::{Bytes, BytesMut};

use crate::call::send::SendQueue;
use crate::call::COALESCE_BYTES;
use crate::codec::compression::{AcceptEncoding, Encoding};
use crate::codec::EncodeError;
use crate::metadata::Metadata;
use crate::status::Status;

/// State shared by a server call's context, its response sink and its driver.
#[derive(Debug, Default)]
pub(crate) struct Outbox {
    state: Mutex<OutboxState>,
}

/// How a server call's response messages may be compressed: the encoding asked for (by the
/// server, the service, then the handler) and those the client's `grpc-accept-encoding`
/// lists. Settled when the response headers, which name it, are frozen.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct SendCompression {
    pub(crate) wanted: Encoding,
    pub(crate) accepted: AcceptEncoding,
}

#[derive(Debug, Default)]
pub(crate) struct OutboxState {
    queue: SendQueue,
    /// Why writes now fail, once the call has ended or was cancelled.
    closed: Option<Status>,
    /// Response metadata to send with the headers; `None` once the headers are out.
    headers: Option<Metadata>,
    /// No more response metadata may be added: a message was queued (the headers leave with
    /// it, at a time the handler cannot observe) or the headers were sent.
    headers_frozen: bool,
    /// Trailing metadata set by the handler.
    pub(crate) trailers: Metadata,
    compression: SendCompression,
    sink_waker: Option<Waker>,
    driver_waker: Option<Waker>,
}

impl Outbox {
    pub(crate) fn new(compression: SendCompression) -> Outbox {
        let state = OutboxState { compression, ..OutboxState::default() };
        Outbox { state: Mutex::new(state) }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, OutboxState> {
        // A panic while the lock is held cannot leave the state half-updated in a way that
        // matters (each field is written whole), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|poison| poison.into_inner())
    }

    /// Encodes one message into the outbox, waiting while it is full.
    pub(crate) fn poll_push(
        &self,
        cx: &mut Context<'_>,
        encode: &mut dyn FnMut(&mut BytesMut) -> Result<usize, EncodeError>,
    ) -> Poll<Result<(), Status>> {
        let mut state = self.lock();
        if let Some(status) = &state.closed {
            return Poll::Ready(Err(status.clone()));
        }
        if state.queue.len() >= COALESCE_BYTES {
            state.sink_waker = Some(cx.waker().clone());
            return Poll::Pending;
        }
        let was_empty = state.queue.is_empty();
        encode(state.queue.buf_mut())?;
        state.headers_frozen = true;
        if was_empty {
            // The driver flushes after every poll of the handler; wake it only if the sink
            // runs in another task.
            if let Some(driver) = &state.driver_waker {
                if !driver.will_wake(cx.waker()) {
                    driver.wake_by_ref();
                }
            }
        }
        Poll::Ready(Ok(()))
    }

    /// Fails every later write with `status` and wakes a waiting sink.
    pub(crate) fn close(&self, status: Status) {
        self.lock().close(status);
    }
}

impl OutboxState {
    /// Fails every later write with `status` (the first reason wins), drops what is queued and
    /// wakes a waiting sink.
    pub(crate) fn close(&mut self, status: Status) {
        if self.closed.is_none() {
            self.closed = Some(status);
        }
        self.queue.clear();
        if let Some(waker) = self.sink_waker.take() {
            waker.wake();
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.closed.is_some()
    }

    pub(crate) fn pending(&self) -> usize {
        self.queue.len()
    }

    /// Everything pending, as the call ends.
    pub(crate) fn take_all(&mut self) -> Bytes {
        let chunk = self.queue.take_all();
        self.wake_sink_if_room();
        chunk
    }

    /// The next chunk for `send_data`, at most `capacity` bytes ([`SendQueue::take_chunk`]),
    /// waking a sink that waits for room.
    pub(crate) fn take_chunk(&mut self, capacity: usize) -> Bytes {
        let chunk = self.queue.take_chunk(capacity);
        self.wake_sink_if_room();
        chunk
    }

    fn wake_sink_if_room(&mut self) {
        if self.queue.len() < COALESCE_BYTES {
            if let Some(waker) = self.sink_waker.take() {
                waker.wake();
            }
        }
    }

    pub(crate) fn set_driver_waker(&mut self, waker: &Waker) {
        match &self.driver_waker {
            Some(w) if w.will_wake(waker) => {}
            _ => self.driver_waker = Some(waker.clone()),
        }
    }

    /// Response metadata, once: the headers go out with it.
    pub(crate) fn take_headers(&mut self) -> Option<Metadata> {
        self.headers_frozen = true;
        self.headers.take()
    }

    /// The encoding of the response messages, settled from now on: the one asked for if the
    /// client accepts it, else identity. Freezes the response headers, which name it.
    pub(crate) fn freeze_encoding(&mut self) -> Encoding {
        self.headers_frozen = true;
        let SendCompression { wanted, accepted } = self.compression;
        if accepted.contains(wanted) {
            wanted
        } else {
            Encoding::Identity
        }
    }

    /// Asks for `encoding` for the response messages; an error once the headers are frozen.
    #[cfg(feature = "compression")]
    pub(crate) fn set_compression(&mut self, encoding: Encoding) -> Result<(), Status> {
        if self.headers_frozen {
            return Err(Status::failed_precondition(
                "response headers were already sent; set the compression before the first message",
            ));
        }
        self.compression.wanted = encoding;
        Ok(())
    }

    /// Adds trailing metadata; an error once the call has ended, as the trailers are then
    /// out (or the stream was reset) and a late entry would be silently lost.
    pub(crate) fn trailers_mut(&mut self) -> Result<&mut Metadata, Status> {
        if let Some(status) = &self.closed {
            return Err(Status::new(
                status.code(),
                format!("trailers can no longer be set: {}", status.message()),
            ));
        }
        Ok(&mut self.trailers)
    }

    /// Adds response metadata; an error once the headers have been sent.
    pub(crate) fn headers_mut(&mut self) -> Result<&mut Metadata, Status> {
        if self.headers_frozen {
            return Err(Status::failed_precondition(
                "response headers were already sent; set them before the first message",
            ));
        }
        Ok(self.headers.get_or_insert_with(Metadata::new))
    }
}
