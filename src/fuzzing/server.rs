//! `server_conn`: a [`Script`] played by a client against a real server over an in-memory
//! duplex.
//!
//! The server runs the `fuzz.Echo` service (one method per call kind, one that waits for
//! cancellation, one that fails with details and trailers). After the script the client
//! closes its side; the oracle is that nothing panics, the connection task ends, and every
//! call's task ends too (counted with the server's live-call hook): no hang, no leak.

use std::time::Duration;

use tokio::task::JoinHandle;

use super::player::Player;
use super::script::Script;
use crate::server::{CallContext, Service};
use crate::server::{RequestStream, ResponseSink, Server, ShutdownHandle};
use crate::status::{Code, Status};
use crate::transport::Peer;

/// The methods of the fuzz service, by `:path`.
pub const METHODS: [&str; 6] = [
    "/fuzz.Echo/Unary",
    "/fuzz.Echo/ServerStream",
    "/fuzz.Echo/ClientStream",
    "/fuzz.Echo/Bidi",
    "/fuzz.Echo/Wait",
    "/fuzz.Echo/Fail",
];

/// How long the server may take to wind down once the client has left.
const WATCHDOG: Duration = Duration::from_secs(10);

/// Copies the request's text metadata into response headers (whatever the API accepts).
fn echo_metadata(ctx: &CallContext) {
    for (key, value) in ctx.metadata().iter() {
        if let Ok(value) = value.to_str() {
            let _ = ctx.set_header(key, value);
            let _ = ctx.set_trailer(key, value);
        }
    }
}

/// The `fuzz.Echo` service `server_conn` runs (also used to capture real exchanges as seeds).
pub fn service() -> Service {
    Service::new("fuzz.Echo")
        .unary("Unary", |ctx: CallContext, req: Vec<u8>| async move {
            echo_metadata(&ctx);
            Ok::<_, Status>(req)
        })
        .server_streaming(
            "ServerStream",
            |_ctx, req: Vec<u8>, mut sink: ResponseSink<Vec<u8>>| async move {
                // [count, size (u16)]: at most 7 messages of at most 64 KiB.
                let count = req.first().map_or(0, |c| c % 8);
                let size = usize::from(u16::from_be_bytes([
                    req.get(1).copied().unwrap_or(0),
                    req.get(2).copied().unwrap_or(0),
                ]));
                for _ in 0..count {
                    sink.send(vec![0x5a; size]).await?;
                }
                Ok(())
            },
        )
        .client_streaming("ClientStream", |_ctx, mut reqs: RequestStream<Vec<u8>>| async move {
            let mut total = 0u64;
            while let Some(m) = reqs.message().await? {
                total += m.len() as u64;
            }
            Ok::<_, Status>(total)
        })
        .bidi_streaming(
            "Bidi",
            |_ctx, mut reqs: RequestStream<Vec<u8>>, mut sink: ResponseSink<Vec<u8>>| async move {
                while let Some(m) = reqs.message().await? {
                    sink.send(m).await?;
                }
                Ok(())
            },
        )
        .unary("Wait", |ctx: CallContext, _req: Vec<u8>| async move {
            ctx.cancelled().await;
            Err::<Vec<u8>, _>(Status::cancelled("the call was cancelled"))
        })
        .unary("Fail", |ctx: CallContext, req: Vec<u8>| async move {
            echo_metadata(&ctx);
            let message = String::from_utf8_lossy(&req).into_owned();
            Err::<Vec<u8>, _>(Status::with_details(Code::Aborted, message, req))
        })
}

/// The header fields of a well-formed request for `path`.
pub(crate) fn request_fields(path: &str) -> [(&str, &str); 6] {
    [
        (":method", "POST"),
        (":scheme", "http"),
        (":authority", "localhost"),
        (":path", path),
        ("content-type", "application/grpc"),
        ("te", "trailers"),
    ]
}

/// The server every `server_conn` run talks to: the fuzz service, default limits except a
/// 64 KiB receive limit (so messages at the limit are cheap to reach).
pub(crate) fn fuzz_server() -> Server {
    Server::builder()
        .add_service(service())
        .max_recv_message_len(64 * 1024)
        .handshake_timeout(Duration::from_secs(5))
        .build_unbound()
}

/// Waits until `live` reports no call left, or panics after the watchdog. Yields rather than
/// sleeps: the call tasks are on this runtime and end within a few polls of the client leaving.
pub(crate) async fn calls_end(live: &ShutdownHandle, what: &str) {
    let waited = tokio::time::timeout(WATCHDOG, async {
        while live.live_calls() > 0 {
            tokio::task::yield_now().await;
        }
    });
    if waited.await.is_err() {
        panic!(
            "{what}: {} call task(s) still alive {WATCHDOG:?} after the client left",
            live.live_calls()
        );
    }
}

