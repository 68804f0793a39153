//! Retrying client- and bidi-streaming calls (gRFC A6) while they are uncommitted: the request
//! bytes sent so far are kept, up to the retry buffer, and replayed on a new stream when the
//! call fails before the response headers.

use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use h2::client::ResponseFuture;
use h2::SendStream;

use super::deadline::Deadline;
use super::keepalive::ActiveCall;
use super::retry::Retry;
use super::shared_send::SharedSend;
use super::{CallOptions, Channel};
use crate::status::Status;
use crate::trace::CallTrace;

/// The request bytes of an uncommitted streaming call.
pub(crate) struct Replay {
    state: Mutex<ReplayState>,
    limit: usize,
}

#[derive(Default)]
struct ReplayState {
    frames: Vec<Bytes>,
    bytes: usize,
    half_closed: bool,
    /// Response headers came, the buffer overflowed or the caller cancelled: no more retries.
    committed: bool,
}

impl Replay {
    pub(crate) fn new(limit: usize) -> Replay {
        Replay { state: Mutex::default(), limit }
    }

    fn lock(&self) -> MutexGuard<'_, ReplayState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn is_committed(&self) -> bool {
        self.lock().committed
    }

    /// No retry from now on; the kept bytes are freed.
    pub(crate) fn commit(&self) {
        let mut state = self.lock();
        state.committed = true;
        state.frames = Vec::new();
    }

    /// Sends `chunk` (and END_STREAM if `end`) on the current stream and keeps it for a
    /// replay, both under one lock, so that a new attempt gets every byte exactly once. While
    /// uncommitted, a failed send is no error: the bytes go out again on the next attempt, and
    /// the call's status comes from the response side. `Err` only once committed.
    pub(crate) fn send(&self, send: &SharedSend, chunk: Bytes, end: bool) -> Result<(), h2::Error> {
        let mut state = self.lock();
        if !state.committed {
            state.bytes += chunk.len();
            if state.bytes > self.limit {
                // A6: the call commits to this attempt; the overflowing bytes just go out.
                state.committed = true;
                state.frames = Vec::new();
            } else {
                state.frames.push(chunk.clone());
                state.half_closed |= end;
            }
        }
        let sent = send.lock().unwrap_or_else(|p| p.into_inner()).send_data(chunk, end);
        if state.committed {
            sent
        } else {
            Ok(())
        }
    }

    /// Replays the kept bytes on `stream`, a new attempt's, and makes it the call's stream.
    fn swap(&self, send: &SharedSend, mut stream: SendStream<Bytes>) {
        let state = self.lock();
        // At most the retry buffer (256 KiB by default): h2 may buffer it all.
        for frame in &state.frames {
            let _ = stream.send_data(frame.clone(), false);
        }
        if state.half_closed {
            let _ = stream.send_data(Bytes::new(), true);
        }
        *send.lock().unwrap_or_else(|p| p.into_inner()) = stream;
    }
}

/// What a streaming call's response side needs to start another attempt.
pub(crate) struct StreamRetry {
    pub(crate) channel: Channel,
    pub(crate) path: String,
    pub(crate) options: CallOptions,
    pub(crate) retry: Retry,
    pub(crate) replay: Arc<Replay>,
}

/// A new attempt's response side.
pub(crate) type Attempt = (ResponseFuture, ActiveCall, CallTrace);

impl StreamRetry {
    /// After the attempt failed with `status` before its response headers: waits the backoff,
    /// opens a new stream, replays the request bytes on it. `Err` is the status to report.
    pub(crate) async fn again(
        &mut self,
        status: Status,
        send: &SharedSend,
        deadline: &mut Deadline,
    ) -> Result<Attempt, Status> {
        if self.replay.is_committed() {
            return Err(status);
        }
        self.retry.failed(status, false).await?;
        let options = self.retry.options(&self.options).into_owned();
        let (response, stream, active, trace) =
            self.channel.start(&self.path, &options, deadline).await?;
        self.replay.swap(send, stream);
        Ok((response, active, trace))
    }
}

/// Whether an `h2` failure proves the server never processed the stream, so that the call may
/// be retried on another connection (PROTOCOL-HTTP2.md, "Idempotency and Retries"):
///
/// - the remote GOAWAY error: h2 gives it to the streams above the GOAWAY's last-stream-id
///   when the frame arrives, and to streams opened after it; streams the server had accepted
///   fail later, when the connection ends, with an I/O error instead;
/// - RST_STREAM(REFUSED_STREAM) from the server.
pub(crate) fn is_unprocessed(err: &h2::Error) -> bool {
    err.is_remote()
        && (err.is_go_away()
            || (err.is_reset() && err.reason() == Some(h2::Reason::REFUSED_STREAM)))
}
