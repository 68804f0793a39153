//! The command against an h2grpc server without reflection, described by `--proto`: a status
//! with details, and bad input of every kind, each with a one-line error that says what to do.

mod support;

use h2grpc::health::{HealthReporter, ServingStatus};
use h2grpc::server::RequestStream;
use h2grpc::{CallContext, Code, Server, Service, Status};
use prost::Message;
use serde_json::json;
use support::{h2grpc, h2grpc_stdin, Output};

#[derive(Clone, PartialEq, Message)]
struct Note {
    #[prost(string, tag = "1")]
    text: String,
    #[prost(int32, tag = "2")]
    count: i32,
}

/// google.rpc.Status, to send as details.
#[derive(Clone, PartialEq, Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
    #[prost(message, repeated, tag = "3")]
    details: Vec<prost_types::Any>,
}

fn details() -> Vec<u8> {
    let duration = prost_types::Duration { seconds: 5, nanos: 0 };
    RpcStatus {
        code: 9,
        message: "try later".into(),
        details: vec![prost_types::Any {
            type_url: "type.googleapis.com/google.protobuf.Duration".into(),
            value: duration.encode_to_vec(),
        }],
    }
    .encode_to_vec()
}

/// Serves cli.test.Notes and health (no reflection) on a socket in `dir`.
fn serve(dir: &std::path::Path) -> (String, h2grpc::server::ShutdownHandle) {
    let notes = Service::new("cli.test.Notes")
        .unary("Echo", |_ctx: CallContext, note: Note| async move { Ok::<_, Status>(note) })
        .unary("Fail", |_ctx: CallContext, _note: Note| async move {
            Err::<Note, _>(Status::with_details(Code::FailedPrecondition, "not now", details()))
        })
        .client_streaming(
            "Count",
            |_ctx: CallContext, mut notes: RequestStream<Note>| async move {
                let mut count = 0;
                while let Some(_note) = notes.message().await? {
                    count += 1;
                }
                Ok::<_, Status>(Note { text: String::new(), count })
            },
        );
    let health = HealthReporter::new();
    health.set_status("cli.test.Notes", ServingStatus::Serving);
    health.set_status("cli.test.Down", ServingStatus::NotServing);
    let socket = dir.join("notes.sock");
    let server = Server::builder()
        .add_service(notes)
        .add_service(health.service())
        .bind_unix(&socket)
        .expect("bind");
    let shutdown = server.shutdown_handle();
    tokio::spawn(server.serve());
    (format!("unix:{}", socket.display()), shutdown)
}

fn proto() -> String {
    format!("{}/tests/proto/notes.proto", env!("CARGO_MANIFEST_DIR"))
}

fn call(target: &str, method: &str, request: &str) -> Output {
    let method = format!("cli.test.Notes/{method}");
    h2grpc(&["--proto", &proto(), "--format", "json", "call", target, &method, request])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_reflection_the_proto_file_describes_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let (target, shutdown) = serve(dir.path());
    tokio::task::spawn_blocking(move || checks(&target)).await.expect("the checks pass");
    shutdown.shutdown_now();
}

