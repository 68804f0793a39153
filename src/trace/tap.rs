//! A tap on a byte stream: everything read and written, in order, in a shared log.
//!
//! ```text
//!   h2 ──write──▶ Tap ──▶ IO        log: [Send "PRI * HTTP/2.0…", Recv "\0\0\x12\x04…", …]
//!   h2 ◀──read─── Tap ◀── IO
//! ```

use std::fmt;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{ready, Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite};

use super::Direction;
use crate::h2wire::{forward_write, watch_reads};

/// Bytes that went one way, in one or more consecutive reads or writes.
#[derive(Clone, PartialEq, Eq)]
pub struct Chunk {
    /// [`Direction::Send`]: written by the tapped end; [`Direction::Recv`]: read by it.
    pub direction: Direction,
    /// The bytes.
    pub bytes: Vec<u8>,
}

impl fmt::Debug for Chunk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Chunk({:?}, {} bytes)", self.direction, self.bytes.len())
    }
}

/// The record a [`Tap`] keeps: chunks in the order they passed, consecutive ones of the same
/// direction merged. Clones share the log.
#[derive(Clone, Debug, Default)]
pub struct TapLog {
    chunks: Arc<Mutex<Vec<Chunk>>>,
}

impl TapLog {
    /// An empty log.
    pub fn new() -> TapLog {
        TapLog::default()
    }

    /// A copy of the chunks so far.
    pub fn chunks(&self) -> Vec<Chunk> {
        self.with(|chunks| chunks.clone())
    }

    /// The chunks so far, leaving the log empty.
    pub fn take(&self) -> Vec<Chunk> {
        self.with(std::mem::take)
    }

    /// Every byte that went `direction` so far, concatenated.
    pub fn bytes(&self, direction: Direction) -> Vec<u8> {
        self.with(|chunks| {
            let chunks = chunks.iter().filter(|c| c.direction == direction);
            chunks.flat_map(|c| c.bytes.iter().copied()).collect()
        })
    }

    fn record(&self, direction: Direction, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        self.with(|chunks| match chunks.last_mut() {
            Some(last) if last.direction == direction => last.bytes.extend_from_slice(bytes),
            _ => chunks.push(Chunk { direction, bytes: bytes.to_vec() }),
        })
    }

    /// Runs `f` on the chunks, under the log's lock (a poisoned lock still holds whole chunks).
    fn with<R>(&self, f: impl FnOnce(&mut Vec<Chunk>) -> R) -> R {
        f(&mut self.chunks.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// Wraps a byte stream and records what passes through it into a [`TapLog`].
///
/// `IO` must be `Unpin` (every tokio socket and `tokio::io::DuplexStream` is), so the tap
/// delegates through `Pin::new`: no `unsafe`, no pin projection.
///
/// ```
/// use h2grpc::trace::{Direction, Tap};
/// use tokio::io::{AsyncReadExt, AsyncWriteExt};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> std::io::Result<()> {
/// let (near, mut far) = tokio::io::duplex(64);
/// let mut tap = Tap::new(near);
/// let log = tap.log();
/// tap.write_all(b"ping").await?;
/// far.write_all(b"pong").await?;
/// let mut buf = [0; 4];
/// tap.read_exact(&mut buf).await?;
/// assert_eq!(log.bytes(Direction::Send), b"ping");
/// assert_eq!(log.bytes(Direction::Recv), b"pong");
/// # Ok(()) }
/// ```
pub struct Tap<IO> {
    io: IO,
    log: TapLog,
}

impl<IO> fmt::Debug for Tap<IO> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tap").field("log", &self.log).finish_non_exhaustive()
    }
}

impl<IO> Tap<IO> {
    /// Taps `io` with a new log.
    pub fn new(io: IO) -> Tap<IO> {
        Tap::with_log(io, TapLog::new())
    }

    /// Taps `io`, recording into `log`.
    pub fn with_log(io: IO, log: TapLog) -> Tap<IO> {
        Tap { io, log }
    }

    /// The log this tap records into.
    pub fn log(&self) -> TapLog {
        self.log.clone()
    }

    /// The tapped stream.
    pub fn into_inner(self) -> IO {
        self.io
    }
}

impl<IO> Tap<IO> {
    fn saw(&mut self, read: &[u8]) {
        self.log.record(Direction::Recv, read);
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for Tap<IO> {
    watch_reads!(io, seen Self::saw);
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Tap<IO> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let n = ready!(Pin::new(&mut this.io).poll_write(cx, buf))?;
        this.log.record(Direction::Send, &buf[..n.min(buf.len())]);
        Poll::Ready(Ok(n))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let n = ready!(Pin::new(&mut this.io).poll_write_vectored(cx, bufs))?;
        // The first `n` bytes across the slices were written.
        let mut left = n;
        for buf in bufs {
            let take = left.min(buf.len());
            this.log.record(Direction::Send, &buf[..take]);
            left -= take;
            if left == 0 {
                break;
            }
        }
        Poll::Ready(Ok(n))
    }

    forward_write!(io; is_write_vectored, poll_flush, poll_shutdown);
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    #[tokio::test]
    async fn the_log_keeps_the_order_of_directions_and_merges_runs() {
        let (near, mut far) = tokio::io::duplex(64);
        let mut tap = Tap::new(near);
        let log = tap.log();
        tap.write_all(b"ab").await.unwrap();
        tap.write_all(b"cd").await.unwrap();
        far.write_all(b"xy").await.unwrap();
        let mut buf = [0; 2];
        tap.read_exact(&mut buf).await.unwrap();
        tap.write_all(b"e").await.unwrap();
        let chunks = log.take();
        assert_eq!(
            chunks,
            [
                Chunk { direction: Direction::Send, bytes: b"abcd".to_vec() },
                Chunk { direction: Direction::Recv, bytes: b"xy".to_vec() },
                Chunk { direction: Direction::Send, bytes: b"e".to_vec() },
            ]
        );
        assert!(log.chunks().is_empty());
    }

    #[tokio::test]
    async fn vectored_writes_record_only_what_was_written() {
        let (near, mut far) = tokio::io::duplex(3);
        let mut tap = Tap::new(near);
        let log = tap.log();
        let bufs = [io::IoSlice::new(b"ab"), io::IoSlice::new(b"cd")];
        let n = tap.write_vectored(&bufs).await.unwrap();
        assert!(n >= 1);
        let mut got = vec![0; n];
        far.read_exact(&mut got).await.unwrap();
        assert_eq!(log.bytes(Direction::Send), got);
        assert_eq!(&b"abcd"[..n], &got[..]);
    }
}
