//! Requests the server refuses, and how: routing misses, non-gRPC requests, bad headers,
//! request cardinality, panicking handlers. Wire details are checked with a raw `h2` client.

use std::future::poll_fn;
use std::time::Duration;

use h2grpc::client::Channel;
use h2grpc::server::ResponseSink;
use h2grpc::{CallOptions, Code, Service, Status};
use http::{Method, StatusCode};

use crate::raw;
use crate::support::*;

fn service() -> Service {
    Service::new("errors.Svc")
        .unary("Echo", |_ctx, req: Payload| async move { Ok::<_, Status>(req) })
        .server_streaming("Stream", |_ctx, req: StreamReq, mut sink| async move {
            for _ in 0..req.count {
                sink.send(payload(req.size as usize)).await?;
            }
            Ok(())
        })
        .bidi_streaming("Chat", |_ctx, mut reqs, mut sink| async move {
            while let Some(p) = reqs.message().await? {
                let p: Payload = p;
                sink.send(p).await?;
            }
            Ok(())
        })
        .unary("Panic", |_ctx, _req: Payload| async move { handler_bug() })
        .server_streaming(
            "PanicAfterOne",
            |_ctx, _req: StreamReq, mut sink: ResponseSink<Payload>| async move {
                sink.send(payload(1)).await?;
                panic!("a handler bug after one message");
            },
        )
}

fn handler_bug() -> Result<Payload, Status> {
    panic!("a handler bug")
}

fn server(transport: Transport) -> TestServer {
    spawn_with(transport, vec![service()], |_| {})
}

async fn unary(channel: &Channel, path: &str) -> Result<Payload, Status> {
    Ok(channel.unary(path, &payload(3), CallOptions::new()).await?.into_inner())
}

#[tokio::test]
async fn unknown_methods_and_services_are_unimplemented() {
    for transport in TRANSPORTS {
        let server = spawn_with(transport, vec![service()], |_| {});
        let channel = server.channel().await;
        for (path, message) in [
            ("/errors.Svc/Nope", "unknown method Nope for service errors.Svc"),
            ("/errors.Nope/Echo", "unknown service errors.Nope"),
            // Paths are case-sensitive.
            ("/errors.Svc/echo", "unknown method echo for service errors.Svc"),
            ("/Errors.Svc/Echo", "unknown service Errors.Svc"),
        ] {
            let err = unary(&channel, path).await.unwrap_err();
            assert_eq!((err.code(), err.message()), (Code::Unimplemented, message), "{path}");
        }
        // A malformed path never leaves the h2grpc client (INTERNAL, see api.rs); sent raw, the
        // server answers it UNIMPLEMENTED.
        let mut send = raw::connect(&server).await;
        let request = raw::request("/no-slash").body(()).unwrap();
        let status = raw::call(&mut send, request, raw::frame(&payload(3))).await.status();
        let expected = (Code::Unimplemented, "malformed method name: \"/no-slash\"");
        assert_eq!((status.code(), status.message()), expected);
        // Streaming calls get the same answer.
        let (_tx, mut rx) = channel
            .bidi_streaming::<Payload, Payload>("/errors.Svc/Nope", CallOptions::new())
            .await
            .unwrap();
        assert_eq!(rx.message().await.unwrap_err().code(), Code::Unimplemented);
        server.stop().await;
    }
}

#[tokio::test]
async fn unimplemented_is_trailers_only_with_http_200_sent_without_reading_the_body() {
    for transport in TRANSPORTS {
        let server = server(transport);
        let mut send = raw::connect(&server).await;
        for path in ["/errors.Svc/Nope", "/errors.Nope/Echo"] {
            let request = raw::request(path).body(()).unwrap();
            let (response, mut body) = send.send_request(request, false).unwrap();
            // Half a message and no END_STREAM: a server that read the body would wait forever.
            body.send_data(raw::frame(&payload(100)).slice(..50), false).unwrap();
            let reply = tokio::time::timeout(Duration::from_secs(10), raw::read(response))
                .await
                .expect("the server answers without waiting for the request body");
            assert_eq!(reply.http_status, StatusCode::OK, "{path}");
            assert!(reply.trailers_only, "{path}: {reply:?}");
            assert_eq!(reply.headers["content-type"], "application/grpc");
            assert_eq!(reply.grpc_status(), Some("12"), "{path}");
            // Early server closure: with the response complete and the request not, the server
            // resets the stream with NO_ERROR so the client stops sending.
            let reason = poll_fn(|cx| body.poll_reset(cx)).await.unwrap();
            assert_eq!(reason, h2::Reason::NO_ERROR, "{path}");
        }
        // The connection is still good.
        let reply = raw::call(
            &mut send,
            raw::request("/errors.Svc/Echo").body(()).unwrap(),
            raw::frame(&payload(3)),
        )
        .await;
        assert_eq!(reply.grpc_status(), Some("0"));
        assert_eq!(reply.body, raw::frame(&payload(3)));
        server.stop().await;
    }
}

