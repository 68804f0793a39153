//! The two halves a streaming handler holds: [`RequestStream`] to read, [`ResponseSink`] to write.

use std::borrow::Borrow;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use crate::call::recv::MessageReader;
use crate::call::send::Outbox;
use crate::codec::encode_message;
use crate::status::Status;

/// The client's messages, in order. Owned by one reader; ends with `Ok(None)` when the client
/// half-closes.
///
/// ```no_run
/// # use h2grpc::server::RequestStream;
/// # async fn sum(mut requests: RequestStream<u64>) -> Result<u64, h2grpc::Status> {
/// let mut total = 0;
/// while let Some(n) = requests.message().await? {
///     total += n;
/// }
/// # Ok(total) }
/// ```
pub struct RequestStream<T> {
    reader: MessageReader,
    _type: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for RequestStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestStream").finish_non_exhaustive()
    }
}

impl<T: prost::Message + Default> RequestStream<T> {
    pub(crate) fn new(reader: MessageReader) -> RequestStream<T> {
        RequestStream { reader, _type: PhantomData }
    }

    /// The next request; `Ok(None)` after the client's last one. A cancelled call, a message
    /// over the receive limit or a malformed message is an `Err` with the matching status.
    pub async fn message(&mut self) -> Result<Option<T>, Status> {
        match self.reader.message(super::call::status_from_h2).await? {
            Some(bytes) => super::service::decode(bytes).map(Some),
            None => Ok(None),
        }
    }
}

/// Where a handler writes its response messages. `send` waits while earlier messages are still
/// queued (HTTP/2 flow control reaches the handler this way).
///
/// The sink may move into another task; once the call has ended (the handler returned, the
/// client cancelled, the deadline passed) `send` returns that error instead of writing.
///
/// ```no_run
/// # use h2grpc::server::ResponseSink;
/// # async fn count(mut sink: ResponseSink<u32>) -> Result<(), h2grpc::Status> {
/// for i in 0..10u32 {
///     sink.send(i).await?; // or sink.send(&i)
/// }
/// # Ok(()) }
/// ```
pub struct ResponseSink<T> {
    outbox: Arc<Outbox>,
    max_send_len: usize,
    _type: PhantomData<fn(T)>,
}

impl<T> fmt::Debug for ResponseSink<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseSink").field("max_send_len", &self.max_send_len).finish()
    }
}

impl<T: prost::Message> ResponseSink<T> {
    pub(crate) fn new(outbox: Arc<Outbox>, max_send_len: usize) -> ResponseSink<T> {
        ResponseSink { outbox, max_send_len, _type: PhantomData }
    }

    /// Queues one message for the client, waiting for room first.
    pub async fn send(&mut self, message: impl Borrow<T>) -> Result<(), Status> {
        let message = message.borrow();
        let max = self.max_send_len;
        let mut encode = |buf: &mut bytes::BytesMut| encode_message(message, max, buf);
        std::future::poll_fn(|cx| self.outbox.poll_push(cx, &mut encode)).await
    }

    /// Queues an already framed message (5-byte prefix + body), as a broadcast encodes once
    /// for all its subscribers.
    pub(crate) async fn send_framed(&mut self, framed: &bytes::Bytes) -> Result<(), Status> {
        let mut copy = |buf: &mut bytes::BytesMut| {
            buf.extend_from_slice(framed);
            Ok(framed.len())
        };
        std::future::poll_fn(|cx| self.outbox.poll_push(cx, &mut copy)).await
    }

    /// Whether the call has ended, so that `send` would fail.
    pub fn is_closed(&self) -> bool {
        self.outbox.lock().is_closed()
    }
}
