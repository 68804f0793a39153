//! The wire trace and the tap, end to end over an in-memory duplex: what each side reports,
//! and what the tapped bytes decode to.

use h2grpc::client::{CallOptions, Channel};
use h2grpc::server::{ResponseSink, Server, Service};
use h2grpc::trace::{
    frames, Direction, FramePayload, Kind, MemorySink, Recorded, Side, Tap, TapLog, Trace,
};
use h2grpc::{CallContext, Code, Peer, Status};

use crate::support::{Payload, StreamReq};

fn service() -> Service {
    Service::new("test.Trace")
        .unary("Echo", |_ctx, req: Payload| async move { Ok::<_, Status>(req) })
        .unary("Fail", |_ctx, _req: Payload| async move {
            Err::<Payload, _>(Status::not_found("no such thing\n100%"))
        })
        .server_streaming(
            "Many",
            |_ctx, req: StreamReq, mut sink: ResponseSink<Payload>| async move {
                let message = crate::support::payload(req.size as usize);
                for _ in 0..req.count {
                    sink.send(&message).await?;
                }
                Ok(())
            },
        )
        .server_streaming(
            "Forever",
            |ctx: CallContext, _req: StreamReq, mut sink: ResponseSink<Payload>| async move {
                sink.send(crate::support::payload(3)).await?;
                ctx.cancelled().await;
                Err(Status::cancelled("the client left"))
            },
        )
}

/// A server and a channel over a duplex, each tracing into its own sink; the client's end is
/// tapped.
async fn connect(trace_on: bool) -> (Channel, MemorySink, MemorySink, TapLog) {
    let (server_sink, client_sink) = (MemorySink::new(), MemorySink::new());
    let trace = |sink: &MemorySink| if trace_on { Trace::new(sink.clone()) } else { Trace::off() };
    let server =
        Server::builder().add_service(service()).trace(trace(&server_sink)).build_unbound();
    let (client_io, server_io) = tokio::io::duplex(1 << 16);
    tokio::spawn(server.serve_connection(server_io, Peer::Unknown));
    let tap = Tap::new(client_io);
    let log = tap.log();
    let channel = Channel::builder("unix:/trace")
        .expect("target")
        .trace(trace(&client_sink))
        .connect_with_io(tap)
        .await
        .expect("connect");
    (channel, server_sink, client_sink, log)
}

fn kinds(records: &[Recorded]) -> Vec<(Side, u32, Direction, Kind)> {
    records.iter().map(|r| (r.side, r.stream_id, r.direction, r.kind)).collect()
}

#[tokio::test]
async fn a_unary_call_is_reported_by_both_sides_in_wire_order() {
    let (channel, server, client, _) = connect(true).await;
    let request = crate::support::payload(20);
    let reply: Payload = channel
        .unary("/test.Trace/Echo", &request, CallOptions::new())
        .await
        .expect("echo")
        .into_inner();
    assert_eq!(reply, request);

    use Direction::{Recv, Send};
    let client = client.take();
    assert_eq!(
        kinds(&client),
        [
            (Side::Client, 1, Send, Kind::RequestHeaders),
            (Side::Client, 1, Send, Kind::Message),
            (Side::Client, 1, Recv, Kind::ResponseHeaders),
            (Side::Client, 1, Recv, Kind::Message),
            (Side::Client, 1, Recv, Kind::Trailers),
        ]
    );
    let headers = &client[0].text;
    assert!(headers.starts_with("HEADERS (request)\n    :method: POST\n    :scheme: http\n"));
    assert!(headers.contains("\n    :path: /test.Trace/Echo\n    te: trailers\n"), "{headers}");
    assert_eq!(
        client[1].text,
        "MESSAGE flag 0, length 22: 0a 14 00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d …\n    \
         Payload { data: b\"\\0\\x01\\x02\\x03\\x04\\x05\\x06\\x07\\x08\\t\\n\\x0b\\x0c\\r\\x0e\\x0f\
         \\x10\\x11\\x12\\x13\" }"
    );
    assert!(client[4].text.ends_with("\n    = OK (0)"), "{}", client[4].text);

    let server = server.take();
    assert_eq!(
        kinds(&server),
        [
            (Side::Server, 1, Recv, Kind::RequestHeaders),
            (Side::Server, 1, Recv, Kind::Message),
            (Side::Server, 1, Send, Kind::ResponseHeaders),
            (Side::Server, 1, Send, Kind::Message),
            (Side::Server, 1, Send, Kind::Trailers),
        ]
    );
    // The server reports the headers as h2 decoded them off the wire: the same fields.
    assert_eq!(server[0].text, client[0].text);
    assert_eq!(server[1].text, client[1].text);
    assert_eq!(server[3].text, client[3].text);
}

#[tokio::test]
async fn a_failed_call_ends_in_trailers_only_with_the_status_decoded() {
    let (channel, server, client, _) = connect(true).await;
    let status = channel
        .unary::<_, Payload>("/test.Trace/Fail", &Payload::default(), CallOptions::new())
        .await
        .expect_err("not found");
    assert_eq!(status.code(), Code::NotFound);
    let expected_end = "\n    = NOT_FOUND (5): \"no such thing\\n100%\"";
    let sent = server.take().into_iter().find(|r| r.kind == Kind::TrailersOnly).expect("sent");
    assert!(sent.text.contains("grpc-message: no such thing%0A100%25\n"), "{}", sent.text);
    assert!(sent.text.ends_with(expected_end), "{}", sent.text);
    let seen = client.take().into_iter().find(|r| r.kind == Kind::TrailersOnly).expect("seen");
    assert_eq!(seen.text, sent.text);
}

