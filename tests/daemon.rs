//! Daemons (issue 18): the `daemon` example as systemd would run it, and the socket mode.
//!
//! Socket activation is tested two ways: with `systemd-socket-activate` (Debian's `systemd`
//! package, in /usr/bin), which binds the socket, waits for the first connection and execs the
//! daemon with fd 3 and `LISTEN_PID` set; and with a two-line `sh` launcher for what that tool
//! cannot do (restart on the same socket, wrong variables): the test holds the listening
//! socket like systemd, passes it as stdin, and `sh` moves it to fd 3 and execs the daemon,
//! so `LISTEN_PID=$$` is the daemon's pid (no `pre_exec`, which is unsafe).
//!
//! Synchronisation: the notify socket (`NOTIFY_SOCKET`, a datagram socket the test binds)
//! tells when the daemon is ready and when it stops; the first message of each `Work` call
//! tells that the call is running. No sleeps.

use std::fs;
use std::os::fd::OwnedFd;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use h2grpc::{CallOptions, Channel, Code, Status};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::UnixDatagram;
use tokio::process::{Child, Command};
use tokio::time::timeout;

const LIMIT: Duration = Duration::from_secs(60);
/// `sh -c` script: the listener on stdin becomes fd 3, stdin becomes /dev/null, and the
/// daemon replaces the shell, keeping its pid.
const LAUNCH: &str = r#"export LISTEN_PID=$$; exec "$0" "$@" 3<&0 </dev/null"#;

/// The built example binary: `target/<profile>/examples/<name>`, next to this test's `deps/`.
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let profile_dir = exe.parent().and_then(|deps| deps.parent()).expect("target/<profile>");
    let path = profile_dir.join("examples").join(name);
    if !path.exists() {
        let mut build = std::process::Command::new(env!("CARGO"));
        build.args(["build", "--example", name]);
        if profile_dir.ends_with("release") {
            build.arg("--release");
        }
        let status = build.status().expect("run cargo build");
        assert!(status.success() && path.exists(), "cannot build example {name}");
    }
    path
}

/// A temp dir with the service manager's notify socket in it.
struct Manager {
    dir: tempfile::TempDir,
    notify: UnixDatagram,
}

impl Manager {
    fn new() -> Manager {
        let dir = tempfile::tempdir().expect("temp dir");
        let notify = UnixDatagram::bind(dir.path().join("notify")).expect("bind notify socket");
        Manager { dir, notify }
    }

    fn socket(&self) -> PathBuf {
        self.dir.path().join("demo.sock")
    }

    fn notify_path(&self) -> PathBuf {
        self.dir.path().join("notify")
    }

    /// The next sd_notify datagram.
    async fn notice(&self, what: &str) -> String {
        let mut buf = [0; 512];
        let n = timeout(LIMIT, self.notify.recv(&mut buf))
            .await
            .unwrap_or_else(|_| panic!("no {what} notice within {LIMIT:?}"))
            .expect("recv notice");
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }

    /// The daemon example, bound by itself at `socket()` (or activated, per `launch`).
    fn daemon(&self, args: &[&str]) -> Command {
        let mut command = Command::new(example("daemon"));
        command
            .arg(self.socket())
            .args(args)
            .env("NOTIFY_SOCKET", self.notify_path())
            .env_remove("LISTEN_FDS")
            .env_remove("LISTEN_PID")
            .env_remove("LISTEN_FDNAMES")
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        command
    }

    /// The daemon, with `fd3` as its fd 3 through the `sh` launcher.
    fn activated(&self, fd3: impl Into<OwnedFd>, fds: &str) -> Command {
        let mut command = Command::new("sh");
        command
            .args(["-c", LAUNCH])
            .arg(example("daemon"))
            .arg(self.dir.path().join("fallback.sock"))
            .env("LISTEN_FDS", fds)
            .env("LISTEN_FDNAMES", "grpc")
            .env("NOTIFY_SOCKET", self.notify_path())
            .stdin(Stdio::from(fd3.into()))
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        command
    }

    async fn ready(&self, child: &Child) -> u32 {
        assert_eq!(self.notice("READY=1").await, "READY=1");
        child.id().expect("running")
    }
}

fn target(socket: &Path) -> String {
    format!("unix:{}", socket.display())
}

fn sigterm(child: &Child) {
    let pid = child.id().expect("running").to_string();
    let kill = std::process::Command::new("kill").args(["-TERM", &pid]).status();
    assert!(kill.expect("run kill").success());
}

