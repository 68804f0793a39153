use super::*;
use crate::transport::scratch::temp_socket_path;
use std::os::unix::fs::MetadataExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Dials a target with one address, as a channel's subchannel would.
async fn connect(target: &Target) -> Result<Stream, Error> {
    let address = match target {
        Target::Tcp { host, port } => {
            let ip: std::net::IpAddr = host.parse().unwrap();
            Address::Tcp((ip, *port).into())
        }
        other => other.static_addresses().unwrap().remove(0),
    };
    dial(&address).await
}

/// Adopts `listener`, connects to its `local_target`, and accepts: (client, server).
async fn connected_pair(listener: Listener) -> (Stream, Stream) {
    let target = listener.local_target();
    let (listener, _) = listener.into_tokio().unwrap();
    // Bound before connecting: the connection waits in the backlog, no sleep needed.
    let client = connect(&target).await.unwrap();
    let server = listener.accept().await.unwrap();
    (client, server)
}

async fn unix_pair() -> (Stream, Stream, tempfile::TempDir) {
    let (dir, path) = temp_socket_path("s.sock");
    let listener = unix::bind_unix(&path, None).unwrap();
    let (client, server) = connected_pair(Listener::Unix { listener, path: Some(path) }).await;
    (client, server, dir)
}

async fn tcp_pair() -> (Stream, Stream) {
    connected_pair(Listener::Tcp(tcp::bind_tcp("127.0.0.1:0").unwrap())).await
}

async fn assert_round_trip(mut a: Stream, mut b: Stream) {
    a.write_all(b"request").await.unwrap();
    let mut buf = [0; 7];
    b.read_exact(&mut buf).await.unwrap();
    assert_eq!(&buf, b"request");

    let bufs = [io::IoSlice::new(b"resp"), io::IoSlice::new(b"onse")];
    let mut sent = 0;
    while sent < 8 {
        sent += b.write_vectored(&bufs).await.unwrap();
        assert_eq!(sent, 8, "a short vectored write on a fresh socket");
    }
    b.flush().await.unwrap();
    b.shutdown().await.unwrap();
    let mut rest = Vec::new();
    a.read_to_end(&mut rest).await.unwrap();
    assert_eq!(rest, b"response", "shutdown ends the stream after the data");
}

fn this_process() -> Peer {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("owner");
    std::fs::write(&file, b"").unwrap();
    let meta = std::fs::metadata(&file).unwrap();
    let pid = i32::try_from(std::process::id()).ok();
    Peer::Unix { uid: meta.uid(), gid: meta.gid(), pid }
}

#[tokio::test]
async fn stream_round_trips_bytes_over_unix() {
    let (client, server, _dir) = unix_pair().await;
    assert!(matches!((&client, &server), (Stream::Unix(_), Stream::Unix(_))));
    assert_round_trip(client, server).await;
}

#[tokio::test]
async fn stream_round_trips_bytes_over_tcp() {
    let (client, server) = tcp_pair().await;
    assert!(matches!((&client, &server), (Stream::Tcp(_), Stream::Tcp(_))));
    assert_round_trip(client, server).await;
}

#[tokio::test]
async fn unix_peer_is_this_process_on_both_ends() {
    let (client, server, _dir) = unix_pair().await;
    let me = this_process();
    if cfg!(target_os = "linux") {
        assert_eq!(server.peer(), me);
        assert_eq!(client.peer(), me);
    } else {
        // BSD gives a new file its directory's group, so only the uid is comparable.
        assert_eq!(server.peer().uid(), me.uid());
    }
}

#[tokio::test]
async fn tcp_peer_is_the_clients_address_and_nodelay_is_set() {
    let (client, server) = tcp_pair().await;
    let (Stream::Tcp(c), Stream::Tcp(s)) = (&client, &server) else { panic!("tcp streams") };
    assert_eq!(server.peer(), Peer::Tcp(c.local_addr().unwrap()));
    assert_eq!(client.peer(), Peer::Tcp(s.local_addr().unwrap()));
    assert!(c.nodelay().unwrap() && s.nodelay().unwrap());
}

#[tokio::test]
async fn into_tokio_hands_back_the_socket_path_to_remove() {
    let (_dir, path) = temp_socket_path("s.sock");
    let listener = unix::bind_unix(&path, None).unwrap();
    let listener = Listener::Unix { listener, path: Some(path.clone()) };
    assert_eq!(listener.local_target(), Target::Unix(path.clone()));
    let (_, to_remove) = listener.into_tokio().unwrap();
    assert_eq!(to_remove, Some(path));
    let (_, none) = Listener::Tcp(tcp::bind_tcp("127.0.0.1:0").unwrap()).into_tokio().unwrap();
    assert_eq!(none, None);
}

#[test]
fn local_target_replaces_an_unspecified_address_with_loopback() {
    let listener = tcp::bind_tcp("0.0.0.0:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let want = Target::Tcp { host: "127.0.0.1".to_owned(), port };
    assert_eq!(Listener::Tcp(listener).local_target(), want);
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn abstract_socket_connects_and_names_itself_as_a_target() {
    let dir = tempfile::tempdir().unwrap();
    let name = format!("h2grpc-test-{}", dir.path().file_name().unwrap().to_string_lossy());
    let listener =
        Listener::Unix { listener: unix::bind_unix_abstract(&name).unwrap(), path: None };
    assert_eq!(listener.local_target(), Target::UnixAbstract(name));
    let (client, server) = connected_pair(listener).await;
    assert_eq!(server.peer().pid(), this_process().pid());
    assert_round_trip(client, server).await;
}

#[tokio::test]
async fn connect_to_a_missing_socket_names_it_and_asks_whether_the_server_runs() {
    let dir = tempfile::tempdir().unwrap();
    let target = Target::Unix(dir.path().join("nobody.sock"));
    let err = connect(&target).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connect);
    let want = format!("cannot connect to {target}: is the server running?");
    assert!(err.to_string().starts_with(&want), "{err}");
    assert!(std::error::Error::source(&err).is_some());
}

#[tokio::test]
async fn connect_to_a_closed_tcp_port_fails_with_connect() {
    let port = tcp::bind_tcp("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let target = Target::Tcp { host: "127.0.0.1".to_owned(), port };
    let err = connect(&target).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Connect);
    assert!(err.to_string().contains(&format!("127.0.0.1:{port}")), "{err}");
}

#[tokio::test]
async fn connect_refuses_a_path_with_a_nul_byte() {
    let target = Target::Unix(PathBuf::from("\0abstract-in-disguise"));
    let err = connect(&target).await.unwrap_err();
    assert!(err.to_string().contains("nul byte"), "{err}");
}
