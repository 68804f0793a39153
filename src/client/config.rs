//! [`ClientConfig`]: what a [`ChannelBuilder`](super::ChannelBuilder) sets, shared by the
//! channel's clones, connections and calls.

use std::sync::Arc;
use std::time::Duration;

use super::balance::{Policy, Resolver};
use super::intercept::Interceptors;
use super::retry_policy::RetryConfig;
use crate::call::settings::{CallSettings, H2Settings};

/// grpc's MIN_CONNECT_TIMEOUT (connection-backoff.md).
const MIN_CONNECT_TIMEOUT: Duration = Duration::from_secs(20);

/// Limits, HTTP/2 settings and reconnection policy of a [`Channel`](super::Channel).
#[derive(Clone, Debug)]
pub(crate) struct ClientConfig {
    /// What each call reads: message limits, the encoding it sends, the trace.
    pub(super) calls: CallSettings,
    /// The HTTP/2 settings the server's builder has too.
    pub(super) h2: H2Settings,
    pub(super) connect_timeout: Duration,
    pub(super) backoff_initial: Option<Duration>,
    pub(super) backoff_max: Option<Duration>,
    pub(super) policy: Policy,
    pub(super) resolver: Option<Arc<dyn Resolver>>,
    pub(super) min_resolve_interval: Duration,
    pub(super) resolve_refresh: Duration,
    pub(super) retry: RetryConfig,
    /// Run on every call's options, in order (see
    /// [`ChannelBuilder::intercept`](super::ChannelBuilder::intercept)).
    pub(super) interceptors: Interceptors,
    pub(super) keepalive_interval: Option<Duration>,
    pub(super) keepalive_timeout: Duration,
    pub(super) keepalive_while_idle: bool,
    /// TLS on every connection (see [`ChannelBuilder::tls`](super::ChannelBuilder::tls)).
    #[cfg(feature = "tls")]
    pub(super) tls: Option<crate::transport::tls::ClientTls>,
}

impl Default for ClientConfig {
    fn default() -> ClientConfig {
        ClientConfig {
            calls: CallSettings::default(),
            h2: H2Settings::default(),
            connect_timeout: MIN_CONNECT_TIMEOUT,
            backoff_initial: None,
            backoff_max: None,
            policy: Policy::PickFirst,
            resolver: None,
            min_resolve_interval: Duration::from_secs(30),
            resolve_refresh: Duration::from_secs(60),
            retry: RetryConfig::default(),
            interceptors: Interceptors::default(),
            keepalive_interval: None,
            keepalive_timeout: Duration::from_secs(20),
            keepalive_while_idle: false,
            #[cfg(feature = "tls")]
            tls: None,
        }
    }
}