fn checks(target: &str) {
    // No reflection, no --proto: the error says what to pass.
    let list = h2grpc(&["list", target]);
    assert_eq!(list.code, Some(12), "{list}");
    assert!(list.stderr.contains("does not serve reflection"), "{list}");
    assert!(list.stderr.contains("pass --proto"), "{list}");
    assert_eq!(list.stderr.lines().count(), 1, "one line: {list}");

    // With --proto: list, describe, call.
    let list = h2grpc(&["--proto", &proto(), "list", target]);
    assert_eq!(list.stdout, "cli.test.Notes\n", "{list}");
    let echo = call(target, "Echo", r#"{"text": "hi", "count": 2}"#);
    assert_eq!(echo.messages(), [json!({"text": "hi", "count": 2})], "{echo}");

    // A status with details: google.rpc.Status decoded, its Any as protobuf JSON.
    let failed = call(target, "Fail", "{}");
    assert_eq!(failed.code, Some(9), "{failed}");
    assert_eq!(
        failed.status(),
        json!({
            "code": 9, "name": "FAILED_PRECONDITION", "message": "not now",
            "details": {
                "code": 9, "message": "try later",
                "details": [{"@type": "type.googleapis.com/google.protobuf.Duration", "value": "5s"}]
            }
        }),
        "{failed}"
    );
    let text = h2grpc(&["--proto", &proto(), "call", target, "cli.test.Notes/Fail"]);
    assert_eq!(text.code, Some(9));
    assert!(text.stderr.contains("status: FAILED_PRECONDITION (9): not now"), "{text}");
    assert!(text.stderr.contains("google.protobuf.Duration"), "{text}");

    // Client streaming from stdin, one object per message.
    let method = "cli.test.Notes/Count";
    let args = ["--proto", &proto(), "--format", "json", "call", target, method];
    let counted = h2grpc_stdin(&args, "{\"text\": \"a\"}\n{\"text\": \"b\"}\n{}\n");
    assert_eq!(counted.messages(), [json!({"count": 3})], "{counted}");

    // Malformed JSON: the request, line and column.
    let bad = h2grpc_stdin(&args, "{\"text\": \"a\"}\n{\"text\": \"b\",\n  \"count\": }\n");
    assert_eq!(bad.code, Some(3), "{bad}");
    assert!(bad.stderr.contains("request 2: malformed JSON at line 3, column 12"), "{bad}");

    // A wrong type: the field, line and column.
    let wrong = call(target, "Echo", "{\"text\": \"a\",\n \"count\": \"many\"}");
    assert_eq!(wrong.code, Some(3), "{wrong}");
    assert!(wrong.stderr.contains("field `count` at line 2"), "{wrong}");
    assert!(wrong.stderr.contains("invalid digit"), "{wrong}");
    let nested = call(target, "Echo", r#"{"inner": {"values": [1, true]}}"#);
    assert_eq!(nested.code, Some(3), "{nested}");
    assert!(nested.stderr.contains("field `inner.values"), "{nested}");
    let unknown = call(target, "Echo", r#"{"txt": "a"}"#);
    assert_eq!(unknown.code, Some(3), "{unknown}");
    assert!(unknown.stderr.contains("txt"), "{unknown}");

    // An unknown method: not in the proto, found out before calling.
    let nope = call(target, "Nope", "{}");
    assert_eq!(nope.code, Some(5), "{nope}");
    assert!(nope.stderr.contains("method Nope not found in service cli.test.Notes"), "{nope}");

    // Health, with grpc_health_probe's exit codes: 0 SERVING, 4 NOT_SERVING, 3 RPC failure.
    let serving = h2grpc(&["health", target, "cli.test.Notes"]);
    assert_eq!(serving.code, Some(0), "{serving}");
    let down = h2grpc(&["health", target, "cli.test.Down"]);
    assert_eq!(down.code, Some(4), "{down}");
    assert_eq!(down.stdout, "cli.test.Down: NOT_SERVING\n", "{down}");
    let unknown = h2grpc(&["health", target, "cli.test.Unknown"]);
    assert_eq!(unknown.code, Some(3), "{unknown}");
    assert!(unknown.stderr.contains("NOT_FOUND"), "{unknown}");
}

#[test]
fn a_missing_socket_says_whether_the_server_runs() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("x.sock");
    let target = format!("unix:{}", socket.display());
    let out = h2grpc(&["list", &target]);
    assert_eq!(out.code, Some(14), "UNAVAILABLE: {out}");
    assert_eq!(
        out.stderr.trim_end(),
        format!("h2grpc: no such socket: {} — is the server running?", socket.display())
    );
    let health = h2grpc(&["health", &target]);
    assert_eq!(health.code, Some(2), "grpc_health_probe's connection failure: {health}");
    let bad = h2grpc(&["list", "http://x"]);
    assert_eq!(bad.code, Some(3), "INVALID_ARGUMENT: {bad}");
    // grpc_health_probe's 1 for bad arguments, whether our check or clap's finds them.
    assert_eq!(h2grpc(&["health", "http://x"]).code, Some(1));
    assert_eq!(h2grpc(&["health", &target, "--no-such-flag"]).code, Some(1));
    assert_eq!(h2grpc(&["call", &target]).code, Some(3), "a usage error is INVALID_ARGUMENT");
    assert_eq!(h2grpc(&["--version"]).code, Some(0));
}
