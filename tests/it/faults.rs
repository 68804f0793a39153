//! Faults over a real Unix socket: a client process killed mid-stream, thousands of calls
//! cancelled right after they begin, a client that stops reading, a thousand connections.
//! Each test prints its figures (memory before/after, time to observe a cancel).

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use h2grpc::server::{RequestStream, ResponseSink};
use h2grpc::{CallContext, CallOptions, Service, Status};
use tokio::sync::mpsc;

use crate::hostile::{exchange, message, no_calls_left, raw_h2, rss_kib};
use crate::support::*;

const SERVICE: &str = "test.Faults";

/// What the handlers report to the test.
#[derive(Default)]
struct Probe {
    /// When a held call's handler saw its cancellation.
    cancelled_at: Mutex<Option<Instant>>,
    /// Bytes a flooding handler got into its sink.
    flooded: AtomicUsize,
}

fn service(probe: Arc<Probe>, started: mpsc::UnboundedSender<()>) -> Service {
    let (hold, flood) = (probe.clone(), probe);
    Service::new(SERVICE)
        .unary("Unary", |_ctx, req: Payload| async move { Ok::<_, Status>(req) })
        .client_streaming("Sum", |_ctx, mut reqs| async move {
            while let Some(p) = reqs.message().await? {
                let _: Payload = p;
            }
            Ok::<_, Status>(StreamReq::default())
        })
        .bidi_streaming(
            "Hold",
            move |ctx: CallContext, reqs: RequestStream<Payload>, _sink: ResponseSink<Payload>| {
                let (probe, started) = (hold.clone(), started.clone());
                async move {
                    let _reqs = reqs; // held open, never read
                    let _ = started.send(());
                    ctx.cancelled().await;
                    *probe.cancelled_at.lock().unwrap() = Some(Instant::now());
                    Err::<(), _>(Status::cancelled("client left"))
                }
            },
        )
        .server_streaming("Flood", move |_ctx, _req: StreamReq, mut sink: ResponseSink<Payload>| {
            let probe = flood.clone();
            async move {
                let chunk = payload(16 * 1024);
                loop {
                    sink.send(&chunk).await?;
                    probe.flooded.fetch_add(16 * 1024, Ordering::SeqCst);
                }
            }
        })
}

fn spawn() -> (TestServer, Arc<Probe>, mpsc::UnboundedReceiver<()>) {
    let probe = Arc::new(Probe::default());
    let (started, started_rx) = mpsc::unbounded_channel();
    let server = spawn_with(Transport::Unix, vec![service(probe.clone(), started)], |_| {});
    (server, probe, started_rx)
}

const CHILD_ENV: &str = "H2GRPC_KILLED_CLIENT_TARGET";

/// The client process of `a_client_killed_mid_stream_...`: starts a bidi call, sends one
/// message and waits to be killed. Does nothing when run as an ordinary test.
#[test]
fn killed_client_child() {
    let Ok(target) = std::env::var(CHILD_ENV) else { return };
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async move {
        let channel = h2grpc::Channel::connect(&target).await.expect("child: connect");
        let (mut tx, _rx) = channel
            .bidi_streaming::<Payload, Payload>(&format!("/{SERVICE}/Hold"), CallOptions::new())
            .await
            .expect("child: call");
        tx.send(payload(10)).await.expect("child: send");
        tokio::time::sleep(Duration::from_secs(600)).await;
    });
}

#[tokio::test]
async fn a_client_killed_mid_stream_cancels_the_handler_and_leaves_nothing() {
    let (server, probe, mut started) = spawn();
    let rss_before = rss_kib();
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["faults::killed_client_child", "--exact", "--nocapture", "--test-threads=1"])
        .env(CHILD_ENV, &server.target)
        .stdout(Stdio::null())
        .spawn()
        .expect("spawn the client process");
    tokio::time::timeout(Duration::from_secs(60), started.recv())
        .await
        .expect("the child's call reaches the handler")
        .unwrap();
    assert_eq!(server.shutdown.live_calls(), 1);
    let killed_at = Instant::now();
    child.kill().expect("kill the client");
    let _ = child.wait();
    let deadline = Instant::now() + Duration::from_secs(10);
    let seen = loop {
        if let Some(at) = *probe.cancelled_at.lock().unwrap() {
            break at;
        }
        assert!(Instant::now() < deadline, "the handler never saw the cancellation");
        tokio::time::sleep(Duration::from_millis(1)).await;
    };
    no_calls_left(&server).await;
    let latency = seen.saturating_duration_since(killed_at);
    eprintln!(
        "killed client: cancel observed {latency:?} after kill; live calls 0; \
         VmRSS {rss_before} KiB before, {} KiB after",
        rss_kib()
    );
    assert!(latency < Duration::from_secs(2), "{latency:?}");
}

