//! The four call kinds end to end: message counts, order, statuses, and a response sink that
//! outlives its handler.

use bytes::Bytes;
use h2grpc::client::{Channel, ResponseStream};
use h2grpc::server::{RequestStream, ResponseSink};
use h2grpc::{CallOptions, Code, Service, Status};
use tokio::sync::mpsc;

use crate::support::*;

/// The spec's special_status_message vector: whitespace at both ends, CR LF, BMP and non-BMP.
const SPECIAL_MESSAGE: &str = "\t\ntest with whitespace\r\nand Unicode BMP ☺ and non-BMP 😈\t\n";

/// Message number `i`, so that order can be checked at the other end.
fn numbered(i: u32) -> Payload {
    Payload { data: Bytes::copy_from_slice(&i.to_be_bytes()) }
}

fn number(p: &Payload) -> u32 {
    u32::from_be_bytes(p.data[..].try_into().expect("a numbered payload"))
}

/// Where the `Orphan` handler leaves its sink for the test to use after the call ended.
type SinkDrop = mpsc::UnboundedSender<ResponseSink<Payload>>;

/// What the `Firehose` writer task reports: how many sends succeeded, and the error that
/// stopped it.
type FirehoseReport = mpsc::UnboundedSender<(u32, Status)>;

/// 16 KiB messages: a backlog of them quickly exceeds the HTTP/2 windows and buffers.
fn big_numbered(i: u32) -> Payload {
    let mut data = vec![0; 16 * 1024];
    data[..4].copy_from_slice(&i.to_be_bytes());
    Payload { data: data.into() }
}

fn service(orphans: SinkDrop, firehose: FirehoseReport) -> Service {
    Service::new("calls.Svc")
        // A task writes as fast as it can until `send` fails; the handler returns as soon as
        // the client sends a message, without waiting for that task.
        .bidi_streaming("Firehose", move |_ctx, mut reqs, mut sink: ResponseSink<Payload>| {
            let report = firehose.clone();
            async move {
                tokio::spawn(async move {
                    let mut sent = 0;
                    let err = loop {
                        match sink.send(big_numbered(sent)).await {
                            Ok(()) => sent += 1,
                            Err(err) => break err,
                        }
                    };
                    let _ = report.send((sent, err));
                });
                let _: Option<Payload> = reqs.message().await?;
                Ok(())
            }
        })
        .unary("Echo", |_ctx, req: Payload| async move { Ok::<_, Status>(req) })
        // Fails with the code whose number is the request's first byte, named in the message.
        .unary("Fail", |_ctx, req: Payload| async move {
            let code = Code::from_i32(i32::from(req.data[0]));
            Err::<Payload, _>(Status::new(code, format!("failed with {code:?}")))
        })
        .unary("FailSpecial", |_ctx, _req: Payload| async move {
            Err::<Payload, _>(Status::new(Code::InvalidArgument, SPECIAL_MESSAGE))
        })
        .server_streaming("Count", |_ctx, req: StreamReq, mut sink| async move {
            for i in 0..req.count {
                sink.send(numbered(i)).await?;
            }
            Ok(())
        })
        // Sends `count` messages, then fails: with SPECIAL_MESSAGE when `size` is 1.
        .server_streaming("CountThenFail", |_ctx, req: StreamReq, mut sink| async move {
            for i in 0..req.count {
                sink.send(numbered(i)).await?;
            }
            if req.size == 1 {
                return Err(Status::new(Code::InvalidArgument, SPECIAL_MESSAGE));
            }
            Err(Status::aborted(format!("stopped after {}", req.count)))
        })
        // Answers with the numbers received, in the order received.
        .client_streaming("Collect", |_ctx, mut reqs| async move {
            let mut all = Vec::new();
            while let Some(p) = reqs.message().await? {
                let p: Payload = p;
                all.extend_from_slice(&p.data);
            }
            Ok::<_, Status>(Payload { data: all.into() })
        })
        .bidi_streaming("Chat", |_ctx, mut reqs, mut sink| async move {
            while let Some(p) = reqs.message().await? {
                let p: Payload = p;
                sink.send(p).await?;
            }
            Ok(())
        })
        // Echoes through a task that owns the sink; the handler only reads and forwards, and
        // returns once that task has written everything.
        .bidi_streaming("ChatViaTask", |_ctx, mut reqs, mut sink| async move {
            let (tx, mut rx) = mpsc::unbounded_channel::<Payload>();
            let writer = tokio::spawn(async move {
                while let Some(p) = rx.recv().await {
                    sink.send(p).await?;
                }
                Ok::<_, Status>(())
            });
            while let Some(p) = reqs.message().await? {
                let p: Payload = p;
                let _ = tx.send(p);
            }
            drop(tx);
            writer.await.map_err(|_| Status::internal("writer task failed"))?
        })
        // Answers one message without waiting for the client to finish its requests.
        .bidi_streaming("Once", |_ctx, _reqs: RequestStream<Payload>, mut sink| async move {
            sink.send(numbered(0)).await?;
            Ok(())
        })
        // Sends one message, hands its sink to the test and returns at once.
        .server_streaming("Orphan", move |_ctx, _req: StreamReq, mut sink| {
            let orphans = orphans.clone();
            async move {
                sink.send(numbered(0)).await?;
                let _ = orphans.send(sink);
                Ok(())
            }
        })
}

