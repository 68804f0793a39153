//! tonic's interop client: the interop-test-descriptions.md cases against `--addr`.
//!
//! `tonic_interop_client --addr unix:/path --test_case NAME|all` prints one line per case,
//! `NAME: PASS` or `NAME: FAIL what was seen`, and exits non-zero if any case failed.

use std::time::Duration;

use tonic::metadata::{MetadataMap, MetadataValue};
use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Request, Status};

#[allow(clippy::all, missing_docs)]
mod pb {
    tonic::include_proto!("grpc.testing");
}

use pb::test_service_client::TestServiceClient;
use pb::unimplemented_service_client::UnimplementedServiceClient;
use pb::{
    EchoStatus, Empty, Payload, ResponseParameters, SimpleRequest, StreamingInputCallRequest,
    StreamingOutputCallRequest,
};

type Client = TestServiceClient<Channel>;
type Outcome = Result<(), String>;

const CASES: &[&str] = &[
    "empty_unary",
    "large_unary",
    "client_streaming",
    "server_streaming",
    "ping_pong",
    "empty_stream",
    "custom_metadata",
    "status_code_and_message",
    "special_status_message",
    "unimplemented_method",
    "unimplemented_service",
    "cancel_after_begin",
    "cancel_after_first_response",
    "timeout_on_sleeping_server",
];

const ECHO_INITIAL: &str = "x-grpc-test-echo-initial";
const ECHO_TRAILING: &str = "x-grpc-test-echo-trailing-bin";
const INITIAL_VALUE: &str = "test_initial_metadata_value";
const TRAILING_VALUE: &[u8] = &[0xab, 0xab, 0xab];
const SPECIAL_MESSAGE: &str = "\t\ntest with whitespace\r\nand Unicode BMP ☺ and non-BMP 😈\t\n";

