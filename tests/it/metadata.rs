//! Custom metadata end to end: request metadata as the handler sees it, response headers,
//! trailers, status metadata, and the rules on when and what a handler may set.

use bytes::Bytes;
use h2grpc::client::Channel;
use h2grpc::server::{CallContext, ResponseSink};
use h2grpc::{CallOptions, Code, Metadata, Service, Status};
use http::StatusCode;
use tokio::sync::mpsc;

use crate::raw;
use crate::support::*;

/// What a handler saw of its request.
#[derive(Debug)]
struct Seen {
    metadata: Metadata,
    authority: Option<String>,
}

const BIN: [u8; 4] = [0x00, 0xff, 0x10, 0x80];

/// Sets one of each kind of response metadata.
fn set_all(ctx: &CallContext) -> Result<(), Status> {
    ctx.set_header("x-header", "h1")?;
    ctx.set_header_bin("x-header-bin", &BIN)?;
    ctx.set_trailer("x-trailer", "t1")?;
    ctx.set_trailer_bin("x-trailer-bin", &BIN)?;
    Ok(())
}

fn busy() -> Status {
    let mut status = Status::unavailable("busy");
    status.metadata_mut().insert("retry-after-ms", "250").unwrap();
    status.metadata_mut().insert_bin("why-bin", BIN).unwrap();
    status
}

/// The outcome of a `set_*` call as a message: `ok`, or the error's code.
fn outcome(result: Result<(), Status>) -> Payload {
    let text = match result {
        Ok(()) => "ok".to_owned(),
        Err(status) => format!("{:?}", status.code()),
    };
    Payload { data: Bytes::from(text) }
}

fn service(
    seen: mpsc::UnboundedSender<Seen>,
    contexts: mpsc::UnboundedSender<CallContext>,
) -> Service {
    Service::new("md.Svc")
        // Hands its context to the test and returns.
        .unary("Escape", move |ctx: CallContext, _req: Payload| {
            let _ = contexts.send(ctx);
            async move { Ok::<_, Status>(Payload::default()) }
        })
        .unary("Inspect", move |ctx: CallContext, _req: Payload| {
            let metadata = ctx.metadata().clone();
            let authority = ctx.authority().map(str::to_owned);
            let _ = seen.send(Seen { metadata, authority });
            async move { Ok::<_, Status>(Payload::default()) }
        })
        .unary("Unary", |ctx, _req: Payload| async move {
            set_all(&ctx)?;
            Ok::<_, Status>(payload(1))
        })
        // Sets every kind of metadata, then sends `count` messages.
        .server_streaming("Stream", |ctx, req: StreamReq, mut sink| async move {
            set_all(&ctx)?;
            for _ in 0..req.count {
                sink.send(payload(1)).await?;
            }
            Ok(())
        })
        .unary("Fail", |ctx, _req: Payload| async move {
            set_all(&ctx)?;
            Err::<Payload, _>(busy())
        })
        .server_streaming("FailAfterOne", |ctx, _req: StreamReq, mut sink| async move {
            set_all(&ctx)?;
            sink.send(payload(1)).await?;
            Err(busy())
        })
        // Sends a first message, then reports whether `set_header` still works: at once, and
        // again after the client has confirmed the first message arrived.
        .bidi_streaming("LateHeader", |ctx, mut reqs, mut sink: ResponseSink<Payload>| async move {
            sink.send(payload(1)).await?;
            sink.send(outcome(ctx.set_header("x-late", "1"))).await?;
            let _: Option<Payload> = reqs.message().await?;
            sink.send(outcome(ctx.set_header("x-later", "1"))).await?;
            sink.send(outcome(ctx.set_header_bin("x-later-bin", &BIN))).await?;
            Ok(())
        })
        // Tries reserved names everywhere; answers with those that were accepted.
        .unary("Reserved", |ctx, _req: Payload| async move {
            let mut accepted = Vec::new();
            for name in ["grpc-foo", "grpc-status", "te", "content-type", ":path"] {
                if ctx.set_header(name, "x").is_ok() {
                    accepted.push(format!("header {name}"));
                }
                if ctx.set_trailer(name, "x").is_ok() {
                    accepted.push(format!("trailer {name}"));
                }
            }
            if ctx.set_header_bin("grpc-foo-bin", &BIN).is_ok() {
                accepted.push("header grpc-foo-bin".to_owned());
            }
            if ctx.set_trailer_bin("grpc-foo-bin", &BIN).is_ok() {
                accepted.push("trailer grpc-foo-bin".to_owned());
            }
            Ok::<_, Status>(Payload { data: accepted.join(", ").into() })
        })
}

