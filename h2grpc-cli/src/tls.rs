//! TLS for the command: `https://` targets and the `--cacert`, `--cert`/`--key`,
//! `--servername` and `--insecure` options, made into the library's [`ClientTls`].
//!
//! TLS is on for an `https://host[:port]` target, or a plain target given any TLS option;
//! otherwise the connection is cleartext (h2c), as most local gRPC servers speak. (grpcurl
//! assumes TLS unless `-plaintext`; this command assumes the reverse, since its targets are
//! mostly Unix sockets and development servers.)
//!
//! The handshake runs on the socket the command dialled ([`ClientTls::connect`]), below the
//! `--wire` tap, so the tap sees the plaintext HTTP/2.

use std::path::Path;
use std::sync::Arc;

use h2grpc::transport::tls::rustls;
use h2grpc::transport::tls::tokio_rustls::client::TlsStream;
use h2grpc::ClientTls;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

use crate::error::CliError;
use crate::Global;

/// `https://host[:port]` as `host:port` (port 443 by default), and whether it was `https://`.
pub(crate) fn split_https(target: &str) -> (String, bool) {
    let Some(rest) = target.strip_prefix("https://") else { return (target.to_owned(), false) };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let has_port = match rest.rfind(']') {
        Some(bracket) => rest[bracket..].contains(':'),
        None => rest.contains(':'),
    };
    (if has_port { rest.to_owned() } else { format!("{rest}:443") }, true)
}

/// The TLS configuration the options ask for, or `None` for cleartext.
pub(crate) fn client_tls(global: &Global, https: bool) -> Result<Option<ClientTls>, CliError> {
    let wanted = https
        || global.cacert.is_some()
        || global.cert.is_some()
        || global.servername.is_some()
        || global.insecure;
    if !wanted {
        return Ok(None);
    }
    let identity = match (&global.cert, &global.key) {
        (Some(cert), Some(key)) => Some((read(cert, "--cert")?, read(key, "--key")?)),
        _ => None,
    };
    let tls = if global.insecure {
        insecure(identity)?
    } else {
        let mut tls = match &global.cacert {
            Some(path) => ClientTls::new()
                .ca_pem(read(path, "--cacert")?)
                .map_err(|err| CliError::invalid(format!("--cacert {}: {err}", path.display())))?,
            // Mozilla's roots, compiled in: what public servers' certificates chain to.
            None => ClientTls::with_webpki_roots(),
        };
        if let Some((chain, key)) = identity {
            tls = tls
                .identity_pem(chain, key)
                .map_err(|err| CliError::invalid(format!("--cert/--key: {err}")))?;
        }
        tls
    };
    Ok(Some(match &global.servername {
        Some(name) => tls.server_name(name.clone()),
        None => tls,
    }))
}

fn read(path: &Path, option: &str) -> Result<Vec<u8>, CliError> {
    std::fs::read(path).map_err(|err| {
        CliError::invalid(format!("{option} {}: cannot read it: {err}", path.display()))
    })
}

/// What `--wire` says about the TLS connection before its frames.
#[derive(Debug, Clone)]
pub(crate) struct TlsInfo {
    pub(crate) version: String,
    pub(crate) cipher_suite: String,
    pub(crate) alpn: String,
    pub(crate) server_name: String,
    pub(crate) verified: bool,
}

impl TlsInfo {
    pub(crate) fn of<IO>(stream: &TlsStream<IO>, server_name: &str, verified: bool) -> TlsInfo {
        let (_, conn) = stream.get_ref();
        TlsInfo {
            version: conn.protocol_version().map(|v| format!("{v:?}")).unwrap_or_default(),
            cipher_suite: conn
                .negotiated_cipher_suite()
                .map(|s| format!("{:?}", s.suite()))
                .unwrap_or_default(),
            alpn: conn
                .alpn_protocol()
                .map_or_else(|| "none".to_owned(), |p| String::from_utf8_lossy(p).into_owned()),
            server_name: server_name.to_owned(),
            verified,
        }
    }

