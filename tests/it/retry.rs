//! gRFC A6 retries against a real h2grpc server: attempts, previous-attempt headers, pushback,
//! throttling, commit, deadlines, the retry buffer.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use h2grpc::client::{ChannelBuilder, RetryPolicy};
use h2grpc::server::{RequestStream, ResponseSink};
use h2grpc::{CallOptions, Channel, Code, Metadata, Method, Service, Status};

use crate::support::{spawn_unix, TestServer};

const CALL: Method<String, String> = Method::new("/retry.v1.Flaky/Call");
const STREAM: Method<String, String> = Method::new("/retry.v1.Flaky/Stream");

/// What the server saw: each attempt's `grpc-previous-rpc-attempts`.
type Seen = Arc<Mutex<Vec<Option<String>>>>;

/// A server whose n-th attempt (from 0) answers `script(n)`.
fn flaky(
    script: impl Fn(usize) -> Result<String, Status> + Send + Sync + 'static,
) -> (TestServer, Seen) {
    let seen: Seen = Arc::default();
    let (log, script) = (seen.clone(), Arc::new(script));
    let stream_log = seen.clone();
    let service = Service::new("retry.v1.Flaky")
        .unary("Call", move |ctx, _: String| {
            let mut log = log.lock().unwrap();
            log.push(ctx.metadata().get("grpc-previous-rpc-attempts").map(str::to_owned));
            let answer = script(log.len() - 1);
            async move { answer }
        })
        .server_streaming(
            "Stream",
            move |ctx, fail_after_one: String, mut sink: ResponseSink<String>| {
                let mut log = stream_log.lock().unwrap();
                log.push(ctx.metadata().get("grpc-previous-rpc-attempts").map(str::to_owned));
                let first = log.len() == 1;
                async move {
                    if fail_after_one == "commit" {
                        sink.send("one".to_string()).await?;
                        return Err(Status::unavailable("after a message"));
                    }
                    if first {
                        return Err(Status::unavailable("trailers-only"));
                    }
                    sink.send("ok".to_string()).await
                }
            },
        );
    (spawn_unix(vec![service]), seen)
}

fn unavailable_with_pushback(value: &str) -> Status {
    let mut md = Metadata::new();
    md.insert("grpc-retry-pushback-ms", value).unwrap();
    Status::unavailable("busy").with_metadata(md)
}

fn policy(attempts: u32) -> RetryPolicy {
    RetryPolicy::new(attempts, &[Code::Unavailable])
        .unwrap()
        .initial_backoff(Duration::from_millis(5))
        .max_backoff(Duration::from_millis(20))
}

fn builder(server: &TestServer, policy: RetryPolicy) -> ChannelBuilder {
    let mut builder = Channel::builder(&server.target).unwrap();
    builder.retry_policy(policy);
    builder
}

async fn call(channel: &Channel, body: String) -> Result<String, Status> {
    let options = CallOptions::new().timeout(Duration::from_secs(10));
    Ok(channel.unary(CALL, body, options).await?.into_inner())
}

fn attempts(seen: &Seen) -> Vec<Option<String>> {
    seen.lock().unwrap().clone()
}

#[tokio::test]
async fn unavailable_twice_then_ok_takes_three_attempts_numbered_by_the_header() {
    let (server, seen) =
        flaky(|n| if n < 2 { Err(Status::unavailable("not yet")) } else { Ok("ok".into()) });
    let channel = builder(&server, policy(3)).connect().await.unwrap();
    assert_eq!(call(&channel, String::new()).await.unwrap(), "ok");
    assert_eq!(attempts(&seen), [None, Some("1".into()), Some("2".into())]);
}

#[tokio::test]
async fn attempts_stop_at_max_attempts_with_the_last_status() {
    let (server, seen) = flaky(|n| Err(Status::unavailable(format!("attempt {n}"))));
    let channel = builder(&server, policy(10)).connect().await.unwrap();
    let err = call(&channel, String::new()).await.unwrap_err();
    assert_eq!((err.code(), err.message()), (Code::Unavailable, "attempt 4"));
    assert_eq!(attempts(&seen).len(), 5, "max_attempts 10 is capped at 5");
}