struct Fixture {
    server: TestServer,
    channel: Channel,
    seen: mpsc::UnboundedReceiver<Seen>,
    contexts: mpsc::UnboundedReceiver<CallContext>,
}

async fn start(transport: Transport) -> Fixture {
    let (tx, seen) = mpsc::unbounded_channel();
    let (ctx_tx, contexts) = mpsc::unbounded_channel();
    let server = spawn_with(transport, vec![service(tx, ctx_tx)], |_| {});
    let channel = server.channel().await;
    Fixture { server, channel, seen, contexts }
}

/// The metadata `set_all` writes, as the client sees it.
fn assert_headers(md: &Metadata) {
    assert_eq!(md.get("x-header"), Some("h1"), "{md:?}");
    assert_eq!(md.get_bin("x-header-bin").as_deref(), Some(&BIN[..]), "{md:?}");
}

fn assert_trailers(md: &Metadata) {
    assert_eq!(md.get("x-trailer"), Some("t1"), "{md:?}");
    assert_eq!(md.get_bin("x-trailer-bin").as_deref(), Some(&BIN[..]), "{md:?}");
}

#[tokio::test]
async fn request_metadata_reaches_the_handler_without_reserved_headers() {
    for transport in TRANSPORTS {
        let mut f = start(transport).await;
        let options = CallOptions::new()
            .timeout(std::time::Duration::from_secs(60))
            .header("x-text", "hello world")
            .unwrap()
            .header_bin("x-raw-bin", &BIN)
            .unwrap()
            .header("x-multi", "a")
            .unwrap()
            .header("x-multi", "b")
            .unwrap()
            .header_bin("x-multi-bin", &[1])
            .unwrap()
            .header_bin("x-multi-bin", &[])
            .unwrap();
        f.channel.unary::<_, Payload>("/md.Svc/Inspect", &payload(0), options).await.unwrap();
        let Seen { metadata: md, .. } = f.seen.recv().await.unwrap();
        assert_eq!(md.get("x-text"), Some("hello world"));
        assert_eq!(md.get_bin("x-raw-bin").as_deref(), Some(&BIN[..]));
        assert_eq!(md.get_all("x-multi").collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!(md.get_all_bin("x-multi-bin"), [vec![1], vec![]]);
        // The protocol's own headers are not metadata; user-agent is, as in grpc-go.
        for reserved in ["te", "content-type", "grpc-timeout", ":path", ":authority"] {
            assert!(md.keys().all(|k| k != reserved), "{reserved} in {md:?}");
        }
        let agent = md.get("user-agent").unwrap();
        assert!(agent.starts_with("grpc-rust-h2grpc/"), "{agent}");
        f.server.stop().await;
    }
}

#[tokio::test]
async fn raw_binary_metadata_is_decoded_padded_unpadded_and_comma_joined() {
    for transport in TRANSPORTS {
        let mut f = start(transport).await;
        let mut send = raw::connect(&f.server).await;
        let request = raw::request("/md.Svc/Inspect")
            .header("padded-bin", "AQ==")
            .header("unpadded-bin", "AQ")
            .header("joined-bin", "AQ==,Ag")
            .header("joined-bin", "Aw")
            .header("spaced-bin", "AQ, Ag")
            .header("text", "one")
            .header("text", "two")
            .header("joined-text", "a,b")
            .body(())
            .unwrap();
        let reply = raw::call(&mut send, request, raw::frame(&payload(0))).await;
        assert_eq!(reply.grpc_status(), Some("0"));
        let Seen { metadata: md, .. } = f.seen.recv().await.unwrap();
        assert_eq!(md.get_bin("padded-bin"), Some(vec![1]));
        assert_eq!(md.get_bin("unpadded-bin"), Some(vec![1]));
        // Several values joined with `,` are split before decoding; order is kept.
        assert_eq!(md.get_all_bin("joined-bin"), [vec![1], vec![2], vec![3]]);
        assert_eq!(md.get_all_bin("spaced-bin"), [vec![1], vec![2]]);
        assert_eq!(md.get_all("text").collect::<Vec<_>>(), ["one", "two"]);
        // A text value may contain commas: it is not split.
        assert_eq!(md.get_all("joined-text").collect::<Vec<_>>(), ["a,b"]);
        f.server.stop().await;
    }
}

#[tokio::test]
async fn undecodable_binary_metadata_is_refused_with_internal() {
    for transport in TRANSPORTS {
        let f = start(transport).await;
        let mut send = raw::connect(&f.server).await;
        let request =
            raw::request("/md.Svc/Inspect").header("x-bin", "not base64!").body(()).unwrap();
        let reply = raw::call(&mut send, request, raw::frame(&payload(0))).await;
        assert_eq!(reply.http_status, StatusCode::BAD_REQUEST);
        let status = reply.status();
        assert_eq!(status.code(), Code::Internal);
        assert!(status.message().contains("x-bin"), "{status:?}");
        f.server.stop().await;
    }
}

#[tokio::test]
async fn response_headers_and_trailers_reach_a_unary_client() {
    for transport in TRANSPORTS {
        let f = start(transport).await;
        let response = f
            .channel
            .unary::<_, Payload>("/md.Svc/Unary", &payload(0), CallOptions::new())
            .await
            .unwrap();
        assert_headers(response.headers());
        assert_trailers(response.trailers());
        // Each block holds only its own metadata.
        assert_eq!(response.headers().get("x-trailer"), None);
        assert_eq!(response.trailers().get("x-header"), None);
        f.server.stop().await;
    }
}

#[tokio::test]
async fn response_headers_and_trailers_reach_a_streaming_client() {
    for transport in TRANSPORTS {
        let f = start(transport).await;
        let req = StreamReq { count: 2, size: 0 };
        let mut stream = f
            .channel
            .server_streaming::<_, Payload>("/md.Svc/Stream", &req, CallOptions::new())
            .await
            .unwrap();
        assert_headers(stream.headers().await.unwrap());
        assert!(stream.trailers().is_none(), "no trailers before the end");
        while stream.message().await.unwrap().is_some() {}
        assert_trailers(stream.trailers().unwrap());
        assert_eq!(stream.trailers().unwrap().get("x-header"), None);

        // With no messages the response is Trailers-Only: one block carries both.
        let req = StreamReq { count: 0, size: 0 };
        let mut stream = f
            .channel
            .server_streaming::<_, Payload>("/md.Svc/Stream", &req, CallOptions::new())
            .await
            .unwrap();
        assert_eq!(stream.message().await.unwrap(), None);
        assert_headers(stream.headers().await.unwrap());
        assert_trailers(stream.trailers().unwrap());
        f.server.stop().await;
    }
}

#[tokio::test]
async fn an_error_status_carries_its_metadata_and_the_trailers_to_the_client() {
    for transport in TRANSPORTS {
        let f = start(transport).await;
        let check = |err: Status| {
            assert_eq!((err.code(), err.message()), (Code::Unavailable, "busy"));
            let md = err.metadata();
            assert_eq!(md.get("retry-after-ms"), Some("250"), "{md:?}");
            assert_eq!(md.get_bin("why-bin").as_deref(), Some(&BIN[..]), "{md:?}");
            assert_trailers(md);
        };
        // Trailers-Only: the failure comes before any message.
        let err = f
            .channel
            .unary::<_, Payload>("/md.Svc/Fail", &payload(0), CallOptions::new())
            .await
            .unwrap_err();
        check(err);
        // Trailers after a message.
        let mut stream = f
            .channel
            .server_streaming::<_, Payload>(
                "/md.Svc/FailAfterOne",
                &StreamReq::default(),
                CallOptions::new(),
            )
            .await
            .unwrap();
        assert_headers(stream.headers().await.unwrap());
        assert_eq!(stream.message().await.unwrap(), Some(payload(1)));
        check(stream.message().await.unwrap_err());
        f.server.stop().await;
    }
}

#[tokio::test]
async fn set_header_after_the_first_message_fails() {
    for transport in TRANSPORTS {
        let f = start(transport).await;
        let (mut tx, mut rx) = f
            .channel
            .bidi_streaming::<Payload, Payload>("/md.Svc/LateHeader", CallOptions::new())
            .await
            .unwrap();
        assert_eq!(rx.message().await.unwrap(), Some(payload(1)));
        // Right after `send` returned, whether or not the message has left yet.
        let at_once = rx.message().await.unwrap().unwrap();
        tx.send(payload(0)).await.unwrap();
        // After the client has received the first message.
        let later = rx.message().await.unwrap().unwrap();
        let later_bin = rx.message().await.unwrap().unwrap();
        for (when, got) in [("at once", at_once), ("later", later), ("later, binary", later_bin)] {
            assert_eq!(got.data, "FailedPrecondition", "{transport:?}, {when}");
        }
        tx.close().await.unwrap();
        assert_eq!(rx.message().await.unwrap(), None);
        let headers = rx.headers().await.unwrap();
        assert!(headers.keys().all(|k| !k.starts_with("x-late")), "{headers:?}");
        let trailers = rx.trailers().unwrap();
        assert!(trailers.keys().all(|k| !k.starts_with("x-late")), "{trailers:?}");
        f.server.stop().await;
    }
}

#[tokio::test]
async fn metadata_set_after_the_call_ended_is_refused_instead_of_lost() {
    for transport in TRANSPORTS {
        let mut f = start(transport).await;
        let response = f
            .channel
            .unary::<_, Payload>("/md.Svc/Escape", &payload(0), CallOptions::new())
            .await
            .unwrap();
        assert!(response.trailers().is_empty());
        // The handler has returned and its response is complete: nothing set now can be sent.
        let ctx = f.contexts.recv().await.unwrap();
        assert_eq!(ctx.set_trailer("x-late", "1").unwrap_err().code(), Code::FailedPrecondition);
        assert_eq!(
            ctx.set_trailer_bin("x-late-bin", &BIN).unwrap_err().code(),
            Code::FailedPrecondition
        );
        assert_eq!(ctx.set_header("x-late", "1").unwrap_err().code(), Code::FailedPrecondition);
        f.server.stop().await;
    }
}

#[tokio::test]
async fn reserved_names_cannot_be_set_as_metadata() {
    let f = start(Transport::Unix).await;
    let response = f
        .channel
        .unary::<_, Payload>("/md.Svc/Reserved", &payload(0), CallOptions::new())
        .await
        .unwrap();
    assert_eq!(response.get_ref().data, "", "accepted by the server");
    // Nor by the client.
    for name in ["grpc-foo", "grpc-timeout", "te", "content-type", ":authority"] {
        assert!(CallOptions::new().header(name, "x").is_err(), "{name}");
    }
    assert!(CallOptions::new().header_bin("grpc-foo-bin", &BIN).is_err());
    f.server.stop().await;
}

#[tokio::test]
async fn the_handler_sees_the_authority_the_client_sent() {
    for transport in TRANSPORTS {
        let mut f = start(transport).await;
        let req = payload(0);
        f.channel.unary::<_, Payload>("/md.Svc/Inspect", &req, CallOptions::new()).await.unwrap();
        let authority = f.seen.recv().await.unwrap().authority;
        let expected = match transport {
            // As grpc-go and C-core clients send for Unix sockets.
            Transport::Unix => "localhost".to_owned(),
            Transport::Tcp => f.server.target.clone(),
        };
        assert_eq!(authority.as_deref(), Some(expected.as_str()), "{transport:?}");
        f.server.stop().await;
    }
}

/// A peer's `-bin` entry that does not decode is dropped alone: the status and every other
/// entry of the block survive (`src/status/trailers.rs`: the status matters more than one
/// unreadable trailer).
#[tokio::test]
async fn an_undecodable_binary_trailer_from_the_server_drops_only_that_entry() {
    let trailers = || {
        let mut t = http::HeaderMap::new();
        t.insert("grpc-status", "0".parse().unwrap());
        t.insert("good", "1".parse().unwrap());
        t.insert("bad-bin", "not base64!".parse().unwrap());
        t
    };
    let (target, _dir) = raw::serve_scripted(move || {
        let head =
            http::Response::builder().header("content-type", "application/grpc").body(()).unwrap();
        (head, raw::frame(&payload(2)), Some(trailers()))
    });
    let channel = Channel::connect(&target).await.unwrap();
    let response =
        channel.unary::<_, Payload>("/md.Svc/Any", &payload(0), CallOptions::new()).await.unwrap();
    assert_eq!(response.get_ref(), &payload(2));
    assert_eq!(response.trailers().get("good"), Some("1"), "{:?}", response.trailers());
    assert_eq!(response.trailers().get_bin("bad-bin"), None);

    // Trailers-Only, as both the headers and the status's metadata.
    let (target, _dir) = raw::serve_scripted(move || {
        let mut head =
            http::Response::builder().header("content-type", "application/grpc").body(()).unwrap();
        let mut t = trailers();
        t.insert("grpc-status", "14".parse().unwrap());
        head.headers_mut().extend(t);
        (head, Bytes::new(), None)
    });
    let channel = Channel::connect(&target).await.unwrap();
    let mut stream = channel
        .server_streaming::<_, Payload>("/md.Svc/Any", &payload(0), CallOptions::new())
        .await
        .unwrap();
    let err = stream.message().await.unwrap_err();
    assert_eq!(err.code(), Code::Unavailable);
    assert_eq!(err.metadata().get("good"), Some("1"), "{err:?}");
    assert_eq!(stream.headers().await.unwrap().get("good"), Some("1"));
    assert_eq!(stream.trailers().unwrap().get("good"), Some("1"));
}
