//! Who called: over a Unix socket the handler sees the calling process's uid, gid and pid, as
//! the kernel reports them; over TCP it sees a loopback address.

use std::os::unix::fs::MetadataExt;

use h2grpc::{CallContext, CallOptions, Channel, Peer, Service, Status};
use tokio::sync::mpsc::UnboundedSender;

use crate::harness::*;
use crate::support::*;

/// Reports the peer of every call it serves.
fn who(peers: UnboundedSender<Peer>) -> Service {
    Service::new("test.Who").unary("Am", move |ctx: CallContext, _req: Payload| {
        let _ = peers.send(ctx.peer().clone());
        async { Ok::<_, Status>(Payload::default()) }
    })
}

async fn peer_seen_by_handler(target: &str, peers: &mut Events<Peer>) -> Peer {
    let channel = Channel::connect(target).await.unwrap();
    channel.unary::<_, Payload>("/test.Who/Am", &payload(1), CallOptions::new()).await.unwrap();
    peers.next("the handler to report its peer").await
}

/// This process's uid and gid, as the kernel stamps them on a file it creates, and its pid.
fn this_process() -> (u32, u32, i32) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("me");
    std::fs::write(&file, b"").unwrap();
    let meta = std::fs::metadata(&file).unwrap();
    (meta.uid(), meta.gid(), std::process::id() as i32)
}

fn assert_is_this_process(peer: &Peer, what: &str) {
    let (uid, gid, pid) = this_process();
    assert_eq!(
        (peer.uid(), peer.gid(), peer.pid()),
        (Some(uid), Some(gid), Some(pid)),
        "{what}: {peer:?}"
    );
    assert_eq!(peer.addr(), None, "{what}: {peer:?}");
}

#[tokio::test]
async fn over_a_unix_socket_the_handler_sees_the_callers_uid_gid_and_pid() {
    let (tx, mut peers) = events();
    let server = spawn_with(Transport::Unix, vec![who(tx)], |_| {});
    let peer = peer_seen_by_handler(&server.target, &mut peers).await;
    assert_is_this_process(&peer, "unix socket");
    server.stop().await;
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn over_an_abstract_unix_socket_the_handler_sees_the_callers_uid_gid_and_pid() {
    let (tx, mut peers) = events();
    let dir = tempfile::tempdir().unwrap();
    // The temp dir's random name keeps the abstract name unique to this run.
    let name = format!("h2grpc-peer-{}", dir.path().file_name().unwrap().to_string_lossy());
    let server = builder(vec![who(tx)], |_| {}).bind_unix_abstract(&name).unwrap();
    let server = Running::spawn(server);
    let peer = peer_seen_by_handler(&server.target, &mut peers).await;
    assert_is_this_process(&peer, "abstract unix socket");
    server.stop().await;
}

#[tokio::test]
async fn over_tcp_the_handler_sees_a_loopback_address_and_no_credentials() {
    let (tx, mut peers) = events();
    let server = spawn_with(Transport::Tcp, vec![who(tx)], |_| {});
    let peer = peer_seen_by_handler(&server.target, &mut peers).await;
    let addr = peer.addr().unwrap_or_else(|| panic!("no address for a TCP peer: {peer:?}"));
    assert!(addr.ip().is_loopback() && addr.port() != 0, "{addr}");
    assert_eq!((peer.uid(), peer.gid(), peer.pid()), (None, None, None), "{peer:?}");
    server.stop().await;
}
