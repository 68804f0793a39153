//! Runs the example binaries as a user would, and checks what they print. `cargo test` builds
//! the examples before it runs tests; `cargo test --test examples` alone builds them here.
//! uds_server and uds_client run as two processes: the server's first line says it listens,
//! which is when the client may start (no sleeps).

use std::path::PathBuf;
use std::process::{Output, Stdio};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;
use tokio::time::timeout;

const LIMIT: Duration = Duration::from_secs(60);

/// The built example binary: `target/<profile>/examples/<name>`, next to this test's `deps/`.
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).expect("target/<profile>");
    let path = profile_dir.join("examples").join(name);
    if !path.exists() {
        let mut build = std::process::Command::new(env!("CARGO"));
        build.args(["build", "--example", name]);
        if profile_dir.ends_with("release") {
            build.arg("--release");
        }
        let status = build.status().expect("run cargo build");
        assert!(status.success() && path.exists(), "cannot build example {name}");
    }
    path
}

async fn run(name: &str, args: &[&str]) -> String {
    let output: Output = timeout(LIMIT, Command::new(example(name)).args(args).output())
        .await
        .unwrap_or_else(|_| panic!("example {name} did not finish within {LIMIT:?}"))
        .expect("spawn example");
    let stdout = String::from_utf8(output.stdout).expect("utf-8 stdout");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{name} failed: {}\n{stdout}\n{stderr}", output.status);
    stdout
}

#[tokio::test]
async fn greeter_calls_its_own_server_and_shuts_down() {
    let stdout = run("greeter", &[]).await;
    assert!(stdout.starts_with("Hello, world! (your uid is "), "{stdout}");
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
}

#[tokio::test]
async fn auth_refreshes_an_expired_token_and_the_retry_signs_in() {
    let stdout = run("auth", &[]).await;
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "client: fetched token t1",
            "server: token refused (TOKEN_EXPIRED)",
            "client: UNAUTHENTICATED, reason TOKEN_EXPIRED",
            "client: fetched token t2",
            "server: token accepted for alice",
            "Hello, world! (signed in as alice)",
        ]
    );
}

#[tokio::test]
async fn streaming_shows_the_four_call_kinds_and_the_producers() {
    let stdout = run("streaming", &[]).await;
    for line in [
        "Square(12) = 144",
        "tick 1",
        "tick 2",
        "tick 3",
        "server: Ticks saw the client cancel",
        "Sum(1..=10) = 55",
        "Double(1) = 2",
        "Double(5) = 10",
        "Double(21) = 42",
        "Squares(10) = [1, 4, 9, 16, 25, 36, 49, 64, 81, 100]",
    ] {
        assert!(stdout.lines().any(|l| l == line), "missing {line:?} in:\n{stdout}");
    }
}

