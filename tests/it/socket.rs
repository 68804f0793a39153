//! Stale-socket rules through `Server::builder().bind_unix`: a dead socket is replaced, a live
//! one is refused and keeps serving, a file that is not a socket is never touched, and
//! `socket_mode` sets the socket file's mode.

use std::fs;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;

use h2grpc::{CallOptions, Channel, ErrorKind, Service, Status};

use crate::harness::*;
use crate::support::*;

fn echo() -> Service {
    Service::new("test.Echo")
        .unary("Unary", |_ctx, req: Payload| async move { Ok::<_, Status>(req) })
}

async fn assert_serves(target: &str, what: &str) {
    let channel = Channel::connect(target).await.unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_serves_on(&channel, what).await;
}

async fn assert_serves_on(channel: &Channel, what: &str) {
    let reply = channel
        .unary::<_, Payload>("/test.Echo/Unary", &payload(4), CallOptions::new())
        .await
        .unwrap_or_else(|s| panic!("{what}: {s:?}"));
    assert_eq!(reply.into_inner(), payload(4), "{what}");
}

fn is_socket(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_socket())
}

#[tokio::test]
async fn a_dead_socket_file_is_removed_and_the_path_bound_and_served() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.sock");
    // What a crashed server leaves behind: the socket file, with nobody listening.
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    assert!(is_socket(&path), "the dead socket file stays");
    let server = serve_unix_at(&path, vec![echo()]);
    assert_serves(&server.target, "the server bound over a dead socket").await;
    server.stop().await;
}

#[tokio::test]
async fn a_regular_file_at_the_path_is_refused_and_left_intact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.sock");
    fs::write(&path, b"someone's precious data").unwrap();
    let err = builder(vec![echo()], |_| {}).bind_unix(&path).expect_err("bind over a regular file");
    assert_eq!(err.kind(), ErrorKind::Bind, "{err}");
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "the error names the path: {err}"
    );
    assert_eq!(fs::read(&path).unwrap(), b"someone's precious data");
}

#[tokio::test]
async fn a_live_socket_is_refused_and_the_first_server_still_serves() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.sock");
    let first = serve_unix_at(&path, vec![echo()]);
    let channel = Channel::connect(&first.target).await.unwrap();
    assert_serves_on(&channel, "the first server").await;

    let err = builder(vec![echo()], |_| {}).bind_unix(&path).expect_err("bind over a live socket");
    assert_eq!(err.kind(), ErrorKind::Bind, "{err}");
    assert!(err.to_string().contains("listening"), "the error says someone is listening: {err}");

    assert!(is_socket(&path), "the live socket file was removed");
    assert_serves_on(&channel, "the first server's existing connection").await;
    assert_serves(&first.target, "the first server, on a new connection").await;
    first.stop().await;
}

#[tokio::test]
async fn socket_mode_gives_the_socket_file_that_mode() {
    let dir = tempfile::tempdir().unwrap();
    for mode in [0o600, 0o660] {
        let path = dir.path().join(format!("{mode:o}.sock"));
        let server = builder(vec![echo()], |b| {
            b.socket_mode(mode);
        })
        .bind_unix(&path)
        .unwrap();
        let server = Running::spawn(server);
        let actual = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(actual, mode, "socket_mode({mode:#o}) gave {actual:#o}");
        assert_serves(&server.target, &format!("the server with socket mode {mode:#o}")).await;
        server.stop().await;
    }
}
