//! [`RetryPolicy`] (gRFC A6): which failed calls are sent again, when, and how often; the
//! channel's retry settings ([`RetryConfig`]) and its retry throttle ([`Throttle`]). What one
//! call does with them is in `retry.rs`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::balance::jittered;
use crate::error::{Error, ErrorKind};
use crate::status::Code;

/// The most attempts a policy may ask for (A6; C-core, grpc-go and grpc-java all cap at 5).
pub const MAX_ATTEMPTS: u32 = 5;

/// When a failed call is sent again, as gRFC A6 defines it.
///
/// A call is retried only while it is not committed: the server sent no response headers
/// (a Trailers-Only failure, or the connection broke first), and the request fitted in the
/// retry buffer ([`ChannelBuilder::retry_buffer_size`](crate::client::ChannelBuilder::retry_buffer_size),
/// 256 KiB per call). Retry `n` waits `min(initial × multiplier^(n-1), max)` × uniform(0.8,
/// 1.2), or exactly the server's `grpc-retry-pushback-ms`. The call's deadline covers every
/// attempt. Each retry carries `grpc-previous-rpc-attempts`. Every call kind is retried: a
/// server-streaming call under a policy returns once its response headers came; a client- or
/// bidi-streaming call keeps the request bytes it sent (up to the retry buffer) and replays
/// them on the new attempt, which happens when its response side is read. Hedging is not
/// supported
/// (neither C-core nor grpc-go has it). A `RetryInfo` detail in the error
/// (`Status::retry_delay`, feature `error-details`) does not drive retries: grpc-go's retry code reads only the
/// pushback trailer, and so does this one.
///
/// ```
/// use std::time::Duration;
/// use h2grpc::client::RetryPolicy;
/// use h2grpc::Code;
///
/// let policy = RetryPolicy::new(4, &[Code::Unavailable])?
///     .initial_backoff(Duration::from_millis(100))
///     .max_backoff(Duration::from_secs(1))
///     .backoff_multiplier(2.0);
/// let channel = h2grpc::Channel::builder("ipv4:10.0.0.1:50051,10.0.0.2:50051")?
///     .round_robin()
///     .retry_policy(policy)
///     .connect_lazy();
/// # drop(channel);
/// # Ok::<(), h2grpc::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    multiplier: f64,
    codes: Vec<Code>,
}

impl RetryPolicy {
    /// At most `max_attempts` attempts in all (the first call counts; more than 5 is taken as
    /// 5), for failures with one of `codes`. Backoff defaults: initial 100 ms, max 1 s,
    /// multiplier 2. Fails if `max_attempts` < 2 or `codes` is empty, as A6's validation does.
    pub fn new(max_attempts: u32, codes: &[Code]) -> Result<RetryPolicy, Error> {
        if max_attempts < 2 {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                format!("a retry policy needs max_attempts of at least 2 (got {max_attempts})"),
            ));
        }
        if codes.is_empty() {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                "a retry policy needs at least one retryable status code, e.g. Code::Unavailable",
            ));
        }
        Ok(RetryPolicy {
            max_attempts: max_attempts.min(MAX_ATTEMPTS),
            initial_backoff: Duration::from_millis(100),
            max_backoff: Duration::from_secs(1),
            multiplier: 2.0,
            codes: codes.to_vec(),
        })
    }

    /// Wait before the first retry (±20 %). A zero duration is taken as 1 ms.
    pub fn initial_backoff(mut self, value: Duration) -> RetryPolicy {
        self.initial_backoff = value.max(Duration::from_millis(1));
        self
    }

    /// Longest wait between retries (±20 %). A zero duration is taken as 1 ms.
    pub fn max_backoff(mut self, value: Duration) -> RetryPolicy {
        self.max_backoff = value.max(Duration::from_millis(1));
        self
    }

    /// Growth of the wait per retry. A value that is not above zero is taken as 1.
    pub fn backoff_multiplier(mut self, value: f64) -> RetryPolicy {
        self.multiplier = if value > 0.0 && value.is_finite() { value } else { 1.0 };
        self
    }

    /// The number of attempts, the first included (at most [`MAX_ATTEMPTS`]).
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }

    pub(crate) fn retryable(&self, code: Code) -> bool {
        self.codes.contains(&code)
    }

    /// The wait before retry `n + 1` counted since the last pushback (n = 0 first).
    pub(crate) fn backoff(&self, n: u32) -> Duration {
        let base = self.initial_backoff.as_secs_f64() * self.multiplier.powi(n.min(64) as i32);
        jittered(Duration::from_secs_f64(base.min(self.max_backoff.as_secs_f64())))
    }
}