const FLOOD_ENV: &str = "H2GRPC_CANCEL_FLOOD_CHILD";

/// Runs this test binary's test `name` alone in a child process with `env` set, and returns
/// its standard output (the child fails the parent by exiting non-zero).
fn run_child(name: &str, env: &str, value: &str) -> String {
    let output = Command::new(std::env::current_exe().unwrap())
        .args([name, "--exact", "--nocapture", "--test-threads=1"])
        .env(env, value)
        .stderr(Stdio::inherit())
        .output()
        .expect("run the child test");
    assert!(output.status.success(), "child {name} failed");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// How the child starts and cancels its calls.
#[derive(Clone, Copy, PartialEq)]
enum Canceller {
    /// A raw HTTP/2 client: HEADERS, then RST_STREAM(CANCEL). Only the server's memory moves.
    Raw,
    /// h2grpc's own `Channel`: `client_streaming`, then `cancel()`.
    Channel,
}

/// `n` cancel-after-begin calls to `Sum`.
async fn cancel_after_begin(server: &TestServer, how: Canceller, n: usize) {
    let path = format!("/{SERVICE}/Sum");
    match how {
        Canceller::Raw => {
            let h2 = raw_h2(server).await;
            for _ in 0..n {
                let mut send = h2.clone().ready().await.expect("the connection stays up");
                let request = crate::hostile::grpc_request("Sum", &[]);
                let (_response, mut stream) = send.send_request(request, false).unwrap();
                stream.send_reset(h2::Reason::CANCEL);
                tokio::task::yield_now().await;
            }
        }
        Canceller::Channel => {
            let channel = server.channel().await;
            for _ in 0..n {
                let call =
                    channel.client_streaming::<Payload, StreamReq>(&path, CallOptions::new());
                if let Ok(call) = call.await {
                    drop(call.cancel());
                }
            }
        }
    }
    no_calls_left(server).await;
}

/// The measured part of the cancel-after-begin memory tests, alone in its own process so
/// other tests' threads do not move VmRSS: 1,000 warm-up calls, 10,000 calls, 10,000 more.
/// Prints `FIGURES <before> <after> <after again> <millis>`. Does nothing as an ordinary test.
#[test]
fn cancel_flood_child() {
    let how = match std::env::var(FLOOD_ENV).as_deref() {
        Ok("raw") => Canceller::Raw,
        Ok("channel") => Canceller::Channel,
        _ => return,
    };
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let (server, _probe, _started) = spawn();
        cancel_after_begin(&server, how, 1_000).await;
        let before = rss_kib();
        let started = Instant::now();
        cancel_after_begin(&server, how, 10_000).await;
        let millis = started.elapsed().as_millis();
        let after = rss_kib();
        // Ten thousand more: a leak grows again; pools and tables that only warmed up do not.
        cancel_after_begin(&server, how, 10_000).await;
        println!("FIGURES {before} {after} {} {millis}", rss_kib());
        let channel = server.channel().await;
        let reply: Payload = channel
            .unary(&format!("/{SERVICE}/Unary"), &payload(7), CallOptions::new())
            .await
            .expect("a call after the cancels")
            .into_inner();
        assert_eq!(reply, payload(7));
    });
}

