//! One HTTP/2 connection of a channel: dialling an [`Address`], the handshake, and the task
//! that drives the connection until it ends.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use h2::client::SendRequest;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;

use super::driver;
use super::inner::Inner;
use super::keepalive::{Calls, Keepalive};
use crate::error::{Error, ErrorKind};
use crate::trace::{Direction, Payload, Side};
use crate::transport::Address;

/// What a failed cleartext HTTP/2 handshake suggests.
const NOT_GRPC_HINT: &str = if cfg!(feature = "tls") {
    "is it a gRPC server? (one that speaks TLS needs an https:// target or ChannelBuilder::tls)"
} else {
    "is it a gRPC server?"
};

/// A live connection, shared by the calls on it.
#[derive(Clone)]
pub(crate) struct Conn {
    pub(crate) send: SendRequest<Bytes>,
    /// `true` once the connection has ended, or was found unusable.
    closed: Arc<watch::Sender<bool>>,
    /// The calls in flight, counted only when keepalive needs to know.
    pub(crate) calls: Option<Arc<Calls>>,
}

impl Conn {
    pub(crate) fn is_closed(&self) -> bool {
        *self.closed.borrow()
    }

    /// Marks the connection unusable: no new call goes on it, and its subchannel reconnects.
    /// Calls already on it go on until they end.
    pub(crate) fn forget(&self) {
        self.closed.send_replace(true);
    }

    pub(crate) fn closed_watch(&self) -> watch::Receiver<bool> {
        self.closed.subscribe()
    }
}

impl Inner {
    /// Dials `address` and makes the HTTP/2 handshake, within the longer of `connect_timeout`
    /// and `backoff` (connection-backoff.md: an attempt may run until the next one is due, and
    /// at least MIN_CONNECT_TIMEOUT).
    pub(crate) async fn establish(
        &self,
        address: &Address,
        backoff: Duration,
    ) -> Result<Conn, Error> {
        let limit = self.config.connect_timeout.max(backoff);
        let attempt = async {
            let io = crate::transport::dial(address).await?;
            #[cfg(feature = "tls")]
            if let Some(tls) = &self.config.tls {
                let io = tls.connect_to(io, &self.target, &self.config.calls.trace).await?;
                return self.handshake(io).await;
            }
            self.handshake(io).await
        };
        match tokio::time::timeout(limit, attempt).await {
            Ok(result) => result,
            Err(_) => Err(Error::new(
                ErrorKind::Connect,
                format!(
                    "connecting to {address} took longer than {limit:?}; is the server overloaded?"
                ),
            )),
        }
    }

    /// The HTTP/2 handshake over `io`, and the task that drives the connection (and its
    /// keepalive PINGs, when configured: only then is the socket watched).
    pub(crate) async fn handshake<IO>(&self, io: IO) -> Result<Conn, Error>
    where
        IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        match self.keepalive.for_connection() {
            Some(keepalive) => self.start(keepalive.watch(io), Some(keepalive)).await,
            None => self.start(io, None).await,
        }
    }

    async fn start<IO>(&self, io: IO, keepalive: Option<Keepalive>) -> Result<Conn, Error>
    where
        IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let config = &self.config;
        let builder = config.h2.client_builder();
        let handshake_failed = |err: h2::Error| {
            #[cfg(feature = "tls")]
            if let Some(why) =
                config.tls.as_ref().and_then(|_| crate::transport::tls::describe_h2_error(&err))
            {
                let message = format!("TLS with {} failed: {why}", self.target);
                return Error::new(ErrorKind::Tls, message);
            }
            Error::with_source(
                ErrorKind::Handshake,
                format!("HTTP/2 handshake with {} failed: {}", self.target, NOT_GRPC_HINT),
                err,
            )
        };
        let (send, mut connection) =
            builder.handshake::<_, Bytes>(io).await.map_err(handshake_failed)?;
        let mut ping_pong = connection.ping_pong();
        // h2's handshake only writes our preface: wait for the server's SETTINGS.
        match driver::settle(&mut connection, ping_pong.as_mut()).await {
            Ok(true) => {}
            Ok(false) => {
                let message = format!("{} closed the connection during the handshake", self.target);
                return Err(Error::new(ErrorKind::Handshake, message));
            }
            Err(err) => return Err(handshake_failed(err)),
        }
        let calls = keepalive.as_ref().map(|keepalive| keepalive.calls().clone());
        let closed = Arc::new(watch::Sender::new(false));
        let flag = closed.clone();
        let keepalive = keepalive.map(|keepalive| (keepalive, self.keepalive.clone()));
        let trace = self.config.calls.trace.clone();
        tokio::spawn(async move {
            if let Err(err) = driver::drive(connection, ping_pong, keepalive).await {
                if let (true, Some(reason)) = (err.is_go_away(), err.reason()) {
                    let direction = if err.is_remote() { Direction::Recv } else { Direction::Send };
                    trace.connection(Side::Client, direction, Payload::GoAway { reason });
                }
            }
            flag.send_replace(true);
        });
        Ok(Conn { send, closed, calls })
    }
}
