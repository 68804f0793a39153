//! Receiving messages: an `h2::RecvStream` fed through the framing [`Decoder`].

use std::task::{ready, Context, Poll};

use bytes::Bytes;
use h2::RecvStream;
use http::HeaderMap;

use crate::codec::compression::{decompress, Encoding, UnsupportedEncoding};
use crate::codec::{DecodeError, Decoder, RawMessage};
use crate::status::mapping::{from_h2_error, Side};
use crate::status::Status;
use crate::trace::CallTrace;

/// Whole messages out of a stream's DATA frames.
///
/// Flow control: each chunk's capacity is released as soon as the chunk reaches the decoder.
/// The decoder holds at most one partial message (bounded by the receive limit) plus the rest
/// of one DATA frame, and chunks are only pulled when the application asks for a message, so
/// the peer can never have more than the HTTP/2 window in flight on top of that.
///
/// Compressed messages are decompressed here, one at a time, under the same receive limit.
#[derive(Debug)]
pub(crate) struct MessageReader {
    body: RecvStream,
    decoder: Decoder,
    data_done: bool,
    /// The stream's `grpc-encoding`, which flag-1 messages are compressed with.
    encoding: Result<Encoding, UnsupportedEncoding>,
    /// Whether the last message returned arrived compressed (Compressed-Flag 1).
    last_compressed: bool,
    /// Which side reads: how an `h2` failure of the stream reads as a status.
    side: Side,
    /// Reports the peer's RST_STREAM or GOAWAY when the stream fails.
    trace: CallTrace,
}

impl MessageReader {
    pub(crate) fn new(
        side: Side,
        body: RecvStream,
        max_len: usize,
        trace: CallTrace,
    ) -> MessageReader {
        MessageReader {
            side,
            body,
            decoder: Decoder::with_max_len(max_len),
            data_done: false,
            encoding: Ok(Encoding::Identity),
            last_compressed: false,
            trace,
        }
    }

    /// Sets the stream's `grpc-encoding` (identity until then). Under any other encoding,
    /// flag-1 messages are accepted and decompressed, or, in an encoding this build does not
    /// support, fail the call with INTERNAL.
    pub(crate) fn set_encoding(&mut self, encoding: Result<Encoding, UnsupportedEncoding>) {
        self.decoder.set_compression_negotiated(encoding != Ok(Encoding::Identity));
        self.encoding = encoding;
    }

    /// Whether the last message returned arrived compressed.
    #[cfg_attr(not(feature = "compression"), allow(dead_code))]
    pub(crate) fn last_compressed(&self) -> bool {
        self.last_compressed
    }

    /// The next message decoded as `T` ([`decode_message`]; `what` names it), `Ok(None)` at
    /// the end.
    pub(crate) async fn next<T: prost::Message + Default + std::fmt::Debug>(
        &mut self,
        what: &'static str,
    ) -> Result<Option<T>, Status> {
        match self.message().await? {
            Some(bytes) => self.decode(bytes, what).map(Some),
            None => Ok(None),
        }
    }

    /// Decodes a message this reader just returned as `T` ([`decode_message`]).
    pub(crate) fn decode<T: prost::Message + Default + std::fmt::Debug>(
        &self,
        bytes: Bytes,
        what: &'static str,
    ) -> Result<T, Status> {
        decode_message(bytes, self.last_compressed, &self.trace, what)
    }

    /// A message's body, decompressed if its flag says so.
    fn open(&mut self, message: RawMessage) -> Result<Bytes, Status> {
        self.last_compressed = message.compressed;
        if !message.compressed {
            return Ok(message.data);
        }
        let opened = match &self.encoding {
            Ok(encoding) => decompress(*encoding, &message.data, self.decoder.max_len()),
            Err(unsupported) => {
                Err(DecodeError::UnsupportedEncoding { name: unsupported.name().to_owned() })
            }
        };
        opened.map_err(Status::from)
    }

    /// The next message; `Ok(None)` once the peer's DATA is over and nothing is left over. An
    /// `h2` failure (a reset, a dead connection) reads as this side's status for it.
    pub(crate) fn poll_message(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Option<Bytes>, Status>> {
        loop {
            match self.decoder.next() {
                Ok(Some(msg)) => return Poll::Ready(self.open(msg).map(Some)),
                Ok(None) => {}
                Err(err) => return Poll::Ready(Err(err.into())),
            }
            if self.data_done {
                return Poll::Ready(self.decoder.finish().map(|()| None).map_err(Status::from));
            }
            match ready!(self.body.poll_data(cx)) {
                Some(Ok(chunk)) => {
                    // Releasing can only fail if the stream is already gone; the next poll
                    // reports that.
                    let _ = self.body.flow_control().release_capacity(chunk.len());
                    self.decoder.push(chunk);
                }
                Some(Err(err)) => {
                    self.trace.h2_error(&err);
                    return Poll::Ready(Err(from_h2_error(self.side, &err)));
                }
                None => self.data_done = true,
            }
        }
    }

    /// The next message, as a future.
    pub(crate) async fn message(&mut self) -> Result<Option<Bytes>, Status> {
        std::future::poll_fn(|cx| self.poll_message(cx)).await
    }

    /// The trailers, once [`poll_message`](Self::poll_message) returned `Ok(None)`.
    pub(crate) fn poll_trailers(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Result<Option<HeaderMap>, h2::Error>> {
        let result = ready!(self.body.poll_trailers(cx));
        if let Err(err) = &result {
            self.trace.h2_error(err);
        }
        Poll::Ready(result)
    }
}

/// Decodes one received message as `T`. A message that does not parse is INTERNAL
/// (statuscodes.md: "Error parsing request proto" / "Error parsing response proto"); `what` says
/// which. The trace, if on, sees the bytes and the decoded message.
#[inline]
pub(crate) fn decode_message<T: prost::Message + Default + std::fmt::Debug>(
    bytes: Bytes,
    compressed: bool,
    trace: &CallTrace,
    what: &'static str,
) -> Result<T, Status> {
    let result = match trace.is_on() {
        false => T::decode(bytes),
        true => decode_traced(bytes, compressed, trace),
    };
    result.map_err(|err| Status::internal(format!("failed to decode {what}: {err}")))
}

/// The traced arm of [`decode_message`], out of line so that the untraced path stays small.
#[cold]
#[inline(never)]
fn decode_traced<T: prost::Message + Default + std::fmt::Debug>(
    bytes: Bytes,
    compressed: bool,
    trace: &CallTrace,
) -> Result<T, prost::DecodeError> {
    let result = T::decode(bytes.clone());
    trace.received(compressed, &bytes, result.as_ref().ok().map(|m| m as &dyn std::fmt::Debug));
    result
}
