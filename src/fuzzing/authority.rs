//! `authority_rewriter`: the `:authority` rewriter (`server::authority`) between a client and
//! an `h2` server, checked against what the client meant to send (issue 14).
//!
//! The caller (the fuzz crate's `rewriter_case`, with a real HPACK encoder that uses the
//! dynamic table) gives the client's bytes and the header list it encoded for each stream
//! (1, 3, 5, ...). They go through the filter, in reads of `read_size` bytes, into an `h2`
//! server; a PING after the last block marks the end. The oracle: every request that reaches
//! the server has exactly the fields the client sent, in order, with a refused `:authority`
//! read as `localhost`; a request that does not arrive is one `h2` refuses on its own (over
//! the header list limit, or a refused `:authority` once a valid one passed through), or the
//! connection ended with an error, which only an oversized list may cause. Never a silent
//! mismatch, and never a connection left refusing calls.

use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};

use crate::h2fix::AuthorityFilter;
use crate::h2wire::{flag, forward_write, Head, HEAD_LEN, PING};

/// The SETTINGS_MAX_HEADER_LIST_SIZE the server is given.
pub const REWRITER_LIMIT: usize = 16 * 1024;
/// The PING payload that marks the end of the client's bytes.
pub const END_PING: [u8; 8] = *b"h2grpc!!";
const MAX_FRAME: usize = 16 * 1024;

/// A header list as (name, value) pairs, pseudo-headers first.
pub type HeaderList = Vec<(Vec<u8>, Vec<u8>)>;

/// The size `h2` counts a header list as: name + value + 32 per field.
pub fn header_list_size(list: &HeaderList) -> usize {
    list.iter().map(|(n, v)| n.len() + v.len() + 32).sum()
}

fn value<'a>(list: &'a HeaderList, name: &str) -> &'a [u8] {
    list.iter().find(|(n, _)| n == name.as_bytes()).map_or(&[][..], |(_, v)| v)
}

fn is_valid_authority(value: &[u8]) -> bool {
    http::uri::Authority::try_from(value).is_ok()
}

/// What the server saw: each request's header list by stream index, and whether the
/// connection ended with an error.
struct Seen {
    requests: Vec<(usize, HeaderList)>,
    ended: bool,
}

fn list_of(request: &http::Request<h2::RecvStream>) -> HeaderList {
    let uri = request.uri();
    let mut list = vec![
        (b":method".to_vec(), request.method().as_str().as_bytes().to_vec()),
        (b":scheme".to_vec(), uri.scheme_str().unwrap_or_default().as_bytes().to_vec()),
        (b":path".to_vec(), uri.path_and_query().map_or("", |p| p.as_str()).as_bytes().to_vec()),
        (b":authority".to_vec(), uri.authority().map_or("", |a| a.as_str()).as_bytes().to_vec()),
    ];
    for (name, value) in request.headers() {
        list.push((name.as_str().as_bytes().to_vec(), value.as_bytes().to_vec()));
    }
    list
}

/// Fields after the pseudo-headers, grouped by name in first-seen order (as `HeaderMap`
/// iterates them), each name's values in order.
fn grouped(list: &HeaderList) -> Vec<(Vec<u8>, Vec<u8>)> {
    let regular: Vec<_> = list.iter().filter(|(n, _)| !n.starts_with(b":")).cloned().collect();
    let mut names: Vec<&Vec<u8>> = Vec::new();
    for (name, _) in &regular {
        if !names.contains(&name) {
            names.push(name);
        }
    }
    names.iter().flat_map(|name| regular.iter().filter(move |(n, _)| n == *name).cloned()).collect()
}

/// Reads at most `most` bytes at a time: the filter sees the client's bytes cut anywhere, at
/// no cost of a task switch per piece.
struct Trickle<IO> {
    io: IO,
    most: usize,
    scratch: Vec<u8>,
}

impl<IO: AsyncRead + Unpin> AsyncRead for Trickle<IO> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = &mut *self;
        let most = this.most.min(buf.remaining()).min(this.scratch.len());
        let mut part = ReadBuf::new(&mut this.scratch[..most]);
        ready!(Pin::new(&mut this.io).poll_read(cx, &mut part))?;
        buf.put_slice(part.filled());
        Poll::Ready(Ok(()))
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Trickle<IO> {
    forward_write!(io; poll_write, poll_flush, poll_shutdown);
}

#[derive(PartialEq)]
enum End {
    /// The connection ended with an error, or the filter broke down.
    Error,
    /// The client's end PING was acknowledged.
    Acked,
    Closed,
}

/// Notes a request the server accepted, and answers it at once.
fn record(seen: &mut Seen, request: &http::Request<h2::RecvStream>, mut respond: Respond) {
    let index = (u32::from(respond.stream_id()) as usize - 1) / 2;
    seen.requests.push((index, list_of(request)));
    let _ = respond.send_response(http::Response::new(()), true);
}

