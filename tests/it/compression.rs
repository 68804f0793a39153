//! Message compression over a real Unix socket: gzip and deflate both ways, the negotiation
//! headers, per-call, per-service and per-message choices, and every refusal compression.md
//! and the status-code table ask for, including the zip bomb.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use h2grpc::codec::compression::{decompress, encode_compressed, Encoding};
use h2grpc::codec::{decode_all, encode_raw};
use h2grpc::server::{RequestStream, ResponseSink};
use h2grpc::{CallContext, CallOptions, Channel, Code, Service, Status};
use http::{HeaderMap, StatusCode};

use crate::raw;
use crate::support::*;

const SERVICE: &str = "test.Compression";
const ENCODINGS: [Encoding; 2] = [Encoding::Gzip, Encoding::Deflate];

fn path(method: &str) -> String {
    format!("/{SERVICE}/{method}")
}

fn zeros(len: usize) -> Payload {
    Payload { data: Bytes::from(vec![0; len]) }
}

/// Tells the client, in a response header, whether the request arrived compressed.
fn report(ctx: &CallContext, compressed: bool) -> Result<(), Status> {
    ctx.set_header("x-request-compressed", if compressed { "1" } else { "0" })
}

fn service() -> Service {
    Service::new(SERVICE)
        .unary("Echo", |ctx: CallContext, req: Payload| async move {
            report(&ctx, ctx.request_compressed())?;
            Ok::<_, Status>(req)
        })
        .unary("Deflated", |ctx: CallContext, req: StreamReq| async move {
            ctx.set_compression(Encoding::Deflate)?;
            Ok::<_, Status>(zeros(req.size as usize))
        })
        .server_streaming(
            "Alternate",
            |ctx: CallContext, req: StreamReq, mut sink: ResponseSink<Payload>| async move {
                ctx.set_compression(Encoding::Gzip)?;
                for i in 0..req.count {
                    let msg = zeros(req.size as usize);
                    if i % 2 == 0 {
                        sink.send(msg).await?;
                    } else {
                        sink.send_uncompressed(msg).await?;
                    }
                }
                if req.count > 0 {
                    // Too late: the headers, which name the encoding, are out.
                    let late = ctx.set_compression(Encoding::Deflate).unwrap_err();
                    assert_eq!(late.code(), Code::FailedPrecondition);
                }
                Ok(())
            },
        )
        .client_streaming(
            "Flags",
            |ctx: CallContext, mut reqs: RequestStream<Payload>| async move {
                let mut flags = String::new();
                while let Some(_msg) = reqs.message().await? {
                    flags.push(if reqs.last_message_compressed() { '1' } else { '0' });
                }
                ctx.set_trailer("x-flags", &flags)?;
                Ok::<_, Status>(StreamReq { count: flags.len() as u32, size: 0 })
            },
        )
}

/// A server whose responses default to `encoding`.
fn spawn_compressing(encoding: Encoding, services: Vec<Service>) -> TestServer {
    spawn_with(Transport::Unix, services, move |b| {
        b.send_compression(encoding);
    })
}

async fn channel_sending(server: &TestServer, encoding: Encoding) -> Channel {
    let mut builder = Channel::builder(&server.target).unwrap();
    builder.send_compression(encoding);
    builder.connect().await.expect("connect")
}

/// One flag-1 message: `msg` compressed with `encoding` whatever its size.
fn compressed_frame(encoding: Encoding, body: &[u8]) -> Bytes {
    let mut packed = BytesMut::new();
    h2grpc::codec::compression::compress(encoding, body, &mut packed).unwrap();
    let mut out = BytesMut::new();
    encode_raw(&packed, true, &mut out).unwrap();
    out.freeze()
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).map(|v| v.to_str().unwrap())
}

#[tokio::test]
async fn gzip_and_deflate_round_trip_in_both_directions() {
    for encoding in ENCODINGS {
        let server = spawn_compressing(encoding, vec![service()]);
        let channel = channel_sending(&server, encoding).await;
        let request = zeros(64 << 10);
        let response = channel
            .unary::<_, Payload>(&path("Echo"), &request, CallOptions::new())
            .await
            .unwrap_or_else(|s| panic!("{encoding}: {s:?}"));
        assert_eq!(response.headers().get("x-request-compressed"), Some("1"), "{encoding}");
        assert!(response.message_compressed(), "{encoding}: the response was not compressed");
        assert_eq!(response.into_inner(), request, "{encoding}");
        server.stop().await;
    }
}