#[tokio::test]
async fn a_non_grpc_content_type_is_http_415() {
    for transport in TRANSPORTS {
        let server = server(transport);
        let mut send = raw::connect(&server).await;
        for content_type in
            [Some("application/json"), Some("text/plain"), Some("application/grpcx"), None]
        {
            let mut request = raw::request("/errors.Svc/Echo").body(()).unwrap();
            match content_type {
                Some(ct) => request.headers_mut().insert("content-type", ct.parse().unwrap()),
                None => request.headers_mut().remove("content-type"),
            };
            let reply = raw::call(&mut send, request, raw::frame(&payload(3))).await;
            assert_eq!(reply.http_status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{content_type:?}");
            // Still a status a gRPC client can read, naming what arrived.
            assert!(reply.trailers_only);
            let status = reply.status();
            assert_ne!(status.code(), Code::Ok);
            assert!(status.message().contains(content_type.unwrap_or("\"\"")), "{status:?}");
        }
        server.stop().await;
    }
}

#[tokio::test]
async fn a_get_request_is_http_405() {
    for transport in TRANSPORTS {
        let server = server(transport);
        let mut send = raw::connect(&server).await;
        let mut request = raw::request("/errors.Svc/Echo").body(()).unwrap();
        *request.method_mut() = Method::GET;
        let (response, _) = send.send_request(request, true).unwrap();
        let reply = raw::read(response).await;
        assert_eq!(reply.http_status, StatusCode::METHOD_NOT_ALLOWED);
        assert!(reply.trailers_only);
        assert_eq!(reply.status().code(), Code::Internal);
        server.stop().await;
    }
}

#[tokio::test]
async fn a_malformed_grpc_timeout_is_http_400_with_internal() {
    for transport in TRANSPORTS {
        let server = server(transport);
        let mut send = raw::connect(&server).await;
        // Letters, nine digits (the spec allows at most eight), no unit, an unknown unit.
        for timeout in ["abc", "123456789S", "100", "1x", "-1S"] {
            let request =
                raw::request("/errors.Svc/Echo").header("grpc-timeout", timeout).body(()).unwrap();
            let reply = raw::call(&mut send, request, raw::frame(&payload(3))).await;
            assert_eq!(reply.http_status, StatusCode::BAD_REQUEST, "{timeout}");
            assert!(reply.trailers_only, "{timeout}");
            // What the h2grpc client reports: grpc-status wins over the HTTP status.
            let status = reply.status();
            assert_eq!(status.code(), Code::Internal, "{timeout}");
            assert!(status.message().contains("malformed grpc-timeout"), "{status:?}");
            assert!(status.message().contains(timeout), "{status:?}");
        }
        // Eight digits are fine.
        let request =
            raw::request("/errors.Svc/Echo").header("grpc-timeout", "99999999S").body(()).unwrap();
        let reply = raw::call(&mut send, request, raw::frame(&payload(3))).await;
        assert_eq!(reply.grpc_status(), Some("0"));
        server.stop().await;
    }
}

/// `te: trailers` is required of clients, but refusing a request without it would only break
/// clients behind proxies that strip it; like grpc-go (and unlike C-core and grpc-java) the
/// server accepts it. The choice is documented in `src/server/call.rs`.
#[tokio::test]
async fn a_request_without_te_trailers_is_accepted() {
    for transport in TRANSPORTS {
        let server = server(transport);
        let mut send = raw::connect(&server).await;
        let mut request = raw::request("/errors.Svc/Echo").body(()).unwrap();
        request.headers_mut().remove("te");
        let reply = raw::call(&mut send, request, raw::frame(&payload(3))).await;
        assert_eq!(reply.http_status, StatusCode::OK);
        assert_eq!(reply.grpc_status(), Some("0"));
        assert_eq!(reply.body, raw::frame(&payload(3)));
        server.stop().await;
    }
}

#[tokio::test]
async fn grpc_content_types_with_a_subtype_or_parameters_are_accepted() {
    for transport in TRANSPORTS {
        let server = server(transport);
        let mut send = raw::connect(&server).await;
        for content_type in ["application/grpc+proto", "application/grpc;charset=utf-8"] {
            let mut request = raw::request("/errors.Svc/Echo").body(()).unwrap();
            request.headers_mut().insert("content-type", content_type.parse().unwrap());
            let reply = raw::call(&mut send, request, raw::frame(&payload(3))).await;
            assert_eq!(reply.http_status, StatusCode::OK, "{content_type}");
            assert!(!reply.trailers_only, "{content_type}: {reply:?}");
            let ct = reply.headers["content-type"].to_str().unwrap();
            assert!(ct.starts_with("application/grpc"), "{ct}");
            assert_eq!(reply.grpc_status(), Some("0"), "{content_type}");
            assert_eq!(reply.body, raw::frame(&payload(3)), "{content_type}");
        }
        server.stop().await;
    }
}

/// Calls a single-request method with `count` request messages.
async fn send_requests(channel: &Channel, path: &str, count: usize) -> Status {
    let mut call =
        channel.client_streaming::<Payload, Payload>(path, CallOptions::new()).await.unwrap();
    for _ in 0..count {
        // The server may answer after the second message while a third is in flight.
        let _ = call.send(payload(1)).await;
    }
    call.finish().await.unwrap_err()
}

#[tokio::test]
async fn single_request_methods_reject_zero_or_several_request_messages() {
    for transport in TRANSPORTS {
        let server = spawn_with(transport, vec![service()], |_| {});
        let channel = server.channel().await;
        // statuscodes.md: a request cardinality violation is UNIMPLEMENTED.
        for path in ["/errors.Svc/Echo", "/errors.Svc/Stream"] {
            let none = send_requests(&channel, path, 0).await;
            assert_eq!(none.code(), Code::Unimplemented, "{path}: {none:?}");
            assert!(none.message().contains("received none"), "{none:?}");
            for count in [2, 3] {
                let many = send_requests(&channel, path, count).await;
                assert_eq!(many.code(), Code::Unimplemented, "{path}: {many:?}");
                assert!(many.message().contains("received more"), "{many:?}");
            }
        }
        // And exactly one is fine.
        assert_eq!(unary(&channel, "/errors.Svc/Echo").await.unwrap(), payload(3));
        server.stop().await;
    }
}

#[tokio::test]
async fn a_unary_client_rejects_zero_or_several_response_messages() {
    for transport in TRANSPORTS {
        let server = spawn_with(transport, vec![service()], |_| {});
        let channel = server.channel().await;
        for count in [0, 2] {
            let req = StreamReq { count, size: 1 };
            let err = channel
                .unary::<_, Payload>("/errors.Svc/Stream", &req, CallOptions::new())
                .await
                .unwrap_err();
            // statuscodes.md: a response cardinality violation is UNIMPLEMENTED.
            assert_eq!(err.code(), Code::Unimplemented, "{count} responses: {err:?}");
        }
        server.stop().await;
    }
}

#[tokio::test]
async fn a_panicking_handler_fails_only_its_own_call() {
    for transport in TRANSPORTS {
        let server = spawn_with(transport, vec![service()], |_| {});
        let channel = server.channel().await;
        // A call in flight on the same connection before and after the panics.
        let (mut tx, mut rx) = channel
            .bidi_streaming::<Payload, Payload>("/errors.Svc/Chat", CallOptions::new())
            .await
            .unwrap();
        tx.send(payload(1)).await.unwrap();
        assert_eq!(rx.message().await.unwrap(), Some(payload(1)));

        let err = unary(&channel, "/errors.Svc/Panic").await.unwrap_err();
        assert_eq!(err.code(), Code::Internal, "{err:?}");
        let mut stream = channel
            .server_streaming::<_, Payload>(
                "/errors.Svc/PanicAfterOne",
                &StreamReq::default(),
                CallOptions::new(),
            )
            .await
            .unwrap();
        assert_eq!(stream.message().await.unwrap(), Some(payload(1)));
        assert_eq!(stream.message().await.unwrap_err().code(), Code::Internal);

        tx.send(payload(2)).await.unwrap();
        assert_eq!(rx.message().await.unwrap(), Some(payload(2)));
        tx.close().await.unwrap();
        assert_eq!(rx.message().await.unwrap(), None);
        assert_eq!(unary(&channel, "/errors.Svc/Echo").await.unwrap(), payload(3));
        server.stop().await;
    }
}

#[tokio::test]
async fn after_a_panic_the_next_call_on_the_same_connection_is_served() {
    for transport in TRANSPORTS {
        let server = server(transport);
        // One raw connection, so a reconnect cannot hide a dead one.
        let mut send = raw::connect(&server).await;
        let panic = raw::request("/errors.Svc/Panic").body(()).unwrap();
        let reply = raw::call(&mut send, panic, raw::frame(&payload(3))).await;
        assert_eq!(reply.status().code(), Code::Internal);
        let echo = raw::request("/errors.Svc/Echo").body(()).unwrap();
        let reply = raw::call(&mut send, echo, raw::frame(&payload(3))).await;
        assert_eq!(reply.grpc_status(), Some("0"));
        assert_eq!(reply.body, raw::frame(&payload(3)));
        server.stop().await;
    }
}
