//! Client cancellation, end to end: whichever way a client gives up on a call (dropping the
//! call future, dropping a `ResponseStream`, `cancel()`), the handler's `ctx.cancelled()` fires within
//! 100 ms, its sink and request stream fail from then on, the client sees CANCELLED, and the
//! connection goes on serving other calls.

use std::future::Future;
use std::time::{Duration, Instant};

use h2grpc::client::{Channel, RequestSink, ResponseStream};
use h2grpc::server::ResponseSink;
use h2grpc::{CallContext, CallOptions, Code, Service, Status};
use tokio::sync::mpsc::UnboundedSender;

use crate::harness::*;
use crate::support::*;

/// The latency the issue sets for a handler to learn that its client left.
const CANCEL_OBSERVED_WITHIN: Duration = Duration::from_millis(100);

/// A channel's HTTP/2 stream receive window by default (`initial_stream_window_size`).
const CHANNEL_STREAM_WINDOW: usize = 1024 * 1024;

/// What a handler saw once its client had cancelled.
#[derive(Debug)]
struct Seen {
    cancelled_at: Instant,
    /// `ResponseSink::send` after the cancellation (calls with a response stream).
    send: Option<Result<(), Status>>,
    /// `RequestStream::message` after the cancellation (calls with a request stream).
    recv: Option<Result<Option<Payload>, Status>>,
}

/// Handlers that report `started` once the call is fully open (the client can tell: it has a
/// response message or the handler has its first request), then wait for the cancellation and
/// report what they see.
fn hanging(started: UnboundedSender<()>, seen: UnboundedSender<Seen>) -> Service {
    let (s1, s2, s3, s4) = (started.clone(), started.clone(), started.clone(), started.clone());
    let (n1, n2, n3, n4) = (seen.clone(), seen.clone(), seen.clone(), seen.clone());
    Service::new("test.Hang")
        .server_streaming(
            "Flood",
            move |ctx: CallContext, _req: StreamReq, mut sink: ResponseSink<Payload>| {
                let (started, seen) = (started.clone(), seen.clone());
                async move {
                    // Sends until a send fails. Once the client's stream window (the channel's
                    // default, 1 MiB) is used up and a send has to wait, it reports `started`: the
                    // client reads nothing, so a few sends later at most it waits for good.
                    let chunk = payload(16 * 1024);
                    let mut sent_bytes = 0;
                    let mut reported = false;
                    loop {
                        let mut send = std::pin::pin!(sink.send(&chunk));
                        let sent = std::future::poll_fn(|cx| {
                            let poll = send.as_mut().poll(cx);
                            if poll.is_pending() && !reported && sent_bytes >= CHANNEL_STREAM_WINDOW
                            {
                                reported = true;
                                let _ = started.send(());
                            }
                            poll
                        })
                        .await;
                        if sent.is_err() {
                            let cancelled_at = Instant::now();
                            assert!(
                                ctx.is_cancelled(),
                                "send failed but the call is not cancelled"
                            );
                            let _ = seen.send(Seen { cancelled_at, send: Some(sent), recv: None });
                            return Ok(());
                        }
                        sent_bytes += chunk.data.len();
                    }
                }
            },
        )
        .unary("Unary", move |ctx: CallContext, _req: Payload| {
            let (started, seen) = (s1.clone(), n1.clone());
            async move {
                let _ = started.send(());
                ctx.cancelled().await;
                let cancelled_at = Instant::now();
                let _ = seen.send(Seen { cancelled_at, send: None, recv: None });
                Err::<Payload, _>(Status::cancelled("gone"))
            }
        })
        .server_streaming("Stream", move |ctx: CallContext, _req: StreamReq, mut sink| {
            let (started, seen) = (s2.clone(), n2.clone());
            async move {
                sink.send(payload(1)).await?;
                let _ = started.send(());
                ctx.cancelled().await;
                let cancelled_at = Instant::now();
                let send = Some(sink.send(payload(2)).await);
                let _ = seen.send(Seen { cancelled_at, send, recv: None });
                Ok(())
            }
        })
        .client_streaming("Sum", move |ctx: CallContext, mut reqs| {
            let (started, seen) = (s3.clone(), n3.clone());
            async move {
                let _first: Option<Payload> = reqs.message().await?;
                let _ = started.send(());
                ctx.cancelled().await;
                let cancelled_at = Instant::now();
                let recv = Some(reqs.message().await);
                let _ = seen.send(Seen { cancelled_at, send: None, recv });
                Ok::<_, Status>(Payload::default())
            }
        })
        .bidi_streaming("Chat", move |ctx: CallContext, mut reqs, mut sink| {
            let (started, seen) = (s4.clone(), n4.clone());
            async move {
                let first: Option<Payload> = reqs.message().await?;
                sink.send(first.unwrap_or_default()).await?;
                let _ = started.send(());
                ctx.cancelled().await;
                let cancelled_at = Instant::now();
                let send = Some(sink.send(payload(2)).await);
                let recv = Some(reqs.message().await);
                let _ = seen.send(Seen { cancelled_at, send, recv });
                Ok(())
            }
        })
}