/// Whether a task died of h2's `Counts::drop` debug assertion (`!self.has_streams()`, h2
/// 0.4.20 `proto/streams/counts.rs`): it fires when h2's stream store is freed, by the
/// connection or by a call's last stream handle, with a stream still counted, which a
/// client leaving mid-call causes. Debug builds only; upstream calls it spurious
/// (hyperium/h2#907). See `h2_counts_assertion_when_the_connection_goes_before_a_call` in
/// `tests/fuzz_corpus/regressions.rs`. Any other panic of a task still fails the run.
pub(crate) fn h2_counts_assertion(err: &tokio::task::JoinError) -> bool {
    err.is_panic() && err.to_string().contains(H2_COUNTS_ASSERTION)
}

/// The message of the assertion [`h2_counts_assertion`] describes.
const H2_COUNTS_ASSERTION: &str = "assertion failed: !self.has_streams()";

/// Whether a panic hook is seeing that same assertion, raised in h2's own `counts.rs`: the
/// fuzz shims and the corpus replay let it through, and no other panic.
pub fn is_h2_counts_panic(info: &std::panic::PanicHookInfo<'_>) -> bool {
    let in_h2 = info.location().is_some_and(|at| {
        at.file().ends_with("src/proto/streams/counts.rs") && at.file().contains("/h2-")
    });
    let payload = info.payload();
    let message = payload.downcast_ref::<&str>().copied();
    let message = message.or_else(|| payload.downcast_ref::<String>().map(String::as_str));
    in_h2 && message.is_some_and(|m| m.contains(H2_COUNTS_ASSERTION))
}

/// Plays `script` as a client against a fresh server; see the module docs.
pub fn server_conn(script: &Script) {
    play(script);
}

/// `server_conn`, returning how many HEADERS frames the server sent.
fn play(script: &Script) -> usize {
    thread_local! {
        /// Built once: the server's state between inputs is its live-call count, which every
        /// run waits to see back at zero.
        static SERVER: Server = fuzz_server();
    }
    SERVER.with(|server| super::RUNTIME.with(|runtime| runtime.block_on(run(server, script))))
}

async fn run(server: &Server, script: &Script) -> usize {
    {
        let live = server.shutdown_handle();
        let (client, server_io) = tokio::io::duplex(64 * 1024);
        let serving: JoinHandle<()> =
            tokio::spawn(server.serve_connection(server_io, Peer::Unknown));
        let mut player = Player::new(client, 0);
        for action in script.actions() {
            player.play(action).await;
        }
        player.flush().await;
        let finished = tokio::time::timeout(WATCHDOG, player.finish());
        assert!(
            finished.await.is_ok(),
            "the server kept the connection open after the client left"
        );
        match tokio::time::timeout(WATCHDOG, serving).await {
            Ok(Ok(())) => {}
            Ok(Err(err)) if h2_counts_assertion(&err) => {}
            Ok(Err(err)) => panic!("the connection task failed: {err}"),
            Err(_) => panic!("the connection task hung after the client left"),
        }
        calls_end(&live, "server_conn").await;
        player.headers_seen()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(stream: u32, path: &str) -> Vec<(&str, &str)> {
        request_fields(path)
            .into_iter()
            .chain((stream > 1).then_some(("x-stream", "later")))
            .collect()
    }

    #[test]
    fn server_conn_serves_every_method_then_winds_down() {
        let mut script = Script::new().preface().settings(&[]);
        for (i, path) in METHODS.iter().enumerate() {
            let stream = 2 * i as u32 + 1;
            script = script.headers(stream, false, &request(stream, path)).grpc(
                stream,
                true,
                &[&b"\x0a\x03\x02\x00\x10"[..]],
            );
        }
        // Every method but Wait answers before the client leaves.
        assert_eq!(play(&script.flush()), 5 + 4);
    }

    #[test]
    fn server_conn_survives_garbage_and_silence() {
        server_conn(&Script::new());
        server_conn(&Script::new().raw(b"GET / HTTP/1.1\r\n\r\n"));
        server_conn(&Script::new().preface().chunk(1).raw(&[0xff; 64]));
    }

    #[test]
    fn server_conn_cancels_a_waiting_call_when_the_client_leaves() {
        let script = Script::new()
            .preface()
            .settings(&[])
            .headers(1, false, &request(1, "/fuzz.Echo/Wait"))
            .grpc(1, true, &[&b""[..]])
            .flush();
        server_conn(&script);
    }
}