/// Runs the child with `how` and checks the figures: flat means the second 10,000 calls add
/// less than 1 MiB.
fn cancel_flood(how: &str) {
    let out = run_child("faults::cancel_flood_child", FLOOD_ENV, how);
    let figures: Vec<u64> = out
        .lines()
        .find_map(|l| l.split("FIGURES ").nth(1))
        .expect("the child's figures")
        .split(' ')
        .map(|n| n.parse().unwrap())
        .collect();
    let [before, after, again, millis] = figures[..] else { panic!("{out}") };
    eprintln!(
        "10,000 cancel-after-begin calls ({how} client) in {millis} ms: VmRSS {before} KiB \
         before, {after} KiB after, {again} KiB after 10,000 more; live calls 0"
    );
    assert!(after.saturating_sub(before) < 4 * 1024, "VmRSS grew {before} -> {after} KiB");
    assert!(again.saturating_sub(after) < 1024, "VmRSS kept growing: {after} -> {again} KiB");
}

#[test]
fn ten_thousand_cancel_after_begin_calls_leave_the_server_memory_flat() {
    cancel_flood("raw");
}

/// Regression: a loop that opens and cancels `Channel` calls without ever yielding grew
/// VmRSS 8 -> 24 -> 41 MiB over 10,000-call rounds. Not a leak: opening a stream never waited,
/// so h2's connection task did not run and every cancelled stream's state piled up until it
/// did. Opening a call now spends tokio's cooperative budget, so such a loop yields.
#[test]
fn ten_thousand_cancelled_channel_calls_leave_the_client_memory_flat() {
    cancel_flood("channel");
}

#[tokio::test]
async fn a_client_that_stops_reading_bounds_what_the_server_buffers() {
    let (server, probe, _started) = spawn();
    // h2's defaults: a 65,535-byte window for the stream and the connection; never read.
    let h2 = raw_h2(&server).await;
    let mut send = h2.ready().await.unwrap();
    let request = http::Request::post(format!("http://localhost/{SERVICE}/Flood"))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(())
        .unwrap();
    let (response, mut stream) = send.send_request(request, false).unwrap();
    stream.send_data(message_of(&StreamReq::default()), true).unwrap();
    let response = response.await.unwrap();
    // Wait until the handler is blocked: the count stops moving.
    let mut last = usize::MAX;
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = probe.flooded.load(Ordering::SeqCst);
        if now == last {
            break;
        }
        last = now;
    }
    let window = 65_535;
    // Beyond the window: the driver's outbox (32 KiB coalescing) and one message in flight.
    let bound = window + 32 * 1024 + 2 * (16 * 1024 + 5) + 64;
    eprintln!("stopped reader: the handler queued {last} bytes; window {window}, bound {bound}");
    assert!(last <= bound, "{last} bytes queued for a reader that stopped");
    drop(response);
    drop(stream);
    drop(send);
    no_calls_left(&server).await;
}

fn message_of(msg: &StreamReq) -> Bytes {
    let body = prost::Message::encode_to_vec(msg);
    crate::hostile::frame(0, body.len() as u32, &body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_connections_are_served() {
    let (server, _probe, _started) = spawn();
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    let mut channels = Vec::new();
    for _ in 0..1000 {
        // Each channel is its own connection; all stay open until every call is done.
        let channel = server.channel().await;
        channels.push(channel.clone());
        tasks.spawn(async move {
            let reply: Payload = channel
                .unary(&format!("/{SERVICE}/Unary"), &payload(64), CallOptions::new())
                .await
                .expect("a call on one of 1,000 connections")
                .into_inner();
            assert_eq!(reply, payload(64));
        });
    }
    let mut served = 0;
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
        served += 1;
    }
    assert_eq!(served, 1000);
    eprintln!("1,000 connections, one call each, in {:?}", started.elapsed());
    drop(channels);
    // A raw connection afterwards still works too.
    let mut h2 = raw_h2(&server).await;
    let request = http::Request::post(format!("http://localhost/{SERVICE}/Unary"))
        .header("content-type", "application/grpc")
        .body(())
        .unwrap();
    let answer = exchange(&mut h2, request, vec![message(&payload(1))], true).await;
    assert_eq!(answer.grpc_status.as_deref(), Some("0"));
    no_calls_left(&server).await;
}
