//! The handle a call's hooks hold: one word, empty when the trace is off. Each hook is an
//! inlined test of that word; the work behind it is `#[cold]` and never inlined, so that the
//! branch is laid out as unlikely and the hot paths keep their size. Call sites hold a
//! `CallTrace` whether tracing is on or not, and call its hooks without a branch of their own.

use std::fmt;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;

use super::{Direction, Event, Payload, Side, TraceSink};
use crate::codec::HEADER_LEN;

/// A reset from this side was reported.
const RESET_SENT: u8 = 1;
/// The peer's RST_STREAM or GOAWAY was reported.
const PEER_ENDED: u8 = 2;

/// One call's trace: when on, the sink, the side and the stream, plus which once-per-call
/// events were already reported (several handles of one call may each notice the same reset).
///
/// One pointer wide: a null pointer when the trace is off.
#[derive(Clone, Default)]
pub(crate) struct CallTrace(Option<Arc<Inner>>);

struct Inner {
    sink: Arc<dyn TraceSink>,
    side: Side,
    stream_id: u32,
    reported: AtomicU8,
}

impl fmt::Debug for CallTrace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            None => f.write_str("CallTrace(off)"),
            Some(inner) => f
                .debug_struct("CallTrace")
                .field("side", &inner.side)
                .field("stream_id", &inner.stream_id)
                .finish_non_exhaustive(),
        }
    }
}

/// Each hook: the inlined test of the handle, then the out-of-line work on the traced path.
macro_rules! hooks {
    ($(
        $(#[$doc:meta])*
        fn $name:ident / $traced:ident (&$inner:ident $(, $arg:ident: $ty:ty)*) $body:block
    )*) => {$(
        $(#[$doc])*
        #[inline]
        pub(crate) fn $name(&self $(, $arg: $ty)*) {
            if let Some(inner) = &self.0 {
                Self::$traced(inner $(, $arg)*);
            }
        }

        #[cold]
        #[inline(never)]
        fn $traced($inner: &Inner $(, $arg: $ty)*) $body
    )*};
}

impl CallTrace {
    /// The handle of an untraced call: every hook does nothing.
    #[inline]
    pub(crate) const fn off() -> CallTrace {
        CallTrace(None)
    }

    #[cold]
    #[inline(never)]
    pub(crate) fn new(sink: Arc<dyn TraceSink>, side: Side, stream_id: u32) -> CallTrace {
        CallTrace(Some(Arc::new(Inner { sink, side, stream_id, reported: AtomicU8::new(0) })))
    }

    /// Whether events are being sent anywhere: to skip work that only feeds the trace.
    #[inline]
    pub(crate) fn is_on(&self) -> bool {
        self.0.is_some()
    }

    hooks! {
        /// Sends one event of this call.
        fn emit / emit_traced(&inner, direction: Direction, payload: Payload<'_>) {
            inner.emit(direction, payload);
        }

        /// A message this side framed: `buf[start..]` is the 5-byte prefix and the body (cut
        /// here, on the traced path, so that an untraced call does not pay for the slicing).
        fn sent / sent_traced(
            &inner, buf: &[u8], start: usize, decoded: Option<&dyn fmt::Debug>
        ) {
            let framed = buf.get(start..).unwrap_or_default();
            let compressed = framed.first() == Some(&1);
            let body = framed.get(HEADER_LEN..).unwrap_or_default();
            inner.emit(Direction::Send, Payload::Message { compressed, body, decoded });
        }

        /// A message this side received: its Compressed-Flag, and its body as decompressed.
        fn received / received_traced(
            &inner, compressed: bool, body: &[u8], decoded: Option<&dyn fmt::Debug>
        ) {
            inner.emit(Direction::Recv, Payload::Message { compressed, body, decoded });
        }

        /// This side reset the stream; `h2` sends one RST_STREAM at most, so only the first is
        /// reported.
        fn reset_sent / reset_sent_traced(&inner, reason: h2::Reason) {
            if inner.first(RESET_SENT) {
                inner.emit(Direction::Send, Payload::Reset { reason });
            }
        }

        /// The peer reset the stream with `reason`; reported once.
        fn reset_received / reset_received_traced(&inner, reason: h2::Reason) {
            if inner.first(PEER_ENDED) {
                inner.emit(Direction::Recv, Payload::Reset { reason });
            }
        }

        /// An `h2` failure of the stream: reports the peer's RST_STREAM or GOAWAY behind it,
        /// once.
        fn h2_error / h2_error_traced(&inner, err: &h2::Error) {
            let Some(reason) = err.reason() else { return };
            let payload = if err.is_go_away() {
                Payload::GoAway { reason }
            } else if err.is_reset() && err.is_remote() {
                Payload::Reset { reason }
            } else {
                return;
            };
            if inner.first(PEER_ENDED) {
                let direction = if err.is_remote() { Direction::Recv } else { Direction::Send };
                inner.emit(direction, payload);
            }
        }
    }
}

impl Inner {
    fn emit(&self, direction: Direction, payload: Payload<'_>) {
        let event = Event { side: self.side, stream_id: self.stream_id, direction, payload };
        self.sink.event(&event);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_untraced_call_holds_one_word() {
        assert_eq!(std::mem::size_of::<CallTrace>(), std::mem::size_of::<usize>());
    }
}