type Respond = h2::server::SendResponse<Bytes>;

async fn serve(client_bytes: Bytes, read_size: usize) -> Seen {
    let (client, server_io) = tokio::io::duplex(1 << 20);
    let scratch = vec![0; read_size.clamp(1, 1 << 16)];
    let server_io = Trickle { io: server_io, most: read_size.max(1), scratch };
    let (mut from_server, mut to_server) = tokio::io::split(client);
    let writer = tokio::spawn(async move {
        let _ = to_server.write_all(&client_bytes).await;
        to_server
    });
    // The end PING's ACK from the server: every frame before it has been read.
    let (acked_tx, mut acked) = tokio::sync::watch::channel(false);
    let reader = tokio::spawn(async move {
        let mut buf = Vec::new();
        let mut chunk = vec![0u8; 1 << 16];
        while let Ok(n) = from_server.read(&mut chunk).await {
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
            while let Some(head) = Head::parse(&buf) {
                let end = HEAD_LEN + head.payload_len();
                if buf.len() < end {
                    break;
                }
                let ack = head.kind == PING && head.flags & flag::ACK != 0;
                if ack && buf[HEAD_LEN..end] == END_PING {
                    let _ = acked_tx.send(true);
                }
                buf.drain(..end);
            }
        }
    });
    let filter = AuthorityFilter::new(server_io, REWRITER_LIMIT, MAX_FRAME);
    let breakdown = filter.breakdown();
    let mut builder = h2::server::Builder::new();
    builder.max_header_list_size(REWRITER_LIMIT as u32).max_frame_size(MAX_FRAME as u32);
    let mut seen = Seen { requests: Vec::new(), ended: false };
    let Ok(mut conn) = builder.handshake::<_, Bytes>(filter).await else {
        writer.abort();
        reader.abort();
        seen.ended = true;
        return seen;
    };
    // Kept across polls, so that its waker stays registered.
    let mut ack = std::pin::pin!(acked.wait_for(|a| *a));
    let end = poll_fn(|cx| loop {
        if breakdown.reason().is_some() {
            return Poll::Ready(End::Error);
        }
        match conn.poll_accept(cx) {
            Poll::Ready(Some(Ok((request, respond)))) => record(&mut seen, &request, respond),
            Poll::Ready(Some(Err(_))) => return Poll::Ready(End::Error),
            Poll::Ready(None) => return Poll::Ready(End::Closed),
            // Everything before the PING was read once it is acknowledged.
            Poll::Pending => return ack.as_mut().poll(cx).map(|_| End::Acked),
        }
    })
    .await;
    seen.ended = end == End::Error;
    let acked_seen = end == End::Acked;
    if acked_seen && !seen.ended {
        // Requests h2 queued before the PING that the loop above has not taken yet.
        while let Poll::Ready(Some(Ok((request, respond)))) =
            poll_fn(|cx| Poll::Ready(conn.poll_accept(cx))).await
        {
            record(&mut seen, &request, respond);
        }
    }
    writer.abort();
    reader.abort();
    seen
}

/// Runs the case and checks the oracle (see the module docs); panics on a violation.
pub fn authority_rewriter(client_bytes: &[u8], sent: &[HeaderList], read_size: usize) {
    let bytes = Bytes::copy_from_slice(client_bytes);
    let run = async move {
        tokio::time::timeout(std::time::Duration::from_secs(10), serve(bytes, read_size)).await
    };
    let seen = super::RUNTIME.with(|rt| rt.block_on(run)).expect("the connection did not hang");
    check(sent, &seen);
}

fn check(sent: &[HeaderList], seen: &Seen) {
    let first_valid = sent.first().is_some_and(|l| is_valid_authority(value(l, ":authority")));
    let any_oversized = sent.iter().any(|l| header_list_size(l) >= REWRITER_LIMIT);
    assert!(!seen.ended || any_oversized, "the connection ended with no oversized header list");
    for (index, got) in &seen.requests {
        let want = sent.get(*index).expect("a request the client did not send");
        let authority = value(want, ":authority");
        let authority = if is_valid_authority(authority) { authority } else { b"localhost" };
        for name in [":method", ":scheme", ":path"] {
            assert_eq!(value(got, name), value(want, name), "{name} of stream {index}");
        }
        assert_eq!(value(got, ":authority"), authority, ":authority of stream {index}");
        assert_eq!(grouped(got), grouped(want), "fields of stream {index}");
    }
    if seen.ended {
        return;
    }
    for (index, list) in sent.iter().enumerate() {
        if seen.requests.iter().any(|(i, _)| *i == index) {
            continue;
        }
        let refused_authority = !is_valid_authority(value(list, ":authority"));
        let explained =
            header_list_size(list) >= REWRITER_LIMIT || (first_valid && refused_authority);
        let path = String::from_utf8_lossy(value(list, ":path"));
        assert!(explained, "stream {index} ({path}) never reached the server");
    }
}
