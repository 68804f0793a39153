//! The [`ChannelBuilder`] settings of name resolution, balancing and retries.

use std::sync::Arc;
use std::time::Duration;

use super::balance::{Policy, Resolver};
use super::channel_builder::ChannelBuilder;
use super::retry_policy::RetryPolicy;
use crate::error::{Error, ErrorKind};

impl ChannelBuilder {
    /// Balances calls with round_robin: every address of the target is kept connected, and
    /// each call goes to the next READY one; an address that fails leaves the rotation until
    /// it reconnects. Default: pick_first.
    ///
    /// ```
    /// let channel = h2grpc::Channel::builder("ipv4:10.0.0.1:50051,10.0.0.2:50051")?
    ///     .round_robin()
    ///     .connect_lazy();
    /// # drop(channel);
    /// # Ok::<(), h2grpc::Error>(())
    /// ```
    pub fn round_robin(&mut self) -> &mut Self {
        self.config.policy = Policy::RoundRobin;
        self
    }

    /// Balances calls with pick_first, the gRPC default: the addresses are tried one at a
    /// time, in the resolver's order, and the first that connects takes every call until its
    /// connection is lost.
    pub fn pick_first(&mut self) -> &mut Self {
        self.config.policy = Policy::PickFirst;
        self
    }

    /// Where addresses come from, instead of the target: a [`Resolver`] of your own (see its
    /// example). The target still names the channel and gives `:authority`. Default: DNS for
    /// `host:port` targets, the listed addresses for `ipv4:`, `ipv6:` and `unix:` targets.
    pub fn resolver(&mut self, resolver: impl Resolver) -> &mut Self {
        self.config.resolver = Some(Arc::new(resolver));
        self
    }

    /// Least time between two resolutions of the target, however often connections are lost.
    /// Default 30 s, as grpc's DNS resolvers.
    pub fn min_resolve_interval(&mut self, value: Duration) -> &mut Self {
        self.config.min_resolve_interval = value;
        self
    }

    /// The target is resolved again this long after the last resolution even when no
    /// connection was lost, so that added addresses (a scaled-up deployment) are found.
    /// Default 60 s.
    pub fn resolve_refresh(&mut self, value: Duration) -> &mut Self {
        self.config.resolve_refresh = value;
        self
    }

    /// The retry policy of every call on the channel (gRFC A6; see [`RetryPolicy`]). Default:
    /// none, calls are not retried (except those the server provably never saw).
    pub fn retry_policy(&mut self, policy: RetryPolicy) -> &mut Self {
        self.config.retry.default = Some(policy);
        self
    }

    /// The retry policy of the calls to one service (`"package.Service"`) or one method
    /// (`"package.Service/Method"`), instead of the channel's.
    ///
    /// ```
    /// use h2grpc::{client::RetryPolicy, Code};
    /// let mut builder = h2grpc::Channel::builder("localhost:50051")?;
    /// builder.method_retry_policy("echo.v1.Echo/Say", RetryPolicy::new(3, &[Code::Unavailable])?);
    /// # Ok::<(), h2grpc::Error>(())
    /// ```
    pub fn method_retry_policy(&mut self, name: &str, policy: RetryPolicy) -> &mut Self {
        let name = name.strip_prefix('/').unwrap_or(name);
        self.config.retry.methods.insert(name.to_owned(), policy);
        self
    }

    /// Retry throttling (gRFC A6): a bucket of `max_tokens` (1 to 1000); each failure that
    /// could be retried takes one, each success gives back `token_ratio` (above 0, three
    /// decimals kept); at or below half full, failures are not retried. Per channel.
    /// Default: no throttling.
    ///
    /// ```
    /// let mut builder = h2grpc::Channel::builder("localhost:50051")?;
    /// builder.retry_throttling(10, 0.1)?;
    /// assert!(builder.retry_throttling(0, 0.1).is_err());
    /// # Ok::<(), h2grpc::Error>(())
    /// ```
    pub fn retry_throttling(
        &mut self,
        max_tokens: u32,
        token_ratio: f64,
    ) -> Result<&mut Self, Error> {
        if !((1..=1000).contains(&max_tokens) && token_ratio > 0.0 && token_ratio.is_finite()) {
            return Err(Error::new(
                ErrorKind::InvalidConfig,
                format!(
                    "retry throttling needs max_tokens from 1 to 1000 and token_ratio above 0 \
                     (got {max_tokens}, {token_ratio})"
                ),
            ));
        }
        self.config.retry.throttling = Some((max_tokens, (token_ratio * 1000.0).floor() / 1000.0));
        Ok(self)
    }

    /// Largest request (in encoded bytes) kept for retrying a call; a bigger one commits the
    /// call at once, so it is not retried. Default 256 KiB, as grpc-go and C-core.
    pub fn retry_buffer_size(&mut self, bytes: usize) -> &mut Self {
        self.config.retry.buffer_size = bytes;
        self
    }
}
