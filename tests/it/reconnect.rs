//! Server restarts: a `Channel` (and every clone) reconnects on its own when a new server binds
//! the same socket path or port; while no server is there, calls fail fast with UNAVAILABLE,
//! unless they wait for ready, in which case they go through once the server is back, or fail
//! at their deadline.

use std::time::{Duration, Instant};

use h2grpc::server::Server;
use h2grpc::{CallOptions, Channel, Code, Service, Status};

use crate::harness::*;
use crate::support::*;

/// A failing fast call takes no longer than this (the connect timeout is 5 s).
const FAST: Duration = Duration::from_millis(500);

/// Answers with a payload as long as the server's generation, so a test knows which server
/// answered.
fn generation(n: usize) -> Service {
    Service::new("test.Gen")
        .unary("Which", move |_ctx, _req: Payload| async move { Ok::<_, Status>(payload(n)) })
}

/// Where a restarted server binds again: a socket path in a directory the test owns, or the
/// TCP port the first server was given.
struct Place {
    transport: Transport,
    dir: tempfile::TempDir,
    port: Option<u16>,
}

impl Place {
    fn new(transport: Transport) -> Place {
        Place { transport, dir: tempfile::tempdir().unwrap(), port: None }
    }

    /// Serves generation `n` here.
    fn serve(&mut self, n: usize) -> Running {
        let mut builder = builder(vec![generation(n)], |_| {});
        let server: Server = match self.transport {
            Transport::Unix => builder.bind_unix(self.dir.path().join("gen.sock")).unwrap(),
            Transport::Tcp => {
                let server = builder.bind_tcp(("127.0.0.1", self.port.unwrap_or(0))).unwrap();
                let target = server.local_target().unwrap().to_string();
                let addr: std::net::SocketAddr = target.parse().unwrap();
                self.port = Some(addr.port());
                server
            }
        };
        Running::spawn(server)
    }
}

async fn which(channel: &Channel, options: CallOptions) -> Result<usize, Status> {
    let reply = channel.unary::<_, Payload>("/test.Gen/Which", &payload(0), options).await?;
    Ok(reply.into_inner().data.len())
}

#[tokio::test]
async fn a_channel_and_its_clones_reconnect_to_a_restarted_server_on_their_own() {
    for transport in TRANSPORTS {
        for abrupt in [false, true] {
            let what =
                format!("{transport:?}, {}", if abrupt { "shutdown_now" } else { "shutdown" });
            let mut place = Place::new(transport);
            let first = place.serve(1);
            let channel = Channel::connect(&first.target).await.unwrap();
            let early_clone = channel.clone();
            assert_eq!(which(&channel, CallOptions::new()).await.unwrap(), 1);
            if abrupt {
                first.shutdown.shutdown_now();
            }
            first.stop().await;

            let second = place.serve(2);
            let late_clone = channel.clone();
            for (name, ch) in
                [("channel", &channel), ("early clone", &early_clone), ("late clone", &late_clone)]
            {
                let answer = which(ch, CallOptions::new()).await;
                assert_eq!(answer.unwrap_or_else(|s| panic!("{what}, {name}: {s:?}")), 2);
            }
            second.stop().await;
        }
    }
}

#[tokio::test]
async fn a_call_while_the_server_is_down_fails_fast_with_unavailable() {
    for transport in TRANSPORTS {
        let mut place = Place::new(transport);
        let first = place.serve(1);
        let channel = Channel::connect(&first.target).await.unwrap();
        assert_eq!(which(&channel, CallOptions::new()).await.unwrap(), 1);
        first.stop().await;
        // The first call finds the connection gone and the socket refusing; the second comes
        // while the channel backs off.
        for attempt in 1..=2 {
            let start = Instant::now();
            let status = which(&channel, CallOptions::new()).await.expect_err("no server");
            let took = start.elapsed();
            eprintln!("{transport:?}: call {attempt} with the server down failed after {took:?}: {status}");
            assert_eq!(
                status.code(),
                Code::Unavailable,
                "{transport:?} call {attempt}: {status:?}"
            );
            assert!(took < FAST, "{transport:?} call {attempt}: failed after {took:?}");
        }
    }
}

