//! The server's connection management (gRFC A9) over real Unix sockets: `max_connection_idle`
//! closes a connection without calls, never one with a call in flight; `max_connection_age`
//! sends GOAWAY at its age (±10 %) and lets calls finish, or cancels them after
//! `max_connection_age_grace`. A `Channel` carries on across both. These tests wait on the
//! server's own timers (a few hundred milliseconds), and check elapsed times only from below,
//! which holds however loaded the machine is.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use h2::client::SendRequest;
use h2grpc::{CallOptions, Service, Status};
use tokio::sync::{mpsc, oneshot, Notify};

use crate::harness::*;
use crate::raw;
use crate::support::*;

/// Timers never fire early; this absorbs the stamping of events a few microseconds late.
const SLACK: Duration = Duration::from_millis(5);

/// How each `Hold` call ended, as the handler saw it.
#[derive(Debug, PartialEq, Eq)]
enum Ended {
    Released,
    Cancelled,
}

struct Hold {
    started: Events<()>,
    release: Arc<Notify>,
    ended: Events<Ended>,
}

/// `test.Hold/Hold` runs until released or cancelled; `test.Hold/Echo` answers at once.
fn hold_service() -> (Service, Hold) {
    let (started_tx, started) = events();
    let (ended_tx, ended) = events();
    let release = Arc::new(Notify::new());
    let service = Service::new("test.Hold")
        .unary("Hold", {
            let release = release.clone();
            move |ctx, _req: Payload| {
                let (started, ended, release) =
                    (started_tx.clone(), ended_tx.clone(), release.clone());
                async move {
                    let _ = started.send(());
                    tokio::select! {
                        _ = release.notified() => {
                            let _ = ended.send(Ended::Released);
                            Ok::<_, Status>(payload(0))
                        }
                        _ = ctx.cancelled() => {
                            let _ = ended.send(Ended::Cancelled);
                            Err(Status::cancelled("cancelled"))
                        }
                    }
                }
            }
        })
        .unary("Echo", |_ctx, req: Payload| async move { Ok::<_, Status>(req) });
    (service, Hold { started, release, ended })
}

/// A raw HTTP/2 connection to `server`, and when it closed.
async fn connect(server: &TestServer) -> (SendRequest<Bytes>, oneshot::Receiver<Instant>) {
    let io = tokio::net::UnixStream::connect(&server.path).await.expect("connect");
    let (send, conn) = h2::client::handshake(io).await.expect("h2 handshake");
    let (closed_tx, closed) = oneshot::channel();
    tokio::spawn(async move {
        let _ = conn.await;
        let _ = closed_tx.send(Instant::now());
    });
    (send, closed)
}

/// Starts `path` on `send`'s connection; the reply arrives on the returned channel.
fn start(send: &SendRequest<Bytes>, path: &str) -> mpsc::Receiver<raw::Reply> {
    let (tx, rx) = mpsc::channel(1);
    let mut send = send.clone();
    let request = raw::request(path).body(()).unwrap();
    tokio::spawn(async move {
        let reply = raw::call(&mut send, request, raw::frame(&payload(0))).await;
        let _ = tx.send(reply).await;
    });
    rx
}

/// Whether the connection still takes new streams.
async fn takes_new_streams(send: &SendRequest<Bytes>) -> bool {
    let Ok(mut ready) = send.clone().ready().await else { return false };
    let request = raw::request("/test.Hold/Echo").body(()).unwrap();
    ready.send_request(request, true).is_ok()
}