#[tokio::test]
async fn the_response_names_its_encoding_and_advertises_what_the_server_decodes() {
    let server = spawn_compressing(Encoding::Gzip, vec![service()]);
    let mut h2 = raw::connect(&server).await;
    let request = raw::request(&path("Echo"))
        .header("grpc-accept-encoding", "deflate, gzip")
        .body(())
        .unwrap();
    let reply = raw::call(&mut h2, request, raw::frame(&zeros(10_000))).await;
    assert_eq!(reply.grpc_status(), Some("0"), "{reply:?}");
    assert_eq!(header(&reply.headers, "grpc-encoding"), Some("gzip"));
    assert_eq!(header(&reply.headers, "grpc-accept-encoding"), Some("identity,gzip,deflate"));
    let messages = decode_all(reply.body.clone(), usize::MAX).unwrap();
    assert!(messages[0].compressed, "flag 1 on the wire");
    assert_eq!(messages[0].data[..2], [0x1f, 0x8b], "a gzip member");
    let body = decompress(Encoding::Gzip, &messages[0].data, 1 << 20).unwrap();
    assert_eq!(<Payload as prost::Message>::decode(body).unwrap(), zeros(10_000));
    server.stop().await;
}

#[tokio::test]
async fn the_server_never_compresses_for_a_client_that_did_not_accept_it() {
    let server = spawn_compressing(Encoding::Gzip, vec![service()]);
    let mut h2 = raw::connect(&server).await;
    for accept in [None, Some("identity"), Some("deflate")] {
        let mut request = raw::request(&path("Echo"));
        if let Some(accept) = accept {
            request = request.header("grpc-accept-encoding", accept);
        }
        let reply = raw::call(&mut h2, request.body(()).unwrap(), raw::frame(&zeros(10_000))).await;
        assert_eq!(reply.grpc_status(), Some("0"), "{accept:?}");
        assert_eq!(header(&reply.headers, "grpc-encoding"), None, "{accept:?}");
        assert!(!decode_all(reply.body, usize::MAX).unwrap()[0].compressed, "{accept:?}");
    }
    server.stop().await;
}

#[tokio::test]
async fn flag_0_under_grpc_encoding_gzip_is_an_uncompressed_message() {
    let server = spawn_unix(vec![service()]);
    let mut h2 = raw::connect(&server).await;
    let request = raw::request(&path("Echo")).header("grpc-encoding", "gzip").body(()).unwrap();
    let mut body = BytesMut::new();
    encode_raw(&prost::Message::encode_to_vec(&payload(300)), false, &mut body).unwrap();
    let reply = raw::call(&mut h2, request, body.freeze()).await;
    assert_eq!(reply.grpc_status(), Some("0"), "{reply:?}");
    assert_eq!(header(&reply.headers, "x-request-compressed"), Some("0"));
    let messages = decode_all(reply.body, usize::MAX).unwrap();
    assert_eq!(
        <Payload as prost::Message>::decode(messages[0].data.clone()).unwrap(),
        payload(300)
    );
    server.stop().await;
}

#[tokio::test]
async fn a_raw_client_sending_gzip_and_deflate_is_understood() {
    let server = spawn_unix(vec![service()]);
    let mut h2 = raw::connect(&server).await;
    for encoding in ENCODINGS {
        let request =
            raw::request(&path("Echo")).header("grpc-encoding", encoding.name()).body(()).unwrap();
        let body = prost::Message::encode_to_vec(&payload(5000));
        let reply = raw::call(&mut h2, request, compressed_frame(encoding, &body)).await;
        assert_eq!(reply.grpc_status(), Some("0"), "{encoding}: {reply:?}");
        assert_eq!(header(&reply.headers, "x-request-compressed"), Some("1"));
    }
    server.stop().await;
}

#[tokio::test]
async fn an_unsupported_request_encoding_is_unimplemented_naming_what_is_supported() {
    let server = spawn_unix(vec![service()]);
    let mut h2 = raw::connect(&server).await;
    let request = raw::request(&path("Echo")).header("grpc-encoding", "snappy").body(()).unwrap();
    let reply = raw::call(&mut h2, request, compressed_frame(Encoding::Gzip, b"x")).await;
    assert!(reply.trailers_only, "refused before any message is read: {reply:?}");
    assert_eq!(reply.http_status, StatusCode::OK);
    assert_eq!(reply.grpc_status(), Some("12"));
    assert_eq!(header(&reply.headers, "grpc-accept-encoding"), Some("identity,gzip,deflate"));
    assert!(reply.status().message().contains("snappy"), "{:?}", reply.status());
    server.stop().await;
}