#[tokio::test]
async fn uds_client_calls_uds_server_in_another_process() {
    let dir = tempfile::tempdir().expect("temp dir");
    let socket = dir.path().join("greeter.sock");
    let socket_arg = socket.to_str().expect("utf-8 temp path");
    let mut server = Command::new(example("uds_server"))
        .arg(socket_arg)
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn uds_server");
    let mut lines = BufReader::new(server.stdout.take().expect("stdout")).lines();
    let first = timeout(LIMIT, lines.next_line()).await.expect("server start").expect("read");
    assert_eq!(first.as_deref(), Some(format!("listening on {socket_arg}").as_str()));

    let client = Command::new(example("uds_client"))
        .args([socket_arg, "test"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn uds_client");
    let client_pid = client.id().expect("client pid");
    let output = timeout(LIMIT, client.wait_with_output()).await.expect("client").expect("wait");
    let stdout = String::from_utf8(output.stdout).expect("utf-8");
    assert!(output.status.success(), "uds_client failed: {stdout}");
    // The server saw the client's own pid through SO_PEERCRED.
    let expected = format!("Hello, test! You are pid {client_pid}, uid ");
    assert!(stdout.starts_with(&expected), "expected {expected:?}, got {stdout:?}");

    // Ctrl-C: the server shuts down gracefully and removes its socket file.
    let server_pid = server.id().expect("server pid").to_string();
    let kill = std::process::Command::new("kill").args(["-INT", &server_pid]).status();
    assert!(kill.expect("run kill").success());
    let status = timeout(LIMIT, server.wait()).await.expect("server exit").expect("wait");
    assert!(status.success(), "uds_server: {status}");
    let last = lines.next_line().await.expect("read");
    assert_eq!(last.as_deref(), Some("shutting down"));
    assert!(!socket.exists(), "the socket file is removed on shutdown");
}

/// Reads `lines` until one satisfies `want`, returning it; fails after `LIMIT`.
async fn wait_for_line(
    lines: &mut tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
    what: &str,
    want: impl Fn(&str) -> bool,
) -> String {
    timeout(LIMIT, async {
        while let Some(line) = lines.next_line().await.expect("read") {
            if want(&line) {
                return line;
            }
        }
        panic!("output ended before {what}");
    })
    .await
    .unwrap_or_else(|_| panic!("no {what} within {LIMIT:?}"))
}

async fn start_clock_server(socket: &str) -> tokio::process::Child {
    let mut server = Command::new(example("clock"))
        .args(["server", socket])
        .env("CLOCK_INTERVAL_MS", "20")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn clock server");
    let mut lines = BufReader::new(server.stdout.take().expect("stdout")).lines();
    let line =
        wait_for_line(&mut lines, "the listening line", |l| l.starts_with("clock listening")).await;
    assert_eq!(line, format!("clock listening on {socket}"));
    server
}

#[tokio::test]
async fn the_clock_client_survives_a_server_restart_and_resumes_receiving() {
    let dir = tempfile::tempdir().expect("temp dir");
    let socket = dir.path().join("clock.sock");
    let socket_arg = socket.to_str().expect("utf-8 temp path");
    let mut server = start_clock_server(socket_arg).await;
    let mut client = Command::new(example("clock"))
        .args(["client", socket_arg])
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn clock client");
    let mut ticks = BufReader::new(client.stdout.take().expect("stdout")).lines();
    wait_for_line(&mut ticks, "a first tick", |l| l.starts_with("tick ")).await;

    // The server dies without a goodbye; its socket file stays behind, stale.
    server.kill().await.expect("kill the clock server");
    wait_for_line(&mut ticks, "the client noticing", |l| l.starts_with("resubscribing in ")).await;
    // Its resubscription finds nothing: the channel's state says so.
    let gone = |l: &str| l == "server gone (channel TRANSIENT_FAILURE)";
    wait_for_line(&mut ticks, "the channel reporting the server gone", gone).await;
    assert!(socket.exists(), "a killed server leaves its socket file");

    // A new server replaces the stale socket; the same client process resumes on its own.
    let _server = start_clock_server(socket_arg).await;
    // Only the new server can produce a tick after the client said it was resubscribing.
    wait_for_line(&mut ticks, "a tick from the new server", |l| l.starts_with("tick ")).await;
    client.kill().await.expect("stop the client");
}

#[tokio::test]
async fn interop_client_passes_every_case_against_interop_server() {
    let dir = tempfile::tempdir().expect("temp dir");
    let addr = format!("unix:{}", dir.path().join("interop.sock").to_str().expect("utf-8 path"));
    let mut server = Command::new(example("interop_server"))
        .args(["--addr", &addr])
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn interop_server");
    let mut lines = BufReader::new(server.stdout.take().expect("stdout")).lines();
    let first = timeout(LIMIT, lines.next_line()).await.expect("server start").expect("read");
    assert_eq!(first, Some(format!("listening on {addr}")));

    let stdout = run("interop_client", &["--addr", &addr, "--test_case", "all"]).await;
    assert_eq!(stdout.lines().count(), 18, "{stdout}");
    assert!(stdout.lines().all(|l| l.ends_with(": PASS")), "{stdout}");
    server.start_kill().expect("stop interop_server");
}

/// The reflection example lists itself to the generated reflection client (Python's client is
/// run against it by `tests/reflection_python.rs`), and shuts down on Ctrl-C even with the
/// reflection stream still open.
#[tokio::test]
async fn reflection_server_lists_its_services() {
    use h2grpc::reflection::{MessageRequest, MessageResponse, ServerReflectionClient};
    use h2grpc::reflection::{ServerReflectionRequest, ServerReflectionResponse};

    let dir = tempfile::tempdir().expect("temp dir");
    let socket = dir.path().join("reflection.sock");
    let mut server = Command::new(example("reflection_server"))
        .arg(&socket)
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn reflection_server");
    let mut lines = BufReader::new(server.stdout.take().expect("stdout")).lines();
    let first = timeout(LIMIT, lines.next_line()).await.expect("server start").expect("read");
    assert!(first.unwrap_or_default().starts_with("listening on"));

    let target = format!("unix:{}", socket.display());
    let channel = h2grpc::Channel::connect(&target).await.expect("connect");
    let client = ServerReflectionClient::new(channel);
    let (mut requests, mut responses) =
        client.server_reflection_info(h2grpc::CallOptions::new()).await.expect("open");
    let list = MessageRequest::ListServices("*".into());
    let request = ServerReflectionRequest { host: String::new(), message_request: Some(list) };
    requests.send(&request).await.expect("send");
    let response: ServerReflectionResponse =
        responses.message().await.expect("a response").expect("open");
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("not a list: {response:?}");
    };
    let names: Vec<&str> = list.service.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "grpc.health.v1.Health",
            "grpc.reflection.v1.ServerReflection",
            "grpc.reflection.v1alpha.ServerReflection",
            "helloworld.Greeter"
        ]
    );

    let server_pid = server.id().expect("server pid").to_string();
    let kill = std::process::Command::new("kill").args(["-INT", &server_pid]).status();
    assert!(kill.expect("run kill").success());
    let status = timeout(LIMIT, server.wait()).await.expect("server exit").expect("wait");
    assert!(status.success(), "reflection_server: {status}");
    let status = responses.message().await.expect_err("the stream ends with the server");
    assert_eq!(status.code(), h2grpc::Code::Unavailable, "{status:?}");
}

