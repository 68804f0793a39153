//! Interop for the richer error model (feature `error-details`) with Python's `grpcio-status`,
//! both ways, over a Unix socket (`tests/peers/python/details_peer.py`):
//!
//! - an h2grpc server fails a call with every standard detail; Python's
//!   `rpc_status.from_call` reads them back, each unpacked by its own type;
//! - a Python server aborts with `rpc_status.to_status(..)` carrying every standard detail;
//!   h2grpc's `Status::detail` reads each of them.
//!
//! The test makes its own virtualenv, `<target dir>/details-python-venv`, with `grpcio`,
//! `grpcio-status` (which brings googleapis-common-protos) and `protobuf` from PyPI: about 20 s
//! the first time, then reused. It needs `python3` with `venv` and access to PyPI, and fails
//! saying why without them; `H2GRPC_SKIP_PYTHON=1` skips it on purpose.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use h2grpc::status::details::{
    bad_request, help, precondition_failure, quota_failure, BadRequest, DebugInfo, ErrorInfo, Help,
    LocalizedMessage, PreconditionFailure, QuotaFailure, RequestInfo, ResourceInfo, RetryInfo,
};
use h2grpc::{CallOptions, Channel, Code, Method, Server, Service, Status};
use tokio::io::{AsyncBufReadExt, BufReader};

const LIMIT: Duration = Duration::from_secs(120);
const PACKAGES: &[&str] = &["grpcio>=1.60,<2", "grpcio-status>=1.60,<2", "protobuf>=4.25"];
const FAIL: Method<(), ()> = Method::new("/details.Test/Fail");

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
    let exe = std::env::current_exe().expect("test binary path");
    let target = exe.ancestors().nth(3).expect("target dir");
    let venv = target.join("details-python-venv");
    let python = venv.join("bin").join("python");
    let ready = || run(Command::new(&python).args(["-c", "import grpc, grpc_status"])).is_ok();
    if python.exists() && ready() {
        return python;
    }
    if let Err(err) = run(Command::new("python3").args(["-m", "venv"]).arg(&venv)) {
        panic!(
            "the Python details interop test needs python3 with venv (apt-get install \
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
    assert!(ready(), "grpcio-status does not import after installing it");
    python
}

fn skip() -> bool {
    let skip = std::env::var_os("H2GRPC_SKIP_PYTHON").is_some_and(|v| v == "1");
    if skip {
        eprintln!("H2GRPC_SKIP_PYTHON=1: skipping the Python details interop test");
    }
    skip
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/peers/python/details_peer.py")
}

/// Every standard detail, as the h2grpc server sends them.
fn every_detail() -> Status {
    let field = bad_request::FieldViolation {
        field: "name".into(),
        description: "must not be empty".into(),
        reason: "EMPTY".into(),
        localized_message: Some(LocalizedMessage { locale: "de".into(), message: "leer".into() }),
    };
    Status::with_error_details(
        Code::InvalidArgument,
        "name is empty",
        [
            ErrorInfo {
                reason: "STOCKOUT".into(),
                domain: "shop.example".into(),
                metadata: [("k".to_owned(), "v".to_owned())].into(),
            }
            .into(),
            RetryInfo { retry_delay: Some(Duration::from_millis(1500).into()) }.into(),
            DebugInfo { stack_entries: vec!["a()".into(), "b()".into()], detail: "oops".into() }
                .into(),
            QuotaFailure {
                violations: vec![quota_failure::Violation {
                    subject: "clientip:10.0.0.1".into(),
                    description: "too many".into(),
                    ..Default::default()
                }],
            }
            .into(),
            PreconditionFailure {
                violations: vec![precondition_failure::Violation {
                    r#type: "TOS".into(),
                    subject: "example.com".into(),
                    description: "terms not accepted".into(),
                }],
            }
            .into(),
            BadRequest { field_violations: vec![field] }.into(),
            RequestInfo { request_id: "r-9".into(), serving_data: "s".into() }.into(),
            ResourceInfo {
                resource_type: "file".into(),
                resource_name: "/a".into(),
                owner: "root".into(),
                description: "missing".into(),
            }
            .into(),
            Help {
                links: vec![help::Link {
                    description: "docs".into(),
                    url: "https://x.example".into(),
                }],
            }
            .into(),
            LocalizedMessage { locale: "en-US".into(), message: "Name is empty.".into() }.into(),
        ],
    )
}

#[tokio::test]
async fn python_grpcio_status_reads_the_details_an_h2grpc_server_sends() {
    if skip() {
        return;
    }
    let python = tokio::task::spawn_blocking(python).await.expect("venv setup");
    let dir = tempfile::tempdir().expect("temp dir");
    let socket = dir.path().join("details.sock");
    let service = Service::new(FAIL.service())
        .unary(FAIL.name(), |_ctx, _req: ()| async { Err::<(), _>(every_detail()) });
    let server = Server::builder().add_service(service).bind_unix(&socket).expect("bind");
    let shutdown = server.shutdown_handle();
    let serving = tokio::spawn(server.serve());

    let client =
        tokio::process::Command::new(&python).arg(script()).arg("client").arg(&socket).output();
    let output = tokio::time::timeout(LIMIT, client)
        .await
        .expect("the Python client did not finish")
        .expect("run the Python client");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the Python client failed:\n{stdout}\n{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "status INVALID_ARGUMENT name is empty",
            r#"ErrorInfo reason: "STOCKOUT" domain: "shop.example" metadata { key: "k" value: "v" }"#,
            "RetryInfo retry_delay { seconds: 1 nanos: 500000000 }",
            r#"DebugInfo stack_entries: "a()" stack_entries: "b()" detail: "oops""#,
            r#"QuotaFailure violations { subject: "clientip:10.0.0.1" description: "too many" }"#,
            r#"PreconditionFailure violations { type: "TOS" subject: "example.com" description: "terms not accepted" }"#,
            r#"BadRequest field_violations { field: "name" description: "must not be empty" reason: "EMPTY" localized_message { locale: "de" message: "leer" } }"#,
            r#"RequestInfo request_id: "r-9" serving_data: "s""#,
            r#"ResourceInfo resource_type: "file" resource_name: "/a" owner: "root" description: "missing""#,
            r#"Help links { description: "docs" url: "https://x.example" }"#,
            r#"LocalizedMessage locale: "en-US" message: "Name is empty.""#,
        ],
        "stderr:\n{stderr}"
    );
    shutdown.shutdown();
    serving.await.expect("join").expect("serve");
}

