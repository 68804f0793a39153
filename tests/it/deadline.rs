//! Deadlines, end to end and on each side alone: the client gives up at its deadline without
//! waiting for the handler; the server enforces `grpc-timeout` by itself (a raw `h2` client that
//! never times out is cut off at 50 ms); the client enforces its deadline against a server that
//! ignores it; an expired deadline sends nothing; `grpc-timeout` reaches the handler.

use std::path::Path;
use std::time::{Duration, Instant};

use bytes::{BufMut, Bytes, BytesMut};
use h2grpc::{CallContext, CallOptions, Channel, Code, Service, Status};
use tokio::sync::mpsc::UnboundedSender;

use crate::harness::*;
use crate::support::*;

const TIMEOUT: Duration = Duration::from_millis(50);

/// The timeout of calls that must deliver a message before it runs out: long enough for that
/// on a loaded machine.
const STREAM_TIMEOUT: Duration = Duration::from_millis(300);

/// How late past its deadline a call may end and still count as prompt: generous for a loaded
/// 2-core machine, and 20 times shorter than the handlers' sleep.
const PROMPT: Duration = Duration::from_millis(500);

/// Timers never fire early, but allow for the rounding between clocks (tokio counts in ms).
const EARLY: Duration = Duration::from_millis(1);

/// How long a slow handler sleeps if nothing cancels it.
const HANDLER_SLEEP: Duration = Duration::from_secs(10);

#[derive(Debug)]
enum Event {
    Started { deadline: Option<Instant>, remaining: Option<Duration> },
    Cancelled { at: Instant },
    SleptThrough,
}

/// Sleeps past any test timeout unless the call is cancelled first; reports either way.
async fn sleep_unless_cancelled(ctx: &CallContext, events: &UnboundedSender<Event>) {
    let _ =
        events.send(Event::Started { deadline: ctx.deadline(), remaining: ctx.time_remaining() });
    tokio::select! {
        _ = tokio::time::sleep(HANDLER_SLEEP) => { let _ = events.send(Event::SleptThrough); }
        _ = ctx.cancelled() => { let _ = events.send(Event::Cancelled { at: Instant::now() }); }
    }
}

fn slow(events: UnboundedSender<Event>) -> Service {
    let (e1, e2, e3) = (events.clone(), events.clone(), events);
    Service::new("test.Slow")
        .unary("Quick", |_ctx, _req: Payload| async { Ok::<_, Status>(payload(1)) })
        .server_streaming("Flood", move |ctx: CallContext, _req: StreamReq, mut sink| {
            let events = e3.clone();
            async move {
                let _ = events.send(Event::Started {
                    deadline: ctx.deadline(),
                    remaining: ctx.time_remaining(),
                });
                // As fast as flow control lets it, until the call ends.
                while sink.send(payload(16 * 1024)).await.is_ok() {}
                let _ = events.send(Event::Cancelled { at: Instant::now() });
                Ok(())
            }
        })
        .unary("Sleep", move |ctx: CallContext, _req: Payload| {
            let events = e1.clone();
            async move {
                sleep_unless_cancelled(&ctx, &events).await;
                Ok::<_, Status>(payload(1))
            }
        })
        .server_streaming("Trickle", move |ctx: CallContext, _req: StreamReq, mut sink| {
            let events = e2.clone();
            async move {
                sink.send(payload(1)).await?;
                sleep_unless_cancelled(&ctx, &events).await;
                sink.send(payload(2)).await
            }
        })
}

fn assert_on_time(what: &str, took: Duration, timeout: Duration) {
    eprintln!("{what} after {took:?} (deadline {timeout:?})");
    assert!(took + EARLY >= timeout, "{what} after {took:?}, before the {timeout:?} deadline");
    assert!(took <= timeout + PROMPT, "{what} after {took:?}, long past the {timeout:?} deadline");
}

/// The handler started, then saw its cancellation on time (measured from `start`).
async fn assert_handler_cancelled_on_time(
    events: &mut Events<Event>,
    start: Instant,
    timeout: Duration,
    how: &str,
) {
    match events.next("the handler to start").await {
        Event::Started { deadline: Some(_), .. } => {}
        other => panic!("{how}: expected the handler to start with a deadline, got {other:?}"),
    }
    match events.next("the handler's cancellation").await {
        Event::Cancelled { at } => {
            assert_on_time(&format!("{how}: the handler saw its cancellation"), at - start, timeout)
        }
        other => panic!("{how}: expected the handler to be cancelled, got {other:?}"),
    }
}