struct Fixture {
    server: TestServer,
    channel: Channel,
    orphans: mpsc::UnboundedReceiver<ResponseSink<Payload>>,
    firehose: mpsc::UnboundedReceiver<(u32, Status)>,
}

async fn start(transport: Transport) -> Fixture {
    let (tx, orphans) = mpsc::unbounded_channel();
    let (report, firehose) = mpsc::unbounded_channel();
    let services = vec![service(tx, report)];
    let server = spawn_with(transport, services, |_| {});
    let channel = server.channel().await;
    Fixture { server, channel, orphans, firehose }
}

async fn drain(stream: &mut ResponseStream<Payload>) -> Result<Vec<u32>, Status> {
    let mut seen = Vec::new();
    while let Some(p) = stream.message().await? {
        seen.push(number(&p));
    }
    Ok(seen)
}

#[tokio::test]
async fn unary_call_returns_the_handlers_reply() {
    for transport in TRANSPORTS {
        let f = start(transport).await;
        for i in [0, 1, 7, u32::MAX] {
            let reply = f
                .channel
                .unary::<_, Payload>("/calls.Svc/Echo", &numbered(i), CallOptions::new())
                .await;
            assert_eq!(reply.unwrap().into_inner(), numbered(i), "{transport:?}");
        }
        f.server.stop().await;
    }
}

#[tokio::test]
async fn server_streaming_delivers_zero_one_and_a_thousand_messages_in_order() {
    for transport in TRANSPORTS {
        let f = start(transport).await;
        for count in [0, 1, 1000] {
            let req = StreamReq { count, size: 0 };
            let mut stream = f
                .channel
                .server_streaming::<_, Payload>("/calls.Svc/Count", &req, CallOptions::new())
                .await
                .unwrap();
            let seen = drain(&mut stream).await.unwrap();
            assert_eq!(seen, (0..count).collect::<Vec<_>>(), "{transport:?}, {count} messages");
        }
        f.server.stop().await;
    }
}

#[tokio::test]
async fn client_streaming_handler_receives_zero_one_and_a_thousand_messages_in_order() {
    for transport in TRANSPORTS {
        let f = start(transport).await;
        for count in [0u32, 1, 1000] {
            let mut call = f
                .channel
                .client_streaming::<Payload, Payload>("/calls.Svc/Collect", CallOptions::new())
                .await
                .unwrap();
            for i in 0..count {
                call.send(numbered(i)).await.unwrap();
            }
            let reply = call.finish().await.unwrap().into_inner();
            let expected: Vec<u8> = (0..count).flat_map(u32::to_be_bytes).collect();
            assert_eq!(reply.data, expected, "{transport:?}, {count} messages");
        }
        f.server.stop().await;
    }
}

