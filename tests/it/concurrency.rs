//! Many calls on one channel: 1,000 unary calls in flight at once (each handler waits until all
//! 1,000 have arrived) with streaming calls mixed in, and a server that allows one stream at a
//! time, where concurrent calls queue instead of failing.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use h2grpc::{CallOptions, Channel, Service, Status};
use tokio::sync::Barrier;
use tokio::task::JoinSet;

use crate::harness::*;
use crate::support::*;

const UNARY_CALLS: usize = 1000;
const STREAMING_CALLS: usize = 50; // of each streaming kind

/// How long the whole mix may take on a loaded machine before the test fails instead of hangs.
const MIX_LIMIT: Duration = Duration::from_secs(60);

fn tagged(i: usize) -> Payload {
    Payload { data: Bytes::from(format!("call {i}")) }
}

/// `Gathered` answers only once `calls` of them are in flight together; the streaming methods
/// echo.
fn gathering(calls: usize) -> Service {
    let barrier = Arc::new(Barrier::new(calls));
    Service::new("test.Many")
        .unary("Gathered", move |_ctx, req: Payload| {
            let barrier = barrier.clone();
            async move {
                barrier.wait().await;
                Ok::<_, Status>(req)
            }
        })
        .server_streaming("Stream", |_ctx, req: StreamReq, mut sink| async move {
            for _ in 0..req.count {
                sink.send(payload(req.size as usize)).await?;
            }
            Ok(())
        })
        .client_streaming("Sum", |_ctx, mut reqs| async move {
            let mut total = 0;
            while let Some(p) = reqs.message().await? {
                let p: Payload = p;
                total += p.data.len();
            }
            Ok::<_, Status>(payload(total))
        })
        .bidi_streaming("Chat", |_ctx, mut reqs, mut sink| async move {
            while let Some(p) = reqs.message().await? {
                let p: Payload = p;
                sink.send(p).await?;
            }
            Ok(())
        })
}

async fn server_stream(channel: Channel, i: usize) -> Result<(), String> {
    let req = StreamReq { count: 10, size: (i % 50) as u32 };
    let mut stream = channel
        .server_streaming::<_, Payload>("/test.Many/Stream", &req, CallOptions::new())
        .await
        .map_err(|s| format!("server stream {i}: {s}"))?;
    for _ in 0..10 {
        let message = stream.message().await.map_err(|s| format!("server stream {i}: {s}"))?;
        if message != Some(payload(i % 50)) {
            return Err(format!("server stream {i}: wrong message {message:?}"));
        }
    }
    match stream.message().await {
        Ok(None) => Ok(()),
        other => Err(format!("server stream {i}: expected the end, got {other:?}")),
    }
}

async fn client_stream(channel: Channel, i: usize) -> Result<(), String> {
    let mut call = channel
        .client_streaming::<Payload, Payload>("/test.Many/Sum", CallOptions::new())
        .await
        .map_err(|s| format!("client stream {i}: {s}"))?;
    for _ in 0..5 {
        call.send(payload(i)).await.map_err(|s| format!("client stream {i}: {s}"))?;
    }
    let sum = call.finish().await.map_err(|s| format!("client stream {i}: {s}"))?;
    if sum.into_inner().data.len() != 5 * i {
        return Err(format!("client stream {i}: wrong sum"));
    }
    Ok(())
}

