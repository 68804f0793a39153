//! tonic's interop server: `grpc.testing.TestService` as interop-test-descriptions.md's "Server"
//! section describes it, on `--addr unix:/path` (or `host:port`).
//!
//! Prints `listening on ADDR` once the socket accepts connections.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use http::{HeaderValue, Request, Response};
use tokio_stream::{Stream, StreamExt};
use tonic::{Status, Streaming};

#[allow(clippy::all, missing_docs)]
mod pb {
    tonic::include_proto!("grpc.testing");
}

use pb::test_service_server::{TestService, TestServiceServer};
use pb::{
    Empty, Payload, SimpleRequest, SimpleResponse, StreamingInputCallRequest,
    StreamingInputCallResponse, StreamingOutputCallRequest, StreamingOutputCallResponse,
};

const ECHO_INITIAL: &str = "x-grpc-test-echo-initial";
const ECHO_TRAILING: &str = "x-grpc-test-echo-trailing-bin";

type ResponseStream =
    Pin<Box<dyn Stream<Item = Result<StreamingOutputCallResponse, Status>> + Send + 'static>>;

fn payload(size: i32) -> Result<Payload, Status> {
    let size = usize::try_from(size)
        .map_err(|_| Status::invalid_argument(format!("negative payload size {size}")))?;
    Ok(Payload { r#type: 0, body: vec![0; size] })
}

fn check_type(response_type: i32) -> Result<(), Status> {
    if response_type != pb::PayloadType::Compressable as i32 {
        return Err(Status::invalid_argument(format!("unsupported response_type {response_type}")));
    }
    Ok(())
}

fn echo_status(status: &Option<pb::EchoStatus>) -> Result<(), Status> {
    match status {
        Some(s) if s.code != 0 => Err(Status::new(s.code.into(), s.message.clone())),
        _ => Ok(()),
    }
}

fn responses(req: &StreamingOutputCallRequest) -> Result<Vec<(Duration, Payload)>, Status> {
    check_type(req.response_type)?;
    req.response_parameters
        .iter()
        .map(|p| Ok((Duration::from_micros(p.interval_us.max(0) as u64), payload(p.size)?)))
        .collect()
}

struct Interop;

#[tonic::async_trait]
impl TestService for Interop {
    async fn empty_call(&self, _: tonic::Request<Empty>) -> Result<tonic::Response<Empty>, Status> {
        Ok(tonic::Response::new(Empty {}))
    }

    async fn unary_call(
        &self,
        request: tonic::Request<SimpleRequest>,
    ) -> Result<tonic::Response<SimpleResponse>, Status> {
        let req = request.into_inner();
        echo_status(&req.response_status)?;
        check_type(req.response_type)?;
        if req.expect_compressed.is_some_and(|b| b.value) {
            return Err(Status::invalid_argument("this server does not check compressed requests"));
        }
        Ok(tonic::Response::new(SimpleResponse {
            payload: Some(payload(req.response_size)?),
            ..SimpleResponse::default()
        }))
    }

    async fn cacheable_unary_call(
        &self,
        request: tonic::Request<SimpleRequest>,
    ) -> Result<tonic::Response<SimpleResponse>, Status> {
        self.unary_call(request).await
    }

    type StreamingOutputCallStream = ResponseStream;

    async fn streaming_output_call(
        &self,
        request: tonic::Request<StreamingOutputCallRequest>,
    ) -> Result<tonic::Response<ResponseStream>, Status> {
        let req = request.into_inner();
        echo_status(&req.response_status)?;
        let out = responses(&req)?;
        let stream = async_stream(out);
        Ok(tonic::Response::new(stream))
    }

    async fn streaming_input_call(
        &self,
        request: tonic::Request<Streaming<StreamingInputCallRequest>>,
    ) -> Result<tonic::Response<StreamingInputCallResponse>, Status> {
        let mut stream = request.into_inner();
        let mut total = 0usize;
        while let Some(req) = stream.message().await? {
            total += req.payload.map_or(0, |p| p.body.len());
        }
        Ok(tonic::Response::new(StreamingInputCallResponse {
            aggregated_payload_size: total as i32,
        }))
    }

    type FullDuplexCallStream = ResponseStream;

    async fn full_duplex_call(
        &self,
        request: tonic::Request<Streaming<StreamingOutputCallRequest>>,
    ) -> Result<tonic::Response<ResponseStream>, Status> {
        let mut requests = request.into_inner();
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        tokio::spawn(async move {
            loop {
                let req = match requests.message().await {
                    Ok(Some(req)) => req,
                    Ok(None) => return,
                    Err(status) => {
                        let _ = tx.send(Err(status)).await;
                        return;
                    }
                };
                if let Err(status) = echo_status(&req.response_status) {
                    let _ = tx.send(Err(status)).await;
                    return;
                }
                let out = match responses(&req) {
                    Ok(out) => out,
                    Err(status) => {
                        let _ = tx.send(Err(status)).await;
                        return;
                    }
                };
                for (interval, payload) in out {
                    tokio::time::sleep(interval).await;
                    let resp = StreamingOutputCallResponse {
                        payload: Some(payload),
                        ..Default::default()
                    };
                    if tx.send(Ok(resp)).await.is_err() {
                        return;
                    }
                }
            }
        });
        let stream = tokio_stream::wrappers::ReceiverStream::new(rx);
        Ok(tonic::Response::new(Box::pin(stream)))
    }

    type HalfDuplexCallStream = ResponseStream;

    async fn half_duplex_call(
        &self,
        request: tonic::Request<Streaming<StreamingOutputCallRequest>>,
    ) -> Result<tonic::Response<ResponseStream>, Status> {
        let mut requests = request.into_inner();
        let mut out = Vec::new();
        while let Some(req) = requests.message().await? {
            echo_status(&req.response_status)?;
            out.extend(responses(&req)?);
        }
        Ok(tonic::Response::new(async_stream(out)))
    }

    async fn unimplemented_call(
        &self,
        _: tonic::Request<Empty>,
    ) -> Result<tonic::Response<Empty>, Status> {
        Err(Status::unimplemented("UnimplementedCall is not implemented by design"))
    }
}

/// The responses, each after its interval.
fn async_stream(out: Vec<(Duration, Payload)>) -> ResponseStream {
    let stream = tokio_stream::iter(out).then(|(interval, payload)| async move {
        tokio::time::sleep(interval).await;
        Ok(StreamingOutputCallResponse { payload: Some(payload), ..Default::default() })
    });
    Box::pin(stream)
}

/// The "Echo Metadata" server feature as a layer: tonic has no API for trailing metadata on an
/// OK response, so `x-grpc-test-echo-trailing-bin` is added to the trailers frame here (or to
/// the headers of a Trailers-Only response), and `x-grpc-test-echo-initial` to the headers.
#[derive(Clone)]
struct EchoMetadata<S> {
    inner: S,
}

impl<S, B> tower::Service<Request<tonic::body::Body>> for EchoMetadata<S>
where
    S: tower::Service<Request<tonic::body::Body>, Response = Response<B>>,
    S::Future: Send + 'static,
    B: http_body::Body<Data = bytes::Bytes> + Unpin,
{
    type Response = Response<EchoBody<B>>;
    type Error = S::Error;
    type Future =
        Pin<Box<dyn std::future::Future<Output = Result<Self::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<tonic::body::Body>) -> Self::Future {
        let initial = req.headers().get(ECHO_INITIAL).cloned();
        let trailing = req.headers().get(ECHO_TRAILING).cloned();
        let fut = self.inner.call(req);
        Box::pin(async move {
            let mut resp = fut.await?;
            if let Some(value) = initial {
                resp.headers_mut().insert(ECHO_INITIAL, value);
            }
            let mut trailing = trailing;
            if resp.headers().contains_key("grpc-status") {
                // Trailers-Only: the headers are the trailers.
                if let Some(value) = trailing.take() {
                    resp.headers_mut().insert(ECHO_TRAILING, value);
                }
            }
            Ok(resp.map(|inner| EchoBody { inner, trailing }))
        })
    }
}

struct EchoBody<B> {
    inner: B,
    trailing: Option<HeaderValue>,
}

impl<B: http_body::Body + Unpin> http_body::Body for EchoBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<B::Data>, B::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(mut frame))) => {
                if let Some(trailers) = frame.trailers_mut() {
                    if let Some(value) = this.trailing.take() {
                        trailers.insert(ECHO_TRAILING, value);
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
            other => other,
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

fn addr_arg() -> String {
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if let Some(v) = arg.strip_prefix("--addr=") {
            return v.to_owned();
        }
        if arg == "--addr" {
            if let Some(v) = args.next() {
                return v;
            }
        }
    }
    eprintln!("usage: tonic_interop_server --addr unix:/path/to.sock | host:port");
    std::process::exit(2);
}

/// The value of `--name`, if given.
fn flag_value(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    let flag = format!("--{name}");
    args.iter().position(|a| *a == flag).and_then(|i| args.get(i + 1).cloned())
}

/// `--tls_dir DIR`: TLS with DIR/server.pem and DIR/server.key; `--mtls`: require a client
/// certificate issued by DIR/ca.pem.
fn tls_config() -> Result<Option<tonic::transport::ServerTlsConfig>, std::io::Error> {
    use tonic::transport::{Certificate, Identity, ServerTlsConfig};
    let Some(dir) = flag_value("tls_dir").map(std::path::PathBuf::from) else { return Ok(None) };
    let identity = Identity::from_pem(
        std::fs::read(dir.join("server.pem"))?,
        std::fs::read(dir.join("server.key"))?,
    );
    let mut config = ServerTlsConfig::new().identity(identity);
    if std::env::args().any(|a| a == "--mtls") {
        config = config.client_ca_root(Certificate::from_pem(std::fs::read(dir.join("ca.pem"))?));
    }
    Ok(Some(config))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = addr_arg();
    // `--reflection`: server reflection too, for tools (the h2grpc command's tests).
    let reflection = std::env::args().any(|arg| arg == "--reflection").then(|| {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(include_bytes!(concat!(
                env!("OUT_DIR"),
                "/grpc_testing_descriptor.bin"
            )))
            .build_v1()
            .expect("the descriptor set build.rs wrote")
    });
    let mut builder = tonic::transport::Server::builder();
    if let Some(tls) = tls_config()? {
        builder = builder.tls_config(tls)?;
    }
    let server = builder
        .layer(tower::layer::layer_fn(|inner| EchoMetadata { inner }))
        .add_service(TestServiceServer::new(Interop))
        .add_optional_service(reflection);
    if let Some(path) = addr.strip_prefix("unix:") {
        let path = path.strip_prefix("//").unwrap_or(path);
        let _ = std::fs::remove_file(path);
        let listener = tokio::net::UnixListener::bind(path)?;
        println!("listening on {addr}");
        server
            .serve_with_incoming(tokio_stream::wrappers::UnixListenerStream::new(listener))
            .await?;
    } else {
        let listener = tokio::net::TcpListener::bind(&addr).await?;
        // With port 0, the port the system chose.
        println!("listening on {}", listener.local_addr()?);
        server
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener))
            .await?;
    }
    Ok(())
}
