//! `client_conn`: a [`Script`] played by a hostile server against a [`Channel`]'s calls, over
//! a real Unix socket (abstract on Linux, so nothing touches the file system).
//!
//! `Call` actions start calls; the player waits until each call's HEADERS frame is out, so
//! scripts can answer on stream 1, 3, 5, ... After the script the server side closes; the
//! oracle is that nothing panics and every call ends: no hang.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::net::{UnixListener, UnixStream};
use tokio::task::JoinHandle;

use super::player::Player;
use super::script::{Action, Script};
use crate::client::{CallOptions, Channel};

/// How long calls may take to end once the server has left.
const WATCHDOG: Duration = Duration::from_secs(10);

/// How long to wait for a call's HEADERS frame before playing on regardless.
const CALL_START: Duration = Duration::from_millis(200);

/// The method every call names; the hostile server answers whatever it likes.
const METHOD: &str = "/fuzz.Echo/Unary";

/// A fresh listener and the target that reaches it.
fn listen() -> std::io::Result<(UnixListener, String, Option<scratch_dir::Dir>)> {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let name =
        format!("h2grpc-fuzz-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
    #[cfg(target_os = "linux")]
    {
        use std::os::linux::net::SocketAddrExt;
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())?;
        let listener = std::os::unix::net::UnixListener::bind_addr(&addr)?;
        listener.set_nonblocking(true)?;
        Ok((UnixListener::from_std(listener)?, format!("unix-abstract:{name}"), None))
    }
    #[cfg(not(target_os = "linux"))]
    {
        let dir = scratch_dir::Dir::new(&name)?;
        let path = dir.0.join("s");
        let listener = UnixListener::bind(&path)?;
        Ok((listener, format!("unix:{}", path.display()), Some(dir)))
    }
}

/// A private directory removed on drop, for systems without abstract sockets.
mod scratch_dir {
    #[derive(Debug)]
    pub(super) struct Dir(pub(super) std::path::PathBuf);

    impl Dir {
        #[allow(dead_code)]
        pub(super) fn new(name: &str) -> std::io::Result<Dir> {
            let path = std::env::temp_dir().join(name);
            std::fs::create_dir_all(&path)?;
            Ok(Dir(path))
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

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
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime");
    runtime.block_on(async {
        let Ok((listener, target, _dir)) = listen() else { return 0 };
        let Ok(mut builder) = Channel::builder(&target) else { return 0 };
        let channel = builder
            .connect_timeout(Duration::from_secs(1))
            .backoff_initial(Duration::from_millis(1))
            .connect_lazy();
        let mut calls: Vec<JoinHandle<bool>> = Vec::new();
        let mut player: Option<Player<UnixStream>> = None;
        for action in script.actions() {
            let Action::Call { kind, timeout_ms } = action else {
                if let Some(player) = &mut player {
                    player.play(action).await;
                }
                continue;
            };
            let seen = player.as_ref().map_or(0, Player::headers_seen);
            let task = tokio::spawn(call(channel.clone(), *kind, *timeout_ms));
            if player.is_none() {
                // The first call connects; the script plays on that connection.
                if let Ok(Ok((stream, _))) =
                    tokio::time::timeout(CALL_START, listener.accept()).await
                {
                    player = Some(Player::new(stream, super::frames::PREFACE.len()));
                }
            }
            if let Some(player) = &mut player {
                let started = tokio::time::timeout(CALL_START, async {
                    while player.headers_seen() == seen
                        && !player.is_closed()
                        && !task.is_finished()
                    {
                        player.flush().await;
                        tokio::task::yield_now().await;
                    }
                });
                let _ = started.await;
            }
            calls.push(task);
        }
        if let Some(player) = &mut player {
            player.flush().await;
            let finished = tokio::time::timeout(WATCHDOG, player.finish());
            assert!(
                finished.await.is_ok(),
                "the client kept the connection open after the server left"
            );
        }
        drop(player);
        // Connections the channel opened later were never accepted: closing the listener
        // resets them.
        drop(listener);
        let mut ok = 0;
        for task in calls {
            match tokio::time::timeout(WATCHDOG, task).await {
                Ok(Ok(succeeded)) => ok += usize::from(succeeded),
                Ok(Err(err)) => panic!("a call task failed: {err}"),
                Err(_) => panic!("a call did not end {WATCHDOG:?} after the server left"),
            }
        }
        ok
    })
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
