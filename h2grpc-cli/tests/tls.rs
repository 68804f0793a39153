//! The command over TLS: `https://` targets and `--cacert`, `--cert`/`--key`, `--servername`,
//! `--insecure`, against the h2grpc interop server serving TLS on 127.0.0.1:0 (and Python
//! grpcio's, for a foreign TLS stack). The certificates are made fresh for each test by the
//! library's `tls_test_certs` example (rcgen): a CA, a server certificate for localhost and
//! 127.0.0.1, a client certificate. A second PKI plays the CA nobody trusts.

mod support;

use std::path::Path;

use support::*;

const UNARY: &str = "grpc.testing.TestService/UnaryCall";
/// UNAVAILABLE: the exit code of every connection failure, TLS ones included.
const UNAVAILABLE: Option<i32> = Some(14);

fn file(dir: &Path, name: &str) -> String {
    dir.join(name).display().to_string()
}

/// One line on stderr, holding each of `needles`.
fn fails_with(out: &Output, needles: &[&str]) {
    assert_eq!(out.code, UNAVAILABLE, "{out}");
    assert_eq!(out.stderr.lines().count(), 1, "one line: {out}");
    for needle in needles {
        assert!(out.stderr.contains(needle), "stderr lacks {needle:?}: {out}");
    }
}

/// A unary call's response, `{"payload":{"body":"AAA="}}` for 2 bytes.
fn unary_ok(out: &Output, what: &str) {
    out.ok(what);
    assert_eq!(out.messages(), [serde_json::json!({"payload": {"body": "AAA="}})], "{what}: {out}");
    assert_eq!(out.status()["name"], "OK", "{what}: {out}");
}

