//! Interop: Python's `grpcio-reflection` client (`ProtoReflectionDescriptorDatabase`, which
//! speaks `grpc.reflection.v1alpha`) against the `reflection_server` example over a Unix
//! socket. It lists the services, looks up a service, a method, a message, a file by name and
//! a missing symbol, then calls `helloworld.Greeter/SayHello` with message classes built from
//! the reflected descriptors alone (`tests/peers/python/reflection_client.py`).
//!
//! The test makes its own virtualenv, `<target dir>/reflection-python-venv`, with `grpcio`,
//! `grpcio-reflection` and `protobuf` from PyPI: about 20 s the first time on a 2-core machine,
//! then reused (under a second). It needs `python3` with the `venv` module and network access
//! to PyPI, and fails, saying why, when it cannot have them; `H2GRPC_SKIP_PYTHON=1` skips it
//! on purpose.

use std::path::Path;
use std::process::{Command, Stdio};

use tokio::io::{AsyncBufReadExt, BufReader};

mod peer_support;
use peer_support::{example, python, run, LIMIT};

#[tokio::test]
async fn python_grpcio_reflection_describes_and_calls_an_h2grpc_server_over_a_unix_socket() {
    if std::env::var_os("H2GRPC_SKIP_PYTHON").is_some_and(|v| v == "1") {
        eprintln!("H2GRPC_SKIP_PYTHON=1: skipping the Python reflection interop test");
        return;
    }
    let python = tokio::task::spawn_blocking(python).await.expect("venv setup");
    let versions = run(Command::new(&python).args([
        "-c",
        "import grpc, google.protobuf as p; print('grpcio', grpc.__version__, 'protobuf', p.__version__)",
    ]));
    eprintln!("{}", versions.unwrap_or_default().trim());

    let dir = tempfile::tempdir().expect("temp dir");
    let socket = dir.path().join("reflection.sock");
    let mut server = tokio::process::Command::new(example("reflection_server"))
        .arg(&socket)
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn reflection_server");
    let mut lines = BufReader::new(server.stdout.take().expect("stdout")).lines();
    let first = tokio::time::timeout(LIMIT, lines.next_line()).await;
    let first = first.expect("the server did not start").expect("read").unwrap_or_default();
    assert!(first.starts_with("listening on"), "{first}");

    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/python/reflection_client.py");
    let client = tokio::process::Command::new(&python).arg(script).arg(&socket).output();
    let output = tokio::time::timeout(LIMIT, client)
        .await
        .expect("the Python client did not finish")
        .expect("run the Python client");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the Python client failed:\n{stdout}\n{stderr}");
    for line in [
        "services: grpc.health.v1.Health grpc.reflection.v1.ServerReflection \
         grpc.reflection.v1alpha.ServerReflection helloworld.Greeter",
        "method: helloworld.Greeter.SayHello(helloworld.HelloRequest) returns \
         (helloworld.HelloReply)",
        "method by name: helloworld.Greeter.SayHello",
        "message: helloworld.HelloRequest fields: name",
        "file: helloworld.proto package: helloworld",
        "health methods: Check,List,Watch",
        "miss: NOT_FOUND",
        "reply: Hello, python!",
    ] {
        assert!(stdout.lines().any(|l| l == line), "missing {line:?} in:\n{stdout}\n{stderr}");
    }
}
