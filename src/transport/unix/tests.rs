use super::*;
use crate::transport::scratch::temp_socket_path;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;

fn assert_refused(result: Result<UnixListener, Error>, needle: &str) {
    let err = result.expect_err("bind must be refused");
    assert_eq!(err.kind(), ErrorKind::Bind);
    assert!(err.to_string().contains(needle), "{err}");
}

fn assert_serves(listener: &UnixListener, path: &Path) {
    listener.set_nonblocking(false).unwrap();
    let mut client = UnixStream::connect(path).unwrap();
    let (mut server, _) = listener.accept().unwrap();
    client.write_all(b"ping").unwrap();
    let mut buf = [0; 4];
    server.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"ping");
}

#[test]
fn bind_unix_binds_where_nothing_is() {
    let (_dir, path) = temp_socket_path("s.sock");
    let listener = bind_unix(&path, None).unwrap();
    assert!(fs::symlink_metadata(&path).unwrap().file_type().is_socket());
    assert_serves(&listener, &path);
}

#[test]
fn bind_unix_leaves_the_listener_non_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let listener = bind_unix(&dir.path().join("s.sock"), None).unwrap();
    let err = listener.accept().unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
}

#[test]
fn bind_unix_replaces_a_stale_socket_file() {
    let (_dir, path) = temp_socket_path("s.sock");
    drop(UnixListener::bind(&path).unwrap());
    assert!(fs::symlink_metadata(&path).unwrap().file_type().is_socket(), "file stays");
    let listener = bind_unix(&path, None).unwrap();
    assert_serves(&listener, &path);
}

#[test]
fn bind_unix_refuses_a_live_socket_and_leaves_it_serving() {
    let (_dir, path) = temp_socket_path("s.sock");
    let live = UnixListener::bind(&path).unwrap();
    // The probe connection is queued on `live`; take it off first.
    assert_refused(bind_unix(&path, None), "another process is listening on");
    let _probe = live.accept().unwrap();
    assert_serves(&live, &path);
}

#[test]
fn bind_unix_refuses_a_regular_file_and_leaves_its_contents() {
    let (_dir, path) = temp_socket_path("notes.txt");
    fs::write(&path, b"precious").unwrap();
    assert_refused(bind_unix(&path, None), "exists and is not a socket (a regular file)");
    assert_eq!(fs::read(&path).unwrap(), b"precious");
}

#[test]
fn bind_unix_refuses_a_directory() {
    let (_dir, path) = temp_socket_path("d");
    fs::create_dir(&path).unwrap();
    fs::write(path.join("inside"), b"x").unwrap();
    assert_refused(bind_unix(&path, None), "not a socket (a directory); refusing to remove it");
    assert_eq!(fs::read(path.join("inside")).unwrap(), b"x");
}

#[test]
fn bind_unix_refuses_a_symlink_even_to_a_stale_socket() {
    let dir = tempfile::tempdir().unwrap();
    let (file, sock) = (dir.path().join("file"), dir.path().join("stale.sock"));
    fs::write(&file, b"precious").unwrap();
    drop(UnixListener::bind(&sock).unwrap());
    for target in [&file, &sock] {
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(target, &link).unwrap();
        assert_refused(bind_unix(&link, None), "(a symbolic link); refusing");
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        fs::remove_file(&link).unwrap();
    }
    assert_eq!(fs::read(&file).unwrap(), b"precious");
    assert!(fs::symlink_metadata(&sock).unwrap().file_type().is_socket());
}

#[test]
fn bind_unix_names_a_missing_parent_directory() {
    let dir = tempfile::tempdir().unwrap();
    let parent = dir.path().join("missing");
    let err = bind_unix(&parent.join("s.sock"), None).unwrap_err();
    let want = format!("directory {} does not exist; create it", parent.display());
    assert!(err.to_string().contains(&want), "{err}");
}

#[test]
fn bind_unix_applies_the_mode() {
    let (_dir, path) = temp_socket_path("s.sock");
    let _listener = bind_unix(&path, Some(0o600)).unwrap();
    assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
}

#[test]
fn bind_unix_rejects_a_path_over_the_sun_path_limit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x".repeat(SUN_PATH_LEN));
    let err = bind_unix(&path, None).unwrap_err();
    assert!(err.to_string().contains("choose a shorter path"), "{err}");
    assert!(err.to_string().contains(&path.display().to_string()), "{err}");
}

#[test]
fn remove_socket_file_removes_only_sockets() {
    let dir = tempfile::tempdir().unwrap();
    let (sock, file) = (dir.path().join("s.sock"), dir.path().join("file"));
    drop(UnixListener::bind(&sock).unwrap());
    fs::write(&file, b"precious").unwrap();
    remove_socket_file(&sock);
    remove_socket_file(&file);
    remove_socket_file(&dir.path().join("never-existed"));
    assert!(!sock.exists());
    assert_eq!(fs::read(&file).unwrap(), b"precious");
}

#[cfg(target_os = "linux")]
#[test]
fn bind_unix_abstract_serves_connections_and_refuses_a_second_bind() {
    use std::os::linux::net::SocketAddrExt;
    // The tempdir's random name makes the abstract name unique to this test run.
    let dir = tempfile::tempdir().unwrap();
    let name = format!("h2grpc-test-{}", dir.path().file_name().unwrap().to_string_lossy());
    let listener = bind_unix_abstract(&name).unwrap();
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
    let mut client = UnixStream::connect_addr(&addr).unwrap();
    listener.set_nonblocking(false).unwrap();
    let (mut server, _) = listener.accept().unwrap();
    client.write_all(b"hi").unwrap();
    let mut buf = [0; 2];
    server.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"hi");
    assert_refused(bind_unix_abstract(&name), "another process is listening on unix-abstract:");
}

#[cfg(target_os = "linux")]
#[test]
fn bind_unix_abstract_rejects_empty_nul_and_long_names() {
    assert_refused(bind_unix_abstract(""), "empty");
    assert_refused(bind_unix_abstract("a\0b"), "nul byte");
    assert_refused(bind_unix_abstract(&"n".repeat(SUN_PATH_LEN)), "choose a shorter name");
}