fn call(tls: &[&str], target: &str) -> Output {
    let mut args = vec!["--format", "json"];
    args.extend_from_slice(tls);
    args.extend(["call", target, UNARY, r#"{"responseSize": 2}"#]);
    h2grpc(&args)
}

#[test]
fn cacert_verifies_the_server_for_list_and_call() {
    let pki = test_pki();
    let server = Peer::h2grpc_tls(pki.path(), false);
    let ca = file(pki.path(), "ca.pem");
    let https = format!("https://localhost:{}", server.port());
    let list = h2grpc(&["list", "--cacert", &ca, &https]);
    list.ok("list over TLS");
    assert!(list.stdout.lines().any(|l| l == "grpc.testing.TestService"), "{list}");
    // A plain host:port target is TLS too once a TLS option is given.
    unary_ok(&call(&["--cacert", &ca], &format!("localhost:{}", server.port())), "call");

    // The same server without TLS options: cleartext, refused, and the message says why.
    let plain = h2grpc(&["list", &format!("localhost:{}", server.port())]);
    fails_with(&plain, &["does not speak HTTP/2 in plaintext", "https://", "--cacert"]);
}

#[test]
fn servername_sets_the_name_verified_when_connecting_by_ip() {
    let pki = test_pki();
    let server = Peer::h2grpc_tls(pki.path(), false);
    let ca = file(pki.path(), "ca.pem");
    let by_ip = format!("127.0.0.1:{}", server.port());
    unary_ok(&call(&["--cacert", &ca, "--servername", "localhost"], &by_ip), "--servername");
    let wrong = call(&["--cacert", &ca, "--servername", "wrong.example"], &by_ip);
    fails_with(&wrong, &["name mismatch", "wrong.example", "--servername"]);
    // The error is one JSON object on stderr with --format json.
    let error: serde_json::Value = serde_json::from_str(wrong.stderr.trim()).expect("JSON");
    assert_eq!(error["error"]["name"], "UNAVAILABLE", "{wrong}");
}

#[test]
fn an_unknown_ca_fails_in_one_line_unless_insecure() {
    let pki = test_pki();
    let other = test_pki();
    let server = Peer::h2grpc_tls(pki.path(), false);
    let https = format!("https://localhost:{}", server.port());
    // Mozilla's roots (no --cacert) do not hold the test CA.
    let unknown = h2grpc(&["list", &https]);
    fails_with(&unknown, &["unknown issuer", "--cacert FILE", "--insecure"]);
    // Another CA (of the same name, as both test PKIs are): the signature does not verify.
    let wrong_ca = h2grpc(&["list", "--cacert", &file(other.path(), "ca.pem"), &https]);
    fails_with(&wrong_ca, &["BadSignature", "is --cacert the CA that issued it?"]);
    // --insecure skips verification: the call goes through.
    unary_ok(&call(&["--insecure"], &https), "--insecure");
}

#[test]
fn an_expired_certificate_fails_in_one_line() {
    let pki = test_pki();
    // A server dir whose server.pem is the expired one, issued by the same CA.
    let expired = tempfile::tempdir().expect("temp dir");
    for (from, to) in [
        ("ca.pem", "ca.pem"),
        ("expired_server.pem", "server.pem"),
        ("expired_server.key", "server.key"),
    ] {
        std::fs::copy(pki.path().join(from), expired.path().join(to)).expect("copy");
    }
    let server = Peer::h2grpc_tls(expired.path(), false);
    let ca = file(pki.path(), "ca.pem");
    let out = h2grpc(&["list", "--cacert", &ca, &format!("https://localhost:{}", server.port())]);
    fails_with(&out, &["the server's certificate has expired"]);
}

#[test]
fn mutual_tls_with_cert_and_key() {
    let pki = test_pki();
    let other = test_pki();
    let server = Peer::h2grpc_tls(pki.path(), true);
    let ca = file(pki.path(), "ca.pem");
    let (cert, key) = (file(pki.path(), "client.pem"), file(pki.path(), "client.key"));
    let target = format!("localhost:{}", server.port());
    unary_ok(&call(&["--cacert", &ca, "--cert", &cert, "--key", &key], &target), "mTLS");
    let without = call(&["--cacert", &ca], &target);
    // The server's alert or its closing the socket may reach us first: both name the cause.
    fails_with(&without, &["client certificate", "--cert"]);
    // A client certificate from a CA the server does not trust is refused too.
    let (cert, key) = (file(other.path(), "client.pem"), file(other.path(), "client.key"));
    let foreign = call(&["--cacert", &ca, "--cert", &cert, "--key", &key], &target);
    assert_eq!(foreign.code, UNAVAILABLE, "{foreign}");
    assert!(foreign.stderr.contains("client certificate"), "{foreign}");
    // --cert needs --key.
    let half = h2grpc(&["list", "--cacert", &ca, "--cert", &cert, &target]);
    assert_eq!(half.code, Some(3), "{half}");
}

#[test]
fn wire_over_tls_shows_the_tls_line_then_plaintext_frames() {
    let pki = test_pki();
    let server = Peer::h2grpc_tls(pki.path(), false);
    let ca = file(pki.path(), "ca.pem");
    let target = format!("https://localhost:{}", server.port());
    let out = h2grpc(&["call", "--wire", "--cacert", &ca, &target, UNARY, r#"{"responseSize":2}"#]);
    out.ok("--wire over TLS");
    let wire = &out.stdout;
    let tls_line = wire.lines().next().unwrap_or_default();
    assert!(tls_line.starts_with("C↔S  TLS TLSv1_3, TLS13_"), "{wire}");
    assert!(tls_line.contains("ALPN h2, server name localhost, certificate verified"), "{wire}");
    for needle in [
        "C→S  PREFACE \"PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n\"",
        "           :scheme: https",
        "           :path: /grpc.testing.TestService/UnaryCall",
        "           = {\"payload\":{\"body\":\"AAA=\"}}",
        "           grpc-status: 0",
    ] {
        assert!(wire.contains(needle), "--wire lacks {needle:?}:\n{wire}");
    }
    // With --format json the TLS line is an object of its own.
    let json = h2grpc(&[
        "call",
        "--wire",
        "--format",
        "json",
        "--insecure",
        &target,
        UNARY,
        r#"{"responseSize":2}"#,
    ]);
    json.ok("--wire --format json over TLS");
    let first = &json.json_lines()[0];
    assert_eq!(first["tls"]["alpn"], "h2", "{json}");
    assert_eq!(first["tls"]["verified"], false, "{json}");
}

/// A foreign TLS stack: Python grpcio's server (BoringSSL), with mutual TLS.
#[test]
fn python_grpcio_server_over_mutual_tls() {
    let pki = test_pki();
    let server = Peer::python_tls(pki.path(), true);
    let ca = file(pki.path(), "ca.pem");
    let (cert, key) = (file(pki.path(), "client.pem"), file(pki.path(), "client.key"));
    let target = format!("https://localhost:{}", server.port());
    let tls = ["--cacert", ca.as_str(), "--cert", cert.as_str(), "--key", key.as_str()];
    let mut list = tls.to_vec();
    list.extend(["list", &target]);
    let listed = h2grpc(&list);
    listed.ok("list from grpcio over mTLS");
    assert!(listed.stdout.contains("grpc.testing.TestService"), "{listed}");
    unary_ok(&call(&tls, &target), "grpcio over mTLS");
    let without = call(&["--cacert", &ca], &target);
    assert_eq!(without.code, UNAVAILABLE, "{without}");
}