#[tokio::test]
async fn a_unary_handler_sleeping_past_the_timeout_gives_the_client_deadline_exceeded_on_time() {
    for transport in TRANSPORTS {
        let (tx, mut events) = events();
        let server = spawn_with(transport, vec![slow(tx)], |_| {});
        let channel = server.channel().await;
        let start = Instant::now();
        let options = CallOptions::new().timeout(TIMEOUT);
        let result = channel.unary::<_, Payload>("/test.Slow/Sleep", &payload(1), options).await;
        let took = start.elapsed();
        let status = result.expect_err("the call outlived its deadline");
        assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
        assert_on_time(&format!("{transport:?} unary: the client failed"), took, TIMEOUT);
        assert_handler_cancelled_on_time(&mut events, start, TIMEOUT, "unary").await;
        server.stop().await;
    }
}

#[tokio::test]
async fn a_server_stream_stalled_past_the_timeout_fails_with_deadline_exceeded_after_its_messages()
{
    for transport in TRANSPORTS {
        let (tx, mut events) = events();
        let server = spawn_with(transport, vec![slow(tx)], |_| {});
        let channel = server.channel().await;
        let start = Instant::now();
        let options = CallOptions::new().timeout(STREAM_TIMEOUT);
        let mut stream = channel
            .server_streaming::<_, Payload>("/test.Slow/Trickle", &StreamReq::default(), options)
            .await
            .expect("open the stream");
        assert_eq!(stream.message().await.expect("the first message"), Some(payload(1)));
        let status = stream.message().await.expect_err("the stream outlived its deadline");
        let took = start.elapsed();
        assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
        let what = format!("{transport:?} server stream");
        assert_on_time(&format!("{what}: the client failed"), took, STREAM_TIMEOUT);
        assert_handler_cancelled_on_time(&mut events, start, STREAM_TIMEOUT, &what).await;
        server.stop().await;
    }
}

/// A raw HTTP/2 connection to the test server: no gRPC client, so no client-side deadline.
async fn raw_client(server: &TestServer, transport: Transport) -> h2::client::SendRequest<Bytes> {
    async fn handshake<T>(io: T) -> h2::client::SendRequest<Bytes>
    where
        T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        // h2's default windows: 64 KiB per stream; the connection's is larger so that one
        // stream left unread cannot block the others.
        let (send, conn) = h2::client::Builder::new()
            .initial_connection_window_size(1 << 20)
            .handshake(io)
            .await
            .expect("h2 handshake");
        tokio::spawn(async move {
            let _ = conn.await;
        });
        send
    }
    match transport {
        Transport::Unix => {
            handshake(tokio::net::UnixStream::connect(&server.path).await.unwrap()).await
        }
        Transport::Tcp => {
            let addr: std::net::SocketAddr = server.target.parse().expect("a host:port target");
            handshake(tokio::net::TcpStream::connect(addr).await.unwrap()).await
        }
    }
}