fn echo() -> Service {
    Service::new("test.Echo")
        .unary("Unary", |_ctx, req: Payload| async move { Ok::<_, Status>(req) })
        .bidi_streaming("Chat", |_ctx, mut reqs, mut sink| async move {
            while let Some(p) = reqs.message().await? {
                let p: Payload = p;
                sink.send(p).await?;
            }
            Ok(())
        })
}

/// A test's server, its channel, and a bidi call opened before the cancellation: if it still
/// echoes afterwards, the connection it shares with the cancelled call survived.
struct Fixture {
    server: TestServer,
    channel: Channel,
    started: Events<()>,
    seen: Events<Seen>,
    witness: (RequestSink<Payload>, ResponseStream<Payload>),
    transport: Transport,
}

impl Fixture {
    async fn new(transport: Transport) -> Fixture {
        let (started_tx, started) = events();
        let (seen_tx, seen) = events();
        let server = spawn_with(transport, vec![hanging(started_tx, seen_tx), echo()], |_| {});
        let channel = server.channel().await;
        let witness = channel
            .bidi_streaming::<Payload, Payload>("/test.Echo/Chat", CallOptions::new())
            .await
            .expect("open the witness stream");
        Fixture { server, channel, started, seen, witness, transport }
    }

    /// Waits for the handler to report its cancellation, checks it came within 100 ms of
    /// `cancelled_at`, and returns what it saw.
    async fn observed(&mut self, how: &str, cancelled_at: Instant) -> Seen {
        let seen = self.seen.next(&format!("the handler to observe: {how}")).await;
        let latency = seen.cancelled_at.saturating_duration_since(cancelled_at);
        eprintln!("cancel observed by the handler after {latency:?} ({:?}, {how})", self.transport);
        assert!(
            latency < CANCEL_OBSERVED_WITHIN,
            "{how} over {:?}: the handler saw the cancellation after {latency:?}",
            self.transport
        );
        seen
    }

    /// The connection still serves: the witness stream opened before the cancellation echoes,
    /// and a new call succeeds.
    async fn still_serves(&mut self, round: usize) {
        let (tx, rx) = &mut self.witness;
        tx.send(payload(round)).await.expect("the witness stream accepts a message");
        let echoed = within(PATIENCE, "the witness echo", rx.message()).await;
        assert_eq!(echoed.expect("the witness stream is alive"), Some(payload(round)));
        let reply = self
            .channel
            .unary::<_, Payload>("/test.Echo/Unary", &payload(3), CallOptions::new())
            .await
            .expect("a new call after the cancellation");
        assert_eq!(reply.into_inner(), payload(3));
    }

    async fn stop(self) {
        let Fixture { server, witness, .. } = self;
        drop(witness);
        server.stop().await;
    }
}

fn assert_cancelled<T: std::fmt::Debug>(result: Result<T, Status>, what: &str) {
    match result {
        Err(status) => assert_eq!(status.code(), Code::Cancelled, "{what}: {status:?}"),
        Ok(value) => panic!("{what}: expected CANCELLED, got Ok({value:?})"),
    }
}

