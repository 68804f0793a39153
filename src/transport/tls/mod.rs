//! TLS and mutual TLS with rustls (feature `tls`): [`ServerTls`] for a server,
//! [`ClientTls`] for a channel, and [`TlsPeer`] for who connected.
//!
//! Only the `ring` crypto provider is used, so the feature builds wherever Rust does (no CMake,
//! no C compiler beyond what `ring` needs). ALPN `h2` is always negotiated, as gRPC requires:
//! a server refuses a client that offers no ALPN or only other protocols, and a client refuses
//! a server that does not select `h2`.
//!
//! ```no_run
//! use h2grpc::transport::tls::{ClientTls, ServerTls};
//! use h2grpc::{Channel, Server, Service, Status};
//!
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // Server: a certificate chain and its key, in PEM.
//! let tls = ServerTls::from_pem(std::fs::read("server.pem")?, std::fs::read("server.key")?)?;
//! let echo = Service::new("echo.v1.Echo")
//!     .unary("Say", |_ctx, text: String| async move { Ok::<_, Status>(text) });
//! let server = Server::builder().tls(tls).add_service(echo).bind_tcp("127.0.0.1:50051")?;
//! tokio::spawn(server.serve());
//!
//! // Client: an https:// target, verified against this CA.
//! let channel = Channel::builder("https://localhost:50051")?
//!     .tls(ClientTls::new().ca_pem(std::fs::read("ca.pem")?)?)
//!     .connect()
//!     .await?;
//! # drop(channel); Ok(()) }
//! ```
//!
//! # Layout
//!
//! ```text
//! mod.rs       PEM parsing, and what a rustls error means in words
//! server.rs    ServerTls; accept: handshake within the handshake timeout, ALPN, TlsPeer
//! client.rs    ClientTls; connect: SNI, server-name verification, ALPN
//! identity.rs  TlsPeer, SubjectAltName (read from the leaf certificate's DER)
//! ```

mod client;
mod identity;
mod server;

use std::io;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

pub use self::client::ClientTls;
pub(crate) use self::client::{describe_h2_error, strip_https};
pub use self::identity::{SubjectAltName, TlsPeer};
pub(crate) use self::server::accept;
pub use self::server::ServerTls;
use crate::error::{Error, ErrorKind};

/// The rustls crate h2grpc is built with, for [`ServerTls::from_rustls`] and
/// [`ClientTls::from_rustls`].
pub use rustls;
/// The tokio-rustls crate h2grpc is built with: the stream types of [`ServerTls::accept`] and
/// [`ClientTls::connect`].
pub use tokio_rustls;

/// The crypto provider every config h2grpc builds uses.
// rustls 0.23.48 deprecates the ring provider for lacking post-quantum key exchange; the
// issue asks for ring (no aws-lc-rs, no CMake), and TLS 1.3 with X25519 is still sound.
#[allow(deprecated)]
fn provider() -> std::sync::Arc<rustls::crypto::CryptoProvider> {
    std::sync::Arc::new(rustls::crypto::ring::default_provider())
}

/// `config` as given, or, when it sets no ALPN protocol (`unset`), a copy that offers `h2`.
/// rustls has no trait over its client and server configs: `alpn` says where the list is.
fn alpn_h2_if_unset<C: Clone>(
    unset: bool,
    config: std::sync::Arc<C>,
    alpn: fn(&mut C) -> &mut Vec<Vec<u8>>,
) -> std::sync::Arc<C> {
    if !unset {
        return config;
    }
    let mut copy = (*config).clone();
    *alpn(&mut copy) = vec![b"h2".to_vec()];
    std::sync::Arc::new(copy)
}

/// Every certificate in `pem`, in order; at least one.
fn certificates(pem: &[u8], what: &str) -> Result<Vec<CertificateDer<'static>>, Error> {
    let certs = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| Error::with_source(ErrorKind::Tls, format!("{what}: bad PEM"), err))?;
    if certs.is_empty() {
        return Err(Error::new(
            ErrorKind::Tls,
            format!("{what}: no \"-----BEGIN CERTIFICATE-----\" block in the PEM"),
        ));
    }
    Ok(certs)
}

/// The first private key in `pem` (PKCS#8, PKCS#1 or SEC1).
fn private_key(pem: &[u8]) -> Result<PrivateKeyDer<'static>, Error> {
    PrivateKeyDer::from_pem_slice(pem).map_err(|err| {
        Error::with_source(
            ErrorKind::Tls,
            "the private key: no PKCS#8, RSA or EC private key in the PEM",
            err,
        )
    })
}

/// A root store holding every certificate in `pem`.
fn root_store(pem: &[u8], what: &str) -> Result<rustls::RootCertStore, Error> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in certificates(pem, what)? {
        roots.add(cert).map_err(|err| {
            Error::with_source(ErrorKind::Tls, format!("{what}: not a usable CA certificate"), err)
        })?;
    }
    Ok(roots)
}