/// WIRE.md is the wiretap example's output, checked in: a change to what h2grpc puts on the
/// wire shows here, in review. After an intended change: `H2GRPC_BLESS=1 cargo test wiretap`
/// (plain `cargo test` rebuilds the example first), then read the diff. The transcript is deterministic by construction
/// (one thread, a paused clock, an in-memory connection); the one normalisation is of line
/// endings, should a checkout convert them.
#[tokio::test]
async fn wiretap_prints_wire_md() {
    let transcript = run("wiretap", &[]).await;
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("WIRE.md");
    if std::env::var_os("H2GRPC_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &transcript).expect("write WIRE.md");
        return;
    }
    let golden = std::fs::read_to_string(&path).unwrap_or_default().replace("\r\n", "\n");
    if golden != transcript {
        let line = golden.lines().zip(transcript.lines()).position(|(a, b)| a != b);
        let line = line.unwrap_or_else(|| golden.lines().count().min(transcript.lines().count()));
        let show = |text: &str| {
            text.lines().skip(line.saturating_sub(3)).take(7).collect::<Vec<_>>().join("\n")
        };
        panic!(
            "WIRE.md differs from what `cargo run --example wiretap` prints, from line {}: if the \
             change is intended, run `H2GRPC_BLESS=1 cargo test wiretap` and \
             review the diff.\n--- WIRE.md ---\n{}\n--- the example ---\n{}",
            line + 1,
            show(&golden),
            show(&transcript)
        );
    }
    // What the issue asks the transcript to show, whatever the prose says.
    for needle in [
        "C→S  PREFACE",
        "SETTINGS stream 0, flags ACK",
        ":path: /wiretap.v1.Demo/Greet",
        "gRPC message flag 0, length 7: 0a 05 77 6f 72 6c 64",
        "grpc-timeout: 108000S",
        "RST_STREAM stream 9",
        "RST_STREAM stream 11",
        "the Trailers-Only:",
        "= UNIMPLEMENTED (12)",
        "GOAWAY stream 0",
    ] {
        assert!(transcript.contains(needle), "the transcript lacks {needle:?}");
    }
}

#[tokio::test]
async fn tls_test_certs_writes_a_ca_a_server_and_a_client_identity_that_load() {
    use h2grpc::transport::tls::{ClientTls, ServerTls};
    let dir = tempfile::tempdir().expect("temp dir");
    let stdout = run("tls_test_certs", &[dir.path().to_str().expect("utf-8 temp path")]).await;
    assert!(stdout.starts_with("wrote ca.pem, server.pem, server.key"), "{stdout}");
    let read = |name: &str| std::fs::read(dir.path().join(name)).expect(name);
    ServerTls::from_pem(read("server.pem"), read("server.key"))
        .and_then(|tls| tls.require_client_cert(read("ca.pem")))
        .expect("the server identity and the CA load");
    ClientTls::new()
        .ca_pem(read("ca.pem"))
        .and_then(|tls| tls.identity_pem(read("client.pem"), read("client.key")))
        .expect("the client identity loads");
}
