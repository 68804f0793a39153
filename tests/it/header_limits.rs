//! Limits that end one call, not the connection (issue 14): request metadata over
//! `max_header_list_size` is RESOURCE_EXHAUSTED for that call while the channel goes on, and a
//! client that opens more streams than `max_concurrent_streams` has only the excess refused.
//! The same sizes are tried with Python's and Node's clients in `tests/metadata_peers.rs`.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use h2grpc::{CallOptions, Code, Service, Status};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;
use tokio::sync::watch;

use crate::support::*;

/// `test.Echo/Unary`, answering the request.
fn echo() -> Service {
    Service::new("test.Echo")
        .unary("Unary", |_ctx, req: Payload| async move { Ok::<_, Status>(req) })
}

async fn unary_with(channel: &h2grpc::Channel, metadata_bytes: usize) -> Result<(), Status> {
    let mut options = CallOptions::new();
    if metadata_bytes > 0 {
        let value = "x".repeat(metadata_bytes);
        options.metadata_mut().insert("x-big", value.as_str()).expect("valid metadata");
    }
    let reply: Payload =
        channel.unary("/test.Echo/Unary", &payload(3), options).await?.into_inner();
    assert_eq!(reply, payload(3));
    Ok(())
}

#[tokio::test]
async fn metadata_over_the_limit_ends_that_call_and_the_same_channel_goes_on() {
    let server = spawn_unix(vec![echo()]);
    let channel = server.channel().await;
    unary_with(&channel, 0).await.expect("a first call");
    // Sizes of the x-big value; the header list adds the pseudo-headers and 32 per field.
    for kib in [8.0, 15.9, 16.1, 17.0, 24.0, 64.0, 1024.0] {
        let bytes = (kib * 1024.0) as usize;
        let result = unary_with(&channel, bytes).await;
        match kib {
            k if k <= 8.0 => result.expect("under the limit"),
            k if k <= 64.0 => {
                let status = result.expect_err("over the limit");
                assert_eq!(status.code(), Code::ResourceExhausted, "{kib} KiB: {status:?}");
                assert!(status.message().contains("16384"), "{status:?}");
            }
            // Past 8 times the limit h2 answers or ends the connection itself; our client may
            // also refuse to send what the server said it would not take.
            _ => assert!(result.is_err(), "{kib} KiB went through"),
        }
        for _ in 0..3 {
            unary_with(&channel, 0).await.unwrap_or_else(|s| panic!("after {kib} KiB: {s:?}"));
        }
    }
    server.stop().await;
}

/// HTTP/2 frame writing for the raw client below: nothing here is h2grpc's.
fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8], out: &mut Vec<u8>) {
    let len = payload.len();
    out.extend_from_slice(&[(len >> 16) as u8, (len >> 8) as u8, len as u8, kind, flags]);
    out.extend_from_slice(&stream.to_be_bytes());
    out.extend_from_slice(payload);
}

/// A header block of literals without indexing (RFC 7541 6.2.2), names and values under 127.
fn literal_block(fields: &[(&str, &str)]) -> Vec<u8> {
    let mut block = Vec::new();
    for (name, value) in fields {
        block.push(0);
        block.push(name.len() as u8);
        block.extend_from_slice(name.as_bytes());
        block.push(value.len() as u8);
        block.extend_from_slice(value.as_bytes());
    }
    block
}

#[derive(Default, Debug)]
struct Seen {
    refused: HashSet<u32>,
    other_resets: Vec<(u32, u32)>,
    with_data: HashSet<u32>,
    ended: HashSet<u32>,
    go_away: Option<u32>,
}

