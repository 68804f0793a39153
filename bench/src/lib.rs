//! End-to-end benchmarks of issue 6: h2grpc against tonic and a hand-written gRPC-on-`h2`
//! floor, each as a server process and a client process over a Unix socket.
//!
//! # Layout
//!
//! ```text
//! proto/bench.proto     Payload, StreamReq, service Bench { Unary, ServerStream, Bidi }
//! build.rs              protox; tonic-prost-build: the messages (shared), tonic's stubs;
//!                       h2grpc-build's generator: h2grpc's stubs on the same messages
//! src/lib.rs            the Stack and Client traits every stack implements; the runtime
//! src/workload.rs       W1..W4, written once against Client; the result line they print
//! src/many.rs           W5 (1,000 idle connections) and W6 (broadcast to 1,000 subscribers),
//!                       which open many connections and so need the Stack, not one Client
//! src/fanout.rs         W6's publisher, stamps and latencies, shared by the stacks
//! src/cli.rs            `bench-<stack> server|client ...`
//! src/stacks/h2grpc.rs  h2grpc: generated bench_server / bench_client
//! src/stacks/tonic.rs   tonic: generated BenchServer/BenchClient, UnixListenerStream, connector
//! src/stacks/floor.rs   the floor: gRPC echo on bare h2 (coalescing, poll_capacity)
//! src/tls.rs            H2GRPC_BENCH_TLS=DIR: h2grpc and tonic over TLS on TCP loopback
//! src/bin/bench-*.rs    one binary per stack, so a server binary holds only its own stack
//! src/bin/bench-run.rs  the orchestrator: rounds A B C A B C, medians, ratios, BENCHMARKS.md
//! src/bin/bench-balance.rs  W2 over TCP: round_robin over 3 server processes vs 1
//! ```
//!
//! Every process runs a tokio multi-thread runtime with one worker, and runs all its work in a
//! task spawned on that worker: one busy thread per process, two processes on two cores.

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;

pub mod cli;
pub mod fanout;
pub mod many;
pub mod stacks;
pub mod tls;
pub mod workload;

/// The generated messages (`Payload`, `StreamReq`) and tonic's `bench_client`/`bench_server`.
#[allow(missing_docs, clippy::all)]
pub mod proto {
    include!(concat!(env!("OUT_DIR"), "/bench.rs"));
}

/// h2grpc's generated `bench_server` and `bench_client`, on the messages of [`proto`].
#[allow(missing_docs, clippy::all)]
pub mod h2grpc_proto {
    include!(concat!(env!("OUT_DIR"), "/h2grpc/bench.rs"));
}

pub use proto::{Payload, StreamReq, SubscribeReq};

/// Any error, for the benchmark's plumbing.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The full method paths, for the stacks that are not generated.
pub mod paths {
    /// `rpc Unary(Payload) returns (Payload)`.
    pub const UNARY: &str = "/bench.Bench/Unary";
    /// `rpc ServerStream(StreamReq) returns (stream Payload)`.
    pub const SERVER_STREAM: &str = "/bench.Bench/ServerStream";
    /// `rpc Bidi(stream Payload) returns (stream Payload)`.
    pub const BIDI: &str = "/bench.Bench/Bidi";
    /// `rpc Subscribe(SubscribeReq) returns (stream Payload)`.
    pub const SUBSCRIBE: &str = "/bench.Bench/Subscribe";
}

/// One gRPC implementation under test: its server and its client.
pub trait Stack {
    /// `h2grpc`, `tonic` or `floor`.
    const NAME: &'static str;
    /// The client handle; cloned into each concurrent caller.
    type Client: Client;

    /// Binds `socket`, calls `ready` once clients may connect, then serves until the process
    /// is ended.
    fn serve(
        socket: &Path,
        ready: impl FnOnce() + Send,
    ) -> impl Future<Output = Result<(), BoxError>> + Send;

    /// One connection to the server at `socket`.
    fn connect(socket: &Path) -> impl Future<Output = Result<Self::Client, BoxError>> + Send;

    /// Binds TCP `addr`, calls `ready` with the bound port, then serves (the balancing run of
    /// `bench-balance`). Stacks without one say so.
    fn serve_tcp(
        addr: SocketAddr,
        ready: impl FnOnce(u16) + Send,
    ) -> impl Future<Output = Result<(), BoxError>> + Send {
        let _ = (addr, ready);
        let err: BoxError = format!("bench-{} has no TCP server", Self::NAME).into();
        async move { Err(err) }
    }

    /// One client spreading calls round-robin over the servers at `addrs`, the stack's own way.
    fn connect_balanced(
        addrs: Vec<SocketAddr>,
    ) -> impl Future<Output = Result<Self::Client, BoxError>> + Send {
        let _ = addrs;
        let err: BoxError = format!("bench-{} has no balancing client", Self::NAME).into();
        async move { Err(err) }
    }
}

/// What a server stream delivered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StreamStats {
    /// Messages received.
    pub messages: u64,
    /// Payload bytes received (the `data` fields).
    pub bytes: u64,
}

/// A client of the `Bench` service; every call decodes its responses into `Payload`s and waits
/// for the OK status.
pub trait Client: Clone + Send + Sync + 'static {
    /// `Unary`: the echoed payload.
    fn unary(&self, request: Payload) -> impl Future<Output = Result<Payload, BoxError>> + Send;

    /// `ServerStream`, read to its end.
    fn server_stream(
        &self,
        request: StreamReq,
    ) -> impl Future<Output = Result<StreamStats, BoxError>> + Send;

    /// `Bidi` as ping-pong on one stream: send `payload`, wait for its echo, `warmup` times,
    /// then `rounds` more times timed; returns the time of the timed rounds.
    fn ping_pong(
        &self,
        payload: Payload,
        warmup: u32,
        rounds: u32,
    ) -> impl Future<Output = Result<std::time::Duration, BoxError>> + Send;

    /// `Subscribe`, read to its end: what one subscriber received (W6). Stacks without a
    /// broadcast say so.
    fn subscribe(
        &self,
        request: SubscribeReq,
    ) -> impl Future<Output = Result<fanout::Received, BoxError>> + Send {
        let _ = request;
        async { Err("this stack has no Subscribe".into()) }
    }
}

/// The runtime of every process: multi-thread, one worker, timers and IO enabled.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()
}

/// Runs `fut` as a task on the runtime's one worker (not on the calling thread, as `block_on`
/// alone would), so that a process keeps one thread busy.
pub fn run_on_worker<F>(fut: F) -> Result<F::Output, BoxError>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let rt = runtime()?;
    let task = rt.spawn(fut);
    let out = rt.block_on(task)?;
    Ok(out)
}