/// Sends `count` numbered messages from another task while this one reads the replies.
async fn chat(channel: &Channel, path: &str, count: u32) -> Result<Vec<u32>, Status> {
    let (mut tx, mut rx) =
        channel.bidi_streaming::<Payload, Payload>(path, CallOptions::new()).await?;
    let sender = tokio::spawn(async move {
        for i in 0..count {
            tx.feed(numbered(i)).await?;
        }
        tx.close().await
    });
    let seen = drain(&mut rx).await?;
    sender.await.unwrap()?;
    Ok(seen)
}

#[tokio::test]
async fn bidi_streaming_echoes_zero_one_and_a_thousand_messages_in_order() {
    for transport in TRANSPORTS {
        let f = start(transport).await;
        for count in [0, 1, 1000] {
            let seen = chat(&f.channel, "/calls.Svc/Chat", count).await.unwrap();
            assert_eq!(seen, (0..count).collect::<Vec<_>>(), "{transport:?}, {count} messages");
        }
        f.server.stop().await;
    }
}

#[tokio::test]
async fn bidi_messages_interleave_one_reply_per_request() {
    for transport in TRANSPORTS {
        let f = start(transport).await;
        let (mut tx, mut rx) = f
            .channel
            .bidi_streaming::<Payload, Payload>("/calls.Svc/Chat", CallOptions::new())
            .await
            .unwrap();
        // Each reply arrives before the next request is sent: nothing waits for half-close.
        for i in 0..100 {
            tx.send(numbered(i)).await.unwrap();
            assert_eq!(rx.message().await.unwrap().map(|p| number(&p)), Some(i));
        }
        tx.close().await.unwrap();
        assert_eq!(rx.message().await.unwrap(), None);
        f.server.stop().await;
    }
}

#[tokio::test]
async fn bidi_sink_moved_into_a_spawned_task_keeps_writing_until_the_call_ends() {
    for transport in TRANSPORTS {
        let f = start(transport).await;
        for count in [1, 1000] {
            let seen = chat(&f.channel, "/calls.Svc/ChatViaTask", count).await.unwrap();
            assert_eq!(seen, (0..count).collect::<Vec<_>>(), "{transport:?}, {count} messages");
        }
        f.server.stop().await;
    }
}

#[tokio::test]
async fn sink_used_after_the_handler_returned_fails_instead_of_writing() {
    for transport in TRANSPORTS {
        let mut f = start(transport).await;
        let mut stream = f
            .channel
            .server_streaming::<_, Payload>(
                "/calls.Svc/Orphan",
                &StreamReq::default(),
                CallOptions::new(),
            )
            .await
            .unwrap();
        // The stream ends OK with the one message: the handler has returned.
        assert_eq!(drain(&mut stream).await.unwrap(), [0]);
        let mut sink = f.orphans.recv().await.expect("the handler's sink");
        assert!(sink.is_closed());
        let err = sink.send(numbered(1)).await.unwrap_err();
        assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
        // The connection is unharmed.
        let reply = f
            .channel
            .unary::<_, Payload>("/calls.Svc/Echo", &numbered(9), CallOptions::new())
            .await;
        assert_eq!(reply.unwrap().into_inner(), numbered(9));
        f.server.stop().await;
    }
}

