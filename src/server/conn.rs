//! One HTTP/2 connection: the handshake, the accept loop, and graceful or forced shutdown.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;

use tokio::io::{AsyncRead, AsyncWrite};

use super::authority::AuthorityFilter;
use super::{ConnShared, ServerShared};
use crate::transport::Peer;

/// Serves every stream of one connection until the peer leaves or shutdown completes.
///
/// On `drain`, h2 sends GOAWAY (2^31-1), a PING, then the final GOAWAY, and in-flight calls
/// go on. When `drain`'s grace period runs out, the connection is closed abruptly: every call
/// still running sees its stream fail and its cancellation fire.
pub(crate) async fn serve_connection<IO>(io: IO, peer: Peer, server: Arc<ServerShared>)
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let config = &server.config;
    // h2 refuses an `:authority` that is not a URI authority; C-core sends the percent-encoded
    // socket path for unix: targets. The filter hands h2 `localhost` instead.
    let io = AuthorityFilter::new(io, config.max_header_list_size as usize);
    let handshake = config.h2_builder().handshake(io);
    let shutdown = server.shutdown.clone();
    let mut conn = {
        let handshake = tokio::time::timeout(config.handshake_timeout, handshake);
        let drained = shutdown.drain.cancelled();
        let mut handshake = pin!(handshake);
        let mut drained = pin!(drained);
        let done = std::future::poll_fn(|cx| {
            if drained.as_mut().poll(cx).is_ready() {
                return Poll::Ready(None);
            }
            handshake.as_mut().poll(cx).map(|r| r.ok().and_then(Result::ok))
        });
        match done.await {
            Some(conn) => conn,
            // Not HTTP/2, too slow to say so, or the server is shutting down.
            None => return,
        }
    };
    let shared = Arc::new(ConnShared { server: server.clone(), peer });
    let mut drained = pin!(shutdown.drain.cancelled());
    let mut forced = pin!(shutdown.force.cancelled());
    let mut draining = false;
    let mut forcing = false;
    std::future::poll_fn(|cx| loop {
        if !draining && drained.as_mut().poll(cx).is_ready() {
            draining = true;
            conn.graceful_shutdown();
        }
        if !forcing && forced.as_mut().poll(cx).is_ready() {
            forcing = true;
            conn.abrupt_shutdown(h2::Reason::NO_ERROR);
        }
        match conn.poll_accept(cx) {
            Poll::Ready(Some(Ok((request, respond)))) => {
                tokio::spawn(super::call::serve(request, respond, shared.clone()));
            }
            // A connection-level error (h2 already sent GOAWAY) or the end of the connection.
            Poll::Ready(Some(Err(_))) | Poll::Ready(None) => return Poll::Ready(()),
            Poll::Pending => return Poll::Pending,
        }
    })
    .await
}