/// The sink of a cancelled call refuses messages, and its request stream fails.
fn assert_handler_halves_fail(seen: &Seen, how: &str) {
    if let Some(send) = &seen.send {
        assert_cancelled(send.clone(), &format!("{how}: ResponseSink::send"));
    }
    if let Some(recv) = &seen.recv {
        assert_cancelled(recv.clone(), &format!("{how}: RequestStream::message"));
    }
}

#[tokio::test]
async fn dropping_a_unary_call_future_cancels_the_handler_within_100ms() {
    for transport in TRANSPORTS {
        let mut f = Fixture::new(transport).await;
        let request = payload(1);
        let call = f.channel.unary::<_, Payload>("/test.Hang/Unary", &request, CallOptions::new());
        let mut call = Box::pin(call);
        tokio::select! {
            result = &mut call => panic!("the hanging call ended: {result:?}"),
            _ = f.started.next("the unary handler to start") => {}
        }
        let at = Instant::now();
        drop(call);
        f.observed("drop the unary call future", at).await;
        f.still_serves(1).await;
        f.stop().await;
    }
}

async fn open_server_stream(f: &mut Fixture) -> ResponseStream<Payload> {
    let mut stream = f
        .channel
        .server_streaming::<_, Payload>(
            "/test.Hang/Stream",
            &StreamReq::default(),
            CallOptions::new(),
        )
        .await
        .expect("open the server stream");
    assert_eq!(stream.message().await.expect("first message"), Some(payload(1)));
    f.started.next("the server-streaming handler to start").await;
    stream
}

#[tokio::test]
async fn dropping_a_server_stream_cancels_the_handler_and_fails_its_sink() {
    for transport in TRANSPORTS {
        let mut f = Fixture::new(transport).await;
        let stream = open_server_stream(&mut f).await;
        let at = Instant::now();
        drop(stream);
        let seen = f.observed("drop the Streaming", at).await;
        assert_handler_halves_fail(&seen, "drop the Streaming");
        f.still_serves(1).await;
        f.stop().await;
    }
}

#[tokio::test]
async fn a_handler_waiting_for_flow_control_sees_its_send_fail_when_the_client_leaves() {
    for transport in TRANSPORTS {
        let mut f = Fixture::new(transport).await;
        let mut stream = f
            .channel
            .server_streaming::<_, Payload>(
                "/test.Hang/Flood",
                &StreamReq::default(),
                CallOptions::new(),
            )
            .await
            .expect("open the flood");
        assert!(stream.message().await.expect("the first message").is_some());
        // The client reads no more: the windows fill up and the handler's send has to wait.
        f.started.next("the handler to wait for flow control").await;
        let at = Instant::now();
        drop(stream);
        let seen =
            f.observed("drop a ResponseStream whose handler waits for flow control", at).await;
        assert_handler_halves_fail(
            &seen,
            "drop a ResponseStream whose handler waits for flow control",
        );
        f.still_serves(1).await;
        f.stop().await;
    }
}

#[tokio::test]
async fn cancelling_a_server_stream_cancels_the_handler_and_the_client_sees_cancelled() {
    for transport in TRANSPORTS {
        let mut f = Fixture::new(transport).await;
        let mut stream = open_server_stream(&mut f).await;
        let at = Instant::now();
        stream.cancel();
        assert_cancelled(stream.message().await, "ResponseStream::message after cancel()");
        let seen = f.observed("ResponseStream::cancel on a server stream", at).await;
        assert_handler_halves_fail(&seen, "ResponseStream::cancel on a server stream");
        f.still_serves(1).await;
        f.stop().await;
    }
}

#[tokio::test]
async fn cancelling_a_client_stream_cancels_the_handler_and_fails_its_request_stream() {
    for transport in TRANSPORTS {
        let mut f = Fixture::new(transport).await;
        let mut call = f
            .channel
            .client_streaming::<Payload, Payload>("/test.Hang/Sum", CallOptions::new())
            .await
            .expect("open the client stream");
        call.send(payload(1)).await.expect("send the first request");
        f.started.next("the client-streaming handler to start").await;
        let at = Instant::now();
        let status = call.cancel();
        assert_eq!(status.code(), Code::Cancelled, "{status:?}");
        let seen = f.observed("ClientStreamingCall::cancel", at).await;
        assert_handler_halves_fail(&seen, "ClientStreamingCall::cancel");
        f.still_serves(1).await;
        f.stop().await;
    }
}

