//! Sending messages: the outbox a server handler's sink writes into and the call driver drains
//! into `h2` as flow control allows.
//!
//! ```text
//!  handler task(s)                      call driver (owns the h2 SendStream)
//!  sink.send(m) ──encode──▶ [ outbox: SendQueue ] ─take_chunk(capacity)─▶ send_data ─▶ DATA
//!        ▲ waits while the outbox holds          │ wakes the sink when it drains
//!        └───────── ≥ COALESCE_BYTES ◀────────────┘
//! ```
//!
//! One writer of `h2` per stream (the driver) keeps `h2`'s single per-stream waker for
//! capacity and resets with one task. Messages a fast writer produces while the socket is busy
//! pile up in the outbox and leave as one `send_data` call: few large DATA frames instead of one
//! small frame per message. `h2` never holds more than its per-stream send buffer, so memory per
//! call is bounded by that plus [`COALESCE_BYTES`] plus one message.

use std::sync::{Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use bytes::{Bytes, BytesMut};

use super::COALESCE_BYTES;
use crate::codec::compression::{AcceptEncoding, Encoding};
use crate::codec::{EncodeError, FrameHeader, HEADER_LEN};
use crate::metadata::Metadata;
use crate::status::Status;

/// Framed messages (prefix + body, back to back) waiting for `h2`, cut into chunks for
/// `send_data` at message boundaries where flow control allows.
///
/// A chunk that ends between messages becomes DATA frames that end between messages, so the
/// receiver finds each message inside one frame and decodes it from that frame's bytes without
/// copying it (a message split across frames must first be copied together). When not even one
/// whole message fits the capacity `h2` grants, a chunk ends inside it: waiting for more could
/// wait forever (the peer's window may be smaller than the message).
#[derive(Debug, Default)]
pub(crate) struct SendQueue {
    buf: BytesMut,
    /// Bytes at the front of `buf` that finish a message whose start already left.
    rest_of_cut: usize,
}

impl SendQueue {
    pub(crate) fn len(&self) -> usize {
        self.buf.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Where the next framed message is encoded: at the end, after whole messages.
    pub(crate) fn buf_mut(&mut self) -> &mut BytesMut {
        &mut self.buf
    }

    /// Drops everything queued.
    pub(crate) fn clear(&mut self) {
        self.buf.clear();
        self.rest_of_cut = 0;
    }

    /// Everything queued, to go out as the last DATA of the stream.
    pub(crate) fn take_all(&mut self) -> Bytes {
        self.rest_of_cut = 0;
        self.buf.split().freeze()
    }

    /// The next chunk for `send_data`, at most `capacity` bytes: the queued messages that fit
    /// whole (after the rest of a cut one), else the first `capacity` bytes.
    pub(crate) fn take_chunk(&mut self, capacity: usize) -> Bytes {
        let capacity = capacity.min(self.buf.len());
        let (n, rest_of_cut) = if self.rest_of_cut >= capacity {
            (capacity, self.rest_of_cut - capacity)
        } else {
            let mut end = self.rest_of_cut;
            while let Some(len) = self.message_len_at(end) {
                if end + len > capacity {
                    break;
                }
                end += len;
            }
            match (end, self.message_len_at(0)) {
                // Not even the first message fits: cut inside it.
                (0, Some(first)) => (capacity, first - capacity),
                (0, None) => (capacity, 0),
                (end, _) => (end, 0),
            }
        };
        self.rest_of_cut = rest_of_cut;
        self.split_off_front(n)
    }

    /// The framed length of the message whose prefix starts at `at`, if the prefix is queued.
    fn message_len_at(&self, at: usize) -> Option<usize> {
        let prefix = self.buf.get(at..)?.first_chunk::<HEADER_LEN>()?;
        let header = FrameHeader::parse(*prefix).ok()?;
        Some(HEADER_LEN + header.len as usize)
    }

    /// Splits the first `n` bytes off to hand to `h2` while the call goes on, and leaves room
    /// for the next batch.
    ///
    /// Once a chunk is split off, the rest of `buf` shares the chunk's allocation; when the next
    /// messages no longer fit, `BytesMut::reserve` must then copy everything pending (up to
    /// [`COALESCE_BYTES`]) into a new allocation. Re-allocating here instead, when the spare room
    /// runs low and little is pending, keeps that copy small: for a stream of 1 KiB messages the
    /// copies were 40% of the sending side's instructions.
    fn split_off_front(&mut self, n: usize) -> Bytes {
        let chunk = self.buf.split_to(n).freeze();
        if self.buf.capacity() - self.buf.len() < COALESCE_BYTES {
            self.buf.reserve(COALESCE_BYTES + COALESCE_BYTES / 4);
        }
        chunk
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A queue holding framed messages with these body sizes; also returns each message's end.
    fn queue_of(sizes: &[usize]) -> (SendQueue, Vec<usize>) {
        let mut queue = SendQueue::default();
        let mut ends = Vec::new();
        for (i, &size) in sizes.iter().enumerate() {
            let body = vec![i as u8; size];
            crate::codec::encode_raw(&body, false, queue.buf_mut()).unwrap();
            ends.push(queue.len());
        }
        (queue, ends)
    }

    #[test]
    fn a_chunk_takes_the_whole_messages_that_fit_and_no_part_of_the_next() {
        let (mut queue, ends) = queue_of(&[100, 100, 100]);
        let chunk = queue.take_chunk(ends[1] + 50);
        assert_eq!(chunk.len(), ends[1]);
        assert_eq!(queue.take_chunk(usize::MAX).len(), ends[2] - ends[1]);
        assert!(queue.is_empty());
    }

    #[test]
    fn a_message_larger_than_the_capacity_is_cut_and_its_rest_leaves_first() {
        let (mut queue, ends) = queue_of(&[1000, 10]);
        assert_eq!(queue.take_chunk(300).len(), 300);
        assert_eq!(queue.take_chunk(300).len(), 300);
        // The rest of the first message, then the second whole: both fit.
        assert_eq!(queue.take_chunk(usize::MAX).len(), ends[1] - 600);
    }

    #[test]
    fn after_a_cut_the_rest_of_the_message_ends_the_chunk_when_the_next_does_not_fit() {
        let (mut queue, ends) = queue_of(&[1000, 1000]);
        queue.take_chunk(900);
        assert_eq!(queue.take_chunk(500).len(), ends[0] - 900);
        assert_eq!(queue.take_chunk(usize::MAX).len(), ends[1] - ends[0]);
    }

    proptest! {
        #[test]
        fn chunks_carry_every_byte_in_order_and_end_between_messages_whenever_one_fits(
            sizes in proptest::collection::vec(0usize..3000, 1..20),
            capacities in proptest::collection::vec(1usize..5000, 1..50),
        ) {
            let (mut queue, ends) = queue_of(&sizes);
            let original = queue.buf.clone();
            let mut sent = Vec::new();
            for capacity in capacities.iter().cycle() {
                if queue.is_empty() {
                    break;
                }
                let start = sent.len();
                let chunk = queue.take_chunk(*capacity);
                prop_assert!(!chunk.is_empty() && chunk.len() <= *capacity);
                sent.extend_from_slice(&chunk);
                let end = sent.len();
                let boundary = |at: usize| at == 0 || ends.contains(&at);
                if !boundary(end) {
                    // Cut inside a message only when the chunk is full and lies within it.
                    prop_assert_eq!(chunk.len(), *capacity);
                    prop_assert!(!ends.iter().any(|&e| e > start && e < end));
                }
            }
            prop_assert_eq!(&sent[..], &original[..]);
        }
    }
}
