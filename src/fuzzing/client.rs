//! `client_conn`: a [`Script`] played by a hostile server against a [`Channel`]'s calls, over
//! an in-memory duplex, on a current-thread runtime kept for the thread's life (no socket, no
//! thread and no runtime made per input).
//!
//! `Call` actions start calls; the player waits until each call's HEADERS frame is out, so
//! scripts can answer on stream 1, 3, 5, ... After the script the server side closes; the
//! oracle is that nothing panics and every call ends: no hang.
//!
//! No wait here is measured in wall-clock time: the client and the player share one thread,
//! so when the client has not done what the player waits for within [`ROUNDS`] rounds of
//! letting it run, it never will without a timer firing. The player then plays on (a call
//! that has not started) or gives up the connection (a handshake the script left unfinished,
//! which would otherwise cost the 1 s connect timeout on every such input). Runs are
//! deterministic, and an input costs CPU time only.

use std::time::Duration;

use tokio::io::DuplexStream;
use tokio::task::JoinHandle;

use super::player::Player;
use super::script::{Action, Script};
use crate::client::{CallOptions, Channel};

/// How long calls may take to end once the server has left.
const WATCHDOG: Duration = Duration::from_secs(10);

/// How many rounds (a [`Player::flush`] each: 8 yields, reading and answering PINGs) the
/// player lets the client run while waiting for its handshake or a call's HEADERS frame.
/// An in-memory handshake takes 1 (measured on the unit tests), as does a call's HEADERS.
const ROUNDS: usize = 16;

/// The method every call names; the hostile server answers whatever it likes.
const METHOD: &str = "/fuzz.Echo/Unary";

/// One call of the kind `kind` picks; any status is fine. Whether a unary call succeeded.
async fn call(channel: Channel, kind: u8, timeout_ms: u16) -> bool {
    let mut options = CallOptions::new();
    if timeout_ms > 0 {
        options = options.timeout(Duration::from_millis(u64::from(timeout_ms.min(2000))));
    }
    let request = b"ping".to_vec();
    match kind % 6 {
        0 => return channel.unary::<_, Vec<u8>>(METHOD, &request, options).await.is_ok(),
        1 | 5 => {
            if let Ok(mut stream) =
                channel.server_streaming::<_, Vec<u8>>(METHOD, &request, options).await
            {
                let _ = stream.headers().await;
                // Kind 5 cancels after the headers; kind 1 reads on (at most 64 messages).
                for _ in 0..if kind % 6 == 1 { 64 } else { 0 } {
                    if !matches!(stream.message().await, Ok(Some(_))) {
                        break;
                    }
                }
                let _ = stream.trailers();
            }
        }
        2 => {
            if let Ok(mut call) =
                channel.client_streaming::<Vec<u8>, Vec<u8>>(METHOD, options).await
            {
                let _ = call.send(&request).await;
                let _ = call.send(&request).await;
                let _ = call.finish().await;
            }
        }
        3 | 4 => {
            if let Ok((mut tx, mut rx)) =
                channel.bidi_streaming::<Vec<u8>, Vec<u8>>(METHOD, options).await
            {
                let _ = tx.send(&request).await;
                if kind % 6 == 4 {
                    let _ = rx.message().await;
                    rx.cancel();
                    return false;
                }
                let _ = tx.close().await;
                for _ in 0..64 {
                    if !matches!(rx.message().await, Ok(Some(_))) {
                        break;
                    }
                }
            }
        }
        _ => unreachable!("kind % 6"),
    }
    false
}

/// Plays `script` as a server against a fresh channel's calls; see the module docs.
pub fn client_conn(script: &Script) {
    play(script);
}

/// `client_conn`, returning how many unary calls succeeded.
fn play(script: &Script) -> usize {
    super::RUNTIME.with(|runtime| runtime.block_on(run(script)))
}

async fn run(script: &Script) -> usize {
    let Ok(mut builder) = Channel::builder("unix:/fuzz") else { return 0 };
    builder.connect_timeout(Duration::from_secs(1));
    let (client_io, server_io) = tokio::io::duplex(64 * 1024);
    let mut player = Player::new(server_io, super::frames::PREFACE.len());
    let connect = tokio::spawn(async move { builder.connect_with_io(client_io).await });
    let mut connect = Some(connect);
    let mut channel: Option<Channel> = None;
    let mut calls: Vec<JoinHandle<bool>> = Vec::new();
    for action in script.actions() {
        let Action::Call { kind, timeout_ms } = action else {
            player.play(action).await;
            continue;
        };
        if let Some(connecting) = connect.take() {
            // The first call waits for the connection, which the player's reads move on
            // (it acknowledges the client's PING).
            channel = connected(connecting, &mut player).await;
        }
        let Some(channel) = &channel else { continue };
        let seen = player.headers_seen();
        let task = tokio::spawn(call(channel.clone(), *kind, *timeout_ms));
        for _ in 0..ROUNDS {
            if player.headers_seen() != seen || player.is_closed() || task.is_finished() {
                break;
            }
            player.flush().await;
        }
        calls.push(task);
    }
    player.flush().await;
    let finished = tokio::time::timeout(WATCHDOG, player.finish());
    assert!(finished.await.is_ok(), "the client kept the connection open after the server left");
    drop(player);
    if let Some(connecting) = connect {
        let _ = tokio::time::timeout(WATCHDOG, connecting).await.expect("connect ends");
    }
    let mut ok = 0;
    for task in calls {
        match tokio::time::timeout(WATCHDOG, task).await {
            Ok(Ok(succeeded)) => ok += usize::from(succeeded),
            Ok(Err(err)) if super::server::h2_counts_assertion(&err) => {}
            Ok(Err(err)) => panic!("a call task failed: {err}"),
            Err(_) => panic!("a call did not end {WATCHDOG:?} after the server left"),
        }
    }
    ok
}

/// Lets the channel's handshake run for up to [`ROUNDS`] rounds while the player reads (and
/// answers PINGs); a handshake still unfinished then waits for something the script has not
/// sent yet (SETTINGS, the rest of a frame) and is given up, as its connect timeout would.
async fn connected(
    connecting: JoinHandle<Result<Channel, crate::error::Error>>,
    player: &mut Player<DuplexStream>,
) -> Option<Channel> {
    for _ in 0..ROUNDS {
        if connecting.is_finished() || player.is_closed() {
            break;
        }
        player.flush().await;
    }
    if !connecting.is_finished() && !player.is_closed() {
        connecting.abort();
    }
    match tokio::time::timeout(WATCHDOG, connecting).await {
        Ok(Ok(Ok(channel))) => Some(channel),
        Ok(Ok(Err(_))) => None,
        Ok(Err(err)) if err.is_cancelled() => None,
        Ok(Err(err)) if super::server::h2_counts_assertion(&err) => None,
        Ok(Err(err)) => panic!("the connect task failed: {err}"),
        Err(_) => panic!("connecting did not end within {WATCHDOG:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_conn_reads_a_scripted_unary_answer() {
        let script = Script::new()
            .call(0, 0)
            .settings(&[])
            .settings_ack()
            .headers(1, false, &[(":status", "200"), ("content-type", "application/grpc")])
            .grpc(1, false, &[&b"\x0a\x02hi"[..]])
            .headers(1, true, &[("grpc-status", "0")]);
        assert_eq!(play(&script), 1);
    }

    #[test]
    fn client_conn_ends_every_call_when_the_server_says_nothing() {
        let mut script = Script::new();
        for kind in 0..6 {
            script = script.call(kind, if kind == 3 { 5 } else { 0 });
        }
        client_conn(&script);
    }
}