fn zeros(n: usize) -> Option<Payload> {
    Some(Payload { r#type: 0, body: vec![0; n] })
}

fn params(size: i32) -> ResponseParameters {
    ResponseParameters { size, ..Default::default() }
}

fn duplex_req(size: i32, body: usize) -> StreamingOutputCallRequest {
    StreamingOutputCallRequest {
        response_parameters: vec![params(size)],
        payload: zeros(body),
        ..Default::default()
    }
}

fn expect_status(
    got: Result<impl std::fmt::Debug, Status>,
    code: Code,
    msg: Option<&str>,
) -> Outcome {
    match got {
        Ok(v) => Err(format!("expected {code:?}, the call succeeded with {v:?}")),
        Err(s) if s.code() != code => {
            Err(format!("expected {code:?}, got {:?} {:?}", s.code(), s.message()))
        }
        Err(s) => match msg {
            Some(m) if s.message() != m => {
                Err(format!("expected message {m:?}, got {:?}", s.message()))
            }
            _ => Ok(()),
        },
    }
}

fn check(cond: bool, what: impl FnOnce() -> String) -> Outcome {
    if cond {
        Ok(())
    } else {
        Err(what())
    }
}

fn st(s: Status) -> String {
    format!("status {:?} {:?}", s.code(), s.message())
}

async fn empty_unary(c: &mut Client) -> Outcome {
    c.empty_call(Empty {}).await.map_err(st)?;
    Ok(())
}

async fn large_unary(c: &mut Client) -> Outcome {
    let req = SimpleRequest { response_size: 314159, payload: zeros(271828), ..Default::default() };
    let resp = c.unary_call(req).await.map_err(st)?.into_inner();
    let body = resp.payload.map(|p| p.body).unwrap_or_default();
    check(body.len() == 314159 && body.iter().all(|b| *b == 0), || {
        format!("response body of {} bytes, expected 314159 zero bytes", body.len())
    })
}

async fn client_streaming(c: &mut Client) -> Outcome {
    let reqs = [27182, 8, 1828, 45904]
        .map(|n| StreamingInputCallRequest { payload: zeros(n), ..Default::default() });
    let resp = c.streaming_input_call(tokio_stream::iter(reqs)).await.map_err(st)?.into_inner();
    check(resp.aggregated_payload_size == 74922, || {
        format!("aggregated_payload_size {}, expected 74922", resp.aggregated_payload_size)
    })
}

async fn server_streaming(c: &mut Client) -> Outcome {
    let sizes = [31415, 9, 2653, 58979];
    let req = StreamingOutputCallRequest {
        response_parameters: sizes.iter().map(|&s| params(s)).collect(),
        ..Default::default()
    };
    let mut stream = c.streaming_output_call(req).await.map_err(st)?.into_inner();
    let mut got = Vec::new();
    while let Some(resp) = stream.message().await.map_err(st)? {
        got.push(resp.payload.map_or(0, |p| p.body.len()));
    }
    check(got == sizes.map(|s| s as usize), || {
        format!("response sizes {got:?}, expected {sizes:?}")
    })
}

async fn ping_pong(c: &mut Client) -> Outcome {
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    let rx = tokio_stream::wrappers::ReceiverStream::new(rx);
    let pairs = [(31415, 27182), (9, 8), (2653, 1828), (58979, 45904)];
    tx.send(duplex_req(pairs[0].0, pairs[0].1)).await.map_err(|e| e.to_string())?;
    let mut stream = c.full_duplex_call(rx).await.map_err(st)?.into_inner();
    for (i, (size, _)) in pairs.iter().enumerate() {
        if i > 0 {
            tx.send(duplex_req(*size, pairs[i].1)).await.map_err(|e| e.to_string())?;
        }
        let resp = stream.message().await.map_err(st)?.ok_or("the stream ended early")?;
        let len = resp.payload.map_or(0, |p| p.body.len());
        check(len == *size as usize, || format!("response {i} has {len} bytes, expected {size}"))?;
    }
    drop(tx);
    match stream.message().await.map_err(st)? {
        None => Ok(()),
        Some(_) => Err("a fifth response arrived".into()),
    }
}

async fn empty_stream(c: &mut Client) -> Outcome {
    let mut stream = c
        .full_duplex_call(tokio_stream::empty::<StreamingOutputCallRequest>())
        .await
        .map_err(st)?
        .into_inner();
    match stream.message().await.map_err(st)? {
        None => Ok(()),
        Some(_) => Err("a response arrived on an empty stream".into()),
    }
}

fn with_echo<T>(msg: T) -> Request<T> {
    let mut req = Request::new(msg);
    req.metadata_mut().insert(ECHO_INITIAL, MetadataValue::from_static(INITIAL_VALUE));
    req.metadata_mut().insert_bin(ECHO_TRAILING, MetadataValue::from_bytes(TRAILING_VALUE));
    req
}

fn check_echo(headers: &MetadataMap, trailers: &MetadataMap) -> Outcome {
    let initial = headers.get(ECHO_INITIAL);
    check(initial.is_some_and(|v| v == INITIAL_VALUE), || {
        format!("response headers carry {ECHO_INITIAL} = {initial:?}")
    })?;
    let trailing = trailers.get_bin(ECHO_TRAILING).map(|v| v.to_bytes());
    check(matches!(&trailing, Some(Ok(b)) if b.as_ref() == TRAILING_VALUE), || {
        format!("trailers carry {ECHO_TRAILING} = {trailing:?}")
    })
}

async fn custom_metadata(c: &mut Client) -> Outcome {
    let req = SimpleRequest { response_size: 314159, payload: zeros(271828), ..Default::default() };
    // tonic's unary Response merges headers and trailers into one map.
    let resp = c.unary_call(with_echo(req)).await.map_err(st)?;
    check_echo(resp.metadata(), resp.metadata()).map_err(|e| format!("unary: {e}"))?;

    let reqs = tokio_stream::iter([duplex_req(314159, 271828)]);
    let resp = c.full_duplex_call(with_echo(reqs)).await.map_err(st)?;
    let headers = resp.metadata().clone();
    let mut stream = resp.into_inner();
    let mut n = 0;
    while stream.message().await.map_err(st)?.is_some() {
        n += 1;
    }
    check(n == 1, || format!("full duplex: {n} responses, expected 1"))?;
    let trailers = stream.trailers().await.map_err(st)?.unwrap_or_default();
    check_echo(&headers, &trailers).map_err(|e| format!("full duplex: {e}"))
}

async fn status_with(c: &mut Client, message: &str) -> Outcome {
    let status = Some(EchoStatus { code: 2, message: message.to_owned() });
    let req = SimpleRequest { response_status: status.clone(), ..Default::default() };
    expect_status(c.unary_call(req).await, Code::Unknown, Some(message))
        .map_err(|e| format!("unary: {e}"))?;
    let req = StreamingOutputCallRequest { response_status: status, ..Default::default() };
    let result = async {
        let mut stream = c.full_duplex_call(tokio_stream::iter([req])).await?.into_inner();
        while stream.message().await?.is_some() {}
        Ok::<_, Status>(())
    }
    .await;
    expect_status(result, Code::Unknown, Some(message)).map_err(|e| format!("full duplex: {e}"))
}

async fn status_code_and_message(c: &mut Client) -> Outcome {
    status_with(c, "test status message").await
}

async fn special_status_message(c: &mut Client) -> Outcome {
    let req = SimpleRequest {
        response_status: Some(EchoStatus { code: 2, message: SPECIAL_MESSAGE.to_owned() }),
        ..Default::default()
    };
    expect_status(c.unary_call(req).await, Code::Unknown, Some(SPECIAL_MESSAGE))
}

async fn unimplemented_method(c: &mut Client) -> Outcome {
    expect_status(c.unimplemented_call(Empty {}).await, Code::Unimplemented, None)
}

async fn unimplemented_service(channel: Channel) -> Outcome {
    let mut c = UnimplementedServiceClient::new(channel);
    expect_status(c.unimplemented_call(Empty {}).await, Code::Unimplemented, None)
}

async fn cancel_after_begin(c: &mut Client) -> Outcome {
    // tonic cancels a call by dropping its future. Wait until the call has begun (tonic polls
    // the request stream once the request headers are out), then drop it before any message.
    let (tx, rx) = tokio::sync::mpsc::channel::<StreamingInputCallRequest>(1);
    let (begun_tx, begun_rx) = tokio::sync::oneshot::channel();
    let requests =
        Begun { inner: tokio_stream::wrappers::ReceiverStream::new(rx), begun: Some(begun_tx) };
    let mut c = c.clone();
    let call = tokio::spawn(async move { c.streaming_input_call(requests).await });
    let _ = begun_rx.await;
    call.abort();
    drop(tx);
    match call.await {
        Err(e) if e.is_cancelled() => Ok(()),
        Err(e) => Err(format!("the call task failed: {e}")),
        Ok(result) => expect_status(result, Code::Cancelled, None),
    }
}

/// A request stream that reports when it is first polled.
struct Begun<S> {
    inner: S,
    begun: Option<tokio::sync::oneshot::Sender<()>>,
}

impl<S: tokio_stream::Stream + Unpin> tokio_stream::Stream for Begun<S> {
    type Item = S::Item;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<S::Item>> {
        if let Some(begun) = self.begun.take() {
            let _ = begun.send(());
        }
        std::pin::Pin::new(&mut self.inner).poll_next(cx)
    }
}

async fn cancel_after_first_response(c: &mut Client) -> Outcome {
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    let rx = tokio_stream::wrappers::ReceiverStream::new(rx);
    tx.send(duplex_req(31415, 27182)).await.map_err(|e| e.to_string())?;
    let mut stream = c.full_duplex_call(rx).await.map_err(st)?.into_inner();
    let first = stream.message().await.map_err(st)?.ok_or("no first response")?;
    let len = first.payload.map_or(0, |p| p.body.len());
    check(len == 31415, || format!("first response has {len} bytes, expected 31415"))?;
    // Dropping the response stream resets the HTTP/2 stream with CANCEL: tonic's cancellation.
    drop(stream);
    drop(tx);
    Ok(())
}

async fn timeout_on_sleeping_server(c: &mut Client) -> Outcome {
    let (tx, rx) = tokio::sync::mpsc::channel(1);
    let rx = tokio_stream::wrappers::ReceiverStream::new(rx);
    tx.send(StreamingOutputCallRequest { payload: zeros(27182), ..Default::default() })
        .await
        .map_err(|e| e.to_string())?;
    let mut req = Request::new(rx);
    req.set_timeout(Duration::from_millis(1));
    let call = async {
        let mut stream = c.full_duplex_call(req).await?.into_inner();
        while stream.message().await?.is_some() {}
        Ok::<_, Status>(())
    };
    // tonic enforces `grpc-timeout` only until the response headers arrive, and then reports
    // CANCELLED "Timeout expired"; after the headers it does not enforce it at all. PROTOCOL-
    // HTTP2.md says a CANCELLED after the deadline is DEADLINE_EXCEEDED, so the client applies
    // the deadline itself and reads a CANCELLED past it as DEADLINE_EXCEEDED.
    let result = match tokio::time::timeout(Duration::from_millis(1), call).await {
        Ok(Err(s)) if s.code() == Code::Cancelled => {
            Err(Status::deadline_exceeded(format!("deadline exceeded (tonic: {})", s.message())))
        }
        Ok(result) => result,
        Err(_) => Err(Status::deadline_exceeded("deadline exceeded (client side)")),
    };
    drop(tx);
    expect_status(result, Code::DeadlineExceeded, None)
}

async fn run(name: &str, channel: &Channel) -> Outcome {
    let mut c = TestServiceClient::new(channel.clone());
    match name {
        "empty_unary" => empty_unary(&mut c).await,
        "large_unary" => large_unary(&mut c).await,
        "client_streaming" => client_streaming(&mut c).await,
        "server_streaming" => server_streaming(&mut c).await,
        "ping_pong" => ping_pong(&mut c).await,
        "empty_stream" => empty_stream(&mut c).await,
        "custom_metadata" => custom_metadata(&mut c).await,
        "status_code_and_message" => status_code_and_message(&mut c).await,
        "special_status_message" => special_status_message(&mut c).await,
        "unimplemented_method" => unimplemented_method(&mut c).await,
        "unimplemented_service" => unimplemented_service(channel.clone()).await,
        "cancel_after_begin" => cancel_after_begin(&mut c).await,
        "cancel_after_first_response" => cancel_after_first_response(&mut c).await,
        "timeout_on_sleeping_server" => timeout_on_sleeping_server(&mut c).await,
        other => Err(format!("unknown test case {other:?}")),
    }
}

fn arg(name: &str) -> Option<String> {
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if let Some(v) = a.strip_prefix(&format!("--{name}=")) {
            return Some(v.to_owned());
        }
        if a == format!("--{name}") {
            return args.next();
        }
    }
    None
}

/// TLS trusting DIR/ca.pem; `--mtls` presents DIR/client.pem and DIR/client.key;
/// `--server_name NAME` verifies that name instead of the address's host.
fn client_tls(dir: &std::path::Path) -> tonic::transport::ClientTlsConfig {
    use tonic::transport::{Certificate, ClientTlsConfig, Identity};
    let read = |name: &str| std::fs::read(dir.join(name)).expect("read a TLS file");
    let mut config = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(read("ca.pem")));
    if std::env::args().any(|a| a == "--mtls") {
        config = config.identity(Identity::from_pem(read("client.pem"), read("client.key")));
    }
    if let Some(name) = arg("server_name") {
        config = config.domain_name(name);
    }
    config
}

