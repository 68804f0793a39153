//! A call's deadline, raced against each wait of the call.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use crate::status::Status;

/// The call's deadline, raced against every wait.
pub(crate) struct Deadline {
    at: Option<Instant>,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl Deadline {
    pub(crate) fn new(at: Option<Instant>) -> Deadline {
        Deadline { at, sleep: None }
    }

    pub(crate) fn passed(&self) -> bool {
        self.at.is_some_and(|at| at <= Instant::now())
    }

    /// Runs `fut` unless the deadline passes first.
    pub(crate) async fn run<F: Future>(&mut self, fut: F) -> Result<F::Output, Status> {
        let mut fut = std::pin::pin!(fut);
        std::future::poll_fn(|cx| match fut.as_mut().poll(cx) {
            Poll::Ready(out) => Poll::Ready(Ok(out)),
            Poll::Pending => self.poll_expired(cx).map(Err),
        })
        .await
    }

    /// DEADLINE_EXCEEDED once the deadline has passed; never without one.
    pub(crate) fn poll_expired(&mut self, cx: &mut Context<'_>) -> Poll<Status> {
        let Some(at) = self.at else { return Poll::Pending };
        let sleep = self.sleep.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(at.into())));
        sleep.as_mut().poll(cx).map(|()| Status::deadline_exceeded("deadline exceeded"))
    }

    /// A CANCELLED that arrives after the deadline is reported as DEADLINE_EXCEEDED
    /// (PROTOCOL-HTTP2.md, "Client Cancellation").
    pub(crate) fn adjust(&self, status: Status) -> Status {
        if status.code() == crate::status::Code::Cancelled && self.passed() {
            Status::deadline_exceeded("deadline exceeded")
        } else {
            status
        }
    }
}
