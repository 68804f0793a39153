//! The broadcast helper: every subscriber gets every message in order; a slow subscriber never
//! holds up the others; subscribers that leave are gone from the count at once.

use std::time::{Duration, Instant};

use h2grpc::client::{Channel, ChannelBuilder, ResponseStream};
use h2grpc::server::{Broadcast, SlowSubscriber};
use h2grpc::{CallOptions, Code, Service, Status, Target};

use crate::support::*;

fn subscription_service(feed: Broadcast<Payload>) -> Service {
    Service::new("test.Feed").server_streaming("Subscribe", move |ctx, _req: (), mut sink| {
        let feed = feed.clone();
        async move {
            // A subscriber that skipped ahead learns how many it missed: an empty payload
            // carrying the count in its first byte stands in for an application message.
            feed.serve_with(&ctx, &mut sink, |missed| {
                Some(Payload { data: vec![0xFF, missed.min(254) as u8].into() })
            })
            .await
        }
    })
}

async fn subscribe(channel: &Channel) -> ResponseStream<Payload> {
    channel
        .server_streaming("/test.Feed/Subscribe", &(), CallOptions::new())
        .await
        .expect("subscribe")
}

/// Waits (bounded) until the broadcast counts `n` subscribers: subscriptions start inside the
/// server, so the count is the only way to know they are in place.
async fn until_subscribers(feed: &Broadcast<Payload>, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while feed.subscribers() != n {
        assert!(Instant::now() < deadline, "{} subscribers, expected {n}", feed.subscribers());
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// A broadcast of `capacity` under `policy`, a server with its subscription service on a Unix
/// socket, and a channel to it.
async fn serving(
    capacity: usize,
    policy: SlowSubscriber,
) -> (Broadcast<Payload>, TestServer, Channel) {
    let feed = Broadcast::new(capacity, policy);
    let server = spawn_with(Transport::Unix, vec![subscription_service(feed.clone())], |_| {});
    let channel = server.channel().await;
    (feed, server, channel)
}

fn numbered(i: u32) -> Payload {
    Payload { data: i.to_be_bytes().to_vec().into() }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_subscribers_each_receive_a_hundred_messages_in_order() {
    let (feed, server, channel) = serving(128, SlowSubscriber::Disconnect).await;
    let mut streams = Vec::new();
    for _ in 0..1000 {
        let mut stream = subscribe(&channel).await;
        // Each request leaves as soon as it is created; reading headers is not needed.
        streams.push(tokio::spawn(async move {
            let mut got = Vec::new();
            while let Some(m) = stream.message().await? {
                got.push(m);
            }
            Ok::<_, Status>(got)
        }));
    }
    until_subscribers(&feed, 1000).await;
    for i in 0..100 {
        assert_eq!(feed.publish(numbered(i)), 1000);
    }
    feed.close();
    let expected: Vec<Payload> = (0..100).map(numbered).collect();
    for stream in streams {
        assert_eq!(stream.await.unwrap().unwrap(), expected);
    }
    server.stop().await;
}

/// A slow subscriber on its own connection with a small window stops reading; the fast one
/// receives every message right after it is published.
async fn slow_subscriber_does_not_delay_others(policy: SlowSubscriber) -> ResponseStream<Payload> {
    let feed = Broadcast::new(4, policy);
    let server = spawn_with(Transport::Unix, vec![subscription_service(feed.clone())], |_| {});
    let fast_channel = server.channel().await;
    let target = Target::parse(&server.target).unwrap();
    let mut slow_builder = ChannelBuilder::from(target);
    slow_builder.initial_stream_window_size(65_535).initial_connection_window_size(65_535);
    let slow_channel = slow_builder.connect().await.unwrap();
    let mut fast = subscribe(&fast_channel).await;
    let slow = subscribe(&slow_channel).await;
    until_subscribers(&feed, 2).await;
    let big = |i: u32| {
        let mut data = vec![0u8; 64 * 1024];
        data[..4].copy_from_slice(&i.to_be_bytes());
        Payload { data: data.into() }
    };
    for i in 0..64u32 {
        feed.publish(big(i));
        let got = tokio::time::timeout(Duration::from_secs(5), fast.message())
            .await
            .expect("the fast subscriber was held up")
            .unwrap()
            .unwrap();
        assert_eq!(got.data[..4], i.to_be_bytes(), "fast subscriber got message {i} next");
    }
    feed.close();
    assert!(fast.message().await.unwrap().is_none());
    drop(server);
    slow
}

#[tokio::test]
async fn a_slow_subscriber_is_skipped_ahead_and_told_how_many_it_missed() {
    let mut slow = slow_subscriber_does_not_delay_others(SlowSubscriber::SkipAhead).await;
    let mut seen = Vec::new();
    let mut missed_notices = Vec::new();
    while let Some(m) = slow.message().await.unwrap() {
        if m.data.len() == 2 && m.data[0] == 0xFF {
            missed_notices.push(m.data[1]);
        } else {
            seen.push(u32::from_be_bytes(m.data[..4].try_into().unwrap()));
        }
    }
    assert!(!missed_notices.is_empty(), "the slow subscriber was never told it missed messages");
    assert!(seen.len() < 64, "the slow subscriber cannot have received every message");
    assert!(seen.windows(2).all(|w| w[0] < w[1]), "messages stay in order: {seen:?}");
    assert_eq!(seen.last(), Some(&63), "after skipping ahead it catches up to the newest");
}

/// Reads `stream` past its messages to the error that ends it; a clean end fails the test.
async fn status_after_messages(stream: &mut ResponseStream<Payload>) -> Status {
    loop {
        match stream.message().await {
            Ok(Some(_)) => continue,
            Ok(None) => panic!("the subscriber should have been disconnected"),
            Err(status) => break status,
        }
    }
}

#[tokio::test]
async fn a_slow_subscriber_is_disconnected_with_resource_exhausted() {
    let mut slow = slow_subscriber_does_not_delay_others(SlowSubscriber::Disconnect).await;
    let status = status_after_messages(&mut slow).await;
    assert_eq!(status.code(), Code::ResourceExhausted, "{status}");
}

#[tokio::test]
async fn a_subscriber_that_cancels_is_gone_from_the_count_within_100ms() {
    let (feed, server, channel) = serving(8, SlowSubscriber::SkipAhead).await;
    let stream = subscribe(&channel).await;
    until_subscribers(&feed, 1).await;
    let dropped = Instant::now();
    drop(stream);
    until_subscribers(&feed, 0).await;
    let took = dropped.elapsed();
    assert!(took < Duration::from_millis(100), "took {took:?}");
    server.stop().await;
}

#[tokio::test]
async fn shutting_the_server_down_ends_every_subscription_with_ok() {
    let (feed, server, channel) = serving(8, SlowSubscriber::SkipAhead).await;
    let mut streams = vec![subscribe(&channel).await, subscribe(&channel).await];
    until_subscribers(&feed, 2).await;
    feed.publish(numbered(1));
    server.shutdown.shutdown();
    for stream in &mut streams {
        assert_eq!(stream.message().await.unwrap(), Some(numbered(1)));
        assert_eq!(stream.message().await.unwrap(), None);
    }
    server.task.await.unwrap().unwrap();
}

/// Messages published back to back reach a subscriber as one burst, which the server copies
/// into the stream together: all of them, in order, then the end that `close` asks for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_messages_arrives_whole_and_in_order_before_the_close() {
    let (feed, server, channel) = serving(1024, SlowSubscriber::Disconnect).await;
    let mut streams = Vec::new();
    for _ in 0..10 {
        streams.push(subscribe(&channel).await);
    }
    until_subscribers(&feed, 10).await;
    for i in 0..1000 {
        feed.publish(numbered(i));
    }
    feed.close();
    let expected: Vec<Payload> = (0..1000).map(numbered).collect();
    for stream in &mut streams {
        let mut got = Vec::new();
        while let Some(m) = stream.message().await.unwrap() {
            got.push(m);
        }
        assert_eq!(got, expected);
    }
    server.stop().await;
}

/// Publishes `n` numbered messages in one go, before the one subscriber's call can run (the
/// test runtime has one thread and the loop does not yield), to a ring of 16; then closes.
async fn a_burst_past_the_ring(
    policy: SlowSubscriber,
    n: u32,
) -> (TestServer, ResponseStream<Payload>) {
    let (feed, server, channel) = serving(16, policy).await;
    let stream = subscribe(&channel).await;
    until_subscribers(&feed, 1).await;
    for i in 0..n {
        feed.publish(numbered(i));
    }
    feed.close();
    (server, stream)
}

#[tokio::test]
async fn a_burst_past_the_ring_is_skipped_ahead_to_the_last_messages_in_order() {
    let (server, mut stream) = a_burst_past_the_ring(SlowSubscriber::SkipAhead, 100).await;
    let mut seen = Vec::new();
    let mut missed = 0;
    while let Some(m) = stream.message().await.unwrap() {
        if m.data.len() == 2 && m.data[0] == 0xFF {
            assert!(seen.is_empty(), "the notice comes before the messages after the gap");
            missed += u32::from(m.data[1]);
        } else {
            seen.push(u32::from_be_bytes(m.data[..4].try_into().unwrap()));
        }
    }
    assert_eq!(missed, 84, "told how many it missed");
    assert_eq!(seen, (84..100).collect::<Vec<_>>(), "the ring's last 16, in order");
    server.stop().await;
}

#[tokio::test]
async fn a_burst_past_the_ring_disconnects_under_the_disconnect_policy() {
    let (server, mut stream) = a_burst_past_the_ring(SlowSubscriber::Disconnect, 100).await;
    let status = status_after_messages(&mut stream).await;
    assert_eq!(status.code(), Code::ResourceExhausted, "{status}");
    server.stop().await;
}
