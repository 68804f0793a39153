//! The gRPC interop server: `grpc.testing.TestService` as the "Server" section of
//! interop-test-descriptions.md describes it, for the reference implementations' clients.
//!
//! ```sh
//! cargo run --example interop_server -- --addr unix:/tmp/interop.sock   # or --addr 127.0.0.1:50051
//! ```
//!
//! Prints `listening on ADDR` once clients may connect (with the port a `:0` address was
//! given); serves until SIGTERM or Ctrl-C.
//!
//! TLS: `--tls_dir DIR` serves TLS with `DIR/server.pem` and `DIR/server.key`
//! (`cargo run --example tls_test_certs -- DIR` writes them); `--mtls` also requires client
//! certificates issued by `DIR/ca.pem` and admits only the SPIFFE ID
//! `spiffe://h2grpc.test/client` (an interceptor reading `Peer::tls`), refusing others with
//! PERMISSION_DENIED.
//! `UnimplementedCall` keeps the generated default (UNIMPLEMENTED), and
//! `grpc.testing.UnimplementedService` is not served at all. `tests/peers/run` drives it.

use std::time::Duration;

use h2grpc::codec::compression::Encoding;
use h2grpc::server::{RequestStream, ResponseSink};
use h2grpc::{CallContext, Code, Server, Status, Target};

/// The code generated from `proto/grpc/testing/*.proto` by `build.rs`.
pub mod grpc_testing {
    h2grpc::include_proto!("grpc.testing");
}
use grpc_testing::test_service_server::{self, TestService};
use grpc_testing::{
    BoolValue, EchoStatus, Empty, Payload, PayloadType, SimpleRequest, SimpleResponse,
    StreamingInputCallRequest, StreamingInputCallResponse, StreamingOutputCallRequest,
    StreamingOutputCallResponse,
};

const ECHO_INITIAL: &str = "x-grpc-test-echo-initial";
const ECHO_TRAILING: &str = "x-grpc-test-echo-trailing-bin";

/// Echo Metadata: the initial value back as a response header, the `-bin` value back as a
/// trailer (on every outcome, errors included).
fn echo_metadata(ctx: &CallContext) -> Result<(), Status> {
    if let Some(value) = ctx.metadata().get(ECHO_INITIAL) {
        ctx.set_header(ECHO_INITIAL, value)?;
    }
    for value in ctx.metadata().get_all_bin(ECHO_TRAILING) {
        ctx.set_trailer_bin(ECHO_TRAILING, &value)?;
    }
    Ok(())
}

/// Echo Status: a requested non-OK status ends the call with that code and message.
fn echo_status(status: &Option<EchoStatus>) -> Result<(), Status> {
    match status {
        Some(s) if s.code != 0 => Err(Status::new(Code::from_i32(s.code), s.message.clone())),
        _ => Ok(()),
    }
}