#[tokio::test]
async fn max_connection_idle_closes_a_connection_without_calls_but_not_one_with_a_long_call() {
    let idle = Duration::from_millis(200);
    let (service, mut hold) = hold_service();
    let server = spawn_with(Transport::Unix, vec![service], |b| {
        b.max_connection_idle(idle);
    });
    let (send, mut closed) = connect(&server).await;

    // A call three times as long as the idle limit: the connection stays.
    let mut reply = start(&send, "/test.Hold/Hold");
    hold.started.next("the call to start").await;
    tokio::time::sleep(3 * idle).await;
    assert!(closed.try_recv().is_err(), "closed while a call was in flight");

    // Its end starts the idle time; the connection closes (GOAWAY) one limit later.
    hold.release.notify_one();
    let reply = within(PATIENCE, "the reply", reply.recv()).await.expect("a reply");
    assert_eq!(reply.grpc_status(), Some("0"));
    let replied_at = Instant::now();
    assert_eq!(hold.ended.next("the call's end").await, Ended::Released);
    let closed_at = within(PATIENCE, "the idle connection to close", closed).await.unwrap();
    // The server's idle time began before our reply arrived, by the reply's trip.
    let after = closed_at.saturating_duration_since(replied_at);
    assert!(after >= idle / 2, "closed {after:?} after the last call ended");
    server.stop().await;
}

#[tokio::test]
async fn max_connection_age_sends_goaway_and_cancels_what_is_left_after_the_grace() {
    let (age, grace) = (Duration::from_millis(300), Duration::from_millis(300));
    let (service, mut hold) = hold_service();
    let server = spawn_with(Transport::Unix, vec![service], |b| {
        b.max_connection_age(age).max_connection_age_grace(grace);
    });
    let opened_at = Instant::now();
    let (send, closed) = connect(&server).await;
    let mut reply = start(&send, "/test.Hold/Hold");
    hold.started.next("the call to start").await;

    // Past the age (+10 %), before the grace ends (from -10 %): GOAWAY, no new streams.
    tokio::time::sleep_until((opened_at + age.mul_f64(1.1) + grace / 4).into()).await;
    assert!(!takes_new_streams(&send).await, "new streams after the connection's age");

    // The grace runs out: the connection closes, the call still running is cancelled.
    let closed_at = within(PATIENCE, "the old connection to close", closed).await.unwrap();
    let lived = closed_at - opened_at;
    assert!(lived + SLACK >= age.mul_f64(0.9) + grace, "closed after {lived:?}");
    assert_eq!(hold.ended.next("the call's end").await, Ended::Cancelled);
    let reply = within(PATIENCE, "the call to end", reply.recv()).await;
    assert!(reply.is_none(), "the call finished despite the close: {reply:?}");
    server.stop().await;
}

#[tokio::test]
async fn max_connection_age_without_grace_lets_the_calls_in_flight_finish() {
    let age = Duration::from_millis(200);
    let (service, mut hold) = hold_service();
    let server = spawn_with(Transport::Unix, vec![service], |b| {
        b.max_connection_age(age);
    });
    let opened_at = Instant::now();
    let (send, mut closed) = connect(&server).await;
    let mut reply = start(&send, "/test.Hold/Hold");
    hold.started.next("the call to start").await;

    tokio::time::sleep_until((opened_at + 2 * age).into()).await;
    assert!(!takes_new_streams(&send).await, "new streams after the connection's age");
    assert!(closed.try_recv().is_err(), "closed while a call was in flight");

    hold.release.notify_one();
    let reply = within(PATIENCE, "the reply", reply.recv()).await.expect("a reply");
    assert_eq!(reply.grpc_status(), Some("0"));
    within(PATIENCE, "the drained connection to close", closed).await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn a_channel_carries_on_across_idle_and_age_closes() {
    let limit = Duration::from_millis(150);
    for idle in [true, false] {
        let (service, _hold) = hold_service();
        let server = spawn_with(Transport::Unix, vec![service], |b| {
            if idle {
                b.max_connection_idle(limit);
            } else {
                b.max_connection_age(limit);
            }
        });
        let channel = server.channel().await;
        for round in 0..3 {
            let reply = channel
                .unary::<_, Payload>("/test.Hold/Echo", &payload(round), CallOptions::new())
                .await;
            assert_eq!(reply.expect("echo").into_inner(), payload(round), "idle: {idle}");
            // Long enough for the server to have closed the connection.
            tokio::time::sleep(2 * limit).await;
        }
        server.stop().await;
    }
}
