//! The request stream handle both halves of a call hold, so that either may reset the stream.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use h2::SendStream;

use crate::trace::CallTrace;

/// The request stream handle shared with the response side, so either may reset the stream.
pub(crate) type SharedSend = Arc<Mutex<SendStream<Bytes>>>;

/// Resets the stream with `reason`, for either half.
pub(crate) fn reset(send: &SharedSend, reason: h2::Reason, trace: &CallTrace) {
    trace.reset_sent(reason);
    send.lock().unwrap_or_else(|p| p.into_inner()).send_reset(reason);
}