/// Which end's certificate a handshake error is about.
#[derive(Clone, Copy)]
enum Remote {
    Server,
    Client,
}

/// A handshake failure in words: what went wrong and what to do, from the rustls error inside
/// `err` when there is one.
fn describe(err: &io::Error, remote: Remote) -> String {
    let who = match remote {
        Remote::Server => "the server",
        Remote::Client => "the client",
    };
    let Some(tls) = err.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>()) else {
        return match err.kind() {
            io::ErrorKind::UnexpectedEof => format!(
                "{who} closed the connection during the TLS handshake (does it speak TLS? \
                 did it refuse our certificate?)"
            ),
            _ => format!("TLS handshake failed: {err}"),
        };
    };
    describe_rustls(tls, remote)
}

fn describe_rustls(err: &rustls::Error, remote: Remote) -> String {
    use rustls::{AlertDescription as Alert, CertificateError as Cert, Error as E};
    let whose = match remote {
        Remote::Server => "the server's certificate",
        Remote::Client => "the client's certificate",
    };
    match err {
        E::InvalidCertificate(Cert::UnknownIssuer) => format!(
            "{whose} was not issued by a trusted CA (unknown issuer): give its CA's certificate \
             as a root"
        ),
        E::InvalidCertificate(
            cert @ (Cert::NotValidForName | Cert::NotValidForNameContext { .. }),
        ) => {
            format!(
                "{whose} does not match the name (name mismatch): {cert}; connect by a name \
                 it holds, or set ClientTls::server_name"
            )
        }
        E::InvalidCertificate(cert @ (Cert::Expired | Cert::ExpiredContext { .. })) => {
            format!("{whose} has expired: {cert}")
        }
        E::InvalidCertificate(cert @ (Cert::NotValidYet | Cert::NotValidYetContext { .. })) => {
            format!("{whose} is not valid yet: {cert}")
        }
        E::InvalidCertificate(cert) => format!("{whose} is invalid: {cert}"),
        E::NoCertificatesPresented => {
            format!(
                "{} presented no certificate, and one is required",
                match remote {
                    Remote::Server => "the server",
                    Remote::Client => "the client",
                }
            )
        }
        E::AlertReceived(
            alert @ (Alert::BadCertificate
            | Alert::UnknownCA
            | Alert::CertificateRequired
            | Alert::CertificateExpired
            | Alert::CertificateUnknown
            | Alert::AccessDenied),
        ) => format!("the peer refused our certificate (TLS alert {alert:?})"),
        E::AlertReceived(Alert::NoApplicationProtocol) => {
            "the peer does not speak ALPN h2 (TLS alert NoApplicationProtocol)".to_owned()
        }
        E::AlertReceived(alert) => format!("the peer ended the TLS handshake with alert {alert:?}"),
        E::InvalidMessage(_) | E::InappropriateMessage { .. } => {
            format!("the peer does not speak TLS ({err}): is it a cleartext (h2c) endpoint?")
        }
        E::NoApplicationProtocol => {
            "the peer offered no ALPN protocol we speak: gRPC needs h2".to_owned()
        }
        other => format!("TLS handshake failed: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::{AlertDescription as Alert, CertificateError as Cert, Error as E};

    #[test]
    fn each_handshake_failure_is_named_for_the_side_that_sees_it() {
        let cases: &[(E, Remote, &str)] = &[
            (
                E::InvalidCertificate(Cert::UnknownIssuer),
                Remote::Server,
                "the server's certificate was not issued by a trusted CA (unknown issuer)",
            ),
            (
                E::InvalidCertificate(Cert::UnknownIssuer),
                Remote::Client,
                "the client's certificate was not issued by a trusted CA",
            ),
            (E::InvalidCertificate(Cert::NotValidForName), Remote::Server, "name mismatch"),
            (
                E::InvalidCertificate(Cert::Expired),
                Remote::Server,
                "the server's certificate has expired",
            ),
            (E::InvalidCertificate(Cert::NotValidYet), Remote::Server, "is not valid yet"),
            (
                E::InvalidCertificate(Cert::Revoked),
                Remote::Server,
                "the server's certificate is invalid",
            ),
            (E::NoCertificatesPresented, Remote::Client, "the client presented no certificate"),
            (E::AlertReceived(Alert::UnknownCA), Remote::Server, "refused our certificate"),
            (E::AlertReceived(Alert::NoApplicationProtocol), Remote::Server, "ALPN h2"),
            (E::NoApplicationProtocol, Remote::Client, "no ALPN protocol we speak"),
            (E::General("x".into()), Remote::Server, "TLS handshake failed: "),
        ];
        for (err, remote, want) in cases {
            let io = io::Error::new(io::ErrorKind::InvalidData, err.clone());
            let got = describe(&io, *remote);
            assert!(got.contains(want), "{err:?}: {got:?} lacks {want:?}");
        }
        let eof = io::Error::from(io::ErrorKind::UnexpectedEof);
        assert!(describe(&eof, Remote::Server).starts_with("the server closed the connection"));
    }
}