#[tokio::test]
async fn a_code_not_listed_is_not_retried() {
    let (server, seen) = flaky(|_| Err(Status::invalid_argument("bad")));
    let channel = builder(&server, policy(5)).connect().await.unwrap();
    assert_eq!(call(&channel, String::new()).await.unwrap_err().code(), Code::InvalidArgument);
    assert_eq!(attempts(&seen).len(), 1);
}

#[tokio::test]
async fn pushback_sets_the_delay_and_a_negative_one_stops_retrying() {
    let (server, seen) =
        flaky(|n| if n == 0 { Err(unavailable_with_pushback("300")) } else { Ok("ok".into()) });
    let channel = builder(&server, policy(3)).connect().await.unwrap();
    let started = Instant::now();
    assert_eq!(call(&channel, String::new()).await.unwrap(), "ok");
    assert!(started.elapsed() >= Duration::from_millis(300), "{:?}", started.elapsed());
    assert_eq!(attempts(&seen).len(), 2);

    let (server, seen) = flaky(|_| Err(unavailable_with_pushback("-1")));
    let channel = builder(&server, policy(3)).connect().await.unwrap();
    assert_eq!(call(&channel, String::new()).await.unwrap_err().code(), Code::Unavailable);
    assert_eq!(attempts(&seen).len(), 1, "pushback -1 means do not retry");
}

#[tokio::test]
async fn throttling_stops_retries_once_failures_drain_the_tokens() {
    let (server, seen) = flaky(|_| Err(Status::unavailable("down")));
    let mut builder = builder(&server, policy(5));
    builder.retry_throttling(10, 0.1).unwrap();
    let channel = builder.connect().await.unwrap();
    call(&channel, String::new()).await.unwrap_err();
    assert_eq!(attempts(&seen).len(), 5, "10 tokens: four retries allowed");
    call(&channel, String::new()).await.unwrap_err();
    assert_eq!(attempts(&seen).len(), 6, "at half the tokens, no retry");
}

#[tokio::test]
async fn server_streaming_is_retried_until_committed_and_not_after() {
    let (server, seen) = flaky(|_| Ok(String::new()));
    let channel = builder(&server, policy(3)).connect().await.unwrap();
    let options = || CallOptions::new().timeout(Duration::from_secs(10));
    let mut stream = channel.server_streaming(STREAM, String::new(), options()).await.unwrap();
    assert_eq!(stream.message().await.unwrap().as_deref(), Some("ok"));
    assert_eq!(attempts(&seen), [None, Some("1".into())], "Trailers-Only failure retried");

    let mut stream =
        channel.server_streaming(STREAM, "commit".to_string(), options()).await.unwrap();
    assert_eq!(stream.message().await.unwrap().as_deref(), Some("one"));
    assert_eq!(stream.message().await.unwrap_err().code(), Code::Unavailable);
    assert_eq!(attempts(&seen).len(), 3, "a call that received headers is not retried");
}