#[tokio::test]
async fn a_cancelled_stream_shows_the_reset_on_both_sides() {
    let (channel, server, client, _) = connect(true).await;
    let mut stream = channel
        .server_streaming::<_, Payload>(
            "/test.Trace/Forever",
            &StreamReq::default(),
            CallOptions::new(),
        )
        .await
        .expect("open");
    stream.message().await.expect("first").expect("one message");
    drop(stream);
    // The server's handler ends once it sees the reset; an unknown method's reply after it
    // proves the connection processed the RST_STREAM first.
    let _ = channel
        .unary::<_, Payload>("/test.Trace/Nope", &Payload::default(), CallOptions::new())
        .await;
    let resets = |records: Vec<Recorded>| -> Vec<String> {
        records.into_iter().filter(|r| r.kind == Kind::Reset).map(|r| r.to_string()).collect()
    };
    assert_eq!(resets(client.take()), ["client → stream 1: RST_STREAM CANCEL (0x8)"]);
    assert_eq!(resets(server.take()), ["server ← stream 1: RST_STREAM CANCEL (0x8)"]);
}

#[tokio::test]
async fn with_the_trace_off_nothing_is_reported() {
    let (channel, server, client, _) = connect(false).await;
    let request = crate::support::payload(5);
    channel
        .unary::<_, Payload>("/test.Trace/Echo", &request, CallOptions::new())
        .await
        .expect("echo");
    assert!(server.records().is_empty());
    assert!(client.records().is_empty());
}

#[tokio::test]
async fn the_tapped_bytes_decode_to_the_frames_of_the_call() {
    let (channel, _, _, log) = connect(false).await;
    let request = crate::support::payload(5);
    channel
        .unary::<_, Payload>("/test.Trace/Echo", &request, CallOptions::new())
        .await
        .expect("echo");

    let sent = frames(&log.bytes(Direction::Send));
    assert_eq!(sent[0].type_name(), "PREFACE");
    assert_eq!(sent[1].type_name(), "SETTINGS");
    let headers = sent.iter().find(|f| f.type_name() == "HEADERS").expect("request headers");
    assert_eq!((headers.stream_id, headers.flag_names()), (1, vec!["END_HEADERS"]));
    let data = sent.iter().find(|f| f.type_name() == "DATA").expect("request message");
    assert!(data.is_end_stream());
    let FramePayload::Data { messages, pending: 0, .. } = &data.payload else { panic!("{data:?}") };
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].body, prost::Message::encode_to_vec(&request));

    let received = frames(&log.bytes(Direction::Recv));
    let on_stream: Vec<_> = received
        .iter()
        .filter(|f| f.stream_id == 1)
        .map(|f| (f.type_name(), f.flag_names()))
        .collect();
    assert_eq!(
        on_stream,
        [
            ("HEADERS", vec!["END_HEADERS"]),
            ("DATA", vec![]),
            ("HEADERS", vec!["END_STREAM", "END_HEADERS"]),
        ]
    );
}

#[tokio::test]
async fn messages_a_handler_sends_in_a_burst_leave_in_frames_larger_than_http2s_default() {
    // Both sides allow 256 KiB frames, so a coalesced batch is one DATA frame (one write on
    // the server, one read on the client) rather than several of HTTP/2's default 16 KiB.
    let (channel, _, _, log) = connect(false).await;
    let request = StreamReq { count: 256, size: 1000 };
    let mut stream = channel
        .server_streaming::<_, Payload>("/test.Trace/Many", &request, CallOptions::new())
        .await
        .expect("call");
    let mut received = 0;
    while let Some(message) = stream.message().await.expect("message") {
        assert_eq!(message.data.len(), 1000);
        received += 1;
    }
    assert_eq!(received, 256);

    let data: Vec<_> = frames(&log.bytes(Direction::Recv))
        .into_iter()
        .filter(|f| f.stream_id == 1 && f.type_name() == "DATA")
        .collect();
    let total: u32 = data.iter().map(|f| f.len).sum();
    assert_eq!(total, 256 * (5 + 3 + 1000));
    let largest = data.iter().map(|f| f.len).max().unwrap_or(0);
    assert!(largest > 16_384, "largest DATA frame {largest} B");
    assert!(data.len() < total as usize / 16_384, "{} DATA frames for {total} B", data.len());
}

#[tokio::test]
async fn a_channel_over_a_closed_stream_fails_with_unavailable_and_does_not_redial() {
    let (channel, _, _, _) = connect(false).await;
    let server = Server::builder().build_unbound();
    let (client_io, server_io) = tokio::io::duplex(1 << 16);
    let serving = tokio::spawn(server.serve_connection(server_io, Peer::Unknown));
    let lone = Channel::builder("unix:/nowhere").expect("target").connect_with_io(client_io).await;
    let lone = lone.expect("connect");
    server.shutdown_handle().shutdown_now();
    serving.await.expect("served");
    let status = lone
        .unary::<_, Payload>("/test.Trace/Echo", &Payload::default(), CallOptions::new())
        .await
        .expect_err("closed");
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    drop(channel);
}
