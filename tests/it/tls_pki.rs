//! Certificates made at test time with rcgen: a CA, a server certificate for `localhost` and
//! `127.0.0.1`, a client certificate with a SPIFFE URI SAN, and the bad ones (expired, wrong
//! name, another CA). Shared by the TLS tests and `examples/tls_test_certs.rs`, which writes
//! them as files for the foreign interop peers.

#![allow(dead_code)] // each user takes the certificates it needs

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SanType,
};

/// The client certificate's identity, a SPIFFE ID.
pub(crate) const CLIENT_SPIFFE_ID: &str = "spiffe://h2grpc.test/client";
/// A second client of the same CA, which interceptors refuse.
pub(crate) const INTRUDER_SPIFFE_ID: &str = "spiffe://h2grpc.test/intruder";

/// A certificate (chain, leaf first) and its key, PEM.
#[derive(Clone, Debug)]
pub(crate) struct Identity {
    pub(crate) cert_pem: String,
    pub(crate) key_pem: String,
}

/// Every certificate the TLS tests use.
#[derive(Clone, Debug)]
pub(crate) struct Pki {
    /// The CA that issued the server and client certificates.
    pub(crate) ca_pem: String,
    /// `localhost`, `127.0.0.1`, `::1`.
    pub(crate) server: Identity,
    /// URI SAN [`CLIENT_SPIFFE_ID`].
    pub(crate) client: Identity,
    /// URI SAN [`INTRUDER_SPIFFE_ID`], same CA.
    pub(crate) intruder: Identity,
    /// Expired in 2001.
    pub(crate) expired_server: Identity,
    /// Only for `elsewhere.example`.
    pub(crate) wrong_name_server: Identity,
    /// Issued by another CA, for a client.
    pub(crate) foreign_client: Identity,
}

fn ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    CertifiedIssuer::self_signed(params, KeyPair::generate().expect("key")).expect("ca")
}

fn leaf(
    issuer: &CertifiedIssuer<'static, KeyPair>,
    sans: &[SanType],
    purpose: ExtendedKeyUsagePurpose,
    expired: bool,
) -> Identity {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params.subject_alt_names = sans.to_vec();
    params.distinguished_name.push(DnType::CommonName, "h2grpc test");
    params.extended_key_usages = vec![purpose];
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    if expired {
        params.not_before = rcgen::date_time_ymd(2000, 1, 1);
        params.not_after = rcgen::date_time_ymd(2001, 1, 1);
    }
    let key = KeyPair::generate().expect("key");
    let cert = params.signed_by(&key, issuer).expect("sign");
    Identity { cert_pem: cert.pem(), key_pem: key.serialize_pem() }
}

fn dns(name: &str) -> SanType {
    SanType::DnsName(name.try_into().expect("dns name"))
}

fn uri(uri: &str) -> SanType {
    SanType::URI(uri.try_into().expect("uri"))
}

fn ip(ip: &str) -> SanType {
    SanType::IpAddress(ip.parse().expect("ip"))
}

impl Pki {
    /// A fresh set of certificates.
    pub(crate) fn new() -> Pki {
        let ca = ca("h2grpc test CA");
        let other = ca_other();
        let server_sans = [dns("localhost"), ip("127.0.0.1"), ip("::1")];
        let server = ExtendedKeyUsagePurpose::ServerAuth;
        let client = ExtendedKeyUsagePurpose::ClientAuth;
        Pki {
            ca_pem: ca.pem(),
            server: leaf(&ca, &server_sans, server.clone(), false),
            client: leaf(&ca, &[uri(CLIENT_SPIFFE_ID)], client.clone(), false),
            intruder: leaf(&ca, &[uri(INTRUDER_SPIFFE_ID)], client.clone(), false),
            expired_server: leaf(&ca, &server_sans, server.clone(), true),
            wrong_name_server: leaf(&ca, &[dns("elsewhere.example")], server, false),
            foreign_client: leaf(&other, &[uri(CLIENT_SPIFFE_ID)], client, false),
        }
    }

    /// Writes `ca.pem`, `server.pem`, `server.key`, `client.pem` and `client.key` into `dir`,
    /// and `expired_server.pem`, `expired_server.key` (the server's, expired in 2001).
    pub(crate) fn write_to(&self, dir: &std::path::Path) -> std::io::Result<()> {
        std::fs::write(dir.join("ca.pem"), &self.ca_pem)?;
        std::fs::write(dir.join("server.pem"), &self.server.cert_pem)?;
        std::fs::write(dir.join("server.key"), &self.server.key_pem)?;
        std::fs::write(dir.join("expired_server.pem"), &self.expired_server.cert_pem)?;
        std::fs::write(dir.join("expired_server.key"), &self.expired_server.key_pem)?;
        std::fs::write(dir.join("client.pem"), &self.client.cert_pem)?;
        std::fs::write(dir.join("client.key"), &self.client.key_pem)?;
        Ok(())
    }
}

fn ca_other() -> CertifiedIssuer<'static, KeyPair> {
    ca("another CA")
}
