//! Server push, as ASP.NET Core's background service sending the time to every client through
//! its hub — and a client that runs as a background task, reacts to each tick and reconnects
//! when the server restarts.
//!
//! ```sh
//! cargo run --example clock -- server /tmp/clock.sock   # publishes the time every second
//! cargo run --example clock -- client /tmp/clock.sock   # prints each tick; survives restarts
//! cargo run --example clock                            # both in one process, three ticks
//! ```
//!
//! `CLOCK_INTERVAL_MS` changes the tick (default 1000).

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use h2grpc::server::{Broadcast, ResponseSink, SlowSubscriber};
use h2grpc::{CallContext, CallOptions, Channel, Server, Status};

/// The code generated from `proto/clock.proto` by `build.rs`.
pub mod clock {
    h2grpc::include_proto!("clock.v1");
}
use clock::clock_client::ClockClient;
use clock::clock_server::{self, Clock};
use clock::{SubscribeRequest, Tick};

/// Every subscription forwards the one broadcast; a subscriber more than 16 ticks behind skips
/// ahead and is told how many it missed.
struct ClockService {
    ticks: Broadcast<Tick>,
}

impl Clock for ClockService {
    async fn subscribe(
        &self,
        ctx: CallContext,
        _request: SubscribeRequest,
        mut sink: ResponseSink<Tick>,
    ) -> Result<(), Status> {
        let missed = |missed| Some(Tick { missed, ..Tick::default() });
        self.ticks.serve_with(&ctx, &mut sink, missed).await
    }
}

/// The background service: publishes the time every `interval` to whoever is subscribed.
async fn publish_ticks(ticks: Broadcast<Tick>, interval: Duration) {
    let mut timer = tokio::time::interval(interval);
    for seq in 1.. {
        timer.tick().await;
        let unix_millis = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        ticks.publish(Tick { seq, unix_millis, missed: 0 });
    }
}

/// The client as a background service of its host program: keeps one subscription open,
/// prints every tick, and when the server goes away waits for it to come back.
/// Logs each change of the channel's state that matters to a person: the server gone, and
/// back (IDLE and CONNECTING in between are not news).
async fn log_connectivity(channel: Channel) {
    use h2grpc::client::ConnectivityState::{Ready, Shutdown, TransientFailure};
    let (mut state, mut ready) = (channel.state(), false);
    while state != Shutdown {
        state = channel.state_changed(state).await;
        match state {
            Ready if !ready => println!("server reachable (channel {state})"),
            TransientFailure if ready => println!("server gone (channel {state})"),
            _ => {}
        }
        ready = match state {
            Ready => true,
            TransientFailure => false,
            _ => ready,
        };
    }
}

async fn print_ticks(channel: Channel, mut remaining: Option<u64>) {
    let client = ClockClient::new(channel);
    let mut backoff = Duration::from_millis(100);
    loop {
        // wait_for_ready: while the server is down, the call waits for the channel to
        // reconnect (with the channel's own backoff) instead of failing at once.
        let options = CallOptions::new().wait_for_ready(true);
        match client.subscribe(SubscribeRequest {}, options).await {
            Ok(mut ticks) => loop {
                match ticks.message().await {
                    Ok(Some(tick)) if tick.missed > 0 => println!("missed {} ticks", tick.missed),
                    Ok(Some(tick)) => {
                        println!("tick {} at {}", tick.seq, clock_time(tick.unix_millis));
                        backoff = Duration::from_millis(100);
                        if let Some(left) = remaining.as_mut() {
                            *left -= 1;
                            if *left == 0 {
                                return;
                            }
                        }
                    }
                    Ok(None) => {
                        println!("the server ended the subscription");
                        break;
                    }
                    Err(status) => {
                        println!("subscription lost: {status}");
                        break;
                    }
                }
            },
            Err(status) => println!("cannot subscribe: {status}"),
        }
        println!("resubscribing in {} ms", backoff.as_millis());
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

/// `HH:MM:SS.mmm` UTC, without a date-time crate.
fn clock_time(unix_millis: i64) -> String {
    let ms = unix_millis.rem_euclid(86_400_000);
    let (h, m, s, ms) = (ms / 3_600_000, ms / 60_000 % 60, ms / 1000 % 60, ms % 1000);
    format!("{h:02}:{m:02}:{s:02}.{ms:03} UTC")
}

async fn serve(socket: &Path, interval: Duration) -> Result<(), Box<dyn std::error::Error>> {
    let ticks = Broadcast::new(16, SlowSubscriber::SkipAhead);
    let publisher = tokio::spawn(publish_ticks(ticks.clone(), interval));
    let server = Server::builder()
        .add_service(clock_server::service(ClockService { ticks }))
        .bind_unix(socket)?;
    println!("clock listening on {}", socket.display());
    let shutdown = server.shutdown_handle();
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        shutdown.shutdown(); // every subscription ends with OK; the socket file goes away
    });
    server.serve().await?;
    publisher.abort();
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let interval = std::env::var("CLOCK_INTERVAL_MS")
        .ok()
        .and_then(|ms| ms.parse().ok())
        .map_or(Duration::from_secs(1), Duration::from_millis);
    let mut args = std::env::args().skip(1);
    let mode = args.next();
    let socket = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("h2grpc-clock.sock"));
    match mode.as_deref() {
        Some("server") => serve(&socket, interval).await,
        Some("client") => {
            // The host program: the clock client runs in the background until Ctrl-C, and a
            // second task logs the channel's connectivity: server gone, server back.
            let channel = Channel::lazy(&socket)?;
            let watcher = tokio::spawn(print_ticks(channel.clone(), None));
            let states = tokio::spawn(log_connectivity(channel));
            tokio::signal::ctrl_c().await?;
            watcher.abort();
            states.abort();
            Ok(())
        }
        None => {
            let dir = std::env::temp_dir().join(format!("h2grpc-clock-{}", std::process::id()));
            std::fs::create_dir_all(&dir)?;
            let socket = dir.join("clock.sock");
            let ticks = Broadcast::new(16, SlowSubscriber::SkipAhead);
            let publisher = tokio::spawn(publish_ticks(ticks.clone(), interval));
            let server = Server::builder()
                .add_service(clock_server::service(ClockService { ticks }))
                .bind_unix(&socket)?;
            let shutdown = server.shutdown_handle();
            let serving = tokio::spawn(server.serve());
            print_ticks(Channel::lazy(&socket)?, Some(3)).await;
            shutdown.shutdown();
            serving.await??;
            publisher.abort();
            std::fs::remove_dir(&dir)?;
            Ok(())
        }
        Some(other) => Err(format!("unknown mode {other:?}: use server, client or nothing").into()),
    }
}