#[tokio::test]
async fn a_request_that_does_not_decompress_is_internal() {
    let server = spawn_unix(vec![service()]);
    let mut h2 = raw::connect(&server).await;
    let request = raw::request(&path("Echo")).header("grpc-encoding", "gzip").body(()).unwrap();
    let mut body = BytesMut::new();
    encode_raw(b"\x1f\x8b but not gzip at all", true, &mut body).unwrap();
    let reply = raw::call(&mut h2, request, body.freeze()).await;
    let status = reply.status();
    assert_eq!(status.code(), Code::Internal, "{status:?}");
    assert!(status.message().contains("decompress"), "{status:?}");
    server.stop().await;
}

/// 100 MiB of zeros, gzip-compressed: about 100 KiB.
fn zip_bomb() -> Bytes {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    let chunk = vec![0u8; 1 << 20];
    for _ in 0..100 {
        std::io::Write::write_all(&mut encoder, &chunk).unwrap();
    }
    let packed = encoder.finish().unwrap();
    let mut framed = BytesMut::new();
    encode_raw(&packed, true, &mut framed).unwrap();
    framed.freeze()
}

#[tokio::test]
async fn a_zip_bomb_request_is_resource_exhausted_and_never_inflated() {
    let handled = Arc::new(AtomicBool::new(false));
    let seen = handled.clone();
    let echo = Service::new(SERVICE).unary("Echo", move |_ctx, req: Payload| {
        seen.store(true, Ordering::SeqCst);
        async move { Ok::<_, Status>(req) }
    });
    let server = spawn_unix(vec![echo]);
    let bomb = zip_bomb();
    assert!(bomb.len() < 200 << 10, "{} bytes", bomb.len());
    let mut h2 = raw::connect(&server).await;
    let request = raw::request(&path("Echo")).header("grpc-encoding", "gzip").body(()).unwrap();
    let started = Instant::now();
    let reply = raw::call(&mut h2, request, bomb).await;
    let status = reply.status();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(status.message().contains("after decompression"), "{status:?}");
    assert!(status.message().contains("4194304"), "{status:?}");
    assert!(!handled.load(Ordering::SeqCst), "the handler saw the bomb");
    // Inflating 100 MiB would take seconds; stopping at 4 MiB takes milliseconds.
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    server.stop().await;
}

#[tokio::test]
async fn the_receive_limit_applies_to_the_decompressed_size() {
    // Payload { data: n zeros } serializes to n + 3 bytes for n in 128..16384.
    let server = spawn_with(Transport::Unix, vec![service()], |b| {
        b.max_recv_message_len(1003);
    });
    let channel = channel_sending(&server, Encoding::Gzip).await;
    let fits = channel.unary::<_, Payload>(&path("Echo"), &zeros(1000), CallOptions::new()).await;
    let fits = fits.expect("exactly the limit once decompressed");
    assert_eq!(fits.headers().get("x-request-compressed"), Some("1"), "sent compressed");
    // 1001 zeros compress to a few dozen bytes: the prefix is far under the limit.
    let over = channel.unary::<_, Payload>(&path("Echo"), &zeros(1001), CallOptions::new()).await;
    let status = over.unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(status.message().contains("(1003)"), "{status:?}");
    server.stop().await;
}

#[tokio::test]
async fn a_client_refuses_a_response_bomb_with_resource_exhausted() {
    let (target, _dir) = raw::serve_scripted(|| {
        let head = http::Response::builder()
            .header("content-type", "application/grpc")
            .header("grpc-encoding", "gzip")
            .body(())
            .unwrap();
        let mut trailers = HeaderMap::new();
        trailers.insert("grpc-status", "0".parse().unwrap());
        (head, zip_bomb(), Some(trailers))
    });
    let channel = Channel::connect(&target).await.unwrap();
    let result = channel.unary::<_, Payload>(&path("Echo"), &zeros(1), CallOptions::new()).await;
    let status = result.unwrap_err();
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
}

/// A scripted server answering every call with one message under `grpc-encoding: encoding`.
fn scripted(encoding: &'static str, message: Bytes) -> (String, tempfile::TempDir) {
    raw::serve_scripted(move || {
        let head = http::Response::builder()
            .header("content-type", "application/grpc")
            .header("grpc-encoding", encoding)
            .body(())
            .unwrap();
        let mut trailers = HeaderMap::new();
        trailers.insert("grpc-status", "0".parse().unwrap());
        (head, message.clone(), Some(trailers))
    })
}

