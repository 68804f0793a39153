//! h2grpc without the `compression` feature behaves as it did before compression existed:
//! identity only, no compression header sent, and a request in any other encoding refused
//! with UNIMPLEMENTED and `grpc-accept-encoding: identity`.
//!
//! Only meaningful when h2grpc is built without the feature, i.e. when this package is tested
//! alone (`cargo test -p h2grpc-default-build`); in a workspace-wide build h2grpc's own tests
//! turn the feature on for everyone, and these tests say so and return.

use bytes::{Bytes, BytesMut};
use h2grpc::codec::compression::Encoding;
use h2grpc::{CallOptions, Channel, Server, Service, Status};
use http::HeaderMap;

fn built_with_compression() -> bool {
    let with = Encoding::SUPPORTED.len() > 1;
    if with {
        eprintln!(
            "h2grpc was built with `compression` here; run `cargo test -p h2grpc-default-build`"
        );
    }
    with
}

fn echo() -> Service {
    Service::new("min.Echo").unary("Say", |_ctx, s: String| async move { Ok::<_, Status>(s) })
}

fn framed(text: &str, flag: u8) -> Bytes {
    let body = prost::Message::encode_to_vec(&text.to_owned());
    let mut out = BytesMut::new();
    h2grpc::codec::encode_raw(&body, flag == 1, &mut out).unwrap();
    out.freeze()
}

/// Sends one request to `path` with `headers` and `body`; returns the response head (with
/// trailers folded in) and whether it was Trailers-Only.
async fn raw_call(
    sock: &std::path::Path,
    extra: &[(&str, &str)],
    body: Bytes,
) -> (HeaderMap, bool) {
    let io = tokio::net::UnixStream::connect(sock).await.unwrap();
    let (send, conn) = h2::client::handshake(io).await.unwrap();
    tokio::spawn(conn);
    let mut request = http::Request::post("http://localhost/min.Echo/Say")
        .header("content-type", "application/grpc")
        .header("te", "trailers");
    for (name, value) in extra {
        request = request.header(*name, *value);
    }
    let (response, mut stream) =
        send.ready().await.unwrap().send_request(request.body(()).unwrap(), false).unwrap();
    let _ = stream.send_data(body, true);
    let response = response.await.unwrap();
    let trailers_only = response.body().is_end_stream();
    let (parts, mut body) = response.into_parts();
    let mut headers = parts.headers;
    while let Some(chunk) = body.data().await {
        let chunk = chunk.unwrap();
        let _ = body.flow_control().release_capacity(chunk.len());
    }
    if let Ok(Some(trailers)) = body.trailers().await {
        headers.extend(trailers);
    }
    (headers, trailers_only)
}

#[tokio::test]
async fn the_server_speaks_identity_only_and_refuses_gzip_as_before() {
    if built_with_compression() {
        return;
    }
    assert_eq!(Encoding::SUPPORTED, &[Encoding::Identity]);
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("min.sock");
    let server = Server::builder().add_service(echo()).bind_unix(&sock).unwrap();
    let shutdown = server.shutdown_handle();
    let serving = tokio::spawn(server.serve());

    let (headers, trailers_only) =
        raw_call(&sock, &[("grpc-encoding", "gzip")], framed("hi", 1)).await;
    assert!(trailers_only);
    assert_eq!(headers["grpc-status"], "12");
    assert_eq!(headers["grpc-accept-encoding"], "identity");

    let (headers, _) = raw_call(&sock, &[("grpc-accept-encoding", "gzip")], framed("hi", 0)).await;
    assert_eq!(headers["grpc-status"], "0");
    assert!(!headers.contains_key("grpc-encoding"), "{headers:?}");
    assert!(!headers.contains_key("grpc-accept-encoding"), "{headers:?}");

    // Flag 1 without a grpc-encoding is INTERNAL, as it always was.
    let (headers, _) = raw_call(&sock, &[], framed("hi", 1)).await;
    assert_eq!(headers["grpc-status"], "13");

    let channel = Channel::connect(&format!("unix:{}", sock.display())).await.unwrap();
    let reply: String = channel
        .unary("/min.Echo/Say", &"hello".to_owned(), CallOptions::new())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(reply, "hello");
    shutdown.shutdown();
    serving.await.unwrap().unwrap();
}

#[tokio::test]
async fn the_client_sends_no_compression_header_and_refuses_compressed_responses() {
    if built_with_compression() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("scripted.sock");
    let listener = tokio::net::UnixListener::bind(&sock).unwrap();
    let (seen_tx, mut seen_rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let (io, _) = listener.accept().await.unwrap();
        let mut conn = h2::server::handshake(io).await.unwrap();
        while let Some(Ok((request, mut respond))) = conn.accept().await {
            seen_tx.send(request.headers().clone()).unwrap();
            let head = http::Response::builder()
                .header("content-type", "application/grpc")
                .header("grpc-encoding", "gzip")
                .body(())
                .unwrap();
            let mut stream = respond.send_response(head, false).unwrap();
            let _ = stream.send_data(framed("compressed, supposedly", 1), false);
            let mut trailers = HeaderMap::new();
            trailers.insert("grpc-status", http::HeaderValue::from_static("0"));
            let _ = stream.send_trailers(trailers);
        }
    });
    let channel = Channel::connect(&format!("unix:{}", sock.display())).await.unwrap();
    let result =
        channel.unary::<_, String>("/min.Echo/Say", &"x".to_owned(), CallOptions::new()).await;
    let status = result.unwrap_err();
    assert_eq!(status.code(), h2grpc::Code::Internal, "{status:?}");
    let sent = seen_rx.recv().await.unwrap();
    assert!(!sent.contains_key("grpc-encoding"), "{sent:?}");
    assert!(!sent.contains_key("grpc-accept-encoding"), "{sent:?}");
}
