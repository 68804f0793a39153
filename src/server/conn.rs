//! One HTTP/2 connection: the handshake, the accept loop, and graceful or forced shutdown.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;

use tokio::io::{AsyncRead, AsyncWrite};

use super::lifetime::{Calls, Lifetime, Verdict};
use super::{ConnShared, ServerShared, ShutdownSignal};
use crate::h2fix::AuthorityFilter;
use crate::trace::{Direction, Payload, Side, Trace};
use crate::transport::Peer;

/// How long calls cut off at the end of the grace period have to send their CANCELLED
/// trailers before the connection is closed under them.
const FORCE_FLUSH: std::time::Duration = std::time::Duration::from_millis(100);

fn go_away(trace: &Trace, direction: Direction, reason: h2::Reason) {
    trace.connection(Side::Server, direction, Payload::GoAway { reason });
}

/// Serves every stream of one connection until the peer leaves or shutdown completes.
///
/// On `drain`, h2 sends GOAWAY (2^31-1), a PING, then the final GOAWAY, and in-flight calls
/// go on. When `drain`'s grace period runs out, every call still running ends with CANCELLED
/// (its cancellation fires), and the connection closes once their trailers are out, or
/// after `FORCE_FLUSH` at the latest. The connection's own limits
/// (idle time, age and its grace, see `lifetime.rs`) drain and close it the same way.
pub(crate) async fn serve_connection<IO>(io: IO, peer: Peer, server: Arc<ServerShared>)
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let config = &server.config;
    // h2 refuses an `:authority` that is not a URI authority (hyperium/h2#487). C-core derives
    // it from its target: the percent-encoded socket path for unix: targets, and over TCP the
    // one of an `ipv4:` list of addresses, which h2 refuses as well (tests/balancing_peers.rs fails without the
    // filter on TCP). The filter (`crate::h2fix`) hands h2 `localhost`
    // instead, on every connection.
    let io = AuthorityFilter::new(
        io,
        config.h2_header_list_size() as usize,
        config.h2.max_frame_size as usize,
    );
    let breakdown = io.breakdown();
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
    let force = shutdown.force.child_token();
    let shared = Arc::new(ConnShared { server: server.clone(), peer, force });
    let calls = Arc::new(Calls::default());
    let mut lifetime = Lifetime::new(config.limits);
    let trace = &server.config.calls.trace;
    // Polled once, with this task's waker, so that a shutdown wakes the task; from then on the
    // stage is read instead: an atomic load, where polling the two futures took their locks on
    // every wake-up (every frame).
    let mut drained = pin!(shutdown.drain.cancelled());
    let mut forced = pin!(shutdown.force.cancelled());
    let mut registered = false;
    let mut draining = false;
    let mut forcing = false;
    let mut broken = false;
    let mut flush_deadline: Option<std::pin::Pin<Box<tokio::time::Sleep>>> = None;
    std::future::poll_fn(|cx| loop {
        if !registered {
            registered = true;
            let _ = (drained.as_mut().poll(cx), forced.as_mut().poll(cx));
        }
        let stage = shutdown.stage();
        if !draining && stage >= ShutdownSignal::DRAINING {
            draining = true;
            conn.graceful_shutdown();
            go_away(trace, Direction::Send, h2::Reason::NO_ERROR);
        }
        if stage >= ShutdownSignal::FORCED && !forcing {
            // The calls end themselves with CANCELLED (their trailers go out, and h2 closes
            // the drained connection once its streams are done); a peer that does not let
            // them go out gets the connection closed after FORCE_FLUSH.
            let flush =
                flush_deadline.get_or_insert_with(|| Box::pin(tokio::time::sleep(FORCE_FLUSH)));
            if flush.as_mut().poll(cx).is_ready() {
                forcing = true;
                conn.abrupt_shutdown(h2::Reason::NO_ERROR);
                go_away(trace, Direction::Send, h2::Reason::NO_ERROR);
            }
        }
        if !broken {
            if let Some(reason) = breakdown.reason() {
                // The :authority filter can no longer follow the client's header blocks.
                broken = true;
                conn.abrupt_shutdown(reason);
                go_away(trace, Direction::Send, reason);
            }
        }
        while let Some(verdict) = lifetime.poll(cx, &calls) {
            match verdict {
                Verdict::Drain if !draining => {
                    draining = true;
                    conn.graceful_shutdown();
                    go_away(trace, Direction::Send, h2::Reason::NO_ERROR);
                }
                Verdict::Close if !forcing => {
                    forcing = true;
                    conn.abrupt_shutdown(h2::Reason::NO_ERROR);
                    go_away(trace, Direction::Send, h2::Reason::NO_ERROR);
                }
                _ => {}
            }
        }
        match conn.poll_accept(cx) {
            Poll::Ready(Some(Ok((request, respond)))) => {
                // Counted only when the idle limit needs it.
                let call = config.limits.max_idle.map(|_| calls.enter());
                // Boxed: the task then holds a pointer, and tokio's spawn moves that instead
                // of the whole call future (~1 KiB) several times.
                let serve = Box::pin(super::call::serve(request, respond, shared.clone()));
                tokio::spawn(async move {
                    serve.await;
                    drop(call);
                });
            }
            // A connection-level error (h2 already sent GOAWAY) or the end of the connection.
            Poll::Ready(Some(Err(err))) => {
                if let (true, Some(reason)) = (err.is_go_away(), err.reason()) {
                    let direction = if err.is_remote() { Direction::Recv } else { Direction::Send };
                    go_away(trace, direction, reason);
                }
                return Poll::Ready(());
            }
            Poll::Ready(None) => return Poll::Ready(()),
            Poll::Pending => return Poll::Pending,
        }
    })
    .await
}