#[tokio::test]
async fn five_thousand_streams_at_once_refuse_the_excess_and_the_admitted_calls_finish() {
    const STREAMS: u32 = 5000;
    const ADMITTED: usize = 1024; // the default max_concurrent_streams
    let (release, released) = watch::channel(false);
    let started = Arc::new(AtomicUsize::new(0));
    let service = Service::new("test.Hold").client_streaming("Hold", {
        let started = started.clone();
        move |_ctx, _reqs: h2grpc::server::RequestStream<Payload>| {
            let (started, mut released) = (started.clone(), released.clone());
            async move {
                started.fetch_add(1, Ordering::SeqCst);
                let _ = released.wait_for(|r| *r).await;
                Ok::<_, Status>(payload(1))
            }
        }
    });
    let server = spawn_unix(vec![service]);
    let (mut read, mut write) =
        UnixStream::connect(&server.path).await.expect("connect").into_split();
    let (seen_tx, mut seen_rx) = watch::channel(Seen::default());
    let reader = tokio::spawn(async move {
        let mut buf = Vec::new();
        let mut chunk = vec![0u8; 64 * 1024];
        let mut acks = 0usize;
        loop {
            let n = read.read(&mut chunk).await.unwrap_or(0);
            if n == 0 {
                return acks;
            }
            buf.extend_from_slice(&chunk[..n]);
            while buf.len() >= 9 {
                let len =
                    (usize::from(buf[0]) << 16) | (usize::from(buf[1]) << 8) | usize::from(buf[2]);
                if buf.len() < 9 + len {
                    break;
                }
                let (kind, flags) = (buf[3], buf[4]);
                let id = u32::from_be_bytes([buf[5], buf[6], buf[7], buf[8]]) & 0x7fff_ffff;
                let body = buf[9..9 + len].to_vec();
                buf.drain(..9 + len);
                seen_tx.send_modify(|seen| match kind {
                    0x0 => {
                        seen.with_data.insert(id);
                    }
                    0x1 if flags & 0x1 != 0 => {
                        seen.ended.insert(id);
                    }
                    0x3 => {
                        let code = u32::from_be_bytes([body[0], body[1], body[2], body[3]]);
                        match code {
                            0x7 => seen.refused.insert(id),
                            _ => {
                                seen.other_resets.push((id, code));
                                true
                            }
                        };
                    }
                    0x7 => {
                        seen.go_away =
                            Some(u32::from_be_bytes([body[4], body[5], body[6], body[7]]))
                    }
                    0x4 if flags & 0x1 == 0 => acks += 1,
                    _ => {}
                });
            }
        }
    });
    let mut out = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    frame(0x4, 0, 0, &[], &mut out);
    let block = literal_block(&[
        (":method", "POST"),
        (":scheme", "http"),
        (":path", "/test.Hold/Hold"),
        (":authority", "localhost"),
        ("content-type", "application/grpc"),
        ("te", "trailers"),
    ]);
    for i in 0..STREAMS {
        // HEADERS with END_STREAM | END_HEADERS: a client stream of no messages.
        frame(0x1, 0x5, 2 * i + 1, &block, &mut out);
    }
    write.write_all(&out).await.expect("write the streams");
    let refused = STREAMS as usize - ADMITTED;
    let wait = seen_rx.wait_for(|s| s.refused.len() >= refused || s.go_away.is_some());
    tokio::time::timeout(Duration::from_secs(60), wait)
        .await
        .expect("refusals in time")
        .expect("reader");
    {
        let seen = seen_rx.borrow();
        assert_eq!(seen.go_away, None, "the connection was ended: {:?}", seen.other_resets);
        assert_eq!(seen.refused.len(), refused);
    }
    assert_eq!(started.load(Ordering::SeqCst), ADMITTED);
    release.send_replace(true);
    let done = seen_rx.wait_for(|s| s.ended.len() >= ADMITTED || s.go_away.is_some());
    tokio::time::timeout(Duration::from_secs(60), done)
        .await
        .expect("answers in time")
        .expect("reader");
    let seen = seen_rx.borrow();
    assert_eq!(seen.go_away, None);
    assert!(seen.other_resets.is_empty(), "{:?}", seen.other_resets);
    let answered: HashMap<u32, bool> =
        seen.ended.iter().map(|id| (*id, seen.with_data.contains(id))).collect();
    assert_eq!(answered.len(), ADMITTED);
    assert!(answered.values().all(|data| *data), "every admitted call answered with a message");
    assert!(answered.keys().all(|id| !seen.refused.contains(id)));
    drop(seen);
    drop(write);
    reader.abort();
    server.stop().await;
}