#[tokio::test]
async fn a_wait_for_ready_call_made_while_the_server_is_down_succeeds_once_it_is_back() {
    for transport in TRANSPORTS {
        let mut place = Place::new(transport);
        let first = place.serve(1);
        let channel = Channel::connect(&first.target).await.unwrap();
        assert_eq!(which(&channel, CallOptions::new()).await.unwrap(), 1);
        first.stop().await;
        // A failed call puts the channel in backoff: until the next attempt, a call that does not
        // wait for ready fails at once, so the call below only succeeds by waiting.
        let status = which(&channel, CallOptions::new()).await.expect_err("no server");
        assert_eq!(status.code(), Code::Unavailable, "{status:?}");

        let (began_tx, began) = tokio::sync::oneshot::channel();
        let waiting = tokio::spawn({
            let channel = channel.clone();
            async move {
                let _ = began_tx.send(Instant::now());
                let options = CallOptions::new().wait_for_ready(true).timeout(PATIENCE);
                which(&channel, options).await
            }
        });
        let began = began.await.unwrap();
        let second = place.serve(2);
        let answer = within(PATIENCE, "the waiting call", waiting).await.unwrap();
        let took = began.elapsed();
        eprintln!("{transport:?}: the wait-for-ready call succeeded after {took:?}");
        assert_eq!(answer.unwrap_or_else(|s| panic!("{transport:?}: {s:?}")), 2);
        second.stop().await;
    }
}

#[tokio::test]
async fn a_wait_for_ready_call_fails_at_its_deadline_if_the_server_stays_down() {
    const TIMEOUT: Duration = Duration::from_millis(300);
    let dir = tempfile::tempdir().unwrap();
    let channel = Channel::lazy(dir.path().join("nobody.sock")).unwrap();
    let start = Instant::now();
    let options = CallOptions::new().wait_for_ready(true).timeout(TIMEOUT);
    let status = which(&channel, options).await.expect_err("no server");
    let took = start.elapsed();
    eprintln!("wait-for-ready with no server failed after {took:?}: {status}");
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    assert!(
        took + Duration::from_millis(1) >= TIMEOUT && took < TIMEOUT + FAST,
        "failed after {took:?}"
    );
}

/// A bare HTTP/2 server at `path` that refuses its first request with
/// RST_STREAM(REFUSED_STREAM) and answers the others with a Trailers-Only NOT_FOUND, reporting
/// each request's path.
fn spawn_refusing_once(path: &std::path::Path) -> Events<String> {
    let listener = tokio::net::UnixListener::bind(path).expect("bind the raw server");
    let (tx, events) = events();
    tokio::spawn(async move {
        let mut refused = false;
        loop {
            let Ok((io, _)) = listener.accept().await else { return };
            let Ok(mut conn) = h2::server::handshake(io).await else { continue };
            while let Some(Ok((request, mut respond))) = conn.accept().await {
                let _ = tx.send(request.uri().path().to_owned());
                if !refused {
                    refused = true;
                    respond.send_reset(h2::Reason::REFUSED_STREAM);
                    continue;
                }
                let response = http::Response::builder()
                    .header("content-type", "application/grpc")
                    .header("grpc-status", "5")
                    .body(())
                    .unwrap();
                let _ = respond.send_response(response, true);
            }
        }
    });
    events
}

#[tokio::test]
async fn a_unary_call_the_server_refused_unprocessed_is_sent_again() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("refusing.sock");
    let mut requests = spawn_refusing_once(&path);
    let channel = Channel::connect(&format!("unix:{}", path.display())).await.unwrap();
    let status =
        which(&channel, CallOptions::new()).await.expect_err("the raw server answers NOT_FOUND");
    // NOT_FOUND, not the UNAVAILABLE of the refusal: the call was sent again and answered.
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
    for attempt in ["refused", "sent again"] {
        assert_eq!(requests.next(attempt).await, "/test.Gen/Which", "{attempt}");
    }
}