#[tokio::test]
async fn a_client_fails_a_compressed_response_in_an_unsupported_encoding_with_internal() {
    let body = prost::Message::encode_to_vec(&payload(10));
    let (target, _dir) = scripted("snappy", compressed_frame(Encoding::Gzip, &body));
    let channel = Channel::connect(&target).await.unwrap();
    let result = channel.unary::<_, Payload>(&path("Echo"), &zeros(1), CallOptions::new()).await;
    let status = result.unwrap_err();
    assert_eq!(status.code(), Code::Internal, "{status:?}");
    assert!(status.message().contains("snappy"), "{status:?}");

    // The same encoding with flag 0 is an uncompressed message: fine.
    let (target, _dir) = scripted("snappy", raw::frame(&payload(10)));
    let channel = Channel::connect(&target).await.unwrap();
    let reply = channel.unary::<_, Payload>(&path("Echo"), &zeros(1), CallOptions::new()).await;
    assert_eq!(reply.expect("flag 0 needs no decoder").into_inner(), payload(10));
}

#[tokio::test]
async fn a_client_fails_a_response_that_does_not_decompress_with_internal() {
    let mut body = BytesMut::new();
    encode_raw(&[0x78, 0x9c, 1, 2, 3], true, &mut body).unwrap();
    let (target, _dir) = scripted("deflate", body.freeze());
    let channel = Channel::connect(&target).await.unwrap();
    let result = channel.unary::<_, Payload>(&path("Echo"), &zeros(1), CallOptions::new()).await;
    let status = result.unwrap_err();
    assert_eq!(status.code(), Code::Internal, "{status:?}");
    assert!(status.message().contains("deflate"), "{status:?}");
}

#[tokio::test]
async fn messages_that_do_not_shrink_are_sent_uncompressed() {
    let server = spawn_compressing(Encoding::Gzip, vec![service()]);
    let channel = channel_sending(&server, Encoding::Gzip).await;
    // Random-looking bytes and tiny messages only grow under gzip.
    for request in [payload(0), Payload { data: Bytes::from_static(b"hi") }] {
        let response =
            channel.unary::<_, Payload>(&path("Echo"), &request, CallOptions::new()).await.unwrap();
        assert_eq!(response.headers().get("x-request-compressed"), Some("0"), "{request:?}");
        assert!(!response.message_compressed(), "{request:?}");
        assert_eq!(response.into_inner(), request);
    }
    // encode_compressed makes the same choice for a random payload.
    let mut state = 0x9e37_79b9_7f4a_7c15u64; // xorshift64: bytes with nothing to compress
    let noise: Vec<u8> = (0..4096)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 56) as u8
        })
        .collect();
    let mut framed = BytesMut::new();
    let noise = Payload { data: Bytes::from(noise) };
    encode_compressed(&noise, Encoding::Gzip, usize::MAX, &mut framed).unwrap();
    assert_eq!(framed[0], 0, "flag 0 for a message gzip does not shrink");
    server.stop().await;
}

#[tokio::test]
async fn per_message_choice_on_a_server_stream() {
    let server = spawn_unix(vec![service()]);
    let channel = server.channel().await;
    let req = StreamReq { count: 4, size: 5000 };
    let mut stream = channel
        .server_streaming::<_, Payload>(&path("Alternate"), &req, CallOptions::new())
        .await
        .unwrap();
    assert_eq!(stream.headers().await.unwrap().get("grpc-encoding"), None, "reserved");
    let mut flags = Vec::new();
    while let Some(msg) = stream.message().await.unwrap() {
        assert_eq!(msg, zeros(5000));
        flags.push(stream.last_message_compressed());
    }
    assert_eq!(flags, [true, false, true, false]);
    server.stop().await;
}

#[tokio::test]
async fn per_message_choice_on_a_client_stream() {
    let server = spawn_unix(vec![service()]);
    let channel = server.channel().await;
    let options = CallOptions::new().compression(Encoding::Deflate);
    let mut call =
        channel.client_streaming::<Payload, StreamReq>(&path("Flags"), options).await.unwrap();
    call.send(zeros(3000)).await.unwrap();
    call.send_uncompressed(zeros(3000)).await.unwrap();
    call.feed(zeros(3000)).await.unwrap();
    call.send(Payload { data: Bytes::from_static(b"tiny") }).await.unwrap();
    let response = call.finish().await.unwrap();
    assert_eq!(response.trailers().get("x-flags"), Some("1010"));
    server.stop().await;
}

