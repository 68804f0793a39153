//! The handle a traced call's hooks hold. Every hook site holds an `Option<CallTrace>`, `None`
//! when the trace is off, so that tracing costs one branch when off. The methods are `#[cold]`
//! and never inlined: the branch is laid out as unlikely and the hot paths keep their size.

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
///
/// One pointer wide, so that `Option<CallTrace>` adds 8 bytes to the structs that hold it.
#[derive(Clone)]
pub(crate) struct CallTrace(Arc<Inner>);

struct Inner {
    sink: Arc<dyn TraceSink>,
    side: Side,
    stream_id: u32,
    reported: AtomicU8,
}

impl fmt::Debug for CallTrace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CallTrace")
            .field("side", &self.0.side)
            .field("stream_id", &self.0.stream_id)
            .finish_non_exhaustive()
    }
}

impl CallTrace {
    #[cold]
    #[inline(never)]
    pub(crate) fn new(sink: Arc<dyn TraceSink>, side: Side, stream_id: u32) -> CallTrace {
        CallTrace(Arc::new(Inner { sink, side, stream_id, reported: AtomicU8::new(0) }))
    }

    #[cold]
    #[inline(never)]
    pub(crate) fn emit(&self, direction: Direction, payload: Payload<'_>) {
        let Inner { sink, side, stream_id, .. } = &*self.0;
        let event = Event { side: *side, stream_id: *stream_id, direction, payload };
        sink.event(&event);
    }

    /// A message this side framed: `framed` is the 5-byte prefix and the body.
    #[cold]
    #[inline(never)]
    pub(crate) fn sent(&self, framed: &[u8], decoded: Option<&dyn fmt::Debug>) {
        let compressed = framed.first() == Some(&1);
        let body = framed.get(HEADER_LEN..).unwrap_or_default();
        self.emit(Direction::Send, Payload::Message { compressed, body, decoded });
    }

    /// A message this side received: its Compressed-Flag, and its body as decompressed.
    #[cold]
    #[inline(never)]
    pub(crate) fn received(&self, compressed: bool, body: &[u8], decoded: Option<&dyn fmt::Debug>) {
        self.emit(Direction::Recv, Payload::Message { compressed, body, decoded });
    }

    /// This side reset the stream; `h2` sends one RST_STREAM at most, so only the first is
    /// reported.
    #[cold]
    #[inline(never)]
    pub(crate) fn reset_sent(&self, reason: h2::Reason) {
        if self.first(RESET_SENT) {
            self.emit(Direction::Send, Payload::Reset { reason });
        }
    }

    /// The peer reset the stream with `reason`; reported once.
    #[cold]
    #[inline(never)]
    pub(crate) fn reset_received(&self, reason: h2::Reason) {
        if self.first(PEER_ENDED) {
            self.emit(Direction::Recv, Payload::Reset { reason });
        }
    }

    /// An `h2` failure of the stream: reports the peer's RST_STREAM or GOAWAY behind it, once.
    #[cold]
    #[inline(never)]
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
        self.0.reported.fetch_or(flag, Ordering::Relaxed) & flag == 0
    }
}

/// Text already formatted with `Debug`, shown as it is.
pub(crate) struct Preformatted<'a>(pub(crate) &'a str);

impl fmt::Debug for Preformatted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_untraced_call_holds_one_word() {
        assert_eq!(std::mem::size_of::<Option<CallTrace>>(), std::mem::size_of::<usize>());
    }
}