/// A6 retry throttling: a token bucket per channel.
#[derive(Debug)]
pub(crate) struct Throttle {
    /// In thousandths of a token, as C-core keeps them.
    max: u32,
    ratio: u32,
    tokens: Mutex<u32>,
}

impl Throttle {
    pub(crate) fn new(max_tokens: u32, token_ratio: f64) -> Throttle {
        let max = max_tokens * 1000;
        Throttle { max, ratio: (token_ratio * 1000.0) as u32, tokens: Mutex::new(max) }
    }

    /// A failure that counts: takes a token; `true` if retries are still allowed.
    pub(crate) fn failure(&self) -> bool {
        let mut tokens = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        *tokens = tokens.saturating_sub(1000);
        *tokens > self.max / 2
    }

    pub(crate) fn success(&self) {
        let mut tokens = self.tokens.lock().unwrap_or_else(|p| p.into_inner());
        *tokens = (*tokens + self.ratio).min(self.max);
    }
}

/// The channel's retry settings, from the builder.
#[derive(Clone, Debug)]
pub(crate) struct RetryConfig {
    pub(crate) default: Option<RetryPolicy>,
    /// By `package.Service` or `package.Service/Method`.
    pub(crate) methods: HashMap<String, RetryPolicy>,
    pub(crate) throttling: Option<(u32, f64)>,
    pub(crate) buffer_size: usize,
    /// Shared by the channel's clones; made anew for each channel built.
    pub(crate) throttle: Option<Arc<Throttle>>,
}

impl Default for RetryConfig {
    fn default() -> RetryConfig {
        RetryConfig {
            default: None,
            methods: HashMap::new(),
            throttling: None,
            buffer_size: 256 * 1024,
            throttle: None,
        }
    }
}

impl RetryConfig {
    /// The policy of the call to `path` (`/package.Service/Method`): the method's, else the
    /// service's, else the channel's.
    pub(crate) fn policy(&self, path: &str) -> Option<&RetryPolicy> {
        let name = path.strip_prefix('/').unwrap_or(path);
        let service = name.split_once('/').map_or(name, |(service, _)| service);
        self.methods.get(name).or_else(|| self.methods.get(service)).or(self.default.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_validation_and_cap_follow_a6() {
        assert!(RetryPolicy::new(1, &[Code::Unavailable]).is_err());
        assert!(RetryPolicy::new(3, &[]).is_err());
        assert_eq!(RetryPolicy::new(10, &[Code::Unavailable]).unwrap().max_attempts(), 5);
    }

    #[test]
    fn backoff_grows_by_the_multiplier_within_twenty_percent_and_caps() {
        let p = RetryPolicy::new(5, &[Code::Unavailable])
            .unwrap()
            .initial_backoff(Duration::from_millis(100))
            .max_backoff(Duration::from_secs(1))
            .backoff_multiplier(2.0);
        for (n, nominal) in [(0, 0.1), (1, 0.2), (2, 0.4), (5, 1.0)] {
            let d = p.backoff(n).as_secs_f64();
            assert!(d >= nominal * 0.8 - 1e-9 && d <= nominal * 1.2 + 1e-9, "{n}: {d}");
        }
    }

    #[test]
    fn throttling_ten_tokens_allows_four_retries_not_the_fifth() {
        let t = Throttle::new(10, 0.1);
        let allowed: Vec<bool> = (0..5).map(|_| t.failure()).collect();
        assert_eq!(allowed, [true, true, true, true, false]);
        for _ in 0..20 {
            t.success();
        }
        assert!(t.failure(), "successes refill the bucket");
    }

    #[test]
    fn method_policy_overrides_service_overrides_channel() {
        let p = |n| RetryPolicy::new(n, &[Code::Unavailable]).unwrap();
        let mut c = RetryConfig { default: Some(p(2)), ..RetryConfig::default() };
        c.methods.insert("a.S".into(), p(3));
        c.methods.insert("a.S/M".into(), p(4));
        assert_eq!(c.policy("/a.S/M").unwrap().max_attempts(), 4);
        assert_eq!(c.policy("/a.S/N").unwrap().max_attempts(), 3);
        assert_eq!(c.policy("/b.T/M").unwrap().max_attempts(), 2);
    }
}