#[tokio::test]
async fn a_handler_chooses_per_call_and_the_headers_say_so() {
    let server = spawn_unix(vec![service()]);
    let mut h2 = raw::connect(&server).await;
    let request = raw::request(&path("Deflated"))
        .header("grpc-accept-encoding", "gzip,deflate")
        .body(())
        .unwrap();
    let reply = raw::call(&mut h2, request, raw::frame(&StreamReq { count: 1, size: 9000 })).await;
    assert_eq!(header(&reply.headers, "grpc-encoding"), Some("deflate"));
    let messages = decode_all(reply.body, usize::MAX).unwrap();
    assert!(messages[0].compressed);
    assert_eq!(decompress(Encoding::Deflate, &messages[0].data, 1 << 20).unwrap().len(), 9003);

    // The h2grpc client accepts every encoding it supports, so it gets deflate too.
    let channel = server.channel().await;
    let req = StreamReq { count: 1, size: 9000 };
    let deflated = path("Deflated");
    let response = channel.unary::<_, Payload>(&deflated, &req, CallOptions::new()).await;
    let response = response.unwrap();
    assert!(response.message_compressed());
    assert_eq!(response.into_inner(), zeros(9000));
    server.stop().await;
}

#[tokio::test]
async fn a_service_overrides_the_servers_default_and_a_call_the_channels() {
    let plain = Service::new("test.Plain")
        .send_compression(Encoding::Identity)
        .unary("Echo", |_ctx, req: Payload| async move { Ok::<_, Status>(req) });
    let server = spawn_compressing(Encoding::Gzip, vec![service(), plain]);
    let channel = channel_sending(&server, Encoding::Gzip).await;
    let big = zeros(20_000);

    let inherits = channel.unary::<_, Payload>(&path("Echo"), &big, CallOptions::new()).await;
    assert!(inherits.unwrap().message_compressed(), "the server's default: gzip");
    let overridden = channel.unary::<_, Payload>("/test.Plain/Echo", &big, CallOptions::new());
    assert!(!overridden.await.unwrap().message_compressed(), "the service's: identity");

    let plain_call = CallOptions::new().compression(Encoding::Identity);
    let response = channel.unary::<_, Payload>(&path("Echo"), &big, plain_call).await.unwrap();
    assert_eq!(response.headers().get("x-request-compressed"), Some("0"), "the call's: identity");
    let response = channel.unary::<_, Payload>(&path("Echo"), &big, CallOptions::new()).await;
    assert_eq!(response.unwrap().headers().get("x-request-compressed"), Some("1"), "the channel's");
    server.stop().await;
}

#[tokio::test]
async fn an_empty_stream_is_still_trailers_only_and_advertises_support() {
    let server = spawn_compressing(Encoding::Gzip, vec![service()]);
    let mut h2 = raw::connect(&server).await;
    let request =
        raw::request(&path("Alternate")).header("grpc-accept-encoding", "gzip").body(()).unwrap();
    let reply = raw::call(&mut h2, request, raw::frame(&StreamReq { count: 0, size: 0 })).await;
    assert!(reply.trailers_only, "{reply:?}");
    assert_eq!(reply.grpc_status(), Some("0"));
    assert_eq!(header(&reply.headers, "grpc-encoding"), None, "no message, nothing encoded");
    assert_eq!(header(&reply.headers, "grpc-accept-encoding"), Some("identity,gzip,deflate"));
    server.stop().await;
}

#[tokio::test]
async fn the_wire_trace_shows_compressed_messages_with_flag_1_on_both_sides() {
    use h2grpc::trace::{Kind, MemorySink, Trace};
    let (server_sink, client_sink) = (MemorySink::new(), MemorySink::new());
    let traced = server_sink.clone();
    let server = spawn_with(Transport::Unix, vec![service()], move |b| {
        b.send_compression(Encoding::Gzip).trace(Trace::new(traced));
    });
    let mut builder = Channel::builder(&server.target).unwrap();
    builder.send_compression(Encoding::Gzip).trace(Trace::new(client_sink.clone()));
    let channel = builder.connect().await.unwrap();
    let request = zeros(10_000);
    channel.unary::<_, Payload>(&path("Echo"), &request, CallOptions::new()).await.unwrap();
    for (side, records) in [("client", client_sink.take()), ("server", server_sink.take())] {
        let messages: Vec<String> = records
            .iter()
            .filter(|r| r.kind == Kind::Message)
            .map(|r| r.text.lines().next().unwrap_or_default().to_owned())
            .collect();
        assert_eq!(messages.len(), 2, "{side}: {messages:?}");
        assert!(messages.iter().all(|m| m.starts_with("MESSAGE flag 1")), "{side}: {messages:?}");
        let headers = records.iter().find(|r| r.kind == Kind::RequestHeaders).unwrap();
        assert!(headers.text.contains("grpc-encoding: gzip"), "{side}: {}", headers.text);
    }
    server.stop().await;
}
