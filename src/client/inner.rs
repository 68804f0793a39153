//! [`Inner`]: what every clone of a [`Channel`](super::Channel) shares. It names only what it
//! holds: the channel's calls, connections and balancer use it, not the other way round.

use std::sync::Arc;

use http::uri::Authority;

use super::balance::Balancer;
use super::config::ClientConfig;
use super::keepalive::KeepaliveShared;
use crate::transport::Target;

pub(crate) struct Inner {
    pub(crate) target: Target,
    /// `:authority` of every call.
    pub(crate) authority: Authority,
    pub(crate) config: ClientConfig,
    pub(crate) balancer: Balancer<Inner>,
    pub(crate) keepalive: Arc<KeepaliveShared>,
}
