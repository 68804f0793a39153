//! Server reflection (grpc.reflection.v1 and v1alpha) over a real Unix socket, through the
//! generated reflection client: what `grpcurl list`, `describe` and `invoke` ask, in one
//! stream, answered request by request. The descriptor sets come from h2grpc-build itself.

use std::path::Path;

use h2grpc::client::{RequestSink, ResponseStream};
use h2grpc::health::HealthReporter;
use h2grpc::reflection::{
    ExtensionRequest, MessageRequest, MessageResponse, ServerReflectionClient,
    ServerReflectionRequest, ServerReflectionResponse,
};
use h2grpc::{CallOptions, Channel, Code, Service, Status};
use prost::Message;
use prost_types::FileDescriptorProto;

use crate::harness::{within, PATIENCE};
use crate::support::*;

mod helloworld {
    #![allow(dead_code, unreachable_pub)]
    h2grpc::include_proto!("helloworld");
}

struct Greeter;
impl helloworld::greeter_server::Greeter for Greeter {}

/// Compiles `proto` (in `dir`) with h2grpc-build, as a user's build.rs would, and returns the
/// descriptor set it writes for `package`.
fn descriptor_set(dir: &Path, proto: &str, package: &str) -> Vec<u8> {
    let out = tempfile::tempdir().expect("temp dir");
    h2grpc_build::configure()
        .file_descriptor_set(true)
        .out_dir(out.path())
        .emit_rerun_if_changed(false)
        .compile(&[dir.join(proto)], &[dir])
        .expect("compile");
    std::fs::read(out.path().join(format!("{package}.bin"))).expect("the descriptor set")
}

/// `tests/golden/echo.proto`: it imports `google/protobuf/empty.proto`.
fn echo_set() -> Vec<u8> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    descriptor_set(&dir, "echo.proto", "echo.v1")
}

/// One reflection stream, kept open: `ask` sends one request and waits for its answer.
struct Stream {
    requests: RequestSink<ServerReflectionRequest>,
    responses: ResponseStream<ServerReflectionResponse>,
}

impl Stream {
    async fn open(channel: &Channel) -> Stream {
        let client = ServerReflectionClient::new(channel.clone());
        let (requests, responses) =
            client.server_reflection_info(CallOptions::new()).await.expect("open");
        Stream { requests, responses }
    }

    async fn ask(&mut self, asked: MessageRequest) -> MessageResponse {
        let request =
            ServerReflectionRequest { host: "localhost".into(), message_request: Some(asked) };
        self.requests.send(&request).await.expect("send");
        let response = self.responses.message().await.expect("a response").expect("open");
        assert_eq!(response.valid_host, "localhost");
        assert_eq!(response.original_request.as_ref(), Some(&request));
        response.message_response.expect("an answer")
    }

    /// The names of the files answering `asked`, in order.
    async fn files(&mut self, asked: MessageRequest) -> Vec<String> {
        match self.ask(asked).await {
            MessageResponse::FileDescriptorResponse(files) => files
                .file_descriptor_proto
                .iter()
                .map(|bytes| FileDescriptorProto::decode(bytes.as_slice()).unwrap().name().into())
                .collect(),
            other => panic!("not files: {other:?}"),
        }
    }

    async fn not_found(&mut self, asked: MessageRequest) -> String {
        match self.ask(asked).await {
            MessageResponse::ErrorResponse(err) => {
                assert_eq!(err.error_code, Code::NotFound as i32, "{err:?}");
                err.error_message
            }
            other => panic!("found: {other:?}"),
        }
    }
}

fn symbol(name: &str) -> MessageRequest {
    MessageRequest::FileContainingSymbol(name.into())
}

fn file(name: &str) -> MessageRequest {
    MessageRequest::FileByFilename(name.into())
}

fn greeter_server(with_health: bool) -> TestServer {
    let mut services = vec![
        helloworld::greeter_server::service(Greeter),
        // A hand-written service: listed, though nothing describes it.
        Service::new("test.Plain")
            .unary("Do", |_ctx, p: Payload| async move { Ok::<_, Status>(p) }),
    ];
    if with_health {
        services.push(HealthReporter::new().service());
    }
    spawn_with(Transport::Unix, services, |b| {
        b.add_reflection([helloworld::FILE_DESCRIPTOR_SET]);
    })
}

#[tokio::test]
async fn list_services_names_every_service_served_reflection_and_health_included() {
    let server = greeter_server(true);
    let mut stream = Stream::open(&server.channel().await).await;
    let MessageResponse::ListServicesResponse(list) =
        stream.ask(MessageRequest::ListServices("*".into())).await
    else {
        panic!("not a service list");
    };
    let names: Vec<&str> = list.service.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "grpc.health.v1.Health",
            "grpc.reflection.v1.ServerReflection",
            "grpc.reflection.v1alpha.ServerReflection",
            "helloworld.Greeter",
            "test.Plain",
        ]
    );
    // grpcurl keeps its stream for a whole session: a shutting-down server ends it at once
    // instead of waiting out its grace period.
    server.shutdown.shutdown();
    let status = within(PATIENCE, "the stream to end", stream.responses.message()).await;
    assert_eq!(status.expect_err("ended").code(), Code::Unavailable);
    server.stop().await;
}