#[tokio::test]
async fn the_deadline_covers_every_attempt_and_cuts_a_backoff_short() {
    let (server, seen) = flaky(|_| Err(Status::unavailable("down")));
    let slow =
        RetryPolicy::new(5, &[Code::Unavailable]).unwrap().initial_backoff(Duration::from_secs(5));
    let channel = builder(&server, slow).connect().await.unwrap();
    let started = Instant::now();
    let options = CallOptions::new().timeout(Duration::from_millis(300));
    let err = channel.unary(CALL, String::new(), options).await.unwrap_err();
    assert_eq!(err.code(), Code::DeadlineExceeded, "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    assert_eq!(attempts(&seen).len(), 1);
}

#[tokio::test]
async fn a_request_larger_than_the_retry_buffer_is_not_retried() {
    let (server, seen) = flaky(|_| Err(Status::unavailable("down")));
    let mut builder = builder(&server, policy(5));
    builder.retry_buffer_size(1024);
    let channel = builder.connect().await.unwrap();
    call(&channel, "x".repeat(2048)).await.unwrap_err();
    assert_eq!(attempts(&seen).len(), 1);
    call(&channel, "x".repeat(100)).await.unwrap_err();
    assert_eq!(attempts(&seen).len(), 6);
}

#[tokio::test]
async fn a_method_policy_overrides_the_channels() {
    let (server, seen) = flaky(|_| Err(Status::unavailable("down")));
    let mut builder = builder(&server, policy(5));
    builder.method_retry_policy("retry.v1.Flaky/Call", policy(2));
    let channel = builder.connect().await.unwrap();
    call(&channel, String::new()).await.unwrap_err();
    assert_eq!(attempts(&seen).len(), 2);
}

/// Client-streaming `Join` fails its first attempt (after reading every request) with a
/// Trailers-Only UNAVAILABLE, then joins what it received; bidi `Echo` answers one message,
/// then fails UNAVAILABLE (committed).
fn streaming() -> (TestServer, Seen) {
    let seen: Seen = Arc::default();
    let (join_log, echo_log) = (seen.clone(), seen.clone());
    let service = Service::new("retry.v1.Streams")
        .client_streaming("Join", move |ctx, mut requests: RequestStream<String>| {
            let attempt = {
                let mut log = join_log.lock().unwrap();
                log.push(ctx.metadata().get("grpc-previous-rpc-attempts").map(str::to_owned));
                log.len()
            };
            async move {
                let mut all = String::new();
                while let Some(part) = requests.message().await? {
                    all.push_str(&part);
                }
                if attempt == 1 {
                    return Err(Status::unavailable("first attempt fails"));
                }
                Ok(all)
            }
        })
        .bidi_streaming(
            "Echo",
            move |_ctx, mut requests: RequestStream<String>, mut sink: ResponseSink<String>| {
                echo_log.lock().unwrap().push(None);
                async move {
                    if let Some(first) = requests.message().await? {
                        sink.send(first).await?;
                    }
                    Err(Status::unavailable("after a message"))
                }
            },
        );
    (spawn_unix(vec![service]), seen)
}

const JOIN: Method<String, String> = Method::new("/retry.v1.Streams/Join");
const ECHO: Method<String, String> = Method::new("/retry.v1.Streams/Echo");

#[tokio::test]
async fn client_streaming_is_replayed_on_a_new_attempt_while_uncommitted() {
    let (server, seen) = streaming();
    let channel = builder(&server, policy(3)).connect().await.unwrap();
    let options = CallOptions::new().timeout(Duration::from_secs(10));
    let mut call = channel.client_streaming(JOIN, options).await.unwrap();
    for part in ["a", "b", "c"] {
        call.send(part.to_string()).await.unwrap();
    }
    assert_eq!(call.finish().await.unwrap().into_inner(), "abc", "every message replayed");
    assert_eq!(attempts(&seen), [None, Some("1".into())]);
}

#[tokio::test]
async fn client_streaming_over_the_retry_buffer_is_not_retried() {
    let (server, seen) = streaming();
    let mut builder = builder(&server, policy(3));
    builder.retry_buffer_size(1024);
    let channel = builder.connect().await.unwrap();
    let options = CallOptions::new().timeout(Duration::from_secs(10));
    let mut call = channel.client_streaming(JOIN, options).await.unwrap();
    for _ in 0..4 {
        call.send("x".repeat(512)).await.unwrap();
    }
    assert_eq!(call.finish().await.unwrap_err().code(), Code::Unavailable);
    assert_eq!(attempts(&seen).len(), 1);
}

#[tokio::test]
async fn a_committed_bidi_call_is_not_retried() {
    let (server, seen) = streaming();
    let channel = builder(&server, policy(3)).connect().await.unwrap();
    let options = CallOptions::new().timeout(Duration::from_secs(10));
    let (mut sink, mut replies) = channel.bidi_streaming(ECHO, options).await.unwrap();
    sink.send("hello".to_string()).await.unwrap();
    assert_eq!(replies.message().await.unwrap().as_deref(), Some("hello"));
    assert_eq!(replies.message().await.unwrap_err().code(), Code::Unavailable);
    assert_eq!(attempts(&seen).len(), 1);
}