#[tokio::test]
async fn dropping_a_client_stream_cancels_the_handler() {
    for transport in TRANSPORTS {
        let mut f = Fixture::new(transport).await;
        let mut call = f
            .channel
            .client_streaming::<Payload, Payload>("/test.Hang/Sum", CallOptions::new())
            .await
            .expect("open the client stream");
        call.send(payload(1)).await.expect("send the first request");
        f.started.next("the client-streaming handler to start").await;
        let at = Instant::now();
        drop(call);
        let seen = f.observed("drop the ClientStreamingCall", at).await;
        assert_handler_halves_fail(&seen, "drop the ClientStreamingCall");
        f.still_serves(1).await;
        f.stop().await;
    }
}

async fn open_bidi(f: &mut Fixture) -> (RequestSink<Payload>, ResponseStream<Payload>) {
    let (mut tx, mut rx) = f
        .channel
        .bidi_streaming::<Payload, Payload>("/test.Hang/Chat", CallOptions::new())
        .await
        .expect("open the bidi stream");
    tx.send(payload(5)).await.expect("send the first request");
    assert_eq!(rx.message().await.expect("the echo"), Some(payload(5)));
    f.started.next("the bidi handler to start").await;
    (tx, rx)
}

#[tokio::test]
async fn cancelling_the_response_side_of_a_bidi_call_cancels_the_handler() {
    for transport in TRANSPORTS {
        let mut f = Fixture::new(transport).await;
        let (mut tx, mut rx) = open_bidi(&mut f).await;
        let at = Instant::now();
        rx.cancel();
        assert_cancelled(rx.message().await, "ResponseStream::message after cancel()");
        let seen = f.observed("ResponseStream::cancel on a bidi call", at).await;
        assert_handler_halves_fail(&seen, "ResponseStream::cancel on a bidi call");
        assert!(
            tx.send(payload(1)).await.is_err(),
            "RequestSink::send after ResponseStream::cancel"
        );
        f.still_serves(1).await;
        f.stop().await;
    }
}

#[tokio::test]
async fn cancelling_the_request_side_of_a_bidi_call_cancels_the_handler() {
    for transport in TRANSPORTS {
        let mut f = Fixture::new(transport).await;
        let (mut tx, mut rx) = open_bidi(&mut f).await;
        let at = Instant::now();
        tx.cancel();
        assert_cancelled(tx.send(payload(1)).await, "RequestSink::send after cancel()");
        assert_cancelled(rx.message().await, "ResponseStream::message after RequestSink::cancel()");
        let seen = f.observed("RequestSink::cancel", at).await;
        assert_handler_halves_fail(&seen, "RequestSink::cancel");
        f.still_serves(1).await;
        f.stop().await;
    }
}

#[tokio::test]
async fn dropping_both_halves_of_a_bidi_call_cancels_the_handler() {
    for transport in TRANSPORTS {
        for sink_first in [false, true] {
            let how = if sink_first {
                "drop the RequestSink, then the Streaming"
            } else {
                "drop the ResponseStream, then the RequestSink"
            };
            let mut f = Fixture::new(transport).await;
            let (tx, rx) = open_bidi(&mut f).await;
            let at = Instant::now();
            if sink_first {
                drop(tx);
                drop(rx);
            } else {
                drop(rx);
                drop(tx);
            }
            let mut seen = f.observed(how, at).await;
            if sink_first {
                // Dropping the sink half-closes, as documented: the handler may have seen the
                // end of the requests before the cancellation, or the reset may have overtaken
                // it. Either way the call is cancelled and the sink fails.
                seen.recv = None;
            }
            assert_handler_halves_fail(&seen, how);
            f.still_serves(1).await;
            f.stop().await;
        }
    }
}