    /// One line of text, or a `{"tls": ...}` JSON object.
    pub(crate) fn render(&self, json: bool) -> String {
        if json {
            return serde_json::json!({ "tls": {
                "version": self.version, "cipher_suite": self.cipher_suite, "alpn": self.alpn,
                "server_name": self.server_name, "verified": self.verified,
            }})
            .to_string();
        }
        let verified =
            if self.verified { "certificate verified" } else { "NOT VERIFIED (--insecure)" };
        format!(
            "C↔S  TLS {}, {}, ALPN {}, server name {}, {verified}; the frames below are the \
             plaintext inside TLS",
            self.version, self.cipher_suite, self.alpn, self.server_name
        )
    }
}

/// The library's words for a TLS failure, with the command's options in place of API names.
pub(crate) fn in_cli_words(message: &str) -> String {
    let mut text = message
        .replace("set ClientTls::server_name", "pass --servername NAME")
        .replace("did we set ClientTls::identity_pem?", "did we pass --cert and --key?")
        .replace(
            "give its CA's certificate as a root",
            "pass its CA's certificate with --cacert FILE (or --insecure, for testing only)",
        );
    if text.contains("TLS failed right after the handshake") {
        // Under TLS 1.3 a server's refusal of our certificate comes after our half of the
        // handshake; the alert it sends varies (DecryptError for a certificate it cannot
        // verify).
        text.push_str(" — did the server refuse our client certificate (--cert/--key)?");
    }
    if text.ends_with("is invalid: BadSignature") {
        text.push_str(" (not signed by the trusted CA: is --cacert the CA that issued it?)");
    }
    if let Some(at) = text.find("; this ClientTls trusts no CA yet") {
        text.truncate(at);
    }
    text
}

/// A config that accepts any server certificate: `--insecure`.
///
/// FOR TESTING ONLY: the connection is encrypted but the server is not authenticated, so
/// anyone on the path can pretend to be it. The handshake's signatures are still checked
/// (the server must hold the key of the certificate it sent); what is skipped is whether a
/// trusted CA issued that certificate and whether it names the server.
fn insecure(identity: Option<(Vec<u8>, Vec<u8>)>) -> Result<ClientTls, CliError> {
    let provider = Arc::new(ring_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|err| CliError::invalid(format!("TLS: {err}")))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AcceptAnyServer(provider)));
    let config = match identity {
        Some((chain, key)) => {
            let bad = |what: &str, err: &dyn std::fmt::Display| {
                CliError::invalid(format!("{what}: {err}"))
            };
            let chain = CertificateDer::pem_slice_iter(&chain)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|err| bad("--cert: bad PEM", &err))?;
            let key = PrivateKeyDer::from_pem_slice(&key)
                .map_err(|err| bad("--key: no private key in the PEM", &err))?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|err| bad("--cert/--key do not make a usable pair", &err))?
        }
        None => builder.with_no_client_auth(),
    };
    Ok(ClientTls::from_rustls(Arc::new(config)))
}

// rustls deprecates ring for lacking post-quantum key exchange; the library uses ring (no
// CMake), and the command must use the library's provider.
#[allow(deprecated)]
fn ring_provider() -> CryptoProvider {
    rustls::crypto::ring::default_provider()
}

/// The `--insecure` verifier: every certificate passes, signatures are still checked.
#[derive(Debug)]
struct AcceptAnyServer(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyServer {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.0.signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(message, cert, dss, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.0.signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(message, cert, dss, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_targets_lose_their_scheme_and_gain_port_443() {
        assert_eq!(split_https("https://example.com:8443"), ("example.com:8443".into(), true));
        assert_eq!(split_https("https://example.com/"), ("example.com:443".into(), true));
        assert_eq!(split_https("https://[::1]"), ("[::1]:443".into(), true));
        assert_eq!(split_https("localhost:50051"), ("localhost:50051".into(), false));
    }
}