/// Every `send` that returned `Ok` reaches the client, even when the call ends with a backlog
/// queued beyond the flow-control windows and the client still has its request side open (so
/// the server follows its trailers with RST_STREAM(NO_ERROR)); every `send` after the end
/// fails. Two worker threads, so the writer task races the call's end on another thread.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_send_that_succeeded_is_delivered_when_a_writer_task_races_the_end_of_the_call() {
    for transport in TRANSPORTS {
        let mut f = start(transport).await;
        for _ in 0..5 {
            let (mut tx, mut rx) = f
                .channel
                .bidi_streaming::<Payload, Payload>("/calls.Svc/Firehose", CallOptions::new())
                .await
                .unwrap();
            assert_eq!(rx.message().await.unwrap(), Some(big_numbered(0)));
            tx.send(numbered(0)).await.unwrap();
            let mut received = 1;
            while let Some(p) = rx.message().await.unwrap() {
                assert_eq!(p, big_numbered(received), "{transport:?}");
                received += 1;
            }
            let (sent, err) = f.firehose.recv().await.unwrap();
            assert_eq!(received, sent, "{transport:?}");
            assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
        }
        f.server.stop().await;
    }
}

#[tokio::test]
async fn unary_error_status_reaches_the_client_with_its_exact_code_and_message() {
    for transport in TRANSPORTS {
        let f = start(transport).await;
        for code in Code::ALL.into_iter().filter(|c| *c != Code::Ok) {
            let req = Payload { data: Bytes::from(vec![code as u8]) };
            let err = f
                .channel
                .unary::<_, Payload>("/calls.Svc/Fail", &req, CallOptions::new())
                .await
                .unwrap_err();
            assert_eq!(err.code(), code, "{transport:?}");
            assert_eq!(err.message(), format!("failed with {code:?}"), "{transport:?}");
        }
        f.server.stop().await;
    }
}

#[tokio::test]
async fn special_status_message_round_trips_exactly_in_trailers_only_and_in_trailers() {
    for transport in TRANSPORTS {
        let f = start(transport).await;
        // Trailers-Only: the handler fails before any message.
        let err = f
            .channel
            .unary::<_, Payload>("/calls.Svc/FailSpecial", &numbered(0), CallOptions::new())
            .await
            .unwrap_err();
        assert_eq!((err.code(), err.message()), (Code::InvalidArgument, SPECIAL_MESSAGE));
        // Trailers after a message.
        let req = StreamReq { count: 1, size: 1 };
        let mut stream = f
            .channel
            .server_streaming::<_, Payload>("/calls.Svc/CountThenFail", &req, CallOptions::new())
            .await
            .unwrap();
        assert_eq!(stream.message().await.unwrap().map(|p| number(&p)), Some(0));
        let err = stream.message().await.unwrap_err();
        assert_eq!((err.code(), err.message()), (Code::InvalidArgument, SPECIAL_MESSAGE));
        f.server.stop().await;
    }
}

#[tokio::test]
async fn server_streaming_error_after_three_messages_delivers_the_messages_then_the_error() {
    for transport in TRANSPORTS {
        let f = start(transport).await;
        let req = StreamReq { count: 3, size: 0 };
        let mut stream = f
            .channel
            .server_streaming::<_, Payload>("/calls.Svc/CountThenFail", &req, CallOptions::new())
            .await
            .unwrap();
        for i in 0..3 {
            assert_eq!(stream.message().await.unwrap().map(|p| number(&p)), Some(i));
        }
        let err = stream.message().await.unwrap_err();
        assert_eq!((err.code(), err.message()), (Code::Aborted, "stopped after 3"));
        // The error is final: reading again repeats it rather than inventing an end.
        assert_eq!(stream.message().await.unwrap_err().code(), Code::Aborted);
        f.server.stop().await;
    }
}

#[tokio::test]
async fn closing_the_requests_after_the_server_ended_the_call_succeeds() {
    for transport in TRANSPORTS {
        let f = start(transport).await;
        for _ in 0..20 {
            let (mut tx, mut rx) = f
                .channel
                .bidi_streaming::<Payload, Payload>("/calls.Svc/Once", CallOptions::new())
                .await
                .unwrap();
            tx.send(numbered(7)).await.unwrap();
            // The call ends OK while the client's request side is still open...
            assert_eq!(drain(&mut rx).await.unwrap(), [0]);
            // ...and half-closing it now is not an error, however far the server's early
            // RST_STREAM(NO_ERROR) has got.
            tx.close().await.unwrap();
        }
        f.server.stop().await;
    }
}
