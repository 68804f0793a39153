//! Server shutdown: graceful (in-flight calls finish, new connections are refused, `serve()`
//! returns once they are done and the socket file is gone), grace-period expiry (what is left
//! is cancelled, even a handler that ignores it cannot hold `serve()` up), and `shutdown_now`.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use h2grpc::client::ResponseStream;
use h2grpc::server::{Builder, ShutdownHandle};
use h2grpc::{CallContext, CallOptions, Channel, Code, Error, Service, Status};
use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::harness::*;
use crate::support::*;

/// How long past the moment it should return `serve()` may take: generous for a loaded 2-core
/// machine, and far below the default 10 s grace period it must not wait for.
const PROMPT: Duration = Duration::from_millis(500);

/// Timers never fire early, but allow for the rounding between clocks (tokio counts in ms).
const EARLY: Duration = Duration::from_millis(1);

#[derive(Debug)]
enum Event {
    Started,
    Finished { at: Instant },
    Cancelled { at: Instant, send: Result<(), Status> },
}

/// `Paced` sends one message, then waits for `go` to send three more, or for its cancellation
/// (it then tries to send once more and reports the result). `Stubborn` sends one message and
/// ignores its cancellation: it sleeps for a minute.
fn paced(events: UnboundedSender<Event>, go: Arc<Notify>) -> Service {
    let stubborn_events = events.clone();
    Service::new("test.Drain")
        .server_streaming("Paced", move |ctx: CallContext, _req: StreamReq, mut sink| {
            let (events, go) = (events.clone(), go.clone());
            async move {
                sink.send(payload(1)).await?;
                let _ = events.send(Event::Started);
                tokio::select! {
                    _ = go.notified() => {}
                    _ = ctx.cancelled() => {
                        let at = Instant::now();
                        let send = sink.send(payload(9)).await;
                        let _ = events.send(Event::Cancelled { at, send });
                        return Err(Status::cancelled("cancelled"));
                    }
                }
                for n in 2..=4 {
                    sink.send(payload(n)).await?;
                }
                let _ = events.send(Event::Finished { at: Instant::now() });
                Ok(())
            }
        })
        .server_streaming("Stubborn", move |_ctx: CallContext, _req: StreamReq, mut sink| {
            let events = stubborn_events.clone();
            async move {
                sink.send(payload(1)).await?;
                let _ = events.send(Event::Started);
                tokio::time::sleep(Duration::from_secs(60)).await;
                Ok(())
            }
        })
}

/// A served server whose task also reports the instant `serve()` returned.
struct Timed {
    server_path: std::path::PathBuf,
    target: String,
    shutdown: ShutdownHandle,
    task: JoinHandle<(Result<(), Error>, Instant)>,
    _dir: tempfile::TempDir,
}

fn spawn_timed(
    transport: Transport,
    service: Service,
    configure: impl FnOnce(&mut Builder),
) -> Timed {
    let dir = tempfile::tempdir().unwrap();
    let server_path = dir.path().join("drain.sock");
    let mut builder = builder(vec![service], configure);
    let server = match transport {
        Transport::Unix => builder.bind_unix(&server_path).expect("bind unix"),
        Transport::Tcp => builder.bind_tcp("127.0.0.1:0").expect("bind tcp"),
    };
    let target = server.local_target().unwrap().to_string();
    let shutdown = server.shutdown_handle();
    let task = tokio::spawn(async move {
        let result = server.serve().await;
        (result, Instant::now())
    });
    Timed { server_path, target, shutdown, task, _dir: dir }
}

impl Timed {
    /// Waits for `serve()` and returns when it returned.
    async fn returned(self) -> Instant {
        let (result, at) = within(PATIENCE, "serve() to return", self.task).await.unwrap();
        result.expect("serve() failed");
        at
    }
}

async fn open(
    channel: &Channel,
    method: &str,
    events: &mut Events<Event>,
) -> ResponseStream<Payload> {
    let path = format!("/test.Drain/{method}");
    let mut stream = channel
        .server_streaming::<_, Payload>(&path, &StreamReq::default(), CallOptions::new())
        .await
        .expect("open the stream");
    assert_eq!(stream.message().await.expect("the first message"), Some(payload(1)));
    match events.next("the handler to start").await {
        Event::Started => stream,
        other => panic!("expected the handler to start, got {other:?}"),
    }
}

async fn expect_unavailable<F: Future<Output = Result<T, Status>>, T: std::fmt::Debug>(
    what: &str,
    call: F,
) {
    match within(PATIENCE, what, call).await {
        Err(status) => assert_eq!(status.code(), Code::Unavailable, "{what}: {status:?}"),
        Ok(reply) => panic!("{what}: expected UNAVAILABLE, got {reply:?}"),
    }
}

/// A call the server stopped waiting for (grace period over, or `shutdown_now`) ends with
/// CANCELLED and says why, whether or not its handler heeds its cancellation.
async fn expect_cancelled<F: Future<Output = Result<T, Status>>, T: std::fmt::Debug>(
    what: &str,
    call: F,
) {
    match within(PATIENCE, what, call).await {
        Err(status) => {
            assert_eq!(status.code(), Code::Cancelled, "{what}: {status:?}");
            assert!(status.message().contains("shutting down"), "{what}: {status:?}");
        }
        Ok(reply) => panic!("{what}: expected CANCELLED, got {reply:?}"),
    }
}