fn payload(response_type: i32, size: i32) -> Result<Payload, Status> {
    if response_type != PayloadType::Compressable as i32 {
        return Err(Status::invalid_argument(format!("unsupported response_type {response_type}")));
    }
    let size = usize::try_from(size)
        .map_err(|_| Status::invalid_argument(format!("negative response size {size}")))?;
    Ok(Payload { r#type: PayloadType::Compressable as i32, body: vec![0; size] })
}

fn is_set(flag: Option<BoolValue>) -> bool {
    flag.is_some_and(|b| b.value)
}

/// CompressedRequest: a request that expected compression and arrived uncompressed (flag 0)
/// is INVALID_ARGUMENT. The reverse (compressed but not expected) is accepted, as the
/// description asks (only the C++ server refuses it).
fn check_compressed(expected: Option<BoolValue>, compressed: bool) -> Result<(), Status> {
    match is_set(expected) && !compressed {
        true => Err(Status::invalid_argument("expected a compressed request; it was not")),
        false => Ok(()),
    }
}

/// Sends one response per ResponseParameters, sleeping `interval_us` before each, each
/// compressed (gzip, if the client accepts it) or not as its `compressed` asks.
async fn respond(
    ctx: &CallContext,
    req: &StreamingOutputCallRequest,
    sink: &mut ResponseSink<StreamingOutputCallResponse>,
) -> Result<(), Status> {
    if req.response_parameters.iter().any(|p| is_set(p.compressed)) {
        // Settled with the first response: on a later request of a duplex call the call's
        // encoding is already chosen, and this fails harmlessly.
        let _ = ctx.set_compression(Encoding::Gzip);
    }
    for params in &req.response_parameters {
        if params.interval_us > 0 {
            tokio::time::sleep(Duration::from_micros(params.interval_us as u64)).await;
        }
        let payload = payload(req.response_type, params.size)?;
        let response = StreamingOutputCallResponse { payload: Some(payload), ..Default::default() };
        if is_set(params.compressed) {
            sink.send(response).await?;
        } else {
            sink.send_uncompressed(response).await?;
        }
    }
    Ok(())
}

struct Interop;

impl TestService for Interop {
    async fn empty_call(&self, ctx: CallContext, _: Empty) -> Result<Empty, Status> {
        echo_metadata(&ctx)?;
        Ok(Empty {})
    }

    async fn unary_call(
        &self,
        ctx: CallContext,
        req: SimpleRequest,
    ) -> Result<SimpleResponse, Status> {
        echo_metadata(&ctx)?;
        echo_status(&req.response_status)?;
        check_compressed(req.expect_compressed, ctx.request_compressed())?;
        if is_set(req.response_compressed) {
            // Gzip if the client accepts it (its grpc-accept-encoding), as C-core chooses.
            ctx.set_compression(Encoding::Gzip)?;
        }
        let payload = payload(req.response_type, req.response_size)?;
        Ok(SimpleResponse { payload: Some(payload), ..SimpleResponse::default() })
    }

    async fn streaming_output_call(
        &self,
        ctx: CallContext,
        req: StreamingOutputCallRequest,
        mut sink: ResponseSink<StreamingOutputCallResponse>,
    ) -> Result<(), Status> {
        echo_metadata(&ctx)?;
        echo_status(&req.response_status)?;
        respond(&ctx, &req, &mut sink).await
    }

    async fn streaming_input_call(
        &self,
        ctx: CallContext,
        mut requests: RequestStream<StreamingInputCallRequest>,
    ) -> Result<StreamingInputCallResponse, Status> {
        echo_metadata(&ctx)?;
        let mut total = 0usize;
        while let Some(req) = requests.message().await? {
            check_compressed(req.expect_compressed, requests.last_message_compressed())?;
            total += req.payload.map_or(0, |p| p.body.len());
        }
        let aggregated_payload_size = i32::try_from(total).map_err(|_| {
            Status::out_of_range(format!("aggregated size {total} overflows int32"))
        })?;
        Ok(StreamingInputCallResponse { aggregated_payload_size })
    }

    async fn full_duplex_call(
        &self,
        ctx: CallContext,
        mut requests: RequestStream<StreamingOutputCallRequest>,
        mut sink: ResponseSink<StreamingOutputCallResponse>,
    ) -> Result<(), Status> {
        echo_metadata(&ctx)?;
        while let Some(req) = requests.message().await? {
            echo_status(&req.response_status)?;
            respond(&ctx, &req, &mut sink).await?;
        }
        Ok(())
    }

    async fn half_duplex_call(
        &self,
        ctx: CallContext,
        mut requests: RequestStream<StreamingOutputCallRequest>,
        mut sink: ResponseSink<StreamingOutputCallResponse>,
    ) -> Result<(), Status> {
        echo_metadata(&ctx)?;
        let mut buffered = Vec::new();
        while let Some(req) = requests.message().await? {
            buffered.push(req);
        }
        for req in &buffered {
            echo_status(&req.response_status)?;
            respond(&ctx, req, &mut sink).await?;
        }
        Ok(())
    }

    async fn cacheable_unary_call(
        &self,
        ctx: CallContext,
        req: SimpleRequest,
    ) -> Result<SimpleResponse, Status> {
        self.unary_call(ctx, req).await
    }
}

fn arg(name: &str) -> Option<String> {
    let mut args = std::env::args().skip(1);
    let flag = format!("--{name}");
    while let Some(a) = args.next() {
        if let Some(value) = a.strip_prefix(&flag).and_then(|rest| rest.strip_prefix('=')) {
            return Some(value.to_owned());
        }
        if a == flag {
            return args.next();
        }
    }
    None
}

fn has_flag(name: &str) -> bool {
    std::env::args().any(|a| a == format!("--{name}"))
}

/// `--tls_dir DIR [--mtls]`: TLS from the test certificates, and with `--mtls` the client
/// identity check.
fn tls(builder: &mut h2grpc::server::Builder) -> Result<(), Box<dyn std::error::Error>> {
    use h2grpc::transport::tls::ServerTls;
    let Some(dir) = arg("tls_dir").map(std::path::PathBuf::from) else { return Ok(()) };
    let mut tls = ServerTls::from_pem(
        std::fs::read(dir.join("server.pem"))?,
        std::fs::read(dir.join("server.key"))?,
    )?;
    if has_flag("mtls") {
        tls = tls.require_client_cert(std::fs::read(dir.join("ca.pem"))?)?;
        builder.intercept(|ctx| {
            let id = ctx.peer().tls().and_then(|tls| tls.uri_sans().next()).unwrap_or_default();
            if id == "spiffe://h2grpc.test/client" {
                Ok(())
            } else {
                Err(Status::permission_denied(format!("client {id:?} is not allowed")))
            }
        });
    }
    builder.tls(tls);
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    use h2grpc::health::{HealthReporter, ServingStatus};

    let Some(addr) = arg("addr") else {
        eprintln!(
            "usage: interop_server --addr unix:/path/to.sock | host:port [--tls_dir DIR [--mtls]]"
        );
        std::process::exit(2);
    };
    let mut builder = Server::builder();
    builder.add_service(test_service_server::service(Interop));
    // The standard health service too, so health clients can be tested against it: the test
    // service is SERVING, and `h2grpc.test.Toggling` flips every 50 ms so Watch has changes
    // to deliver.
    let health = HealthReporter::new();
    health.set_status("grpc.testing.TestService", ServingStatus::Serving);
    builder.add_service(health.service());
    tls(&mut builder)?;
    tokio::spawn(async move {
        let mut timer = tokio::time::interval(std::time::Duration::from_millis(50));
        for serving in [true, false].into_iter().cycle() {
            timer.tick().await;
            let status = if serving { ServingStatus::Serving } else { ServingStatus::NotServing };
            health.set_status("h2grpc.test.Toggling", status);
        }
    });
    // `--reflection`: server reflection too, for tools (the h2grpc command's tests).
    if std::env::args().any(|arg| arg == "--reflection") {
        builder.add_reflection([grpc_testing::FILE_DESCRIPTOR_SET]);
    }
    let server = match Target::parse(&addr) {
        Ok(Target::Unix(path)) => builder.bind_unix(path)?,
        Ok(Target::UnixAbstract(name)) => builder.bind_unix_abstract(&name)?,
        Ok(Target::Tcp { host, port }) => builder.bind_tcp((host.as_str(), port))?,
        Ok(list @ (Target::Ipv4(_) | Target::Ipv6(_))) => {
            return Err(format!("a server binds one address, not a list: {list}").into())
        }
        // `127.0.0.1:0`: any free port, printed below (not a target a client could dial).
        Err(_) if addr.ends_with(":0") => builder.bind_tcp(addr.as_str())?,
        Err(err) => return Err(err.into()),
    };
    let shutdown = server.shutdown_handle();
    // The bound address: with port 0, the port the system chose.
    let bound = server.local_target().map_or(addr, |target| target.to_string());
    let serving = tokio::spawn(server.serve());
    println!("listening on {bound}");

    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    shutdown.shutdown_now();
    serving.await??;
    Ok(())
}