fn raw_request(path: &str, grpc_timeout: &str) -> http::Request<()> {
    http::Request::post(format!("http://localhost{path}"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .header("grpc-timeout", grpc_timeout)
        .body(())
        .unwrap()
}

/// One length-prefixed message.
fn frame(message: &impl prost::Message) -> Bytes {
    let mut buf = BytesMut::new();
    buf.put_u8(0);
    buf.put_u32(message.encoded_len() as u32);
    message.encode(&mut buf).unwrap();
    buf.freeze()
}

/// How a response ended, as seen on the wire.
#[derive(Debug, PartialEq)]
enum Ending {
    /// Trailers (or Trailers-Only headers) with this `grpc-status`, after `data` DATA bytes.
    Status { grpc_status: Option<String>, data: usize },
    /// The stream was reset, after `data` DATA bytes.
    Reset { reason: Option<h2::Reason>, data: usize },
}

/// Reads a raw response to its end.
async fn read_to_end(response: h2::client::ResponseFuture) -> Ending {
    let grpc_status = |headers: &http::HeaderMap| {
        headers.get("grpc-status").map(|v| v.to_str().unwrap_or("?").to_owned())
    };
    let response = match response.await {
        Ok(response) => response,
        Err(err) => return Ending::Reset { reason: err.reason(), data: 0 },
    };
    if response.body().is_end_stream() {
        return Ending::Status { grpc_status: grpc_status(response.headers()), data: 0 };
    }
    let mut body = response.into_body();
    let mut data = 0;
    while let Some(chunk) = body.data().await {
        match chunk {
            Ok(chunk) => {
                data += chunk.len();
                let _ = body.flow_control().release_capacity(chunk.len());
            }
            Err(err) => return Ending::Reset { reason: err.reason(), data },
        }
    }
    match body.trailers().await {
        Ok(trailers) => {
            Ending::Status { grpc_status: trailers.as_ref().and_then(grpc_status), data }
        }
        Err(err) => Ending::Reset { reason: err.reason(), data },
    }
}

/// The server ends a call whose `grpc-timeout` ran out on its own: DEADLINE_EXCEEDED in the
/// status, or RST_STREAM(CANCEL) as grpc-go does (both are allowed, PROTOCOL-HTTP2.md).
fn assert_deadline_ending(ending: &Ending, data_before: usize, what: &str) {
    let ok = match ending {
        Ending::Status { grpc_status: Some(code), data } => code == "4" && *data == data_before,
        Ending::Reset { reason: Some(h2::Reason::CANCEL), data } => *data == data_before,
        _ => false,
    };
    assert!(ok, "{what}: expected DEADLINE_EXCEEDED (or RST_STREAM CANCEL) after {data_before} data bytes, got {ending:?}");
}

#[tokio::test]
async fn the_server_enforces_grpc_timeout_by_itself_when_the_client_does_not() {
    for transport in TRANSPORTS {
        for (path, request, data_before, timeout) in [
            ("/test.Slow/Sleep", frame(&payload(1)), 0, TIMEOUT),
            (
                "/test.Slow/Trickle",
                frame(&StreamReq::default()),
                frame(&payload(1)).len(),
                STREAM_TIMEOUT,
            ),
        ] {
            let what = format!("{transport:?} {path}");
            let (tx, mut events) = events();
            let server = spawn_with(transport, vec![slow(tx)], |_| {});
            let mut send = raw_client(&server, transport).await.ready().await.unwrap();
            let grpc_timeout = format!("{}m", timeout.as_millis());
            let start = Instant::now();
            let (response, mut body) =
                send.send_request(raw_request(path, &grpc_timeout), false).unwrap();
            body.send_data(request, true).unwrap();
            let ending =
                within(PATIENCE, "the server to end the call", read_to_end(response)).await;
            let ended = format!("{what}: the server ended the call ({ending:?})");
            assert_on_time(&ended, start.elapsed(), timeout);
            assert_deadline_ending(&ending, data_before, &what);
            assert_handler_cancelled_on_time(&mut events, start, timeout, &what).await;
            drop((send, body));
            server.stop().await;
        }
    }
}

#[tokio::test]
async fn the_server_ends_a_stream_at_its_deadline_even_if_the_client_stopped_reading() {
    for transport in TRANSPORTS {
        let (tx, mut events) = events();
        // One stream at a time: the stalled call must free its slot at its deadline.
        let server = spawn_with(transport, vec![slow(tx)], |b| {
            b.max_concurrent_streams(1);
        });
        let mut send = raw_client(&server, transport).await.ready().await.unwrap();
        let start = Instant::now();
        let (stalled, mut body) =
            send.send_request(raw_request("/test.Slow/Flood", "50m"), false).unwrap();
        body.send_data(frame(&StreamReq::default()), true).unwrap();
        // Headers arrive; the messages are never read, so the stream's window fills up.
        let stalled = within(PATIENCE, "the flood's headers", stalled).await.unwrap();
        assert_handler_cancelled_on_time(&mut events, start, TIMEOUT, "a flood nobody reads").await;

        let mut send = send.ready().await.unwrap();
        let mut request = raw_request("/test.Slow/Quick", "10S");
        request.headers_mut().remove("grpc-timeout");
        let (next, mut next_body) = send.send_request(request, false).unwrap();
        next_body.send_data(frame(&payload(1)), true).unwrap();
        let ending =
            within(PATIENCE, "the next call, once the stalled one is over", read_to_end(next))
                .await;
        assert_eq!(
            ending,
            Ending::Status { grpc_status: Some("0".into()), data: frame(&payload(1)).len() }
        );

        let mut flood = stalled.into_body();
        let mut data = 0;
        let ending = loop {
            match flood.data().await {
                Some(Ok(chunk)) => {
                    data += chunk.len();
                    let _ = flood.flow_control().release_capacity(chunk.len());
                }
                Some(Err(err)) => break Ending::Reset { reason: err.reason(), data },
                None => {
                    let trailers = flood.trailers().await.unwrap();
                    let code = trailers
                        .and_then(|t| t.get("grpc-status").map(|v| v.to_str().unwrap().to_owned()));
                    break Ending::Status { grpc_status: code, data };
                }
            }
        };
        eprintln!("{transport:?}: the stalled stream ended {ending:?}");
        assert_deadline_ending(&ending, data, &format!("{transport:?} stalled flood"));
        drop((send, body, next_body));
        server.stop().await;
    }
}

/// What a bare HTTP/2 server saw of one request.
#[derive(Debug)]
enum Seen {
    /// A request arrived, with its `grpc-timeout` if any.
    Request { path: String, grpc_timeout: Option<String> },
    /// A held request was reset by the client.
    Reset { reason: h2::Reason, at: Instant },
}

/// A bare HTTP/2 server at `path` that reports each request. Requests to `/test.Raw/Hold` get
/// no answer (the server reports when the client resets them); every other request is answered
/// at once with a Trailers-Only NOT_FOUND.
fn spawn_recorder(path: &Path) -> Events<Seen> {
    let listener = tokio::net::UnixListener::bind(path).expect("bind the recorder");
    let (tx, events) = events();
    tokio::spawn(async move {
        loop {
            let Ok((io, _)) = listener.accept().await else { return };
            let tx = tx.clone();
            tokio::spawn(async move {
                let Ok(mut conn) = h2::server::handshake(io).await else { return };
                while let Some(Ok((request, mut respond))) = conn.accept().await {
                    let grpc_timeout = request
                        .headers()
                        .get("grpc-timeout")
                        .map(|v| v.to_str().unwrap_or("?").to_owned());
                    let path = request.uri().path().to_owned();
                    let _ = tx.send(Seen::Request { path: path.clone(), grpc_timeout });
                    if path == "/test.Raw/Hold" {
                        let tx = tx.clone();
                        tokio::spawn(async move {
                            let _body = request;
                            if let Ok(reason) =
                                std::future::poll_fn(|cx| respond.poll_reset(cx)).await
                            {
                                let _ = tx.send(Seen::Reset { reason, at: Instant::now() });
                            }
                        });
                    } else {
                        let response = http::Response::builder()
                            .header("content-type", "application/grpc")
                            .header("grpc-status", "5")
                            .body(())
                            .unwrap();
                        let _ = respond.send_response(response, true);
                    }
                }
            });
        }
    });
    events
}

#[tokio::test]
async fn the_client_enforces_its_deadline_against_a_server_that_ignores_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("raw.sock");
    let mut seen = spawn_recorder(&path);
    let channel = Channel::connect(&format!("unix:{}", path.display())).await.unwrap();
    let start = Instant::now();
    let options = CallOptions::new().timeout(TIMEOUT);
    let status = channel
        .unary::<_, Payload>("/test.Raw/Hold", &payload(1), options)
        .await
        .expect_err("the server never answers");
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    assert_on_time("the client gave up on a silent server", start.elapsed(), TIMEOUT);
    match seen.next("the held request").await {
        Seen::Request { path, grpc_timeout: Some(_) } => assert_eq!(path, "/test.Raw/Hold"),
        other => panic!("expected the request with its grpc-timeout, got {other:?}"),
    }
    match seen.next("the client's reset").await {
        Seen::Reset { reason, at } => {
            assert_eq!(reason, h2::Reason::CANCEL);
            assert_on_time("the client reset the expired call", at - start, TIMEOUT);
        }
        other => panic!("expected RST_STREAM(CANCEL), got {other:?}"),
    }
}

#[tokio::test]
async fn a_deadline_already_passed_fails_with_deadline_exceeded_and_sends_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("raw.sock");
    let mut seen = spawn_recorder(&path);
    let channel = Channel::connect(&format!("unix:{}", path.display())).await.unwrap();
    let past = || CallOptions::new().deadline(Instant::now() - Duration::from_millis(1));
    let expired = [
        ("unary", channel.unary::<_, Payload>("/test.Raw/Unary", &payload(1), past()).await.err()),
        (
            "server streaming",
            channel
                .server_streaming::<_, Payload>("/test.Raw/Stream", &payload(1), past())
                .await
                .err(),
        ),
        (
            "client streaming",
            channel.client_streaming::<Payload, Payload>("/test.Raw/Sum", past()).await.err(),
        ),
        ("bidi", channel.bidi_streaming::<Payload, Payload>("/test.Raw/Chat", past()).await.err()),
        (
            "zero timeout",
            channel
                .unary::<_, Payload>(
                    "/test.Raw/Zero",
                    &payload(1),
                    CallOptions::new().timeout(Duration::ZERO),
                )
                .await
                .err(),
        ),
    ];
    for (kind, status) in expired {
        let status = status.unwrap_or_else(|| panic!("{kind}: the expired call started"));
        assert_eq!(status.code(), Code::DeadlineExceeded, "{kind}: {status:?}");
    }
    // The server sees streams in the order the client opened them: if the next request it sees
    // is this one, none of the expired calls sent anything.
    let status = channel
        .unary::<_, Payload>("/test.Raw/After", &payload(1), CallOptions::new())
        .await
        .expect_err("the recorder answers NOT_FOUND");
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
    match seen.next("the follow-up request").await {
        Seen::Request { path, grpc_timeout: None } => assert_eq!(path, "/test.Raw/After"),
        other => panic!("an expired call reached the server: {other:?}"),
    }
}