#[tokio::test]
async fn graceful_shutdown_lets_an_in_flight_stream_finish_and_refuses_new_connections() {
    for transport in TRANSPORTS {
        let (tx, mut events) = events();
        let go = Arc::new(Notify::new());
        let server = spawn_timed(transport, paced(tx, go.clone()), |_| {});
        let channel = Channel::connect(&server.target).await.unwrap();
        // An idle connection must not hold shutdown up until the grace period (10 s) ends.
        let idle = Channel::connect(&server.target).await.unwrap();
        let mut stream = open(&channel, "Paced", &mut events).await;

        server.shutdown.shutdown();
        let newcomer = Channel::lazy(&server.target).unwrap();
        expect_unavailable(
            "a call on a new connection after shutdown",
            newcomer.unary::<_, Payload>("/test.Drain/Paced", &payload(1), CallOptions::new()),
        )
        .await;
        assert!(
            !server.task.is_finished(),
            "{transport:?}: serve() returned with a call in flight"
        );

        go.notify_one();
        for n in 2..=4 {
            let message = within(PATIENCE, "the rest of the stream", stream.message()).await;
            assert_eq!(message.expect("the drained stream goes on"), Some(payload(n)));
        }
        assert_eq!(stream.message().await.expect("the drained stream ends OK"), None);
        let Event::Finished { at: finished } = events.next("the handler to finish").await else {
            panic!("the handler did not finish");
        };
        let path = server.server_path.clone();
        let returned = server.returned().await;
        assert!(returned >= finished, "{transport:?}: serve() returned before the stream ended");
        let lag = returned - finished;
        eprintln!("{transport:?}: serve() returned {lag:?} after the last call ended");
        assert!(lag < PROMPT, "{transport:?}: serve() returned {lag:?} after the last call ended");
        if transport == Transport::Unix {
            assert!(!path.exists(), "the socket file {} is still there", path.display());
        }
        drop(idle);
    }
}

#[tokio::test]
async fn grace_period_expiry_cancels_the_remaining_handlers_and_serve_returns() {
    const GRACE: Duration = Duration::from_millis(200);
    for transport in TRANSPORTS {
        let (tx, mut events) = events();
        let server = spawn_timed(transport, paced(tx, Arc::new(Notify::new())), |b| {
            b.shutdown_grace(GRACE);
        });
        let channel = Channel::connect(&server.target).await.unwrap();
        let mut paced = open(&channel, "Paced", &mut events).await;
        let mut stubborn = open(&channel, "Stubborn", &mut events).await;

        let start = Instant::now();
        server.shutdown.shutdown();
        let Event::Cancelled { at, send } = events.next("the handler's cancellation").await else {
            panic!("the handler was not cancelled");
        };
        let cancelled = at - start;
        eprintln!("{transport:?}: grace {GRACE:?}, the handler was cancelled after {cancelled:?}");
        assert!(
            cancelled + EARLY >= GRACE,
            "{transport:?}: cancelled after {cancelled:?}, within the grace period"
        );
        assert!(cancelled < GRACE + PROMPT, "{transport:?}: cancelled after {cancelled:?}");
        assert!(
            send.is_err(),
            "{transport:?}: the sink still accepted a message after the cancellation"
        );

        let returned = server.returned().await - start;
        eprintln!("{transport:?}: serve() returned after {returned:?}");
        assert!(
            returned + EARLY >= GRACE && returned < GRACE + PROMPT,
            "{transport:?}: serve() returned after {returned:?}"
        );
        for (name, stream) in [("paced", &mut paced), ("stubborn", &mut stubborn)] {
            expect_cancelled(
                &format!("{transport:?}: the {name} stream cut off"),
                stream.message(),
            )
            .await;
        }
    }
}

#[tokio::test]
async fn shutdown_now_cancels_in_flight_calls_at_once_even_during_a_graceful_shutdown() {
    for transport in TRANSPORTS {
        for escalate in [false, true] {
            let what = if escalate { "shutdown() then shutdown_now()" } else { "shutdown_now()" };
            let (tx, mut events) = events();
            // The default grace period, 10 s: shutdown_now must not wait for it.
            let server = spawn_timed(transport, paced(tx, Arc::new(Notify::new())), |_| {});
            let channel = Channel::connect(&server.target).await.unwrap();
            let mut stream = open(&channel, "Paced", &mut events).await;
            let _stubborn = open(&channel, "Stubborn", &mut events).await;

            if escalate {
                server.shutdown.shutdown();
            }
            let start = Instant::now();
            server.shutdown.shutdown_now();
            let Event::Cancelled { at, send } = events.next("the handler's cancellation").await
            else {
                panic!("the handler was not cancelled");
            };
            let cancelled = at - start;
            eprintln!("{transport:?} {what}: the handler was cancelled after {cancelled:?}");
            assert!(cancelled < PROMPT, "{transport:?} {what}: cancelled after {cancelled:?}");
            assert!(send.is_err(), "{transport:?} {what}: the sink accepted a message");
            let returned = server.returned().await - start;
            assert!(returned < PROMPT, "{transport:?} {what}: serve() returned after {returned:?}");
            expect_cancelled(&format!("{transport:?} {what}: the stream"), stream.message()).await;
        }
    }
}
