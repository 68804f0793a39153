//! Sending messages, as both sides do: framed messages queue up in a [`SendQueue`] and leave
//! in chunks as flow control allows ([`poll_send_chunk`]).
//!
//! ```text
//!  writer                                    owner of the h2 SendStream
//!  encode(m) ──▶ [ SendQueue ] ─take_chunk(capacity)─▶ poll_send_chunk ─▶ send_data ─▶ DATA
//! ```
//!
//! Messages a fast writer produces while the socket is busy pile up in the queue and leave as
//! one `send_data` call: few large DATA frames instead of one small frame per message. `h2`
//! never holds more than its per-stream send buffer, so memory per call is bounded by that plus
//! [`COALESCE_BYTES`] plus one message. The server's handler writes into the queue from its own
//! task, through `server::outbox`; the client's request sink owns its queue.

use std::task::{ready, Context, Poll};

use bytes::{Bytes, BytesMut};
use h2::SendStream;

use super::COALESCE_BYTES;
use crate::codec::{FrameHeader, HEADER_LEN};
use crate::status::mapping::{from_h2_error, Side};
use crate::status::Status;

/// The least room [`SendQueue`] makes for the next messages after handing a chunk to `h2`.
const MIN_ROOM: usize = 4 * 1024;

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
        if capacity >= self.buf.len() {
            // Everything fits, and the queue ends between messages (they are queued whole):
            // no need to walk the prefixes of a burst of small messages one by one.
            self.rest_of_cut = 0;
            return self.split_off_front(self.buf.len());
        }
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
    ///
    /// The room made is sized after the chunk just taken (twice it, from 4 KiB up to
    /// [`COALESCE_BYTES`]): the chunk keeps the old allocation alive until `h2` has written
    /// it, so a call sending small bursts (one of a thousand broadcast subscribers) would
    /// otherwise pin a fresh 80 KiB allocation for every few hundred bytes it sends.
    fn split_off_front(&mut self, n: usize) -> Bytes {
        let chunk = self.buf.split_to(n).freeze();
        let room = (2 * n).clamp(MIN_ROOM, COALESCE_BYTES);
        if self.buf.capacity() - self.buf.len() < room {
            self.buf.reserve(room + room / 4);
        }
        chunk
    }
}

/// One turn of the flow-controlled send loop both sides run: waits until `h2` grants
/// capacity for some of the `wanted` queued bytes, then hands it the chunk `take` cuts to fit.
///
/// `h2` buffers whatever `send_data` gets, past the peer's window: reserving first and sending
/// no more than was granted keeps memory per call bounded. A failure, or a stream that can no
/// longer send, reads as `side`'s status for it.
pub(crate) fn poll_send_chunk(
    side: Side,
    stream: &mut SendStream<Bytes>,
    cx: &mut Context<'_>,
    wanted: usize,
    take: impl FnOnce(usize) -> Bytes,
) -> Poll<Result<(), Status>> {
    let failed = |err: h2::Error| Poll::Ready(Err(from_h2_error(side, &err)));
    loop {
        stream.reserve_capacity(wanted);
        let capacity = stream.capacity();
        if capacity > 0 {
            return match stream.send_data(take(capacity), false) {
                Ok(()) => Poll::Ready(Ok(())),
                Err(err) => failed(err),
            };
        }
        match ready!(stream.poll_capacity(cx)) {
            Some(Ok(_)) => {}
            Some(Err(err)) => return failed(err),
            None => return failed(h2::Error::from(h2::Reason::STREAM_CLOSED)),
        }
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
