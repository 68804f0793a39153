//! Plays a [`Script`](super::Script) on one end of a connection: writes each action's bytes in
//! the current chunk size, reads (and scans) what the other end sends, and never deadlocks
//! itself: a write that cannot proceed reads instead, even while reading is "stopped".

use std::future::poll_fn;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};

use super::frames::{ACK, PING};
use super::script::{wire, Action};
use crate::h2wire::{Head, HEAD_LEN};

/// Follows the frames in the bytes the other end sends: 9-byte headers, payloads skipped, except
/// PING payloads, kept so the player can acknowledge them as any HTTP/2 peer must (the client
/// waits for its first PING's ACK before a connection is ready).
#[derive(Debug, Default)]
struct Scanner {
    /// Bytes still to skip: the client preface, or the rest of a payload.
    skip: usize,
    header: Vec<u8>,
    /// Stream ids of the HEADERS frames seen, in order.
    headers: Vec<u32>,
    /// The payload of a PING (not an ACK) being read.
    ping: Option<Vec<u8>>,
    /// PING payloads not acknowledged yet.
    pings: Vec<Vec<u8>>,
}

impl Scanner {
    fn feed(&mut self, mut bytes: &[u8]) {
        while !bytes.is_empty() {
            if self.skip > 0 {
                let n = self.skip.min(bytes.len());
                self.skip -= n;
                if let Some(ping) = &mut self.ping {
                    ping.extend_from_slice(&bytes[..n]);
                    if self.skip == 0 {
                        self.pings.extend(self.ping.take());
                    }
                }
                bytes = &bytes[n..];
                continue;
            }
            let n = (HEAD_LEN - self.header.len()).min(bytes.len());
            self.header.extend_from_slice(&bytes[..n]);
            bytes = &bytes[n..];
            if let Some(head) = Head::parse(&self.header) {
                self.skip = head.payload_len();
                if head.kind == super::frames::HEADERS {
                    self.headers.push(head.stream_id);
                }
                let is_ping = head.kind == PING && head.flags & ACK == 0 && self.skip == 8;
                self.ping = is_ping.then(Vec::new);
                self.header.clear();
            }
        }
    }
}

/// One end of a connection, driven by script actions.
#[derive(Debug)]
pub(crate) struct Player<IO> {
    io: IO,
    /// Write size; 0 for whole writes.
    chunk: usize,
    reading: bool,
    /// A write failed: the other end is gone; later writes are skipped.
    write_closed: bool,
    /// The other end closed (or the read failed).
    eof: bool,
    scanner: Scanner,
    scratch: Vec<u8>,
}

impl<IO: AsyncRead + AsyncWrite + Unpin> Player<IO> {
    /// `preface` bytes the other end sends first are skipped before scanning frames.
    pub(crate) fn new(io: IO, preface: usize) -> Player<IO> {
        Player {
            io,
            chunk: 0,
            reading: true,
            write_closed: false,
            eof: false,
            scanner: Scanner { skip: preface, ..Scanner::default() },
            scratch: vec![0; 16 * 1024],
        }
    }

    /// How many HEADERS frames the other end has sent.
    pub(crate) fn headers_seen(&self) -> usize {
        self.scanner.headers.len()
    }

    /// Whether the connection is over in either direction.
    pub(crate) fn is_closed(&self) -> bool {
        self.eof || self.write_closed
    }

    /// Performs one action (`Call` is the caller's business and does nothing here).
    pub(crate) async fn play(&mut self, action: &Action) {
        match action {
            Action::Chunk(n) => self.chunk = usize::from(*n),
            Action::Flush => self.flush().await,
            Action::Reading(on) => self.reading = *on,
            Action::Call { .. } => {}
            other => self.write(&wire(other)).await,
        }
    }

    /// Acknowledges the PINGs read so far.
    async fn answer_pings(&mut self) {
        while let Some(payload) = self.scanner.pings.pop() {
            let mut ack = Vec::new();
            super::frames::frame(&mut ack, PING, ACK, 0, &payload);
            let mut piece = &ack[..];
            while !piece.is_empty() && !self.write_closed {
                match poll_fn(|cx| self.poll_write(cx, piece)).await {
                    Some(n) => piece = &piece[n..],
                    None => self.write_closed = true,
                }
            }
        }
    }

    async fn write(&mut self, bytes: &[u8]) {
        let size = if self.chunk == 0 { bytes.len().max(1) } else { self.chunk };
        for piece in bytes.chunks(size) {
            let mut piece = piece;
            while !piece.is_empty() && !self.write_closed {
                match poll_fn(|cx| self.poll_write(cx, piece)).await {
                    Some(n) => piece = &piece[n..],
                    None => self.write_closed = true,
                }
            }
            if self.write_closed {
                return;
            }
            if self.chunk != 0 {
                self.step().await;
            }
        }
        if self.reading {
            self.read_ready().await;
            self.answer_pings().await;
        }
    }

    fn poll_write(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<Option<usize>> {
        match Pin::new(&mut self.io).poll_write(cx, buf) {
            Poll::Ready(Ok(0)) | Poll::Ready(Err(_)) => Poll::Ready(None),
            Poll::Ready(Ok(n)) => Poll::Ready(Some(n)),
            Poll::Pending => {
                // The other end may be blocked writing to us: read so it can go on.
                let _ = self.poll_read_all(cx);
                Poll::Pending
            }
        }
    }

    /// Reads everything available; `Ready` once the other end has closed.
    pub(crate) fn poll_read_all(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        while !self.eof {
            let mut buf = ReadBuf::new(&mut self.scratch);
            match Pin::new(&mut self.io).poll_read(cx, &mut buf) {
                Poll::Ready(Ok(())) if buf.filled().is_empty() => self.eof = true,
                Poll::Ready(Ok(())) => {
                    let n = buf.filled().len();
                    self.scanner.feed(&self.scratch[..n]);
                }
                Poll::Ready(Err(_)) => self.eof = true,
                Poll::Pending => return Poll::Pending,
            }
        }
        Poll::Ready(())
    }

    /// Reads what is available now, without waiting.
    async fn read_ready(&mut self) {
        poll_fn(|cx| {
            let _ = self.poll_read_all(cx);
            Poll::Ready(())
        })
        .await
    }

    /// Lets the other end run for a while, reading its bytes if reading is on.
    pub(crate) async fn flush(&mut self) {
        for _ in 0..8 {
            self.step().await;
        }
    }

    /// Lets the other end run once (it has been woken by what we wrote), reading its bytes if
    /// reading is on. Between the pieces of a chunked write: a flush there cost 8 yields per
    /// piece, most of a one-byte-chunk input's time.
    async fn step(&mut self) {
        tokio::task::yield_now().await;
        if self.reading {
            self.read_ready().await;
            self.answer_pings().await;
        }
    }

    /// Closes our side for writing and reads until the other end closes too.
    pub(crate) async fn finish(&mut self) {
        self.flush().await;
        let _ = self.io.shutdown().await;
        poll_fn(|cx| self.poll_read_all(cx)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scanner_finds_headers_frames_across_any_split() {
        let mut bytes = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
        super::super::frames::frame(&mut bytes, 4, 0, 0, &[0; 6]);
        super::super::frames::frame(&mut bytes, 1, 4, 3, b"abc");
        super::super::frames::frame(&mut bytes, 1, 4, 5, b"");
        for step in 1..bytes.len() {
            let mut scanner = Scanner { skip: 24, ..Scanner::default() };
            bytes.chunks(step).for_each(|c| scanner.feed(c));
            assert_eq!(scanner.headers, [3, 5], "step {step}");
        }
    }
}
