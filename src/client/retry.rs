//! One call's retries (gRFC A6): the server's pushback, whether and when an attempt is sent
//! again. The policies and the channel's settings are in `retry_policy.rs`.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;

use super::retry_policy::{RetryPolicy, Throttle};
use super::{CallOptions, Channel};
use crate::metadata::Metadata;
use crate::status::Status;

/// Trailer key by which a server asks for a retry delay, or for no retry (A6 "Pushback").
pub(crate) const PUSHBACK: &str = "grpc-retry-pushback-ms";
/// Request header of a retry: how many attempts came before it.
pub(crate) const PREVIOUS_ATTEMPTS: &str = "grpc-previous-rpc-attempts";

/// What the server's pushback trailer says.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Pushback {
    /// No trailer: the policy's backoff applies.
    None,
    /// Retry after exactly this long.
    After(Duration),
    /// A negative, malformed or repeated value: do not retry.
    Stop,
}

pub(crate) fn pushback(metadata: &Metadata) -> Pushback {
    let mut values = metadata.get_all(PUSHBACK);
    let Some(first) = values.next() else { return Pushback::None };
    if values.next().is_some() {
        return Pushback::Stop;
    }
    match first.trim().parse::<i32>() {
        Ok(ms) if ms >= 0 => Pushback::After(Duration::from_millis(ms as u64)),
        _ => Pushback::Stop,
    }
}

/// Whether `status` ended an attempt that may be retried under `policy`, and after how long;
/// `None` means give up. Counts the failure against the throttle.
pub(crate) fn next_retry(
    policy: &RetryPolicy,
    throttle: Option<&Throttle>,
    status: &Status,
    attempts: u32,
    since_pushback: &mut u32,
) -> Option<Duration> {
    let push = pushback(status.metadata());
    let counts = policy.retryable(status.code()) || push == Pushback::Stop;
    let throttled = counts && throttle.is_some_and(|t| !t.failure());
    if !policy.retryable(status.code()) || throttled || attempts >= policy.max_attempts() {
        return None;
    }
    match push {
        Pushback::Stop => None,
        Pushback::After(delay) => {
            *since_pushback = 0;
            Some(delay)
        }
        Pushback::None => {
            let delay = policy.backoff(*since_pushback);
            *since_pushback += 1;
            Some(delay)
        }
    }
}

/// One call's retry state: attempts made, backoff step, the deadline over all attempts.
pub(crate) struct Retry {
    policy: Option<RetryPolicy>,
    throttle: Option<Arc<Throttle>>,
    deadline: Option<Instant>,
    attempts: u32,
    since_pushback: u32,
}

impl Retry {
    /// The retry state of a call to `path` whose request is `body`: no policy if the request
    /// is larger than the retry buffer (the call is committed from the start).
    pub(crate) fn new(channel: &Channel, path: &str, body: &Bytes, options: &CallOptions) -> Retry {
        Retry::with_limit(channel, path, body.len(), options)
    }

    /// The retry state of a call to `path` that has buffered `buffered` bytes so far.
    pub(crate) fn with_limit(
        channel: &Channel,
        path: &str,
        buffered: usize,
        options: &CallOptions,
    ) -> Retry {
        let config = &channel.inner.config.retry;
        Retry {
            policy: config.policy(path).filter(|_| buffered <= config.buffer_size).cloned(),
            throttle: config.throttle.clone(),
            deadline: options.deadline,
            attempts: 0,
            since_pushback: 0,
        }
    }

    /// The options of the next attempt: a retry carries `grpc-previous-rpc-attempts`.
    pub(crate) fn options<'o>(&mut self, options: &'o CallOptions) -> Cow<'o, CallOptions> {
        self.attempts += 1;
        if self.attempts == 1 {
            return Cow::Borrowed(options);
        }
        let mut options = options.clone();
        let previous = (self.attempts - 1).to_string();
        // A plain ASCII number is always a valid metadata value.
        let _ = options.metadata_mut().insert(PREVIOUS_ATTEMPTS, &previous);
        Cow::Owned(options)
    }

    /// Whether the call may be retried at all.
    pub(crate) fn enabled(&self) -> bool {
        self.policy.is_some()
    }

    pub(crate) fn succeeded<T>(&self, response: T) -> T {
        if let (Some(_), Some(throttle)) = (&self.policy, &self.throttle) {
            throttle.success();
        }
        response
    }

    /// After a failed attempt: `Ok` once it is time to retry, else the status to report.
    pub(crate) async fn failed(&mut self, status: Status, committed: bool) -> Result<(), Status> {
        let Some(policy) = &self.policy else { return Err(status) };
        if committed {
            if policy.retryable(status.code()) {
                if let Some(throttle) = &self.throttle {
                    throttle.failure();
                }
            }
            return Err(status);
        }
        let Some(delay) = next_retry(
            policy,
            self.throttle.as_deref(),
            &status,
            self.attempts,
            &mut self.since_pushback,
        ) else {
            return Err(status);
        };
        let wake = Instant::now() + delay;
        if let Some(deadline) = self.deadline.filter(|d| *d <= wake) {
            tokio::time::sleep_until(deadline.into()).await;
            return Err(Status::deadline_exceeded(format!(
                "deadline exceeded while waiting to retry after attempt {} failed with {}: {}",
                self.attempts,
                status.code().name(),
                status.message()
            )));
        }
        tokio::time::sleep_until(wake.into()).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pushback_parses_a6_values() {
        let mut md = Metadata::new();
        assert_eq!(pushback(&md), Pushback::None);
        md.insert(PUSHBACK, "250").unwrap();
        assert_eq!(pushback(&md), Pushback::After(Duration::from_millis(250)));
        for bad in ["-1", "abc", "99999999999"] {
            let mut md = Metadata::new();
            md.insert(PUSHBACK, bad).unwrap();
            assert_eq!(pushback(&md), Pushback::Stop, "{bad}");
        }
    }
}
