//! [`RequestSink`]: the request half of a client-streaming or bidi call.

use std::borrow::Borrow;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use bytes::Bytes;

use super::deadline::Deadline;
use super::replay::Replay;
use super::shared_send::{reset, SharedSend};
use crate::call::send::{poll_send_chunk, SendQueue};
use crate::call::COALESCE_BYTES;
use crate::codec::compression::{encode_compressed, Encoding};
use crate::status::mapping::{from_h2_error, Side};
use crate::status::Status;
use crate::trace::CallTrace;

/// The request half of a streaming call. `send` waits for HTTP/2 flow control; `close` (or
/// dropping the sink) half-closes the stream so the server sees the end of requests.
///
/// If `send` fails because the server already ended the call, the call's real status comes
/// from the response side.
pub struct RequestSink<T> {
    _type: PhantomData<fn(T)>,
    send: SharedSend,
    /// Under a retry policy: what was sent, for a new attempt.
    replay: Option<Arc<Replay>>,
    queue: SendQueue,
    max_send_len: usize,
    /// What request messages are compressed with.
    encoding: Encoding,
    closed: Option<Status>,
    deadline: Deadline,
    trace: CallTrace,
}

impl<T> RequestSink<T> {
    /// The sink of a call whose request stream is `send`; `replay` under a retry policy.
    pub(crate) fn new(
        send: SharedSend,
        replay: Option<Arc<Replay>>,
        (max_send_len, encoding): (usize, Encoding),
        deadline: Deadline,
        trace: CallTrace,
    ) -> RequestSink<T> {
        let (queue, closed, _type) = (SendQueue::default(), None, PhantomData);
        RequestSink { _type, send, replay, queue, max_send_len, encoding, closed, deadline, trace }
    }

    /// Sends `chunk` with END_STREAM, through the replay buffer under a retry policy. A
    /// failure is the response side's to report.
    fn send_last(&self, chunk: Bytes) {
        let _ = match &self.replay {
            Some(replay) => replay.send(&self.send, chunk, true),
            None => self.send.lock().unwrap_or_else(|p| p.into_inner()).send_data(chunk, true),
        };
    }
}

impl<T: prost::Message + fmt::Debug> RequestSink<T> {
    /// Sends one message and waits until it is handed to the connection.
    pub async fn send(&mut self, message: impl Borrow<T>) -> Result<(), Status> {
        self.feed(message).await?;
        self.flush().await
    }

    /// Queues one message without flushing it, so several can leave in one DATA frame; waits
    /// only when the queue is over 64 KiB. Follow with [`flush`](Self::flush) or
    /// [`close`](Self::close).
    pub async fn feed(&mut self, message: impl Borrow<T>) -> Result<(), Status> {
        self.feed_with(message.borrow(), self.encoding).await
    }

    /// Like [`send`](Self::send), but this message leaves uncompressed (flag 0) even when the
    /// call compresses: gRPC compresses per message, so that data an attacker could mix with
    /// secrets (CRIME, BREACH) or bytes that are already compressed can be left alone.
    #[cfg(feature = "compression")]
    pub async fn send_uncompressed(&mut self, message: impl Borrow<T>) -> Result<(), Status> {
        self.feed_with(message.borrow(), Encoding::Identity).await?;
        self.flush().await
    }

    async fn feed_with(&mut self, message: &T, encoding: Encoding) -> Result<(), Status> {
        if let Some(status) = &self.closed {
            return Err(status.clone());
        }
        if self.queue.len() >= COALESCE_BYTES {
            self.flush().await?;
        }
        let buf = self.queue.buf_mut();
        let start = buf.len();
        encode_compressed(message, encoding, self.max_send_len, buf)?;
        self.trace.sent(buf, start, Some(message));
        Ok(())
    }

    /// Hands every queued message to the connection, waiting for flow-control capacity.
    pub async fn flush(&mut self) -> Result<(), Status> {
        if let Some(status) = &self.closed {
            return Err(status.clone());
        }
        if self.queue.is_empty() {
            return Ok(());
        }
        if let Some(replay) = self.replay.as_ref().filter(|r| !r.is_committed()) {
            // Uncommitted: at most the retry buffer is unsent, so h2 may hold it without a
            // wait for capacity; a dead stream's bytes go out again on the next attempt.
            let chunk = self.queue.take_all();
            if let Err(err) = replay.send(&self.send, chunk, false) {
                return Err(self.fail(from_h2_error(Side::Client, &err)));
            }
            return Ok(());
        }
        while !self.queue.is_empty() {
            let (wanted, send, queue) = (self.queue.len(), &self.send, &mut self.queue);
            let sent = std::future::poll_fn(|cx| {
                let mut stream = send.lock().unwrap_or_else(|p| p.into_inner());
                poll_send_chunk(Side::Client, &mut stream, cx, wanted, |n| queue.take_chunk(n))
            });
            match self.deadline.run(sent).await {
                Ok(Ok(())) => {}
                Ok(Err(status)) | Err(status) => return Err(self.fail(status)),
            }
        }
        Ok(())
    }

    /// Flushes, then half-closes: the server's request stream ends. Idempotent.
    ///
    /// Fails only if queued messages could not be flushed. Once they are out, half-closing
    /// succeeds even when the server has already ended the call (and reset the request side,
    /// as the spec's early closure asks): there is nothing left to tell it, and the call's
    /// status comes from the response side. grpc-go's `CloseSend` behaves the same.
    pub async fn close(&mut self) -> Result<(), Status> {
        if self.closed.is_some() {
            return Ok(());
        }
        self.flush().await?;
        self.closed = Some(Status::failed_precondition("the request stream is already closed"));
        // An empty DATA frame with END_STREAM, as PROTOCOL-HTTP2.md asks for a half-close. It
        // fails only on a stream that can no longer send: ended or reset by the server, or a
        // dead connection. The response side reports each of those.
        self.send_last(Bytes::new());
        Ok(())
    }

    /// Cancels the whole call: RST_STREAM CANCEL; the response side fails with CANCELLED.
    pub fn cancel(&mut self) {
        self.fail(Status::cancelled("the call was cancelled by the client"));
    }

    fn fail(&mut self, status: Status) -> Status {
        let status = self.deadline.adjust(status);
        if let Some(replay) = &self.replay {
            // Cancelled, or failed on a committed call: no attempt after this one.
            replay.commit();
        }
        if self.closed.is_none() {
            reset(&self.send, h2::Reason::CANCEL, &self.trace);
        }
        self.queue.clear();
        self.closed = Some(status.clone());
        status
    }
}

impl<T> Drop for RequestSink<T> {
    fn drop(&mut self) {
        if self.closed.is_none() {
            // Half-close with whatever is queued; h2 buffers at most what we already hold.
            let rest = self.queue.take_all();
            self.send_last(rest);
        }
    }
}

impl<T> fmt::Debug for RequestSink<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestSink").field("buffered", &self.queue.len()).finish_non_exhaustive()
    }
}