/// Waits for the exit; returns stderr.
async fn exit(child: Child) -> (std::process::ExitStatus, String) {
    let output = timeout(LIMIT, child.wait_with_output())
        .await
        .expect("the daemon exits in time")
        .expect("wait");
    (output.status, String::from_utf8_lossy(&output.stderr).into_owned())
}

async fn whoami(channel: &Channel) -> Result<String, Status> {
    let reply = channel.unary("/demo.v1.Daemon/Whoami", &(), CallOptions::new()).await?;
    Ok(reply.into_inner())
}

#[tokio::test]
async fn systemd_socket_activate_starts_the_daemon_on_the_first_call() {
    let manager = Manager::new();
    let socket = manager.socket();
    let tool = Path::new("/usr/bin/systemd-socket-activate");
    assert!(tool.exists(), "install systemd-socket-activate (apt-get install systemd)");
    let mut activator = Command::new(tool)
        .arg("-l")
        .arg(&socket)
        .arg("--fdname=grpc")
        .arg(format!("--setenv=NOTIFY_SOCKET={}", manager.notify_path().display()))
        .arg(example("daemon"))
        .arg(manager.dir.path().join("fallback.sock"))
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn systemd-socket-activate");
    let mut stderr = BufReader::new(activator.stderr.take().expect("stderr")).lines();
    let line = timeout(LIMIT, stderr.next_line()).await.expect("listening").expect("read");
    assert!(line.as_deref().unwrap_or_default().starts_with("Listening on"), "{line:?}");

    // The first connection makes the tool exec the daemon, in its own process.
    let channel = Channel::connect(&target(&socket)).await.expect("connect");
    let reply = whoami(&channel).await.expect("whoami");
    let pid = manager.ready(&activator).await;
    assert!(reply.ends_with(&format!("served by pid {pid}")), "{reply}");
    assert!(!manager.dir.path().join("fallback.sock").exists(), "it served systemd's socket");

    sigterm(&activator);
    assert_eq!(manager.notice("STOPPING=1").await, "STOPPING=1");
    let (status, _) = exit(activator).await;
    assert!(status.success(), "{status}");
    let kept = fs::symlink_metadata(&socket).expect("the socket file stays");
    assert!(kept.file_type().is_socket(), "systemd's socket is not the daemon's to remove");
}

#[tokio::test]
async fn a_client_connecting_during_a_restart_gets_its_answer() {
    let manager = Manager::new();
    let socket = manager.socket();
    // The test plays systemd: it owns the listening socket for the whole test.
    let listener = std::os::unix::net::UnixListener::bind(&socket).expect("bind");
    let first = manager.activated(listener.try_clone().unwrap(), "1").spawn().expect("spawn");
    let first_pid = manager.ready(&first).await;
    let channel = Channel::connect(&target(&socket)).await.expect("connect");
    assert!(whoami(&channel).await.unwrap().ends_with(&format!("by pid {first_pid}")));

    sigterm(&first);
    assert_eq!(manager.notice("STOPPING=1").await, "STOPPING=1");
    let (status, stderr) = exit(first).await;
    assert!(status.success(), "{status}: {stderr}");
    assert!(socket.exists(), "the daemon did not create the socket, so it leaves it");

    // Nobody serves now; the connection still succeeds (it waits in the backlog).
    let stream = tokio::net::UnixStream::connect(&socket).await.expect("no ECONNREFUSED");
    let call = tokio::spawn(async move {
        let channel = Channel::builder("unix:/restarting")?.connect_with_io(stream).await?;
        Ok::<_, Box<dyn std::error::Error + Send + Sync>>(whoami(&channel).await?)
    });
    let second = manager.activated(listener.try_clone().unwrap(), "1").spawn().expect("spawn");
    let second_pid = manager.ready(&second).await;
    let reply = timeout(LIMIT, call).await.expect("answered").unwrap().expect("the call");
    assert!(reply.ends_with(&format!("served by pid {second_pid}")), "{reply}");

    sigterm(&second);
    let (status, stderr) = exit(second).await;
    assert!(status.success(), "{status}: {stderr}");
}

/// Runs the launched daemon to its failure; returns its stderr.
async fn refused(manager: &Manager, mut command: Command) -> String {
    let (status, stderr) = exit(command.spawn().expect("spawn")).await;
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(!manager.dir.path().join("fallback.sock").exists(), "no silent fallback");
    assert!(!manager.socket().exists(), "no silent fallback");
    stderr
}

