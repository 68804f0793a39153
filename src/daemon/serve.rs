//! Serving as a daemon: readiness to the service manager, SIGTERM and SIGINT as graceful
//! shutdown.
//!
//! ```text
//! install SIGTERM, SIGINT handlers     (before READY: a stop right after it is not lost)
//! serve; READY=1                      the listener was bound (or inherited) before this
//! first SIGTERM or SIGINT             STOPPING=1; shutdown: GOAWAY, calls run for the grace
//! second signal                       cancel what is left now
//! grace over                          cancel what is left (the server does it)
//! every connection closed             return Ok: the process exits 0
//! ```

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use tokio::signal::unix::{signal, SignalKind};

use super::notify;
use crate::error::{Error, ErrorKind};
use crate::server::Server;

/// Serves `server` until SIGTERM or SIGINT, then shuts it down gracefully, and tells the
/// service manager both (`READY=1` once serving, `STOPPING=1` at the signal; nothing when
/// `NOTIFY_SOCKET` is unset).
///
/// At the signal the server stops accepting, removes the socket file it created, sends
/// GOAWAY, and lets the calls in flight finish within
/// [`shutdown_grace`](crate::server::Builder::shutdown_grace); then it cancels the rest
/// (their clients get `CANCELLED`). A second signal cancels them at once. Returns `Ok` once
/// every connection is closed, so `main` can return and the process exit 0. Keep the grace
/// below the unit's `TimeoutStopSec=`.
///
/// ```no_run
/// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let service = h2grpc::Service::new("demo.v1.Demo");
/// let server = h2grpc::Server::builder()
///     .add_service(service)
///     .bind_activated_or_unix("grpc", "/run/demo/demo.sock")?;
/// h2grpc::daemon::serve(server).await?;
/// # Ok(()) }
/// ```
pub async fn serve(server: Server) -> Result<(), Error> {
    let cannot = |e| Error::with_source(ErrorKind::Io, "cannot install a signal handler", e);
    let mut term = signal(SignalKind::terminate()).map_err(cannot)?;
    let mut int = signal(SignalKind::interrupt()).map_err(cannot)?;
    let shutdown = server.shutdown_handle();
    let mut serving = tokio::spawn(server.serve());
    // A manager that does not take the notice is no reason to stop serving.
    let _ = notify("READY=1");
    let mut signalled = false;
    loop {
        let event = std::future::poll_fn(|cx| {
            if let Poll::Ready(done) = Pin::new(&mut serving).poll(cx) {
                return Poll::Ready(Some(done));
            }
            if term.poll_recv(cx).is_ready() || int.poll_recv(cx).is_ready() {
                return Poll::Ready(None);
            }
            Poll::Pending
        })
        .await;
        if let Some(done) = event {
            return done
                .map_err(|e| Error::with_source(ErrorKind::Io, "the server task panicked", e))?;
        }
        if signalled {
            shutdown.shutdown_now();
        } else {
            signalled = true;
            let _ = notify("STOPPING=1");
            shutdown.shutdown();
        }
    }
}
