//! A daemon and its command-line tool (`daemonctl`) over a Unix socket: the shape of a real
//! one. Socket activation when systemd passes the socket, `bind_unix` otherwise; `READY=1`
//! and `STOPPING=1` to systemd; SIGTERM drains the calls in flight; only its own user (and
//! root, and `--allow-uid`s) may call it, by the kernel's word (`SO_PEERCRED`).
//!
//! ```sh
//! cargo run --example daemon -- /tmp/demo.sock &             # by hand: binds the socket
//! cargo run --example daemonctl -- /tmp/demo.sock whoami
//! cargo run --example daemonctl -- /tmp/demo.sock work 2000  # a 2 s job, with progress
//! kill %1                                                    # drains, removes the socket
//!
//! # As systemd would start it, on the first connection, without systemd:
//! systemd-socket-activate -l /tmp/demo.sock --fdname=grpc target/debug/examples/daemon
//! ```
//!
//! Options: `--grace-ms N` (default 10000), how long SIGTERM lets calls run before cancelling
//! them; `--allow-uid UID`, repeatable.
//!
//! Under systemd, with the binary installed as `/usr/local/bin/demo-daemon`:
//!
//! ```ini
//! # /etc/systemd/system/demo.socket
//! [Socket]
//! ListenStream=/run/demo/demo.sock
//! FileDescriptorName=grpc
//! SocketMode=0660
//! SocketGroup=demo
//!
//! [Install]
//! WantedBy=sockets.target
//!
//! # /etc/systemd/system/demo.service
//! [Unit]
//! Requires=demo.socket
//!
//! [Service]
//! Type=notify
//! ExecStart=/usr/local/bin/demo-daemon --allow-uid 1000
//! TimeoutStopSec=30
//! User=demo
//! ```
//!
//! `systemctl enable --now demo.socket`; `systemctl restart demo.service` keeps the socket, so
//! a client connecting meanwhile waits for the new process instead of being refused.

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::time::Duration;

use h2grpc::server::ResponseSink;
use h2grpc::{CallContext, Server, Service, Status};

struct Options {
    socket: PathBuf,
    grace: Duration,
    allowed: Vec<u32>,
}

fn options() -> Result<Options, String> {
    let mut socket = None;
    let mut grace = Duration::from_secs(10);
    let mut allowed = vec![0];
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = |what: &str| -> Result<u64, String> {
            let value = args.next().ok_or(format!("{what} needs a value"))?;
            value.parse().map_err(|_| format!("{what} {value}: not a number"))
        };
        match arg.as_str() {
            "--grace-ms" => grace = Duration::from_millis(number("--grace-ms")?),
            "--allow-uid" => allowed.push(number("--allow-uid")? as u32),
            _ if arg.starts_with("--") => return Err(format!("unknown option {arg}")),
            _ => socket = Some(PathBuf::from(arg)),
        }
    }
    let socket = socket.unwrap_or_else(|| std::env::temp_dir().join("h2grpc-daemon.sock"));
    Ok(Options { socket, grace, allowed })
}

/// `demo.v1.Daemon`: `Whoami` says who is calling and who serves; `Work(ms)` is a job that
/// reports `started`, works for `ms` milliseconds, then reports `done`.
fn service() -> Service {
    Service::new("demo.v1.Daemon")
        .unary("Whoami", |ctx: CallContext, _req: ()| async move {
            let peer = ctx.peer();
            let (uid, pid) = (peer.uid().unwrap_or_default(), peer.pid().unwrap_or_default());
            Ok::<_, Status>(format!("uid {uid} pid {pid}; served by pid {}", std::process::id()))
        })
        .server_streaming("Work", |ctx, millis: u32, mut sink: ResponseSink<String>| async move {
            sink.send("started".to_string()).await?;
            let work = tokio::time::sleep(Duration::from_millis(millis.into()));
            tokio::select! {
                () = work => sink.send(format!("done after {millis} ms")).await,
                () = ctx.cancelled() => Err(Status::cancelled("the server is stopping")),
            }
        })
}

fn main() {
    if let Err(err) = run() {
        eprintln!("daemon: {err}");
        std::process::exit(1);
    }
}

/// Binding needs no runtime: the socket (and the activation variables, which it removes from
/// the environment) are dealt with before any thread exists.
fn run() -> Result<(), Box<dyn std::error::Error>> {
    let options = options()?;
    // Who runs this daemon may call it; so may root and the uids allowed.
    let mut allowed = options.allowed;
    allowed.push(std::fs::metadata("/proc/self")?.uid());
    let server = Server::builder()
        .add_service(service())
        .intercept(move |ctx| match ctx.peer().uid() {
            Some(uid) if allowed.contains(&uid) => Ok(()),
            Some(uid) => Err(Status::permission_denied(format!("uid {uid} may not call"))),
            None => Err(Status::permission_denied("the caller's uid is unknown")),
        })
        .shutdown_grace(options.grace)
        .socket_mode(0o660) // when it binds the socket itself; systemd's has SocketMode=
        .bind_activated_or_unix("grpc", &options.socket)?;
    eprintln!("daemon: serving on {}", server.local_target().expect("bound"));
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(h2grpc::daemon::serve(server))?;
    eprintln!("daemon: stopped");
    Ok(())
}
