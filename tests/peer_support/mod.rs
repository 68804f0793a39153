//! Shared by the test binaries that run foreign gRPC clients: the example servers, a Python
//! virtualenv with grpcio, and Node's @grpc/grpc-js from tests/peers/node.
#![allow(dead_code)] // each test binary uses its own part

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

pub(crate) const LIMIT: Duration = Duration::from_secs(120);
/// What the venv holds: enough for the reflection and metadata interop tests.
pub(crate) const PACKAGES: &[&str] =
    &["grpcio>=1.60,<2", "grpcio-reflection>=1.60,<2", "protobuf>=4.25"];

/// `target/<profile>/deps/<this test>` → `target/<profile>`.
pub(crate) fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    exe.parent().and_then(Path::parent).expect("target/<profile>").to_path_buf()
}

/// The built example binary (built here if `cargo test` did not build the examples first).
pub(crate) fn example(name: &str) -> PathBuf {
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

pub(crate) fn run(command: &mut Command) -> Result<String, String> {
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
pub(crate) fn python() -> PathBuf {
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

/// `tests/peers/node`, with its `node_modules` installed (`npm ci`) if they are not yet.
pub(crate) fn node_peer_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/node");
    if !dir.join("node_modules/@grpc/grpc-js").exists() {
        let mut npm = Command::new("npm");
        npm.args(["ci", "--silent", "--no-audit", "--no-fund"]).current_dir(&dir);
        if let Err(err) = run(&mut npm) {
            panic!("cannot install tests/peers/node's packages with npm ci.\n{err}");
        }
    }
    dir
}