#[tokio::test]
async fn h2grpc_reads_the_details_a_python_grpcio_status_server_sends() {
    if skip() {
        return;
    }
    let python = tokio::task::spawn_blocking(python).await.expect("venv setup");
    let dir = tempfile::tempdir().expect("temp dir");
    let socket = dir.path().join("details.sock");
    let mut server = tokio::process::Command::new(&python)
        .arg(script())
        .arg("server")
        .arg(&socket)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn the Python server");
    let mut lines = BufReader::new(server.stdout.take().expect("stdout")).lines();
    let first = tokio::time::timeout(LIMIT, lines.next_line()).await;
    let first = first.expect("the Python server did not start").expect("read").unwrap_or_default();
    assert_eq!(first, "ready");

    let channel = Channel::connect(&socket).await.expect("connect");
    let status = channel.unary(FAIL, (), CallOptions::new()).await.expect_err("the call fails");
    assert_eq!(status.code(), Code::ResourceExhausted);
    assert_eq!(status.message(), "slow down, from python");
    assert_eq!(status.error_details().expect("a google.rpc.Status").len(), 10);

    let info = status.detail::<ErrorInfo>().expect("ErrorInfo");
    assert_eq!((info.reason.as_str(), info.domain.as_str()), ("QUOTA", "py.example"));
    assert_eq!(info.metadata.get("k").map(String::as_str), Some("v"));
    assert_eq!(status.retry_delay(), Some(Duration::from_millis(2500)));
    let debug = status.detail::<DebugInfo>().expect("DebugInfo");
    assert_eq!(
        (debug.stack_entries.as_slice(), debug.detail.as_str()),
        (&["fail()".to_owned(), "main()".to_owned()][..], "traceback")
    );
    let quota = status.detail::<QuotaFailure>().expect("QuotaFailure");
    assert_eq!(quota.violations[0].subject, "project:7");
    assert_eq!(quota.violations[0].description, "daily limit");
    let pre = status.detail::<PreconditionFailure>().expect("PreconditionFailure");
    assert_eq!(
        (pre.violations[0].r#type.as_str(), pre.violations[0].subject.as_str()),
        ("TOS", "user")
    );
    let bad = status.detail::<BadRequest>().expect("BadRequest");
    let field = &bad.field_violations[0];
    assert_eq!((field.field.as_str(), field.reason.as_str()), ("name", "EMPTY"));
    let request = status.detail::<RequestInfo>().expect("RequestInfo");
    assert_eq!((request.request_id.as_str(), request.serving_data.as_str()), ("req-1", "py"));
    let resource = status.detail::<ResourceInfo>().expect("ResourceInfo");
    assert_eq!((resource.resource_type.as_str(), resource.resource_name.as_str()), ("book", "b1"));
    let help = status.detail::<Help>().expect("Help");
    assert_eq!(help.links[0].url, "https://example.com");
    let localized = status.detail::<LocalizedMessage>().expect("LocalizedMessage");
    assert_eq!((localized.locale.as_str(), localized.message.as_str()), ("fr-CH", "doucement"));

    drop(server.stdin.take()); // the peer stops when its stdin closes
    let exit = tokio::time::timeout(LIMIT, server.wait()).await.expect("the server stops");
    assert!(exit.expect("wait").success());
}
