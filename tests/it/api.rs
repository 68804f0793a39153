//! The by-path API as a new user meets it: typed method handles infer every type, and names
//! that cannot route fail when the service is built, not as UNIMPLEMENTED at run time.

use h2grpc::server::{RequestStream, ResponseSink};
use h2grpc::{CallOptions, Code, Method, Service};

use crate::support::*;

const UNARY: Method<Payload, Payload> = Method::new("/api.Echo/Unary");
const REPEAT: Method<StreamReq, Payload> = Method::new("/api.Echo/Repeat");
const SUM: Method<Payload, Payload> = Method::new("/api.Echo/Sum");
const CHAT: Method<Payload, Payload> = Method::new("/api.Echo/Chat");

/// Registered through the same handles: no annotation on any handler either.
fn service() -> Service {
    Service::new(UNARY.service())
        .unary(UNARY, |_ctx, req| async move { Ok(req) })
        .server_streaming(REPEAT, |_ctx, req, mut sink| async move {
            for _ in 0..req.count {
                sink.send(payload(req.size as usize)).await?;
            }
            Ok(())
        })
        .client_streaming(SUM, |_ctx, mut reqs| async move {
            let mut len = 0;
            while let Some(req) = reqs.message().await? {
                len += req.data.len();
            }
            Ok(payload(len))
        })
        .bidi_streaming(CHAT, |_ctx, mut reqs, mut sink| async move {
            while let Some(req) = reqs.message().await? {
                sink.send(req).await?;
            }
            Ok(())
        })
}

#[tokio::test]
async fn calls_through_method_handles_need_no_type_annotations() {
    let server = spawn_unix(vec![service()]);
    let channel = server.channel().await;

    // Unary, by value and by reference; the reply's type comes from UNARY.
    let request = payload(3);
    let reply = channel.unary(UNARY, &request, CallOptions::new()).await.unwrap();
    assert_eq!(reply.into_inner().data.len(), 3);
    let reply = channel.unary(&UNARY, request, CallOptions::new()).await.unwrap();
    assert_eq!(reply.get_ref().data.len(), 3);

    let mut replies = channel
        .server_streaming(REPEAT, StreamReq { count: 2, size: 5 }, CallOptions::new())
        .await
        .unwrap();
    let mut sizes = Vec::new();
    while let Some(reply) = replies.message().await.unwrap() {
        sizes.push(reply.data.len());
    }
    assert_eq!(sizes, [5, 5]);

    let mut call = channel.client_streaming(SUM, CallOptions::new()).await.unwrap();
    call.send(payload(4)).await.unwrap();
    call.send(&payload(6)).await.unwrap();
    assert_eq!(call.finish().await.unwrap().into_inner().data.len(), 10);

    let (mut requests, mut replies) =
        channel.bidi_streaming(CHAT, CallOptions::new()).await.unwrap();
    requests.send(payload(7)).await.unwrap();
    assert_eq!(replies.message().await.unwrap().unwrap().data.len(), 7);
    requests.close().await.unwrap();
    assert!(replies.message().await.unwrap().is_none());
    server.stop().await;
}

#[tokio::test]
async fn a_malformed_path_string_fails_the_call_locally_with_internal() {
    let server = spawn_unix(vec![service()]);
    let channel = server.channel().await;
    // The service name as the server takes it, without the leading '/': a classic slip.
    let status = channel
        .unary::<Payload, Payload>("api.Echo/Unary", payload(1), CallOptions::new())
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::Internal);
    assert!(status.message().contains("starts with '/'"), "{}", status.message());
    // A well-formed path string works as a handle does.
    let path = String::from("/api.Echo/Unary");
    let reply: Payload =
        channel.unary(&path, payload(2), CallOptions::new()).await.unwrap().into_inner();
    assert_eq!(reply.data.len(), 2);
    server.stop().await;
}

fn panic_message(f: impl FnOnce() + std::panic::UnwindSafe) -> String {
    let payload = std::panic::catch_unwind(f).expect_err("should panic");
    payload.downcast_ref::<String>().cloned().unwrap_or_default()
}

#[test]
fn a_service_with_a_name_that_cannot_route_fails_when_built() {
    let message = panic_message(|| drop(Service::new("/api.Echo")));
    assert!(message.contains("invalid service name \"/api.Echo\""), "{message}");
    let message = panic_message(|| drop(Service::new("api..Echo")));
    assert!(message.contains("empty segment"), "{message}");
    let message = panic_message(|| {
        drop(Service::new("api.Echo").unary("", |_ctx, r: Payload| async move { Ok(r) }))
    });
    assert!(message.contains("method name is empty"), "{message}");
    let message = panic_message(|| {
        drop(Service::new("api.Echo").unary("/Unary", |_ctx, r: Payload| async move { Ok(r) }))
    });
    assert!(message.contains("holds no '/'"), "{message}");
}

#[test]
fn a_handle_on_another_services_method_fails_when_built() {
    let other: Method<Payload, Payload> = Method::new("/api.Other/Unary");
    let message = panic_message(|| {
        drop(Service::new("api.Echo").unary(other, |_ctx, r| async move { Ok(r) }))
    });
    assert_eq!(message, "method /api.Other/Unary is added to service api.Echo");
}

#[test]
fn a_method_added_twice_fails_when_built() {
    let message = panic_message(|| {
        drop(
            Service::new("api.Echo")
                .unary("Unary", |_ctx, r: Payload| async move { Ok(r) })
                .bidi_streaming(
                    "Unary",
                    |_ctx, _reqs: RequestStream<Payload>, _sink: ResponseSink<Payload>| async {
                        Ok(())
                    },
                ),
        )
    });
    assert_eq!(message, "method \"Unary\" is added twice to service api.Echo");
}
