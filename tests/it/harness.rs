//! Helpers for the lifecycle tests (cancel, deadline, shutdown, reconnect, concurrency, socket,
//! peer): servers bound at a path the test chooses, event channels that fail instead of
//! hanging, and a timer guard.

use std::future::Future;
use std::path::Path;
use std::time::Duration;

use h2grpc::server::{Builder, Server, ShutdownHandle};
use h2grpc::{Error, Service};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// How long a test waits for something that should happen at once before it fails: far above
/// any latency a loaded 2-core machine shows, far below a hung test.
pub(crate) const PATIENCE: Duration = Duration::from_secs(10);

/// A served server: its target and the handles to stop it and to see `serve` return.
pub(crate) struct Running {
    pub(crate) target: String,
    pub(crate) shutdown: ShutdownHandle,
    pub(crate) task: JoinHandle<Result<(), Error>>,
}

impl Running {
    /// Spawns `serve` on an already-bound server: clients may connect at once.
    pub(crate) fn spawn(server: Server) -> Running {
        let target = server.local_target().expect("a bound server").to_string();
        let shutdown = server.shutdown_handle();
        Running { target, shutdown, task: tokio::spawn(server.serve()) }
    }

    /// Graceful shutdown; waits for `serve` to return and checks it returned `Ok`.
    pub(crate) async fn stop(self) {
        self.shutdown.shutdown();
        within(PATIENCE, "serve() to return after shutdown", self.task)
            .await
            .expect("the server task panicked")
            .expect("serve() failed");
    }
}

/// A builder with `services` added and `configure` applied.
pub(crate) fn builder(services: Vec<Service>, configure: impl FnOnce(&mut Builder)) -> Builder {
    let mut builder = Server::builder();
    for service in services {
        builder.add_service(service);
    }
    configure(&mut builder);
    builder
}

/// Binds a Unix socket at `path` (the caller owns the directory) and serves it.
pub(crate) fn serve_unix_at(path: &Path, services: Vec<Service>) -> Running {
    Running::spawn(builder(services, |_| {}).bind_unix(path).expect("bind unix"))
}

/// Awaits `fut`, failing the test with `what` if it takes longer than `limit`.
pub(crate) async fn within<F: Future>(limit: Duration, what: &str, fut: F) -> F::Output {
    match tokio::time::timeout(limit, fut).await {
        Ok(out) => out,
        Err(_) => panic!("timed out after {limit:?} waiting for {what}"),
    }
}

/// Events a handler reports to its test, in order.
pub(crate) struct Events<T>(mpsc::UnboundedReceiver<T>);

/// A sender for handlers (cheap to clone into each call) and the test's receiving end.
pub(crate) fn events<T>() -> (mpsc::UnboundedSender<T>, Events<T>) {
    let (tx, rx) = mpsc::unbounded_channel();
    (tx, Events(rx))
}

impl<T> Events<T> {
    /// The next event; fails the test if none comes within [`PATIENCE`].
    pub(crate) async fn next(&mut self, what: &str) -> T {
        within(PATIENCE, what, self.0.recv()).await.expect("every event sender was dropped")
    }
}
