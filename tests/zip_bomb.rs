//! A zip bomb, both ways, over a real Unix socket, in a process of its own so that its peak
//! memory is this test's alone: 100 MiB of zeros gzip-compressed to about 100 KiB is refused
//! with RESOURCE_EXHAUSTED, and the process never holds more than a few times the 4 MiB
//! receive limit (it would hold 100 MiB if the message were inflated).

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use h2grpc::{CallOptions, Channel, Code, Server, Service, Status};

#[derive(Clone, PartialEq, prost::Message)]
struct Blob {
    #[prost(bytes = "bytes", tag = "1")]
    data: Bytes,
}

/// Peak resident memory of this process in KiB (`VmHWM`), after resetting the peak to the
/// current size when the kernel allows it (`clear_refs` 5).
fn peak_kib(reset: bool) -> u64 {
    if reset {
        let _ = std::fs::write("/proc/self/clear_refs", "5");
    }
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let line = status.lines().find(|l| l.starts_with("VmHWM:"));
    line.and_then(|l| l.split_whitespace().nth(1)).and_then(|n| n.parse().ok()).unwrap_or(0)
}

/// One flag-1 message: a Blob of 100 MiB of zeros, gzip-compressed.
fn bomb() -> Bytes {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    // The Blob's tag and length, then the zeros, written in 1 MiB pieces.
    let len = 100u64 << 20;
    let mut head = vec![0x0a];
    prost::encoding::encode_varint(len, &mut head);
    std::io::Write::write_all(&mut encoder, &head).unwrap();
    let chunk = vec![0u8; 1 << 20];
    for _ in 0..100 {
        std::io::Write::write_all(&mut encoder, &chunk).unwrap();
    }
    let packed = encoder.finish().unwrap();
    let mut framed = BytesMut::new();
    h2grpc::codec::encode_raw(&packed, true, &mut framed).unwrap();
    framed.freeze()
}

#[tokio::test]
async fn a_zip_bomb_is_refused_both_ways_without_inflating_it() {
    let bomb = bomb();
    assert!(bomb.len() < 200 << 10, "the bomb is {} bytes", bomb.len());
    let dir = tempfile::tempdir().unwrap();

    // A raw HTTP/2 client throws it at an h2grpc server.
    let echo =
        Service::new("bomb.Test").unary("Echo", |_ctx, b: Blob| async { Ok::<_, Status>(b) });
    let server = Server::builder().add_service(echo).bind_unix(dir.path().join("s.sock")).unwrap();
    let path = dir.path().join("s.sock");
    let shutdown = server.shutdown_handle();
    let serving = tokio::spawn(server.serve());
    let io = tokio::net::UnixStream::connect(&path).await.unwrap();
    let (send, conn) = h2::client::handshake(io).await.unwrap();
    tokio::spawn(conn);
    let request = http::Request::post("http://localhost/bomb.Test/Echo")
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .header("grpc-encoding", "gzip")
        .body(())
        .unwrap();
    let before = peak_kib(true);
    let (response, mut stream) = send.ready().await.unwrap().send_request(request, false).unwrap();
    stream.send_data(bomb.clone(), true).unwrap();
    let response = tokio::time::timeout(Duration::from_secs(30), response).await.unwrap().unwrap();
    let status = match Status::from_headers(response.headers()) {
        Some(status) => status, // Trailers-Only
        None => {
            let mut body = response.into_body();
            while let Some(chunk) = body.data().await {
                chunk.unwrap();
            }
            Status::from_headers(&body.trailers().await.unwrap().unwrap()).unwrap()
        }
    };
    let grown = peak_kib(false).saturating_sub(before);
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(grown < 32 << 10, "the server side's peak grew by {grown} KiB");

    // A scripted HTTP/2 server answers an h2grpc client with it.
    let scripted = dir.path().join("b.sock");
    let listener = tokio::net::UnixListener::bind(&scripted).unwrap();
    let answer = bomb.clone();
    tokio::spawn(async move {
        let (io, _) = listener.accept().await.unwrap();
        let mut conn = h2::server::handshake(io).await.unwrap();
        while let Some(Ok((_request, mut respond))) = conn.accept().await {
            let head = http::Response::builder()
                .header("content-type", "application/grpc")
                .header("grpc-encoding", "gzip")
                .body(())
                .unwrap();
            let mut stream = respond.send_response(head, false).unwrap();
            let _ = stream.send_data(answer.clone(), false);
            let mut trailers = http::HeaderMap::new();
            trailers.insert("grpc-status", http::HeaderValue::from_static("0"));
            let _ = stream.send_trailers(trailers);
        }
    });
    let channel = Channel::connect(&format!("unix:{}", scripted.display())).await.unwrap();
    let before = peak_kib(true);
    let empty = Blob::default();
    let result = channel.unary::<_, Blob>("/bomb.Test/Echo", &empty, CallOptions::new()).await;
    let status = result.unwrap_err();
    let grown = peak_kib(false).saturating_sub(before);
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(grown < 32 << 10, "the client side's peak grew by {grown} KiB");

    shutdown.shutdown();
    serving.await.unwrap().unwrap();
}
