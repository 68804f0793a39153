//! What the wire trace costs: a unary call and a 100-message server stream over a Unix socket,
//! with the trace off (the default) and on (each event formatted into a string and dropped).
//!
//! "Free when off" is checked against the build before the trace existed: the `off` benches
//! use no trace API, so this file (minus the `on` benches, between the markers) runs
//! unchanged on that commit (8d46a74).
//!
//! Figures on the project's 2-core machine, shared and loaded (run-to-run spread ±20%), six
//! alternating runs of each build, as medians of the per-run criterion estimates and the
//! median of the paired ratios:
//!
//! | bench | before the trace | trace off | ratio | trace on, formatted |
//! |---|---|---|---|---|
//! | unary | 25.2 µs | 26.7 µs | 0.98 | 39 µs |
//! | stream_100 | 41.2 µs | 48.8 µs | 1.06 | 159 µs |
//!
//! The wall-clock differences are inside the noise; instruction counts, which noise does not
//! blur, put the cost when off at +1.7% for this workload of 2-byte messages (callgrind,
//! 300 unary calls and 300 streams of 100: 81.03 M before, 82.41 M after), about 15
//! instructions of hooks per message plus inlining shifts.
//!
//! `cargo bench --bench trace`; for instruction counts, see [`fixed`].

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, Criterion};
use h2grpc::server::ResponseSink;
use h2grpc::{CallContext, CallOptions, Channel, Server, Service, Status};

struct Bench {
    runtime: tokio::runtime::Runtime,
    channel: Channel,
    _dir: tempfile::TempDir,
}

fn service() -> Service {
    Service::new("bench.Bench")
        .unary("Echo", |_ctx, text: String| async move { Ok::<_, Status>(text) })
        .server_streaming(
            "Count",
            |_ctx: CallContext, n: u32, mut sink: ResponseSink<u32>| async move {
                for i in 0..n {
                    sink.send(i).await?;
                }
                Ok(())
            },
        )
}

/// A server and a connected channel on a Unix socket; `configure` sets both builders up.
fn setup(
    configure: impl Fn(&mut h2grpc::server::Builder, &mut h2grpc::client::ChannelBuilder),
) -> Bench {
    let runtime =
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bench.sock");
    let target = format!("unix:{}", path.display());
    let mut server = Server::builder();
    let mut channel = Channel::builder(&target).expect("target");
    configure(server.add_service(service()), &mut channel);
    let channel = runtime.block_on(async {
        let server = server.bind_unix(&path).expect("bind");
        tokio::spawn(server.serve());
        channel.connect().await.expect("connect")
    });
    Bench { runtime, channel, _dir: dir }
}

fn run(c: &mut Criterion, name: &str, bench: &Bench) {
    let text = "x".repeat(32);
    c.bench_function(&format!("unary/{name}"), |b| {
        b.iter(|| {
            bench.runtime.block_on(async {
                let reply = bench.channel.unary::<String, String>(
                    "/bench.Bench/Echo",
                    &text,
                    CallOptions::new(),
                );
                black_box(reply.await.expect("echo"))
            })
        })
    });
    c.bench_function(&format!("stream_100/{name}"), |b| {
        b.iter(|| {
            bench.runtime.block_on(async {
                let path = "/bench.Bench/Count";
                let mut stream = bench
                    .channel
                    .server_streaming::<u32, u32>(path, &100, CallOptions::new())
                    .await
                    .expect("open");
                let mut n = 0;
                while let Some(i) = stream.message().await.expect("message") {
                    n += black_box(i);
                }
                n
            })
        })
    });
}

fn trace_off(c: &mut Criterion) {
    let bench = setup(|_, _| {});
    run(c, "trace_off", &bench);
}

// -- trace on --
fn trace_on(c: &mut Criterion) {
    use h2grpc::trace::{Event, Trace};
    let sink = || Trace::new(|event: &Event<'_>| drop(black_box(event.to_string())));
    let bench = setup(|server, channel| {
        server.trace(sink());
        channel.trace(sink());
    });
    run(c, "trace_on_formatted", &bench);
}
// -- end --

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(6));
    targets = trace_off, trace_on
}

/// `H2GRPC_BENCH_CALLS=n`: no criterion, just `n` unary calls and `n` streams with the trace
/// off, for counting instructions, which a loaded machine does not blur:
/// `H2GRPC_BENCH_CALLS=2000 valgrind --tool=callgrind target/release/deps/trace-<hash>`.
fn fixed(n: usize) {
    let bench = setup(|_, _| {});
    let text = "x".repeat(32);
    bench.runtime.block_on(async {
        for _ in 0..n {
            let reply = bench.channel.unary::<String, String>(
                "/bench.Bench/Echo",
                &text,
                CallOptions::new(),
            );
            black_box(reply.await.expect("echo"));
            let path = "/bench.Bench/Count";
            let mut stream = bench
                .channel
                .server_streaming::<u32, u32>(path, &100, CallOptions::new())
                .await
                .expect("open");
            while let Some(i) = stream.message().await.expect("message") {
                black_box(i);
            }
        }
    });
}

fn main() {
    if let Some(n) = std::env::var("H2GRPC_BENCH_CALLS").ok().and_then(|v| v.parse().ok()) {
        return fixed(n);
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