#[tokio::test]
async fn grpc_timeout_reaches_the_handler_as_its_deadline_and_time_remaining() {
    let (tx, mut events) = events();
    let service =
        Service::new("test.Deadline").unary("Look", move |ctx: CallContext, _: Payload| {
            let events = tx.clone();
            async move {
                let _ = events.send(Event::Started {
                    deadline: ctx.deadline(),
                    remaining: ctx.time_remaining(),
                });
                Ok::<_, Status>(Payload::default())
            }
        });
    let server = spawn_with(Transport::Unix, vec![service], |_| {});
    let channel = server.channel().await;
    let timeout = Duration::from_secs(5);
    for (how, make) in [
        (
            "timeout",
            Box::new(move || CallOptions::new().timeout(timeout)) as Box<dyn Fn() -> CallOptions>,
        ),
        ("deadline", Box::new(move || CallOptions::new().deadline(Instant::now() + timeout))),
    ] {
        let start = Instant::now();
        channel.unary::<_, Payload>("/test.Deadline/Look", &payload(1), make()).await.unwrap();
        let end = Instant::now();
        let Event::Started { deadline: Some(deadline), remaining: Some(remaining) } =
            events.next("the handler").await
        else {
            panic!("{how}: the handler saw no deadline");
        };
        eprintln!("{how} {timeout:?}: the handler saw {remaining:?} remaining");
        // The server's deadline is its arrival time plus the time left when the headers left:
        // between the client's own deadline and that plus the call's round trip.
        assert!(
            deadline + EARLY >= start + timeout,
            "{how}: deadline {:?} before the client's",
            start + timeout - deadline
        );
        assert!(
            deadline <= end + timeout + EARLY,
            "{how}: deadline {:?} after the client's",
            deadline - (end + timeout)
        );
        assert!(
            remaining <= timeout && remaining + PROMPT >= timeout,
            "{how}: {remaining:?} remaining of {timeout:?}"
        );
    }
    channel
        .unary::<_, Payload>("/test.Deadline/Look", &payload(1), CallOptions::new())
        .await
        .unwrap();
    match events.next("the handler").await {
        Event::Started { deadline: None, remaining: None } => {}
        other => panic!("without a timeout the handler saw {other:?}"),
    }
    server.stop().await;
}
