//! Shared test support: a server on a Unix socket in a temp dir, bound before it is spawned.

use std::path::PathBuf;

use bytes::Bytes;
use h2grpc::client::Channel;
use h2grpc::server::{Server, ShutdownHandle};
use h2grpc::{Error, Service};
use tokio::task::JoinHandle;

/// The test messages: a payload and a request for `count` payloads of `size` bytes.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct Payload {
    #[prost(bytes = "bytes", tag = "1")]
    pub data: Bytes,
}

#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct StreamReq {
    #[prost(uint32, tag = "1")]
    pub count: u32,
    #[prost(uint32, tag = "2")]
    pub size: u32,
}

pub(crate) fn payload(len: usize) -> Payload {
    Payload { data: Bytes::from((0..len).map(|i| (i % 251) as u8).collect::<Vec<u8>>()) }
}

pub(crate) struct TestServer {
    #[allow(dead_code)] // used by the stale-socket and shutdown tests
    pub(crate) path: PathBuf,
    pub(crate) target: String,
    pub(crate) shutdown: ShutdownHandle,
    pub(crate) task: JoinHandle<Result<(), Error>>,
    _dir: tempfile::TempDir,
}

impl TestServer {
    pub(crate) async fn channel(&self) -> Channel {
        Channel::connect(&self.target).await.expect("connect to the test server")
    }

    /// Graceful shutdown, waiting for `serve` to return.
    pub(crate) async fn stop(self) {
        self.shutdown.shutdown();
        self.task.await.expect("server task").expect("serve");
    }
}

/// Which transport a test runs over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Transport {
    Unix,
    Tcp,
}

pub(crate) const TRANSPORTS: [Transport; 2] = [Transport::Unix, Transport::Tcp];

/// Binds a Unix socket in a fresh temp dir, then spawns `serve`: clients may connect at once.
#[allow(dead_code)] // for tests that only make sense over a Unix socket
pub(crate) fn spawn_unix(services: Vec<Service>) -> TestServer {
    spawn_with(Transport::Unix, services, |_| {})
}

/// Binds over `transport` (TCP: 127.0.0.1, any free port) with `configure` applied to the
/// builder, then spawns `serve`.
pub(crate) fn spawn_with(
    transport: Transport,
    services: Vec<Service>,
    configure: impl FnOnce(&mut h2grpc::server::Builder),
) -> TestServer {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("test.sock");
    let mut builder = Server::builder();
    for service in services {
        builder.add_service(service);
    }
    configure(&mut builder);
    let server = match transport {
        Transport::Unix => builder.bind_unix(&path).expect("bind unix"),
        Transport::Tcp => builder.bind_tcp("127.0.0.1:0").expect("bind tcp"),
    };
    let target = server.local_target().expect("bound").to_string();
    let shutdown = server.shutdown_handle();
    let task = tokio::spawn(server.serve());
    TestServer { target, path, shutdown, task, _dir: dir }
}
