//! The gRPC interop client: interop-test-descriptions.md's cases, run against any
//! `grpc.testing.TestService` server.
//!
//! ```sh
//! cargo run --example interop_client -- --addr unix:/tmp/interop.sock --test_case all
//! ```
//!
//! Prints one line per case, `NAME: PASS` or `NAME: FAIL what was seen`, and exits non-zero if
//! any case failed. The compression cases check each message's Compressed-Flag. `tests/peers/run` drives it against the Python, Node and tonic servers.

use std::time::Duration;

use h2grpc::codec::compression::Encoding;
use h2grpc::{CallOptions, Channel, Code, Metadata, Status};

/// The code generated from `proto/grpc/testing/*.proto` by `build.rs`.
pub mod grpc_testing {
    h2grpc::include_proto!("grpc.testing");
}
use grpc_testing::test_service_client::TestServiceClient;
use grpc_testing::unimplemented_service_client::UnimplementedServiceClient;
use grpc_testing::{
    BoolValue, EchoStatus, Empty, Payload, PayloadType, ResponseParameters, SimpleRequest,
    StreamingInputCallRequest, StreamingOutputCallRequest,
};

const CASES: &[&str] = &[
    "empty_unary",
    "large_unary",
    "client_compressed_unary",
    "server_compressed_unary",
    "client_streaming",
    "client_compressed_streaming",
    "server_streaming",
    "server_compressed_streaming",
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
/// Every call but timeout_on_sleeping_server's gets this deadline, so a hang is a failure.
const CALL_TIMEOUT: Duration = Duration::from_secs(20);

/// What a case saw when it failed.
type Outcome = Result<(), String>;

fn seen(status: Status) -> String {
    format!("status {} {:?}", status.code().name(), status.message())
}

fn check(ok: bool, what: impl FnOnce() -> String) -> Outcome {
    if ok {
        Ok(())
    } else {
        Err(what())
    }
}

fn expect_status<T>(result: Result<T, Status>, code: Code, message: Option<&str>) -> Outcome {
    match result {
        Ok(_) => Err(format!("expected {}, the call succeeded", code.name())),
        Err(s) if s.code() != code => {
            Err(format!("expected {}, got {} {:?}", code.name(), s.code().name(), s.message()))
        }
        Err(s) => match message {
            Some(m) if s.message() != m => {
                Err(format!("expected message {m:?}, got {:?}", s.message()))
            }
            _ => Ok(()),
        },
    }
}

fn options() -> CallOptions {
    CallOptions::new().timeout(CALL_TIMEOUT)
}

fn zeros(n: usize) -> Option<Payload> {
    Some(Payload { r#type: PayloadType::Compressable as i32, body: vec![0; n] })
}

fn duplex_request(size: i32, body: usize) -> StreamingOutputCallRequest {
    StreamingOutputCallRequest {
        response_parameters: vec![ResponseParameters { size, ..Default::default() }],
        payload: zeros(body),
        ..Default::default()
    }
}

fn body_len(payload: Option<Payload>) -> usize {
    payload.map_or(0, |p| p.body.len())
}

async fn empty_unary(client: &TestServiceClient) -> Outcome {
    client.empty_call(Empty {}, options()).await.map_err(seen)?;
    Ok(())
}

fn large_request() -> SimpleRequest {
    SimpleRequest { response_size: 314159, payload: zeros(271828), ..Default::default() }
}

async fn large_unary(client: &TestServiceClient) -> Outcome {
    let response = client.unary_call(large_request(), options()).await.map_err(seen)?;
    let body = response.into_inner().payload.map(|p| p.body).unwrap_or_default();
    check(body.len() == 314159 && body.iter().all(|b| *b == 0), || {
        format!("response body of {} bytes, expected 314159 zero bytes", body.len())
    })
}

fn flag(value: bool) -> Option<BoolValue> {
    Some(BoolValue { value })
}

fn check_large_body(payload: Option<Payload>) -> Outcome {
    let len = body_len(payload);
    check(len == 314159, || format!("response body of {len} bytes, expected 314159"))
}

async fn client_compressed_unary(client: &TestServiceClient) -> Outcome {
    let request = |expect| SimpleRequest { expect_compressed: flag(expect), ..large_request() };
    // The feature probe: sent uncompressed, it must be refused.
    let probe = client.unary_call(request(true), options()).await;
    expect_status(probe, Code::InvalidArgument, None).map_err(|e| format!("probe: {e}"))?;
    let gzip = options().compression(Encoding::Gzip);
    let response = client.unary_call(request(true), gzip).await.map_err(seen)?;
    check_large_body(response.into_inner().payload).map_err(|e| format!("compressed: {e}"))?;
    let response = client.unary_call(request(false), options()).await.map_err(seen)?;
    check_large_body(response.into_inner().payload).map_err(|e| format!("uncompressed: {e}"))
}

async fn server_compressed_unary(client: &TestServiceClient) -> Outcome {
    for compressed in [true, false] {
        let req = SimpleRequest { response_compressed: flag(compressed), ..large_request() };
        let response = client.unary_call(req, options()).await.map_err(seen)?;
        let flagged = response.message_compressed();
        check(flagged == compressed, || {
            format!("response_compressed {compressed}: the response's Compressed-Flag is {flagged}")
        })?;
        check_large_body(response.into_inner().payload)?;
    }
    Ok(())
}

async fn client_compressed_streaming(client: &TestServiceClient) -> Outcome {
    let request = |expect, n| StreamingInputCallRequest {
        payload: zeros(n),
        expect_compressed: flag(expect),
    };
    // The feature probe: an uncompressed message that expects compression must be refused.
    let mut probe = client.streaming_input_call(options()).await.map_err(seen)?;
    // The server may end the call before it reads on; its status is the result.
    let _ = probe.send(request(true, 27182)).await;
    expect_status(probe.finish().await, Code::InvalidArgument, None)
        .map_err(|e| format!("probe: {e}"))?;

    let gzip = options().compression(Encoding::Gzip);
    let mut call = client.streaming_input_call(gzip).await.map_err(seen)?;
    call.send(request(true, 27182)).await.map_err(seen)?;
    call.send_uncompressed(request(false, 45904)).await.map_err(seen)?;
    let size = call.finish().await.map_err(seen)?.into_inner().aggregated_payload_size;
    check(size == 73086, || format!("aggregated_payload_size {size}, expected 73086"))
}

async fn server_compressed_streaming(client: &TestServiceClient) -> Outcome {
    let params = [(true, 31415), (false, 92653)];
    let req = StreamingOutputCallRequest {
        response_parameters: params
            .iter()
            .map(|&(compressed, size)| ResponseParameters {
                size,
                compressed: flag(compressed),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    };
    let mut stream = client.streaming_output_call(&req, options()).await.map_err(seen)?;
    let mut got = Vec::new();
    while let Some(resp) = stream.message().await.map_err(seen)? {
        got.push((stream.last_message_compressed(), body_len(resp.payload) as i32));
    }
    check(got == params, || {
        format!("(compressed, size) of the responses {got:?}, expected {params:?}")
    })
}

async fn client_streaming(client: &TestServiceClient) -> Outcome {
    let mut call = client.streaming_input_call(options()).await.map_err(seen)?;
    for n in [27182, 8, 1828, 45904] {
        let req = StreamingInputCallRequest { payload: zeros(n), ..Default::default() };
        call.send(req).await.map_err(seen)?;
    }
    let size = call.finish().await.map_err(seen)?.into_inner().aggregated_payload_size;
    check(size == 74922, || format!("aggregated_payload_size {size}, expected 74922"))
}

async fn server_streaming(client: &TestServiceClient) -> Outcome {
    let sizes = [31415, 9, 2653, 58979];
    let req = StreamingOutputCallRequest {
        response_parameters: sizes
            .iter()
            .map(|&size| ResponseParameters { size, ..Default::default() })
            .collect(),
        ..Default::default()
    };
    let mut stream = client.streaming_output_call(&req, options()).await.map_err(seen)?;
    let mut got = Vec::new();
    while let Some(resp) = stream.message().await.map_err(seen)? {
        got.push(body_len(resp.payload));
    }
    check(got == sizes.map(|s| s as usize), || {
        format!("response sizes {got:?}, expected {sizes:?}")
    })
}

async fn ping_pong(client: &TestServiceClient) -> Outcome {
    let (mut sink, mut stream) = client.full_duplex_call(options()).await.map_err(seen)?;
    for (i, (size, body)) in
        [(31415, 27182), (9, 8), (2653, 1828), (58979, 45904)].into_iter().enumerate()
    {
        sink.send(duplex_request(size, body)).await.map_err(seen)?;
        let resp = stream.message().await.map_err(seen)?;
        let resp = resp.ok_or_else(|| format!("the stream ended after {i} responses"))?;
        let len = body_len(resp.payload);
        check(len == size as usize, || format!("response {i} has {len} bytes, expected {size}"))?;
    }
    sink.close().await.map_err(seen)?;
    match stream.message().await.map_err(seen)? {
        None => Ok(()),
        Some(_) => Err("a fifth response arrived".into()),
    }
}

async fn empty_stream(client: &TestServiceClient) -> Outcome {
    let (mut sink, mut stream) = client.full_duplex_call(options()).await.map_err(seen)?;
    sink.close().await.map_err(seen)?;
    match stream.message().await.map_err(seen)? {
        None => Ok(()),
        Some(_) => Err("a response arrived on an empty stream".into()),
    }
}

fn check_echo(where_: &str, headers: &Metadata, trailers: Option<&Metadata>) -> Outcome {
    let initial = headers.get(ECHO_INITIAL);
    check(initial == Some(INITIAL_VALUE), || {
        format!("{where_}: response headers carry {ECHO_INITIAL} = {initial:?}")
    })?;
    let trailing = trailers.and_then(|t| t.get_bin(ECHO_TRAILING));
    check(trailing.as_deref() == Some(TRAILING_VALUE), || {
        format!("{where_}: trailers carry {ECHO_TRAILING} = {trailing:?}")
    })
}

async fn custom_metadata(client: &TestServiceClient) -> Outcome {
    let options = || -> Result<CallOptions, String> {
        options()
            .header(ECHO_INITIAL, INITIAL_VALUE)
            .and_then(|o| o.header_bin(ECHO_TRAILING, TRAILING_VALUE))
            .map_err(seen)
    };
    let response = client.unary_call(large_request(), options()?).await.map_err(seen)?;
    check_echo("unary", response.headers(), Some(response.trailers()))?;

    let (mut sink, mut stream) = client.full_duplex_call(options()?).await.map_err(seen)?;
    sink.send(duplex_request(314159, 271828)).await.map_err(seen)?;
    sink.close().await.map_err(seen)?;
    let headers = stream.headers().await.map_err(seen)?.clone();
    let mut n = 0;
    while stream.message().await.map_err(seen)?.is_some() {
        n += 1;
    }
    check(n == 1, || format!("full duplex: {n} responses, expected 1"))?;
    check_echo("full duplex", &headers, stream.trailers())
}

async fn echo_status_calls(client: &TestServiceClient, message: &str) -> Outcome {
    let status = Some(EchoStatus { code: 2, message: message.to_owned() });
    let req = SimpleRequest { response_status: status.clone(), ..Default::default() };
    let result = client.unary_call(&req, options()).await;
    expect_status(result, Code::Unknown, Some(message)).map_err(|e| format!("unary: {e}"))?;

    let result = async {
        let (mut sink, mut stream) = client.full_duplex_call(options()).await?;
        let req = StreamingOutputCallRequest { response_status: status, ..Default::default() };
        // The server may end the call before it reads the half-close; its status is the
        // stream's, so a failed send or close is not the result.
        let _ = sink.send(req).await;
        let _ = sink.close().await;
        while stream.message().await?.is_some() {}
        Ok(())
    }
    .await;
    expect_status(result, Code::Unknown, Some(message)).map_err(|e| format!("full duplex: {e}"))
}

async fn status_code_and_message(client: &TestServiceClient) -> Outcome {
    echo_status_calls(client, "test status message").await
}

async fn special_status_message(client: &TestServiceClient) -> Outcome {
    let req = SimpleRequest {
        response_status: Some(EchoStatus { code: 2, message: SPECIAL_MESSAGE.to_owned() }),
        ..Default::default()
    };
    let result = client.unary_call(&req, options()).await;
    expect_status(result, Code::Unknown, Some(SPECIAL_MESSAGE))
}

async fn unimplemented_method(client: &TestServiceClient) -> Outcome {
    let result = client.unimplemented_call(Empty {}, options()).await;
    expect_status(result, Code::Unimplemented, None)
}

async fn unimplemented_service(client: &TestServiceClient) -> Outcome {
    let other = UnimplementedServiceClient::new(client.channel().clone());
    let result = other.unimplemented_call(Empty {}, options()).await;
    expect_status(result, Code::Unimplemented, None)
}

async fn cancel_after_begin(client: &TestServiceClient) -> Outcome {
    let call = client.streaming_input_call(options()).await.map_err(seen)?;
    let status = call.cancel();
    expect_status(Err::<(), _>(status), Code::Cancelled, None)
}

async fn cancel_after_first_response(client: &TestServiceClient) -> Outcome {
    let (mut sink, mut stream) = client.full_duplex_call(options()).await.map_err(seen)?;
    sink.send(duplex_request(31415, 27182)).await.map_err(seen)?;
    let first = stream.message().await.map_err(seen)?.ok_or("no first response")?;
    let len = body_len(first.payload);
    check(len == 31415, || format!("first response has {len} bytes, expected 31415"))?;
    stream.cancel();
    expect_status(stream.message().await, Code::Cancelled, None)
}

async fn timeout_on_sleeping_server(client: &TestServiceClient) -> Outcome {
    let result = async {
        let options = CallOptions::new().timeout(Duration::from_millis(1));
        let (mut sink, mut stream) = client.full_duplex_call(options).await?;
        sink.send(StreamingOutputCallRequest { payload: zeros(27182), ..Default::default() })
            .await?;
        while stream.message().await?.is_some() {}
        Ok(())
    }
    .await;
    expect_status(result, Code::DeadlineExceeded, None)
}

async fn run(name: &str, client: &TestServiceClient) -> Outcome {
    match name {
        "empty_unary" => empty_unary(client).await,
        "large_unary" => large_unary(client).await,
        "client_compressed_unary" => client_compressed_unary(client).await,
        "server_compressed_unary" => server_compressed_unary(client).await,
        "client_streaming" => client_streaming(client).await,
        "client_compressed_streaming" => client_compressed_streaming(client).await,
        "server_streaming" => server_streaming(client).await,
        "server_compressed_streaming" => server_compressed_streaming(client).await,
        "ping_pong" => ping_pong(client).await,
        "empty_stream" => empty_stream(client).await,
        "custom_metadata" => custom_metadata(client).await,
        "status_code_and_message" => status_code_and_message(client).await,
        "special_status_message" => special_status_message(client).await,
        "unimplemented_method" => unimplemented_method(client).await,
        "unimplemented_service" => unimplemented_service(client).await,
        "cancel_after_begin" => cancel_after_begin(client).await,
        "cancel_after_first_response" => cancel_after_first_response(client).await,
        "timeout_on_sleeping_server" => timeout_on_sleeping_server(client).await,
        other => Err(format!("unknown test case {other:?}; the cases are {}", CASES.join(", "))),
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

/// `--tls_dir DIR` trusts `DIR/ca.pem`; `--server_name NAME` verifies that name instead of
/// the address's host; `--mtls` presents `DIR/client.pem` and `DIR/client.key`.
async fn connect(addr: &str) -> Result<Channel, Box<dyn std::error::Error>> {
    use h2grpc::transport::tls::ClientTls;
    let mut builder = Channel::builder(addr)?;
    if let Some(dir) = arg("tls_dir").map(std::path::PathBuf::from) {
        let mut tls = ClientTls::new().ca_pem(std::fs::read(dir.join("ca.pem"))?)?;
        if std::env::args().any(|a| a == "--mtls") {
            tls = tls.identity_pem(
                std::fs::read(dir.join("client.pem"))?,
                std::fs::read(dir.join("client.key"))?,
            )?;
        }
        if let Some(name) = arg("server_name") {
            tls = tls.server_name(name);
        }
        builder.tls(tls);
    }
    Ok(builder.connect().await?)
}

#[tokio::main]
async fn main() {
    let (Some(addr), Some(case)) = (arg("addr"), arg("test_case")) else {
        eprintln!(
            "usage: interop_client --addr unix:/path/to.sock | host:port --test_case NAME|all"
        );
        std::process::exit(2);
    };
    let client = match connect(&addr).await {
        Ok(channel) => TestServiceClient::new(channel),
        Err(err) => {
            eprintln!("cannot connect to {addr}: {err}");
            std::process::exit(1);
        }
    };
    let names: Vec<&str> = if case == "all" { CASES.to_vec() } else { vec![case.as_str()] };
    let mut failed = false;
    for name in names {
        match run(name, &client).await {
            Ok(()) => println!("{name}: PASS"),
            Err(what) => {
                failed = true;
                println!("{name}: FAIL {}", what.escape_debug());
            }
        }
    }
    std::process::exit(i32::from(failed));
}