#[tokio::main]
async fn main() {
    let (Some(addr), Some(case)) = (arg("addr"), arg("test_case")) else {
        eprintln!("usage: tonic_interop_client --addr unix:/path | host:port --test_case NAME|all");
        std::process::exit(2);
    };
    let tls = arg("tls_dir").map(std::path::PathBuf::from);
    let scheme = if tls.is_some() { "https" } else { "http" };
    let endpoint =
        if addr.starts_with("unix:") { addr.clone() } else { format!("{scheme}://{addr}") };
    let channel = match Endpoint::from_shared(endpoint).and_then(|e| match &tls {
        Some(dir) => e.tls_config(client_tls(dir)),
        None => Ok(e),
    }) {
        Ok(e) => match e.connect().await {
            Ok(c) => c,
            Err(e) => {
                eprintln!("cannot connect to {addr}: {e}");
                std::process::exit(1);
            }
        },
        Err(e) => {
            eprintln!("bad address {addr}: {e}");
            std::process::exit(2);
        }
    };
    let names: Vec<&str> = if case == "all" { CASES.to_vec() } else { vec![case.as_str()] };
    let mut failed = false;
    for name in names {
        let outcome = tokio::time::timeout(Duration::from_secs(20), run(name, &channel)).await;
        match outcome {
            Ok(Ok(())) => println!("{name}: PASS"),
            Ok(Err(seen)) => {
                failed = true;
                println!("{name}: FAIL {}", seen.escape_debug());
            }
            Err(_) => {
                failed = true;
                println!("{name}: FAIL no result within 20 s");
            }
        }
    }
    std::process::exit(i32::from(failed));
}
