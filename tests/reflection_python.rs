//! Interop: Python's `grpcio-reflection` client (`ProtoReflectionDescriptorDatabase`, which
//! speaks `grpc.reflection.v1alpha`) against the `reflection_server` example over a Unix
//! socket. It lists the services, looks up a service, a method, a message, a file by name and
//! a missing symbol, then calls `helloworld.Greeter/SayHello` with message classes built from
//! the reflected descriptors alone (`tests/peers/python/reflection_client.py`).
//!
//! The test makes its own virtualenv, `<target dir>/reflection-python-venv`, with `grpcio`,
//! `grpcio-reflection` and `protobuf` from PyPI: about 20 s the first time on a 2-core machine,
//! then reused (under a second). It needs `python3` with the `venv` module and network access
//! to PyPI, and fails, saying why, when it cannot have them; `H2GRPC_SKIP_PYTHON=1` skips it
//! on purpose.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};

const LIMIT: Duration = Duration::from_secs(120);
const PACKAGES: &[&str] = &["grpcio>=1.60,<2", "grpcio-reflection>=1.60,<2", "protobuf>=4.25"];

/// `target/<profile>/deps/<this test>` → `target/<profile>`.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    exe.parent().and_then(Path::parent).expect("target/<profile>").to_path_buf()
}

/// The built example binary (built here if `cargo test` did not build the examples first).
fn example(name: &str) -> PathBuf {
    let profile_dir = profile_dir();
    let path = profile_dir.join("examples").join(name);
    if !path.exists() {
        let mut build = Command::new(env!("CARGO"));
        build.args(["build", "--example", name]);
        if profile_dir.ends_with("release") {
            build.arg("--release");
        }
        let status = build.status().expect("run cargo build");
        assert!(status.success() && path.exists(), "cannot build example {name}");
    }
    path
}

fn run(command: &mut Command) -> Result<String, String> {
    let output = command.output().map_err(|err| format!("cannot run {command:?}: {err}"))?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    if output.status.success() {
        Ok(stdout)
    } else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        Err(format!("{command:?} failed ({}):\n{stdout}\n{stderr}", output.status))
    }
}

/// The venv's python, with the packages installed (made or completed if needed).
fn python() -> PathBuf {
    let venv = profile_dir().parent().expect("target dir").join("reflection-python-venv");
    let python = venv.join("bin").join("python");
    let ready = || run(Command::new(&python).args(["-c", "import grpc, grpc_reflection"])).is_ok();
    if python.exists() && ready() {
        return python;
    }
    if let Err(err) = run(Command::new("python3").args(["-m", "venv"]).arg(&venv)) {
        panic!(
            "the Python reflection interop test needs python3 with venv (apt-get install \
             python3-venv); set H2GRPC_SKIP_PYTHON=1 to skip it.\n{err}"
        );
    }
    let mut install = Command::new(&python);
    install.args(["-m", "pip", "install", "--quiet", "--disable-pip-version-check"]);
    if let Err(err) = run(install.args(PACKAGES)) {
        panic!(
            "cannot install {PACKAGES:?} from PyPI into {}; set H2GRPC_SKIP_PYTHON=1 to skip \
             this test.\n{err}",
            venv.display()
        );
    }
    assert!(ready(), "grpcio-reflection does not import after installing it");
    python
}

#[tokio::test]
async fn python_grpcio_reflection_describes_and_calls_an_h2grpc_server_over_a_unix_socket() {
    if std::env::var_os("H2GRPC_SKIP_PYTHON").is_some_and(|v| v == "1") {
        eprintln!("H2GRPC_SKIP_PYTHON=1: skipping the Python reflection interop test");
        return;
    }
    let python = tokio::task::spawn_blocking(python).await.expect("venv setup");
    let versions = run(Command::new(&python).args([
        "-c",
        "import grpc, google.protobuf as p; print('grpcio', grpc.__version__, 'protobuf', p.__version__)",
    ]));
    eprintln!("{}", versions.unwrap_or_default().trim());

    let dir = tempfile::tempdir().expect("temp dir");
    let socket = dir.path().join("reflection.sock");
    let mut server = tokio::process::Command::new(example("reflection_server"))
        .arg(&socket)
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn reflection_server");
    let mut lines = BufReader::new(server.stdout.take().expect("stdout")).lines();
    let first = tokio::time::timeout(LIMIT, lines.next_line()).await;
    let first = first.expect("the server did not start").expect("read").unwrap_or_default();
    assert!(first.starts_with("listening on"), "{first}");

    let script =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/python/reflection_client.py");
    let client = tokio::process::Command::new(&python).arg(script).arg(&socket).output();
    let output = tokio::time::timeout(LIMIT, client)
        .await
        .expect("the Python client did not finish")
        .expect("run the Python client");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the Python client failed:\n{stdout}\n{stderr}");
    for line in [
        "services: grpc.health.v1.Health grpc.reflection.v1.ServerReflection \
         grpc.reflection.v1alpha.ServerReflection helloworld.Greeter",
        "method: helloworld.Greeter.SayHello(helloworld.HelloRequest) returns \
         (helloworld.HelloReply)",
        "method by name: helloworld.Greeter.SayHello",
        "message: helloworld.HelloRequest fields: name",
        "file: helloworld.proto package: helloworld",
        "health methods: Check,List,Watch",
        "miss: NOT_FOUND",
        "reply: Hello, python!",
    ] {
        assert!(stdout.lines().any(|l| l == line), "missing {line:?} in:\n{stdout}\n{stderr}");
    }
}