#[tokio::test]
async fn symbols_find_their_file_and_misses_get_not_found_on_the_same_stream() {
    let server = greeter_server(true);
    let mut stream = Stream::open(&server.channel().await).await;
    for name in [
        "helloworld.Greeter",
        "helloworld.Greeter.SayHello",
        "helloworld.HelloRequest",
        "helloworld.HelloReply.message",
    ] {
        assert_eq!(stream.files(symbol(name)).await, ["helloworld.proto"], "{name}");
    }
    let message = stream.not_found(symbol("helloworld.Nope")).await;
    assert!(message.contains("helloworld.Nope"), "{message}");
    assert!(!stream.not_found(file("nope.proto")).await.is_empty());
    assert!(!stream.not_found(symbol("test.Plain")).await.is_empty(), "no descriptors given");
    // The built-in descriptors: reflection's own, and health's since it is served.
    let own = stream.files(symbol("grpc.reflection.v1.ServerReflection")).await;
    assert_eq!(own, ["grpc/reflection/v1/reflection.proto"]);
    let alpha = stream.files(symbol("grpc.reflection.v1alpha.ServerReflectionRequest")).await;
    assert_eq!(alpha, ["grpc/reflection/v1alpha/reflection.proto"]);
    let health = stream.files(symbol("grpc.health.v1.Health.Watch")).await;
    assert_eq!(health, ["grpc/health/v1/health.proto"]);
    // The stream is still open after all those answers.
    stream.requests.close().await.expect("close");
    assert!(stream.responses.message().await.expect("OK").is_none());
    server.stop().await;

    let server = greeter_server(false);
    let mut stream = Stream::open(&server.channel().await).await;
    stream.not_found(symbol("grpc.health.v1.Health")).await;
    server.stop().await;
}

#[tokio::test]
async fn a_file_comes_first_then_its_dependencies_each_sent_once_per_stream() {
    let server = spawn_with(Transport::Unix, vec![], |b| {
        b.add_reflection([echo_set()]);
    });
    let mut stream = Stream::open(&server.channel().await).await;
    let files = stream.files(symbol("echo.v1.Echo.Ping")).await;
    assert_eq!(files, ["echo.proto", "google/protobuf/empty.proto"]);
    // Asked for again, the root is always sent; what it depends on was sent already.
    assert_eq!(stream.files(symbol("echo.v1.EchoRequest")).await, ["echo.proto"]);
    // The well-known file by name, as grpcurl then asks.
    let empty = stream.files(file("google/protobuf/empty.proto")).await;
    assert_eq!(empty, ["google/protobuf/empty.proto"]);

    // A new stream starts afresh.
    let mut other = Stream::open(&server.channel().await).await;
    let files = other.files(file("echo.proto")).await;
    assert_eq!(files, ["echo.proto", "google/protobuf/empty.proto"]);
    server.stop().await;
}

#[tokio::test]
async fn extensions_are_found_by_type_and_number() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("ext.proto"),
        r#"syntax = "proto2";
        package ext;
        message Base { extensions 100 to 200; }
        extend Base { optional int32 extra = 100; }
        message Holder { extend Base { optional string inner = 150; } }
        service S { rpc M (Base) returns (Base); }
        "#,
    )
    .unwrap();
    let set = descriptor_set(dir.path(), "ext.proto", "ext");
    let server = spawn_with(Transport::Unix, vec![], |b| {
        b.add_reflection([set]);
    });
    let mut stream = Stream::open(&server.channel().await).await;
    let MessageResponse::AllExtensionNumbersResponse(numbers) =
        stream.ask(MessageRequest::AllExtensionNumbersOfType("ext.Base".into())).await
    else {
        panic!("no extension numbers");
    };
    assert_eq!(numbers.base_type_name, "ext.Base");
    assert_eq!(numbers.extension_number, [100, 150]);
    let extension = |number| {
        MessageRequest::FileContainingExtension(ExtensionRequest {
            containing_type: "ext.Base".into(),
            extension_number: number,
        })
    };
    assert_eq!(stream.files(extension(150)).await, ["ext.proto"]);
    assert_eq!(stream.files(symbol("ext.Holder.inner")).await, ["ext.proto"]);
    stream.not_found(extension(101)).await;
    stream.not_found(MessageRequest::AllExtensionNumbersOfType("ext.Nope".into())).await;
    server.stop().await;
}

#[tokio::test]
async fn v1alpha_answers_like_v1() {
    let server = greeter_server(false);
    let channel = server.channel().await;
    let path = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";
    let (mut requests, mut responses) = channel
        .bidi_streaming::<ServerReflectionRequest, ServerReflectionResponse>(
            path,
            CallOptions::new(),
        )
        .await
        .expect("open v1alpha");
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(symbol("helloworld.Greeter")),
    };
    requests.send(&request).await.expect("send");
    let response = responses.message().await.expect("a response").expect("open");
    let Some(MessageResponse::FileDescriptorResponse(files)) = response.message_response else {
        panic!("no files: {response:?}");
    };
    assert_eq!(files.file_descriptor_proto.len(), 1);
    server.stop().await;
}

#[tokio::test]
async fn a_request_that_asks_nothing_ends_the_stream_with_invalid_argument() {
    let server = greeter_server(false);
    let mut stream = Stream::open(&server.channel().await).await;
    let request = ServerReflectionRequest { host: String::new(), message_request: None };
    stream.requests.send(&request).await.expect("send");
    let status = stream.responses.message().await.expect_err("the stream ends");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    server.stop().await;
}

#[test]
#[should_panic(expected = "add_reflection: file descriptor set #1 does not decode")]
fn a_set_that_does_not_decode_is_refused_where_it_is_registered() {
    let mut builder = h2grpc::Server::builder();
    builder.add_reflection([helloworld::FILE_DESCRIPTOR_SET, b"\x0a\x05ab".as_slice()]);
}
