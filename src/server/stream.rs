//! The two halves a streaming handler holds: [`RequestStream`] to read, [`ResponseSink`] to write.
//! The client's are named the same way, after the messages in them: it writes on a
//! [`RequestSink`](crate::client::RequestSink) and reads a
//! [`ResponseStream`](crate::client::ResponseStream).

use std::borrow::Borrow;
use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use super::outbox::Outbox;
use crate::call::recv::MessageReader;
use crate::call::COALESCE_BYTES;
use crate::codec::compression::encode_compressed;
use crate::codec::encode_message;
use crate::status::Status;
use crate::trace::CallTrace;

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

impl<T: prost::Message + Default + fmt::Debug> RequestStream<T> {
    /// The next request; `Ok(None)` after the client's last one. A cancelled call, a message
    /// over the receive limit or a malformed message is an `Err` with the matching status.
    pub async fn message(&mut self) -> Result<Option<T>, Status> {
        self.reader.next("request").await
    }

    /// Whether the last message [`message`](Self::message) returned arrived compressed
    /// (Compressed-Flag 1). For diagnostics and interop tests: it is already decompressed.
    #[cfg(feature = "compression")]
    pub fn last_message_compressed(&self) -> bool {
        self.reader.last_compressed()
    }
}

impl<T> RequestStream<T> {
    pub(crate) fn new(reader: MessageReader) -> RequestStream<T> {
        RequestStream { reader, _type: PhantomData }
    }
}

impl<T> fmt::Debug for RequestStream<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestStream").finish_non_exhaustive()
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
    _type: PhantomData<fn(T)>,
    outbox: Arc<Outbox>,
    max_send_len: usize,
    trace: CallTrace,
}

impl<T: prost::Message> ResponseSink<T> {
    pub(crate) fn new(
        outbox: Arc<Outbox>,
        max_send_len: usize,
        trace: CallTrace,
    ) -> ResponseSink<T> {
        ResponseSink { outbox, max_send_len, trace, _type: PhantomData }
    }

    /// Queues one message for the client, waiting for room first. It is compressed if the call
    /// compresses its responses (see [`CallContext::set_compression`](super::CallContext)).
    pub async fn send(&mut self, message: impl Borrow<T>) -> Result<(), Status>
    where
        T: fmt::Debug,
    {
        let message = message.borrow();
        self.send_with(message, true, Some(message)).await
    }

    /// Like [`send`](Self::send), but this message leaves uncompressed (flag 0) even when the
    /// call compresses: gRPC compresses per message, so that data an attacker could mix with
    /// secrets (CRIME, BREACH) or bytes that are already compressed can be left alone.
    #[cfg(feature = "compression")]
    pub async fn send_uncompressed(&mut self, message: impl Borrow<T>) -> Result<(), Status>
    where
        T: fmt::Debug,
    {
        let message = message.borrow();
        self.send_with(message, false, Some(message)).await
    }

    /// [`send`](Self::send) for types that may lack `Debug`: the trace shows only the bytes.
    pub(crate) async fn send_undebuggable(&mut self, message: &T) -> Result<(), Status> {
        self.send_with(message, true, None).await
    }

    /// Encodes `message`, compressed if `compress` and the call compresses, into the outbox;
    /// the trace, if on, sees the framed bytes and `shown`.
    async fn send_with(
        &mut self,
        message: &T,
        compress: bool,
        shown: Option<&(dyn fmt::Debug + Sync)>,
    ) -> Result<(), Status> {
        let max = self.max_send_len;
        let encoding = match compress && cfg!(feature = "compression") {
            true => self.outbox.lock().freeze_encoding(),
            false => Default::default(),
        };
        if encoding.is_compressed() {
            // Compressed here, outside the outbox's lock, then queued as it is.
            let mut framed = bytes::BytesMut::new();
            encode_compressed(message, encoding, max, &mut framed)?;
            return self.push_framed(&framed.freeze(), shown, &mut |_| false).await;
        }
        let trace = &self.trace;
        let mut encode = |buf: &mut bytes::BytesMut| {
            let start = buf.len();
            let n = encode_message(message, max, buf)?;
            trace.sent(buf, start, shown.map(|m| m as &dyn fmt::Debug));
            Ok(n)
        };
        std::future::poll_fn(|cx| self.outbox.poll_push(cx, &mut encode)).await
    }

    /// Queues an already framed message (5-byte prefix + body), the trace, if on, seeing it
    /// and `shown`; then, under the same lock while the outbox has room, what `more` appends:
    /// one framed message per call, `true`, or `false` when it has none ready (a broadcast's
    /// burst: the driver, woken once for the lot, sends them in one `send_data`).
    pub(crate) async fn push_framed(
        &mut self,
        framed: &bytes::Bytes,
        shown: Option<&(dyn fmt::Debug + Sync)>,
        more: &mut (dyn FnMut(&mut bytes::BytesMut) -> bool + Send),
    ) -> Result<(), Status> {
        let trace = &self.trace;
        let mut copy = |buf: &mut bytes::BytesMut| {
            let first = buf.len();
            buf.extend_from_slice(framed);
            trace.sent(framed, 0, shown.map(|m| m as &dyn fmt::Debug));
            loop {
                let start = buf.len();
                if start >= COALESCE_BYTES || !more(buf) {
                    return Ok(buf.len() - first);
                }
                trace.sent(buf, start, None);
            }
        };
        std::future::poll_fn(|cx| self.outbox.poll_push(cx, &mut copy)).await
    }

    /// Whether the call has ended, so that `send` would fail.
    pub fn is_closed(&self) -> bool {
        self.outbox.lock().is_closed()
    }
}

impl<T> fmt::Debug for ResponseSink<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseSink").field("max_send_len", &self.max_send_len).finish()
    }
}