#[tokio::test]
async fn wrong_activation_variables_and_descriptors_are_clear_errors() {
    let manager = Manager::new();
    let sock = || {
        let dir = tempfile::tempdir().unwrap();
        let listener = std::os::unix::net::UnixListener::bind(dir.path().join("s")).unwrap();
        OwnedFd::from(listener)
    };

    let mut wrong_pid = manager.daemon(&[]);
    wrong_pid.env("LISTEN_FDS", "1").env("LISTEN_PID", "1");
    let stderr = refused(&manager, wrong_pid).await;
    assert!(stderr.contains("LISTEN_PID=1 but this process is"), "{stderr}");

    let stderr = refused(&manager, manager.activated(sock(), "0")).await;
    assert!(stderr.contains("LISTEN_FDS=0: no socket was passed"), "{stderr}");

    let file = fs::File::create(manager.dir.path().join("file")).unwrap();
    let stderr = refused(&manager, manager.activated(file, "1")).await;
    assert!(stderr.contains(r#"fd 3 (named "grpc") is a regular file, not a socket"#), "{stderr}");

    let datagram = std::os::unix::net::UnixDatagram::unbound().unwrap();
    let stderr = refused(&manager, manager.activated(datagram, "1")).await;
    assert!(stderr.contains(r#"fd 3 (named "grpc") is a datagram socket"#), "{stderr}");

    let (connected, _peer) = std::os::unix::net::UnixStream::pair().unwrap();
    let stderr = refused(&manager, manager.activated(connected, "1")).await;
    assert!(stderr.contains("is a stream socket that is not listening"), "{stderr}");

    // `3<&-`: fd 3 closed (whatever the test itself inherited there).
    let mut closed = Command::new("sh");
    closed
        .args(["-c", r#"export LISTEN_PID=$$; exec "$0" "$@" 3<&-"#])
        .arg(example("daemon"))
        .arg(manager.dir.path().join("fallback.sock"))
        .env("LISTEN_FDS", "1")
        .env("LISTEN_FDNAMES", "grpc")
        .stderr(Stdio::piped());
    let stderr = refused(&manager, closed).await;
    assert!(stderr.contains(r#"fd 3 (named "grpc") is not open"#), "{stderr}");
}

/// Starts `calls` Work calls of `millis` each and returns once every one has said `started`.
async fn start_work(
    channel: &Channel,
    calls: usize,
    millis: u32,
) -> Vec<tokio::task::JoinHandle<Result<Vec<String>, Status>>> {
    let (started, mut all_started) = tokio::sync::mpsc::channel(calls);
    let tasks = (0..calls)
        .map(|_| {
            let (channel, started) = (channel.clone(), started.clone());
            tokio::spawn(async move {
                let path = "/demo.v1.Daemon/Work";
                let mut stream = channel
                    .server_streaming::<u32, String>(path, &millis, CallOptions::new())
                    .await?;
                let mut lines = Vec::new();
                while let Some(line) = stream.message().await? {
                    if lines.is_empty() {
                        let _ = started.send(()).await;
                    }
                    lines.push(line);
                }
                Ok(lines)
            })
        })
        .collect();
    for _ in 0..calls {
        timeout(LIMIT, all_started.recv()).await.expect("every call starts").expect("a call");
    }
    tasks
}

#[tokio::test]
async fn sigterm_lets_100_calls_in_flight_finish_and_removes_the_socket() {
    let manager = Manager::new();
    let daemon = manager.daemon(&["--grace-ms", "30000"]).spawn().expect("spawn daemon");
    manager.ready(&daemon).await;
    let channel = Channel::connect(&target(&manager.socket())).await.expect("connect");
    let calls = start_work(&channel, 100, 500).await;

    sigterm(&daemon);
    assert_eq!(manager.notice("STOPPING=1").await, "STOPPING=1");
    for call in calls {
        let lines = call.await.unwrap().expect("the call finishes OK");
        assert_eq!(lines, ["started", "done after 500 ms"]);
    }
    let (status, stderr) = exit(daemon).await;
    assert!(status.success(), "{status}: {stderr}");
    assert!(stderr.contains("daemon: stopped"), "{stderr}");
    assert!(!manager.socket().exists(), "the daemon removes the socket it created");
}

#[tokio::test]
async fn calls_past_the_grace_period_are_cut_off_and_the_exit_is_still_clean() {
    const GRACE: Duration = Duration::from_millis(300);
    let manager = Manager::new();
    let grace_ms = GRACE.as_millis().to_string();
    let daemon = manager.daemon(&["--grace-ms", &grace_ms]).spawn().expect("spawn daemon");
    manager.ready(&daemon).await;
    let channel = Channel::connect(&target(&manager.socket())).await.expect("connect");
    let calls = start_work(&channel, 100, 600_000).await;

    let signalled = Instant::now();
    sigterm(&daemon);
    for call in calls {
        let status = call.await.unwrap().expect_err("cut off");
        assert_eq!(status.code(), PAST_GRACE, "{status:?}");
        assert!(status.message().contains("grace period is over"), "{status:?}");
    }
    let (status, stderr) = exit(daemon).await;
    let took = signalled.elapsed();
    assert!(status.success(), "{status}: {stderr}");
    assert!(took >= GRACE && took < GRACE + Duration::from_secs(10), "exit after {took:?}");
    assert!(!manager.socket().exists(), "the daemon removes the socket it created");
}

/// What a call still running when the grace period ends gets.
const PAST_GRACE: Code = Code::Cancelled;

/// `daemonctl whoami` run as uid 65534 (`setpriv`, so as root only), on a socket anyone may
/// reach: the interceptor decides.
async fn whoami_as_nobody(socket: &Path) -> std::process::Output {
    let output = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(example("daemonctl"))
        .arg(socket)
        .arg("whoami")
        .output();
    timeout(LIMIT, output).await.expect("daemonctl ends").expect("run setpriv")
}

#[tokio::test]
async fn only_the_daemons_user_root_and_allowed_uids_may_call() {
    let manager = Manager::new();
    let daemon = manager.daemon(&[]).spawn().expect("spawn daemon");
    manager.ready(&daemon).await;
    let mode = fs::metadata(manager.socket()).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o660, "the daemon binds its socket with mode 0o660");
    let channel = Channel::connect(&target(&manager.socket())).await.expect("connect");
    let reply = whoami(&channel).await.expect("the daemon's own user may call");
    let uid = std::os::unix::fs::MetadataExt::uid(&fs::metadata("/proc/self").unwrap());
    assert!(reply.starts_with(&format!("uid {uid} pid {}", std::process::id())), "{reply}");
    sigterm(&daemon);
    assert_eq!(manager.notice("STOPPING=1").await, "STOPPING=1");
    assert!(exit(daemon).await.0.success());
    if uid != 0 {
        eprintln!("not root: the refusal of another uid is not tested");
        return;
    }

    // A socket anyone may connect to, passed by socket activation: only the interceptor stands
    // between uid 65534 and the daemon.
    fs::set_permissions(manager.dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    let open = manager.dir.path().join("open.sock");
    let listener = std::os::unix::net::UnixListener::bind(&open).expect("bind");
    fs::set_permissions(&open, fs::Permissions::from_mode(0o777)).unwrap();
    for allow in [false, true] {
        let mut command = manager.activated(listener.try_clone().unwrap(), "1");
        if allow {
            command.args(["--allow-uid", "65534"]);
        }
        let daemon = command.spawn().expect("spawn daemon");
        manager.ready(&daemon).await;
        let output = whoami_as_nobody(&open).await;
        let (stdout, stderr) =
            (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
        if allow {
            assert!(output.status.success(), "{stderr}");
            assert!(stdout.starts_with("uid 65534 "), "{stdout}");
        } else {
            assert!(!output.status.success(), "{stdout}");
            assert!(stderr.contains("PERMISSION_DENIED: uid 65534 may not call"), "{stderr}");
        }
        sigterm(&daemon);
        assert_eq!(manager.notice("STOPPING=1").await, "STOPPING=1");
        assert!(exit(daemon).await.0.success());
    }
}

#[tokio::test]
async fn reflection_server_removes_its_socket_file_on_sigterm() {
    let manager = Manager::new();
    let server = Command::new(example("reflection_server"))
        .arg(manager.socket())
        .env("NOTIFY_SOCKET", manager.notify_path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn reflection_server");
    manager.ready(&server).await;
    assert!(manager.socket().exists());
    sigterm(&server);
    let (status, stderr) = exit(server).await;
    assert!(status.success(), "{status}: {stderr}");
    assert!(!manager.socket().exists(), "the socket file is removed on SIGTERM");
}

/// Binding with `socket_mode` while another thread stats the path as fast as it can: the
/// socket is never seen with another mode (the umask's 0o755 or 0o775, before a chmod).
#[test]
fn the_socket_is_never_seen_with_a_wider_mode_than_asked() {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::Arc;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("private.sock");
    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(AtomicU64::new(0));
    let watcher = {
        let (path, stop, seen) = (path.clone(), stop.clone(), seen.clone());
        std::thread::spawn(move || {
            let mut wrong = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                if let Ok(meta) = fs::symlink_metadata(&path) {
                    seen.fetch_add(1, Ordering::Relaxed);
                    let mode = meta.permissions().mode() & 0o777;
                    if mode != 0o600 {
                        wrong.push(mode);
                    }
                }
            }
            wrong
        })
    };
    // Many binds, until the watcher has seen the socket many times (each bind exposes the
    // socket for a moment only, and the watcher thread may start late).
    let mut binds = 0;
    while binds < 500 || (seen.load(Ordering::Relaxed) < 500 && binds < 100_000) {
        let server = h2grpc::Server::builder().socket_mode(0o600).bind_unix(&path).unwrap();
        // A stat loop hits the socket while it exists: keep it a little, as a server would.
        for _ in 0..20 {
            std::hint::black_box(fs::symlink_metadata(&path).is_ok());
        }
        drop(server);
        fs::remove_file(&path).unwrap();
        binds += 1;
    }
    stop.store(true, Ordering::Relaxed);
    let wrong = watcher.join().unwrap();
    let seen = seen.load(Ordering::Relaxed);
    eprintln!("{binds} binds; the watcher saw the socket {seen} times");
    assert!(seen > 0, "the watcher never saw the socket: the test proves nothing");
    let mut modes = std::collections::BTreeMap::new();
    for mode in &wrong {
        *modes.entry(format!("{mode:o}")).or_insert(0) += 1;
    }
    assert!(wrong.is_empty(), "seen with other modes (mode: times): {modes:?}");
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0, "no temporary file left");
}

/// `listen_on` serves a listener made elsewhere like a bound one: the builder's limits, the
/// kernel's peer credentials, graceful shutdown; and leaves the socket file where it was.
#[tokio::test]
async fn listen_on_serves_a_callers_listeners_with_the_builders_limits() {
    use h2grpc::{CallContext, Server, Service};

    fn server(listener: impl Into<h2grpc::server::Listener>) -> Server {
        let echo = Service::new("echo.v1.Echo").unary("Who", |ctx: CallContext, text: String| {
            let peer = ctx.peer();
            let who = format!("{text} from uid {:?} pid {:?}", peer.uid(), peer.pid());
            async move { Ok::<_, Status>(who) }
        });
        Server::builder().add_service(echo).max_recv_message_len(64).listen_on(listener).unwrap()
    }
    async fn call(channel: &Channel, text: &str) -> Result<String, Status> {
        let path = "/echo.v1.Echo/Who";
        Ok(channel.unary(path, &text.to_string(), CallOptions::new()).await?.into_inner())
    }

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("made-elsewhere.sock");
    let unix = server(tokio::net::UnixListener::bind(&path).unwrap());
    let tcp = server(std::net::TcpListener::bind("127.0.0.1:0").unwrap());
    for (server, is_unix) in [(unix, true), (tcp, false)] {
        let target = server.local_target().expect("a listener").to_string();
        let shutdown = server.shutdown_handle();
        let serving = tokio::spawn(server.serve());
        let channel = Channel::connect(&target).await.expect("connect");
        let reply = call(&channel, "hi").await.expect("a call");
        if is_unix {
            let uid = std::os::unix::fs::MetadataExt::uid(&fs::metadata("/proc/self").unwrap());
            let pid = std::process::id();
            assert_eq!(reply, format!("hi from uid Some({uid}) pid Some({pid})"));
        } else {
            assert_eq!(reply, "hi from uid None pid None");
        }
        let big = call(&channel, &"x".repeat(100)).await.expect_err("over the limit");
        assert_eq!(big.code(), Code::ResourceExhausted, "{big:?}");
        shutdown.shutdown();
        timeout(LIMIT, serving).await.expect("serve returns").unwrap().unwrap();
    }
    let kept = fs::symlink_metadata(&path).expect("not the server's file to remove");
    assert!(kept.file_type().is_socket());
}
