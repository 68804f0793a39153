//! [`Host`]: what the balancer needs from the channel that holds it, named as a trait so that
//! `balance/` does not import the channel (nor its connections), which import it.

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;

use super::Balancer;
use crate::error::Error;
use crate::transport::Address;

/// The channel's shared state, as the balancer and the tasks it spawns see it. The tasks hold
/// it weakly, so that dropping the channel's last clone ends them.
pub(crate) trait Host: Send + Sync + Sized + 'static {
    /// A live connection.
    type Conn: Link;

    /// The balancer this host holds.
    fn balancer(&self) -> &Balancer<Self>;

    /// Dials `address` and makes the HTTP/2 handshake, within the longer of the connect
    /// timeout and `backoff`.
    fn dial(
        &self,
        address: &Address,
        backoff: Duration,
    ) -> impl Future<Output = Result<Self::Conn, Error>> + Send;
}

/// A live connection as the balancer sees it.
pub(crate) trait Link: Clone + Send + Sync + 'static {
    /// `true` once the connection has ended, or was found unusable.
    fn is_closed(&self) -> bool;

    /// Changes to `true` when the connection ends.
    fn closed_watch(&self) -> watch::Receiver<bool>;
}
