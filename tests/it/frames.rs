//! A server that speaks HTTP/2 frame by frame, for what `h2` hides: the PINGs a client sends
//! (h2 answers them itself and never shows them) and a GOAWAY with debug data.
//!
//! ```text
//! +-----------------------------------------------+
//! |                 Length (24)                   |
//! +---------------+---------------+---------------+
//! |   Type (8)    |   Flags (8)   |
//! +-+-------------+---------------+-------------------------------+
//! |R|                 Stream Identifier (31)                      |
//! +=+=============================================================+
//! |                   Frame Payload (0...)                      ...
//! +---------------------------------------------------------------+
//! ```

use std::path::PathBuf;

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};

pub(crate) const HEADERS: u8 = 0x1;
pub(crate) const RST_STREAM: u8 = 0x3;
pub(crate) const SETTINGS: u8 = 0x4;
pub(crate) const PING: u8 = 0x6;
pub(crate) const GOAWAY: u8 = 0x7;
pub(crate) const ACK: u8 = 0x1;
/// HTTP/2 error code ENHANCE_YOUR_CALM.
pub(crate) const ENHANCE_YOUR_CALM: u32 = 0xb;

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

#[derive(Debug)]
pub(crate) struct Frame {
    pub(crate) kind: u8,
    pub(crate) flags: u8,
    #[allow(dead_code)] // shown by Debug when a test fails
    pub(crate) stream: u32,
    pub(crate) payload: Bytes,
}

/// A Unix socket in a temp dir whose connections the test serves by hand.
pub(crate) struct RawListener {
    listener: UnixListener,
    path: PathBuf,
    _dir: tempfile::TempDir,
}

impl RawListener {
    pub(crate) fn bind() -> RawListener {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("raw.sock");
        let listener = UnixListener::bind(&path).expect("bind");
        RawListener { listener, path, _dir: dir }
    }

    pub(crate) fn target(&self) -> String {
        format!("unix:{}", self.path.display())
    }

    /// The next connection, once it has sent the client preface; the server's (empty)
    /// SETTINGS are sent.
    pub(crate) async fn accept(&self) -> RawConn {
        let (io, _) = self.listener.accept().await.expect("accept");
        let mut conn = RawConn { io, buf: BytesMut::new() };
        let mut preface = [0u8; 24];
        conn.io.read_exact(&mut preface).await.expect("client preface");
        assert_eq!(preface, PREFACE, "not an HTTP/2 client preface");
        conn.send(SETTINGS, 0, 0, &[]).await;
        conn
    }

    /// The next connection, for a test that hands it to something else.
    pub(crate) async fn accept_stream(&self) -> UnixStream {
        self.listener.accept().await.expect("accept").0
    }
}

/// One connection, frame by frame.
pub(crate) struct RawConn {
    io: UnixStream,
    buf: BytesMut,
}

impl RawConn {
    pub(crate) async fn send(&mut self, kind: u8, flags: u8, stream: u32, payload: &[u8]) {
        let mut frame = BytesMut::with_capacity(9 + payload.len());
        frame.put_uint(payload.len() as u64, 3);
        frame.put_u8(kind);
        frame.put_u8(flags);
        frame.put_u32(stream);
        frame.put_slice(payload);
        self.io.write_all(&frame).await.expect("write frame");
    }

    /// The next frame, `None` at the end of the connection.
    pub(crate) async fn next(&mut self) -> Option<Frame> {
        loop {
            if self.buf.len() >= 9 {
                let len = (usize::from(self.buf[0]) << 16)
                    | (usize::from(self.buf[1]) << 8)
                    | usize::from(self.buf[2]);
                if self.buf.len() >= 9 + len {
                    let mut head = self.buf.split_to(9);
                    head.advance(3);
                    let kind = head.get_u8();
                    let flags = head.get_u8();
                    let stream = head.get_u32() & 0x7fff_ffff;
                    let payload = self.buf.split_to(len).freeze();
                    return Some(Frame { kind, flags, stream, payload });
                }
            }
            match self.io.read_buf(&mut self.buf).await {
                Ok(0) | Err(_) => return None,
                Ok(_) => {}
            }
        }
    }

    /// Reads frames, acknowledging SETTINGS, until `want` matches one (PINGs are not
    /// answered here: the caller decides).
    pub(crate) async fn until(&mut self, want: impl Fn(&Frame) -> bool) -> Option<Frame> {
        while let Some(frame) = self.next().await {
            if frame.kind == SETTINGS && frame.flags & ACK == 0 {
                self.send(SETTINGS, ACK, 0, &[]).await;
            }
            if want(&frame) {
                return Some(frame);
            }
        }
        None
    }

    /// The next PING (not an ACK).
    pub(crate) async fn ping(&mut self) -> Option<Frame> {
        self.until(|f| f.kind == PING && f.flags & ACK == 0).await
    }

    /// Answers `ping` with its ACK.
    pub(crate) async fn pong(&mut self, ping: &Frame) {
        self.send(PING, ACK, 0, &ping.payload).await;
    }

    /// GOAWAY with `code` and `debug` data, then the end of our half of the connection; reads
    /// until the client closes its half (closing with unread data would reset the socket, and
    /// the client would see an I/O error instead of the GOAWAY).
    pub(crate) async fn go_away(mut self, code: u32, debug: &[u8]) {
        let mut payload = Vec::new();
        payload.extend_from_slice(&0u32.to_be_bytes());
        payload.extend_from_slice(&code.to_be_bytes());
        payload.extend_from_slice(debug);
        self.send(GOAWAY, 0, 0, &payload).await;
        self.io.shutdown().await.expect("shutdown");
        while self.next().await.is_some() {}
    }
}
