//! The handle a traced call's hooks hold. Every hook site holds an `Option<CallTrace>`, `None`
//! when the trace is off, so that tracing costs one branch when off.

use std::fmt;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use super::{Direction, Event, Payload, Side, TraceSink};
use crate::codec::HEADER_LEN;

/// A reset from this side was reported.
const RESET_SENT: u8 = 1;
/// The peer's RST_STREAM or GOAWAY was reported.
const PEER_ENDED: u8 = 2;

/// One call's trace: the sink, the side and the stream, plus which once-per-call events were
/// already reported (several handles of one call may each notice the same reset).
#[derive(Clone)]
pub(crate) struct CallTrace {
    sink: Arc<dyn TraceSink>,
    side: Side,
    stream_id: u32,
    reported: Arc<AtomicU8>,
}

impl fmt::Debug for CallTrace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallTrace")
            .field("side", &self.side)
            .field("stream_id", &self.stream_id)
            .finish_non_exhaustive()
    }
}

impl CallTrace {
    pub(crate) fn new(sink: Arc<dyn TraceSink>, side: Side, stream_id: u32) -> CallTrace {
        CallTrace { sink, side, stream_id, reported: Arc::new(AtomicU8::new(0)) }
    }

    pub(crate) fn emit(&self, direction: Direction, payload: Payload<'_>) {
        let event = Event { side: self.side, stream_id: self.stream_id, direction, payload };
        self.sink.event(&event);
    }

    /// A message this side framed: `framed` is the 5-byte prefix and the body.
    pub(crate) fn sent(&self, framed: &[u8], decoded: Option<&dyn fmt::Debug>) {
        let compressed = framed.first() == Some(&1);
        let body = framed.get(HEADER_LEN..).unwrap_or_default();
        self.emit(Direction::Send, Payload::Message { compressed, body, decoded });
    }

    /// A message this side received (the decoder refuses compressed ones, so the flag was 0).
    pub(crate) fn received(&self, body: &[u8], decoded: Option<&dyn fmt::Debug>) {
        self.emit(Direction::Recv, Payload::Message { compressed: false, body, decoded });
    }

    /// This side reset the stream; `h2` sends one RST_STREAM at most, so only the first is
    /// reported.
    pub(crate) fn reset_sent(&self, reason: h2::Reason) {
        if self.first(RESET_SENT) {
            self.emit(Direction::Send, Payload::Reset { reason });
        }
    }

    /// The peer reset the stream with `reason`; reported once.
    pub(crate) fn reset_received(&self, reason: h2::Reason) {
        if self.first(PEER_ENDED) {
            self.emit(Direction::Recv, Payload::Reset { reason });
        }
    }

    /// An `h2` failure of the stream: reports the peer's RST_STREAM or GOAWAY behind it, once.
    pub(crate) fn h2_error(&self, err: &h2::Error) {
        let Some(reason) = err.reason() else { return };
        let payload = if err.is_go_away() {
            Payload::GoAway { reason }
        } else if err.is_reset() && err.is_remote() {
            Payload::Reset { reason }
        } else {
            return;
        };
        if self.first(PEER_ENDED) {
            let direction = if err.is_remote() { Direction::Recv } else { Direction::Send };
            self.emit(direction, payload);
        }
    }

    fn first(&self, flag: u8) -> bool {
        self.reported.fetch_or(flag, Ordering::Relaxed) & flag == 0
    }
}

/// Text already formatted with `Debug`, shown as it is.
pub(crate) struct Preformatted<'a>(pub(crate) &'a str);

impl fmt::Debug for Preformatted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}