async fn bidi(channel: Channel, i: usize) -> Result<(), String> {
    let (mut tx, mut rx) = channel
        .bidi_streaming::<Payload, Payload>("/test.Many/Chat", CallOptions::new())
        .await
        .map_err(|s| format!("bidi {i}: {s}"))?;
    for round in 0..5 {
        tx.send(tagged(i * 10 + round)).await.map_err(|s| format!("bidi {i}: {s}"))?;
        let echo = rx.message().await.map_err(|s| format!("bidi {i}: {s}"))?;
        if echo != Some(tagged(i * 10 + round)) {
            return Err(format!("bidi {i}: wrong echo {echo:?}"));
        }
    }
    tx.close().await.map_err(|s| format!("bidi {i}: {s}"))?;
    match rx.message().await {
        Ok(None) => Ok(()),
        other => Err(format!("bidi {i}: expected the end, got {other:?}")),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_unary_calls_and_streams_on_one_channel_all_succeed() {
    for transport in TRANSPORTS {
        let server = spawn_with(transport, vec![gathering(UNARY_CALLS)], |_| {});
        let channel = server.channel().await;
        let start = Instant::now();
        let mut calls = JoinSet::new();
        for i in 0..UNARY_CALLS {
            let ch = channel.clone();
            calls.spawn(async move {
                let reply = ch
                    .unary::<_, Payload>("/test.Many/Gathered", &tagged(i), CallOptions::new())
                    .await
                    .map_err(|s| format!("unary {i}: {s}"))?;
                if reply.into_inner() != tagged(i) {
                    return Err(format!("unary {i}: got another call's reply"));
                }
                Ok(())
            });
            if i % (UNARY_CALLS / STREAMING_CALLS) == 0 {
                let n = i / (UNARY_CALLS / STREAMING_CALLS);
                calls.spawn(server_stream(channel.clone(), n));
                calls.spawn(client_stream(channel.clone(), n));
                calls.spawn(bidi(channel.clone(), n));
            }
        }
        let mut failures = Vec::new();
        let mut done = 0;
        within(MIX_LIMIT, "every call to finish", async {
            while let Some(result) = calls.join_next().await {
                done += 1;
                if let Err(failure) = result.expect("a call task panicked") {
                    failures.push(failure);
                }
            }
        })
        .await;
        eprintln!("{transport:?}: {done} calls in {:?}", start.elapsed());
        assert_eq!(done, UNARY_CALLS + 3 * STREAMING_CALLS);
        assert!(
            failures.is_empty(),
            "{transport:?}: {} calls failed: {failures:#?}",
            failures.len()
        );
        server.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_max_concurrent_streams_1_ten_concurrent_calls_queue_and_all_succeed() {
    for transport in TRANSPORTS {
        // Connected first, or connecting on the first of the ten calls.
        for lazy in [false, true] {
            let what =
                format!("{transport:?}, {} channel", if lazy { "lazy" } else { "connected" });
            one_at_a_time(transport, lazy, &what).await;
        }
    }
}

async fn one_at_a_time(transport: Transport, lazy: bool, what: &str) {
    let in_flight = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let service = Service::new("test.One").unary("Work", {
        let (in_flight, most) = (in_flight.clone(), most.clone());
        move |_ctx, req: Payload| {
            let (in_flight, most) = (in_flight.clone(), most.clone());
            async move {
                let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(10)).await;
                in_flight.fetch_sub(1, Ordering::SeqCst);
                Ok::<_, Status>(req)
            }
        }
    });
    let server = spawn_with(transport, vec![service], |b| {
        b.max_concurrent_streams(1);
    });
    let channel =
        if lazy { Channel::lazy(&server.target).unwrap() } else { server.channel().await };
    let mut calls = JoinSet::new();
    for i in 0..10 {
        let channel = channel.clone();
        calls.spawn(async move {
            channel.unary::<_, Payload>("/test.One/Work", &tagged(i), CallOptions::new()).await
        });
    }
    let mut replies = Vec::new();
    within(PATIENCE, "the ten calls", async {
        while let Some(result) = calls.join_next().await {
            replies.push(result.unwrap());
        }
    })
    .await;
    let failed: Vec<_> = replies.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(failed.is_empty(), "{what}: {} of 10 calls failed: {failed:#?}", failed.len());
    assert_eq!(most.load(Ordering::SeqCst), 1, "{what}: the server ran calls side by side");
    server.stop().await;
}
