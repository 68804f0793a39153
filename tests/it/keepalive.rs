//! Client keepalive (gRFC A8) over real Unix sockets: PINGs only while calls are in flight
//! (or always, with `keepalive_while_idle`), never sooner than the interval after the last
//! read; a server that stops answering fails the calls UNAVAILABLE and the channel reconnects;
//! GOAWAY `too_many_pings` doubles the interval. The PINGs are seen by a frame-level server
//! (`frames.rs`), since `h2` answers them itself and never shows them.

use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use h2grpc::{CallOptions, Channel, Code, Peer, Server, Service, Status};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::mpsc;

use crate::frames::*;
use crate::harness::*;
use crate::support::*;

/// The keepalive interval the tests use: far below A8's 10 s, which the builder allows.
const INTERVAL: Duration = Duration::from_millis(100);
/// Timers never fire early; this only absorbs the microseconds between the peer reading a
/// frame and stamping it.
const SLACK: Duration = Duration::from_millis(5);

/// What the frame-level server saw, in order.
#[derive(Debug)]
enum Seen {
    Ping(Instant),
    Headers,
    Reset,
}

/// Serves one connection: acknowledges SETTINGS and every PING, reports PINGs, HEADERS and
/// RST_STREAM, answers no call.
fn serve_pings(listener: RawListener) -> mpsc::UnboundedReceiver<Seen> {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut conn = listener.accept().await;
        while let Some(frame) = conn.until(|_| true).await {
            let seen = match frame.kind {
                PING if frame.flags & ACK == 0 => {
                    let at = Instant::now();
                    conn.pong(&frame).await;
                    Seen::Ping(at)
                }
                HEADERS => Seen::Headers,
                RST_STREAM => Seen::Reset,
                _ => continue,
            };
            if tx.send(seen).is_err() {
                break;
            }
        }
    });
    rx
}

async fn next_seen(seen: &mut mpsc::UnboundedReceiver<Seen>, what: &str) -> Seen {
    within(PATIENCE, what, seen.recv()).await.expect("the server went away")
}

async fn next_ping(seen: &mut mpsc::UnboundedReceiver<Seen>) -> Instant {
    loop {
        if let Seen::Ping(at) = next_seen(seen, "a PING").await {
            return at;
        }
    }
}

/// A call the frame-level server never answers.
fn hanging_call(channel: &Channel) -> tokio::task::JoinHandle<Result<Payload, Status>> {
    let channel = channel.clone();
    tokio::spawn(async move {
        let request = payload(1);
        let reply = channel.unary::<_, Payload>("/test.Hang/Hang", &request, CallOptions::new());
        reply.await.map(|r| r.into_inner())
    })
}

#[tokio::test]
async fn keepalive_pings_only_while_a_call_is_in_flight_and_an_interval_after_the_last_read() {
    let listener = RawListener::bind();
    let target = listener.target();
    let mut seen = serve_pings(listener);
    let channel = Channel::builder(&target)
        .unwrap()
        .keepalive_interval(INTERVAL)
        .keepalive_timeout(PATIENCE)
        .connect()
        .await
        .expect("connect");
    next_ping(&mut seen).await; // the connection's first PING, which waits for SETTINGS

    // No call: five intervals pass without a PING.
    let quiet = tokio::time::timeout(5 * INTERVAL, seen.recv()).await;
    assert!(quiet.is_err(), "something was sent without a call: {quiet:?}");

    // A call in flight after a quiet spell longer than the interval: a PING at once (it may
    // overtake the call's HEADERS), then one an interval after each PONG.
    let call = hanging_call(&channel);
    let mut last = next_ping(&mut seen).await;
    for _ in 0..2 {
        let at = next_ping(&mut seen).await;
        assert!(at - last + SLACK >= INTERVAL, "PINGs {:?} apart", at - last);
        last = at;
    }

    // The call is dropped (RST_STREAM): PINGs stop. One may already have been on its way.
    call.abort();
    loop {
        if let Seen::Reset = next_seen(&mut seen, "the call's RST_STREAM").await {
            break;
        }
    }
    let mut late = 0;
    let quiet = tokio::time::timeout(5 * INTERVAL, async {
        while let Some(Seen::Ping(_)) = seen.recv().await {
            late += 1;
        }
    })
    .await;
    assert!(quiet.is_err() && late <= 1, "{late} PINGs after the call ended");
}

