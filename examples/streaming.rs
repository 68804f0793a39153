//! The four call kinds of `example.v1.ExampleService`, server and client in one process on a
//! Unix socket in a temp dir:
//!
//! - `Square`, unary;
//! - `Ticks`, a server stream that runs until the client cancels it, and the handler sees that;
//! - `Sum`, a client stream summed on the server;
//! - `Double`, a bidi stream answering each request as it arrives;
//! - `Squares`, the producer/consumer pattern: many tasks produce results into a bounded
//!   channel, drained by the one task that writes the response stream.
//!
//! Run with `cargo run --example streaming`; with `H2GRPC_TRACE=1`, both sides also print the
//! wire trace of every call to stderr.

use std::sync::Arc;
use std::time::Duration;

use h2grpc::server::{RequestStream, ResponseSink};
use h2grpc::trace::Trace;
use h2grpc::{CallContext, CallOptions, Channel, Server, Status};
use tokio::sync::{mpsc, Notify};

/// The code generated from `proto/example.proto` (package `example.v1`) by `build.rs`.
pub mod example {
    h2grpc::include_proto!("example.v1");
}
use example::example_service_client::ExampleServiceClient;
use example::example_service_server::{self, ExampleService};
use example::Number;

struct Example {
    /// Tells `main` that the `Ticks` handler saw its call cancelled.
    ticks_cancelled: Arc<Notify>,
}

impl ExampleService for Example {
    async fn square(&self, _ctx: CallContext, n: Number) -> Result<Number, Status> {
        Ok(Number { value: n.value * n.value })
    }

    async fn ticks(
        &self,
        ctx: CallContext,
        start: Number,
        mut sink: ResponseSink<Number>,
    ) -> Result<(), Status> {
        let ticking = async {
            let mut interval = tokio::time::interval(Duration::from_millis(20));
            for value in start.value.. {
                interval.tick().await;
                sink.send(Number { value }).await?;
            }
            Ok(())
        };
        tokio::select! {
            biased;
            () = ctx.cancelled() => {
                println!("server: Ticks saw the client cancel");
                self.ticks_cancelled.notify_one();
                Err(Status::cancelled("the client cancelled"))
            }
            result = ticking => result,
        }
    }

    async fn sum(
        &self,
        _ctx: CallContext,
        mut numbers: RequestStream<Number>,
    ) -> Result<Number, Status> {
        let mut total = 0;
        while let Some(n) = numbers.message().await? {
            total += n.value;
        }
        Ok(Number { value: total })
    }

    async fn double(
        &self,
        _ctx: CallContext,
        mut numbers: RequestStream<Number>,
        mut sink: ResponseSink<Number>,
    ) -> Result<(), Status> {
        while let Some(n) = numbers.message().await? {
            sink.send(Number { value: 2 * n.value }).await?;
        }
        Ok(())
    }

    async fn squares(
        &self,
        _ctx: CallContext,
        up_to: Number,
        mut sink: ResponseSink<Number>,
    ) -> Result<(), Status> {
        const PRODUCERS: i64 = 4;
        // Bounded: producers wait while the writer (and so the client) is behind.
        let (results, mut queue) = mpsc::channel(8);
        for producer in 0..PRODUCERS {
            let results = results.clone();
            tokio::spawn(async move {
                for n in (1 + producer..=up_to.value).step_by(PRODUCERS as usize) {
                    // A send error means the call ended: stop producing.
                    if results.send(Number { value: n * n }).await.is_err() {
                        return;
                    }
                }
            });
        }
        drop(results); // the queue ends once every producer is done
        while let Some(square) = queue.recv().await {
            sink.send(square).await?; // the one writer
        }
        Ok(())
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let socket = dir.path().join("example.sock");
    let ticks_cancelled = Arc::new(Notify::new());
    let service =
        example_service_server::service(Example { ticks_cancelled: ticks_cancelled.clone() });
    // H2GRPC_TRACE=1 prints both sides' wire trace to stderr.
    let server =
        Server::builder().add_service(service).trace(Trace::from_env()).bind_unix(&socket)?;
    let shutdown = server.shutdown_handle();
    let serving = tokio::spawn(server.serve());
    let client = ExampleServiceClient::new(
        Channel::builder(&socket)?.trace(Trace::from_env()).connect().await?,
    );

    // Unary.
    let square = client.square(Number { value: 12 }, CallOptions::new()).await?.into_inner();
    println!("Square(12) = {}", square.value);

    // Server streaming, cancelled by the client after three messages.
    let mut ticks = client.ticks(Number { value: 1 }, CallOptions::new()).await?;
    for _ in 0..3 {
        if let Some(tick) = ticks.message().await? {
            println!("tick {}", tick.value);
        }
    }
    ticks.cancel(); // RST_STREAM(CANCEL): the handler's ctx.cancelled() fires
    ticks_cancelled.notified().await;

    // Client streaming.
    let mut sum = client.sum(CallOptions::new()).await?;
    for value in 1..=10 {
        sum.send(Number { value }).await?;
    }
    println!("Sum(1..=10) = {}", sum.finish().await?.into_inner().value);

    // Bidi streaming: each request answered before the next is sent.
    let (mut requests, mut doubles) = client.double(CallOptions::new()).await?;
    for value in [1, 5, 21] {
        requests.send(Number { value }).await?;
        if let Some(double) = doubles.message().await? {
            println!("Double({value}) = {}", double.value);
        }
    }
    requests.close().await?;

    // Producer/consumer: results arrive in whatever order the producers finish.
    let mut squares = client.squares(Number { value: 10 }, CallOptions::new()).await?;
    let mut received = Vec::new();
    while let Some(square) = squares.message().await? {
        received.push(square.value);
    }
    received.sort_unstable();
    println!("Squares(10) = {received:?}");

    shutdown.shutdown();
    serving.await??;
    Ok(())
}
