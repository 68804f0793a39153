//! The cancellation signal every server handler gets: usable as a token and as a future.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

/// Fires when a call is cancelled: the client reset the stream, the connection died, the deadline
/// passed, or the server is shutting down past its grace period.
///
/// Cheap to clone; every clone observes the same signal. Await it directly, poll
/// [`is_cancelled`](Cancellation::is_cancelled), or hand a child
/// [`CancellationToken`] to code that already speaks tokio-util.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let cancel = h2grpc::Cancellation::new();
/// let watcher = cancel.clone();
/// let task = tokio::spawn(async move {
///     watcher.await; // resolves once cancelled
///     "stopped"
/// });
/// cancel.cancel();
/// assert_eq!(task.await.unwrap(), "stopped");
/// # }
/// ```
#[derive(Clone, Default)]
pub struct Cancellation {
    token: CancellationToken,
}

impl Cancellation {
    /// A signal that has not fired.
    pub fn new() -> Cancellation {
        Cancellation::default()
    }

    /// Fires the signal. Handlers rarely need this; the library fires it for them.
    pub fn cancel(&self) {
        self.token.cancel();
    }

    /// Whether the signal has fired.
    ///
    /// ```
    /// let c = h2grpc::Cancellation::new();
    /// assert!(!c.is_cancelled());
    /// c.cancel();
    /// assert!(c.is_cancelled());
    /// ```
    pub fn is_cancelled(&self) -> bool {
        self.token.is_cancelled()
    }

    /// A future that resolves once the signal fires; borrows the signal.
    pub async fn cancelled(&self) {
        self.token.cancelled().await
    }

    /// A child [`CancellationToken`] for code built on tokio-util: it is cancelled when this
    /// signal fires, and cancelling it does not fire this signal.
    pub fn child_token(&self) -> CancellationToken {
        self.token.child_token()
    }
}

impl fmt::Debug for Cancellation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cancellation").field("cancelled", &self.is_cancelled()).finish()
    }
}

/// The future returned by awaiting a [`Cancellation`] by value.
pub struct Cancelled {
    inner: Pin<Box<WaitForCancellationFutureOwned>>,
}

impl fmt::Debug for Cancelled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cancelled").finish_non_exhaustive()
    }
}

impl Future for Cancelled {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.inner.as_mut().poll(cx)
    }
}

impl IntoFuture for Cancellation {
    type Output = ();
    type IntoFuture = Cancelled;
    fn into_future(self) -> Cancelled {
        Cancelled { inner: Box::pin(self.token.cancelled_owned()) }
    }
}