#[tokio::test]
async fn keepalive_while_idle_pings_a_connection_without_calls() {
    let listener = RawListener::bind();
    let target = listener.target();
    let mut seen = serve_pings(listener);
    let _channel = Channel::builder(&target)
        .unwrap()
        .keepalive_interval(INTERVAL)
        .keepalive_while_idle(true)
        .connect()
        .await
        .expect("connect");
    let mut last = next_ping(&mut seen).await;
    for _ in 0..3 {
        let at = next_ping(&mut seen).await;
        assert!(at - last + SLACK >= INTERVAL, "PINGs {:?} apart", at - last);
        last = at;
    }
}

#[tokio::test]
async fn goaway_too_many_pings_doubles_the_interval_for_the_next_connection() {
    let interval = Duration::from_millis(150);
    let listener = RawListener::bind();
    let mut builder = Channel::builder(listener.target()).unwrap();
    builder.keepalive_interval(interval).keepalive_while_idle(true);

    // First connection, without calls: its first keepalive PING is answered with GOAWAY
    // too_many_pings, as grpc-go's ping-strike policy does.
    let connecting = tokio::spawn(async move { builder.connect().await });
    let mut first = listener.accept().await;
    let establish = first.ping().await.expect("the first PING");
    first.pong(&establish).await;
    let pong_at = Instant::now();
    let channel = within(PATIENCE, "connect", connecting).await.unwrap().expect("connect");
    first.ping().await.expect("a keepalive PING");
    assert!(pong_at.elapsed() + SLACK >= interval);
    first.go_away(ENHANCE_YOUR_CALM, b"too_many_pings").await;

    // Second connection (made by the next call): PINGs come at twice the interval.
    let _call = hanging_call(&channel);
    let mut second = listener.accept().await;
    let establish = second.ping().await.expect("the first PING");
    second.pong(&establish).await;
    let pong_at = Instant::now();
    second.ping().await.expect("a keepalive PING");
    let waited = pong_at.elapsed();
    assert!(waited + SLACK >= 2 * interval, "the next PING came {waited:?} after the last read");
}

/// A socket that stops reading and writing, without closing, when told: a peer whose process
/// froze.
pub(crate) struct Freezable {
    pub(crate) io: tokio::net::UnixStream,
    pub(crate) frozen: Arc<AtomicBool>,
}

impl AsyncRead for Freezable {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if self.frozen.load(Ordering::SeqCst) {
            return Poll::Pending;
        }
        Pin::new(&mut self.io).poll_read(cx, buf)
    }
}

impl AsyncWrite for Freezable {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if self.frozen.load(Ordering::SeqCst) {
            return Poll::Pending;
        }
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.frozen.load(Ordering::SeqCst) {
            return Poll::Pending;
        }
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

#[tokio::test]
async fn a_server_that_stops_answering_fails_the_calls_unavailable_and_the_channel_reconnects() {
    let timeout = Duration::from_millis(200);
    let (started, mut starts) = events::<()>();
    let service = Service::new("test.Keepalive")
        .unary("Wait", move |ctx, _req: Payload| {
            let started = started.clone();
            async move {
                let _ = started.send(());
                ctx.cancelled().await;
                Ok::<_, Status>(payload(0))
            }
        })
        .unary("Echo", |_ctx, req: Payload| async move { Ok::<_, Status>(req) });
    let server = Server::builder().add_service(service).build_unbound();
    let listener = RawListener::bind();
    let channel = Channel::builder(listener.target())
        .unwrap()
        .keepalive_interval(INTERVAL)
        .keepalive_timeout(timeout)
        .connect_lazy();

    // First connection: a real server, whose socket freezes once the call is running.
    let call = {
        let channel = channel.clone();
        tokio::spawn(async move {
            channel
                .unary::<_, Payload>("/test.Keepalive/Wait", &payload(1), CallOptions::new())
                .await
        })
    };
    let frozen = Arc::new(AtomicBool::new(false));
    let io = Freezable { io: listener.accept_stream().await, frozen: frozen.clone() };
    tokio::spawn(server.serve_connection(io, Peer::Unknown));
    starts.next("the handler to start").await;
    frozen.store(true, Ordering::SeqCst);
    let frozen_at = Instant::now();

    let status = within(PATIENCE, "the call to fail", call).await.unwrap().unwrap_err();
    let waited = frozen_at.elapsed();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert!(status.message().contains("keepalive"), "{status:?}");
    assert!(waited + SLACK >= timeout, "failed {waited:?} after the server froze");

    // The next call connects again, to a server that answers.
    let next = {
        let channel = channel.clone();
        tokio::spawn(async move {
            channel
                .unary::<_, Payload>("/test.Keepalive/Echo", &payload(3), CallOptions::new())
                .await
        })
    };
    tokio::spawn(server.serve_connection(listener.accept_stream().await, Peer::Unknown));
    let reply = within(PATIENCE, "the call on a new connection", next).await.unwrap();
    assert_eq!(reply.expect("echo").into_inner(), payload(3));
}

/// The built example binary `name`, next to this test binary (built here if `cargo test` did
/// not build the examples first).
fn example(name: &str) -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).expect("target/<profile>");
    let path = profile_dir.join("examples").join(name);
    if !path.exists() {
        let mut build = std::process::Command::new(env!("CARGO"));
        build.args(["build", "--example", name]);
        if profile_dir.ends_with("release") {
            build.arg("--release");
        }
        let status = build.status().expect("run cargo build");
        assert!(status.success() && path.exists(), "cannot build example {name}");
    }
    path
}

