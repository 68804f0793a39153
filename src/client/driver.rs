//! The task that drives one client connection: `h2`'s connection future until it ends, and,
//! when the channel has keepalive, the pinger beside it. Without keepalive the socket is
//! handed to `h2` as it is and the task is the connection future alone.

use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use bytes::Bytes;
use h2::client::Connection;
use tokio::io::{AsyncRead, AsyncWrite};

use super::keepalive::{self, Keepalive, KeepaliveShared};

/// How long a connection failed by keepalive may take to notice its socket error before it is
/// dropped outright (which fails its streams all the same, with a less telling message).
const KILL_GRACE: Duration = Duration::from_secs(1);

/// Drives `connection` until the PONG of a first PING: the server sends its SETTINGS before it
/// answers a PING, so from then on its limits are known (as grpc-go waits for the server's
/// SETTINGS before a connection is ready). Until they arrive h2 assumes no stream limit, and
/// calls over the server's MAX_CONCURRENT_STREAMS would be refused (REFUSED_STREAM) instead
/// of queued. `Ok(false)`: the connection closed first.
pub(crate) async fn settle<T>(
    connection: &mut Connection<T, Bytes>,
    ping_pong: Option<&mut h2::PingPong>,
) -> Result<bool, h2::Error>
where
    T: AsyncRead + AsyncWrite + Unpin,
{
    let Some(ping_pong) = ping_pong else { return Ok(true) };
    let mut pong = pin!(ping_pong.ping(h2::Ping::opaque()));
    std::future::poll_fn(|cx| {
        if let Poll::Ready(pong) = pong.as_mut().poll(cx) {
            return Poll::Ready(pong.map(|_| true));
        }
        Pin::new(&mut *connection).poll(cx).map(|closed| closed.map(|()| false))
    })
    .await
}

/// The connection task: drives `connection` until it ends and, with `keepalive`, its pinger
/// alongside it.
pub(crate) async fn drive<T>(
    mut connection: Connection<T, Bytes>,
    ping_pong: Option<h2::PingPong>,
    keepalive: Option<(Keepalive, Arc<KeepaliveShared>)>,
) -> Result<(), h2::Error>
where
    T: AsyncRead + AsyncWrite + Unpin,
{
    let (Some((keepalive, shared)), Some(ping_pong)) = (keepalive, ping_pong) else {
        return connection.await;
    };
    let mut pinger = pin!(keepalive.run(ping_pong));
    let mut pinging = true;
    let mut kill_grace: Option<Pin<Box<tokio::time::Sleep>>> = None;
    let result = std::future::poll_fn(|cx| {
        if pinging {
            if let Poll::Ready(failed) = pinger.as_mut().poll(cx) {
                pinging = false;
                if failed {
                    kill_grace = Some(Box::pin(tokio::time::sleep(KILL_GRACE)));
                }
            }
        }
        if let Poll::Ready(result) = Pin::new(&mut connection).poll(cx) {
            return Poll::Ready(result);
        }
        if let Some(sleep) = &mut kill_grace {
            if sleep.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Ok(()));
            }
        }
        Poll::Pending
    })
    .await;
    if let Err(err) = &result {
        keepalive::connection_ended(&shared, err);
    }
    result
}
