//! Interop for issue 14: Python's `grpcio` (C-core, which sends the percent-encoded socket path
//! as `:authority`, so every header block goes through the server's rewriter) and Node's
//! `@grpc/grpc-js` send one call with 8 KiB to 1 MiB of metadata, then three plain calls on the
//! same channel, against the `interop_server` example over a Unix socket. Every plain call
//! succeeds (after a reconnect where the connection had to end), and a call over the server's
//! 16 KiB limit ends RESOURCE_EXHAUSTED up to 8 times that.
//!
//! The Python venv is the one `tests/reflection_python.rs` makes; Node's packages are
//! tests/peers/node's (`npm ci` if missing). `H2GRPC_SKIP_PYTHON=1` skips the Python half.

use std::path::Path;
use std::process::Stdio;

use tokio::io::{AsyncBufReadExt, BufReader};

mod peer_support;
use peer_support::{example, node_peer_dir, python, LIMIT};

const SIZES_KIB: [&str; 7] = ["8", "15.9", "16.1", "17", "24", "64", "1024"];

/// Runs `program script socket sizes...` against a fresh interop_server; its stdout.
async fn run_client(program: &Path, script: &Path) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let socket = dir.path().join("metadata.sock");
    let mut server = tokio::process::Command::new(example("interop_server"))
        .arg("--addr")
        .arg(format!("unix:{}", socket.display()))
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn interop_server");
    let mut lines = BufReader::new(server.stdout.take().expect("stdout")).lines();
    let first = tokio::time::timeout(LIMIT, lines.next_line()).await;
    let first = first.expect("the server did not start").expect("read").unwrap_or_default();
    assert!(first.starts_with("listening on"), "{first}");
    let client =
        tokio::process::Command::new(program).arg(script).arg(&socket).args(SIZES_KIB).output();
    let output = tokio::time::timeout(LIMIT, client).await.expect("in time").expect("run client");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the client failed:\n{stdout}\n{stderr}");
    stdout
}

/// Checks the client's report: every plain call OK, and the sized ones as the limit says.
fn check(peer: &str, stdout: &str) {
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.first(), Some(&"first OK"), "{peer}:\n{stdout}");
    assert_eq!(lines.len(), 1 + SIZES_KIB.len(), "{peer}:\n{stdout}");
    for (line, kib) in lines[1..].iter().zip(SIZES_KIB) {
        let words: Vec<&str> = line.split(' ').collect();
        assert_eq!(words[0].parse::<f64>().ok(), kib.parse().ok(), "{peer}: {line}");
        assert_eq!(words[2..], ["after", "OK", "OK", "OK"], "{peer}, after {kib} KiB: {line}");
        let want: &[&str] = match kib.parse::<f64>().unwrap() {
            k if k <= 8.0 => &["OK"],
            k if k <= 64.0 => &["RESOURCE_EXHAUSTED"],
            // 1 MiB: over 32 times the limit the connection ends (UNAVAILABLE), unless the
            // client refuses to send it at all (grpc-js: RESOURCE_EXHAUSTED).
            _ => &["UNAVAILABLE", "RESOURCE_EXHAUSTED"],
        };
        assert!(want.contains(&words[1]), "{peer}, {kib} KiB: {line}");
    }
}

#[tokio::test]
async fn grpcio_keeps_its_channel_after_oversized_metadata() {
    if std::env::var_os("H2GRPC_SKIP_PYTHON").is_some_and(|v| v == "1") {
        eprintln!("H2GRPC_SKIP_PYTHON=1: skipping the Python metadata interop test");
        return;
    }
    let python = tokio::task::spawn_blocking(python).await.expect("venv setup");
    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/python/metadata_client.py");
    check("grpcio", &run_client(&python, &script).await);
}

#[tokio::test]
async fn grpc_js_keeps_its_channel_after_oversized_metadata() {
    let dir = tokio::task::spawn_blocking(node_peer_dir).await.expect("npm ci");
    check("grpc-js", &run_client(Path::new("node"), &dir.join("metadata_client.js")).await);
}
