//! Writes a fresh test PKI into a directory, for the TLS interop runs (`tests/peers/run`) and
//! for trying TLS by hand: `ca.pem`, `server.pem` + `server.key` (for `localhost`,
//! `127.0.0.1` and `::1`), `client.pem` + `client.key` (URI SAN `spiffe://h2grpc.test/client`),
//! `expired_server.pem` + `expired_server.key` (the server's, expired in 2001).
//!
//! ```sh
//! cargo run --example tls_test_certs -- /tmp/certs
//! cargo run --example interop_server -- --addr 127.0.0.1:50051 --tls_dir /tmp/certs --mtls
//! ```
//!
//! The certificates are made with rcgen by the same code as the TLS tests' (`tests/it/tls_pki.rs`).

#[path = "../tests/it/tls_pki.rs"]
mod tls_pki;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Some(dir) = std::env::args_os().nth(1) else {
        eprintln!("usage: tls_test_certs DIR");
        std::process::exit(2);
    };
    let dir = std::path::PathBuf::from(dir);
    std::fs::create_dir_all(&dir)?;
    tls_pki::Pki::new().write_to(&dir)?;
    println!("wrote ca.pem, server.pem, server.key, client.pem, client.key, expired_server.pem, expired_server.key to {}", dir.display());
    Ok(())
}