fn signal(pid: u32, signal: &str) {
    let status = std::process::Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill {signal} {pid} failed");
}

/// Whether every thread of process `pid` is stopped: `kill -STOP` returns before the signal has
/// stopped them all, and a thread still running could answer one more call.
fn all_stopped(pid: u32) -> bool {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { return false };
    tasks.flatten().all(|task| {
        let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
        // The state follows the parenthesised command name: "pid (comm) T ...".
        stat.rsplit_once(") ").is_some_and(|(_, rest)| rest.starts_with('T'))
    })
}

/// `SIGCONT`s the server on the way out, even when the test fails, so that `kill_on_drop`'s
/// `SIGKILL` is not left waiting on a stopped process.
struct Resume(u32);

impl Drop for Resume {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill").args(["-CONT", &self.0.to_string()]).status();
    }
}

#[derive(Clone, PartialEq, prost::Message)]
struct HelloRequest {
    #[prost(string, tag = "1")]
    name: String,
}

#[derive(Clone, PartialEq, prost::Message)]
struct HelloReply {
    #[prost(string, tag = "1")]
    message: String,
}

async fn say_hello(channel: &Channel) -> Result<String, Status> {
    let request = HelloRequest { name: "keepalive".into() };
    let reply = channel
        .unary::<_, HelloReply>("/helloworld.Greeter/SayHello", &request, CallOptions::new())
        .await?;
    Ok(reply.into_inner().message)
}

/// The real thing: the `uds_server` example in its own process, stopped with `SIGSTOP` (its
/// socket stays open, nothing answers). The call waiting on it fails UNAVAILABLE once a
/// keepalive PING goes unanswered; after `SIGCONT`, the next call reconnects.
#[tokio::test]
async fn a_call_to_a_stopped_server_process_fails_unavailable_and_the_next_reconnects() {
    use tokio::io::AsyncBufReadExt;

    let timeout = Duration::from_millis(300);
    let dir = tempfile::tempdir().expect("temp dir");
    let socket = dir.path().join("greeter.sock");
    let mut server = tokio::process::Command::new(example("uds_server"))
        .arg(&socket)
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn uds_server");
    let pid = server.id().expect("the server's pid");
    let mut lines = tokio::io::BufReader::new(server.stdout.take().unwrap()).lines();
    let first = within(PATIENCE, "the server to listen", lines.next_line()).await;
    assert!(first.unwrap().unwrap_or_default().starts_with("listening on"));

    let target = format!("unix:{}", socket.display());
    let channel = Channel::builder(&target)
        .unwrap()
        .keepalive_interval(INTERVAL)
        .keepalive_timeout(timeout)
        .connect()
        .await
        .expect("connect");
    say_hello(&channel).await.expect("a call before the stop");

    signal(pid, "-STOP");
    let resume = Resume(pid);
    within(PATIENCE, "the server's threads to stop", async {
        while !all_stopped(pid) {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    })
    .await;
    let stopped_at = Instant::now();
    let status = within(PATIENCE, "the call to fail", say_hello(&channel)).await.unwrap_err();
    let waited = stopped_at.elapsed();
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert!(status.message().contains("keepalive"), "{status:?}");
    assert!(waited + SLACK >= timeout, "failed {waited:?} after the stop");

    drop(resume); // SIGCONT
    let reply = within(PATIENCE, "a call after the resume", say_hello(&channel)).await;
    assert!(reply.expect("a call after the resume").starts_with("Hello, keepalive!"));
}
