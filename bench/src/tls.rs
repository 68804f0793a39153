//! TLS on TCP loopback instead of the Unix socket, for the h2grpc and tonic stacks (issue 16):
//! set `H2GRPC_BENCH_TLS=DIR` to a directory holding `ca.pem`, `server.pem` and `server.key`
//! (`cargo run --example tls_test_certs -- DIR` writes them: a P-256 certificate for
//! `localhost` and `127.0.0.1`).
//!
//! ```text
//! cargo run --example tls_test_certs -- /tmp/bench-certs
//! H2GRPC_BENCH_TLS=/tmp/bench-certs bench/run --stacks h2grpc,tonic --workloads w1,w3-1k,w3-64k --no-codec --no-footprint
//! ```
//!
//! The `--socket PATH` argument then names a rendezvous file instead of a socket: the server
//! binds 127.0.0.1 port 0, writes the bound address into it before printing `ready`, and the
//! client reads it from there. Both sides set `TCP_NODELAY`; clients verify the name
//! `localhost`. The floor stack has no TLS and refuses to start in this mode.

use std::path::{Path, PathBuf};

use crate::BoxError;

/// The variable that turns TLS on.
pub const ENV: &str = "H2GRPC_BENCH_TLS";

/// The certificate directory, when TLS is on.
pub fn dir() -> Option<PathBuf> {
    std::env::var_os(ENV).map(PathBuf::from)
}

/// The contents of `name` in the certificate directory `dir`.
pub fn read(dir: &Path, name: &str) -> Result<Vec<u8>, BoxError> {
    let path = dir.join(name);
    std::fs::read(&path)
        .map_err(|e| format!("{}: {e} (see {ENV} in bench/src/tls.rs)", path.display()).into())
}

/// The server's side of the rendezvous: where it listens.
pub fn publish(rendezvous: &Path, addr: std::net::SocketAddr) -> Result<(), BoxError> {
    Ok(std::fs::write(rendezvous, addr.to_string())?)
}

/// The client's side: where the server listens (`127.0.0.1:PORT`).
pub fn address(rendezvous: &Path) -> Result<String, BoxError> {
    Ok(std::fs::read_to_string(rendezvous)?.trim().to_owned())
}
