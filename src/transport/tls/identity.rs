//! [`TlsPeer`]: what a TLS handshake established about the other end, and the subject
//! alternative names of its certificate, read from the DER without an X.509 crate.
//!
//! ```text
//! Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signature }
//! tbsCertificate ::= SEQUENCE { [0] version, serial, signature, issuer, validity, subject,
//!                               subjectPublicKeyInfo, [1] .., [2] .., [3] extensions }
//! Extension ::= SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
//! subjectAltName (2.5.29.17) ::= SEQUENCE OF GeneralName
//! GeneralName: [1] rfc822Name, [2] dNSName, [6] URI, [7] iPAddress (implicit tags)
//! ```
//!
//! The certificate was verified by rustls (webpki) before it gets here; the reader still
//! checks every length and returns no names rather than panicking on anything odd.

use std::net::IpAddr;

use rustls_pki_types::CertificateDer;

use crate::transport::Peer;

/// One subject alternative name of a certificate (RFC 5280 §4.2.1.6).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SubjectAltName {
    /// A DNS name (`dNSName`), such as `api.example.com` or `*.example.com`.
    Dns(String),
    /// A URI (`uniformResourceIdentifier`), such as a SPIFFE ID `spiffe://example.org/ns/web`.
    Uri(String),
    /// An IP address (`iPAddress`).
    Ip(IpAddr),
    /// An email address (`rfc822Name`).
    Email(String),
}

/// What the TLS handshake established about the peer: the protocol, and for a peer that
/// presented a certificate (a client under mutual TLS), its verified chain and names.
///
/// A server's handlers and interceptors reach it through [`Peer::tls`]:
///
/// ```
/// use h2grpc::{CallContext, Status};
///
/// /// Allows only the workload whose client certificate carries this SPIFFE ID.
/// fn only_billing(ctx: &CallContext) -> Result<(), Status> {
///     let allowed = ctx
///         .peer()
///         .tls()
///         .is_some_and(|tls| tls.uri_sans().any(|uri| uri == "spiffe://example.org/billing"));
///     if allowed {
///         Ok(())
///     } else {
///         Err(Status::permission_denied("only spiffe://example.org/billing may call this"))
///     }
/// }
/// # let _ = only_billing;
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsPeer {
    pub(super) transport: Peer,
    pub(super) protocol_version: String,
    pub(super) cipher_suite: String,
    pub(super) alpn: Option<String>,
    pub(super) server_name: Option<String>,
    pub(super) certificates: Vec<CertificateDer<'static>>,
    pub(super) subject_alt_names: Vec<SubjectAltName>,
}

impl TlsPeer {
    /// The connection under TLS: [`Peer::Tcp`] with the peer's address, for a TCP listener.
    pub fn transport(&self) -> &Peer {
        &self.transport
    }

    /// The negotiated protocol version, such as `TLSv1_3`.
    pub fn protocol_version(&self) -> &str {
        &self.protocol_version
    }

    /// The negotiated cipher suite, such as `TLS13_AES_256_GCM_SHA384`.
    pub fn cipher_suite(&self) -> &str {
        &self.cipher_suite
    }

    /// The negotiated ALPN protocol: always `h2` on a served connection.
    pub fn alpn(&self) -> Option<&str> {
        self.alpn.as_deref()
    }

    /// The server name the client asked for (SNI), if it sent one.
    pub fn server_name(&self) -> Option<&str> {
        self.server_name.as_deref()
    }

    /// The peer's certificate chain, leaf first, as verified in the handshake; empty when the
    /// peer presented none (a client where client certificates are optional or not asked for).
    pub fn certificates(&self) -> &[CertificateDer<'static>] {
        &self.certificates
    }

    /// The subject alternative names of the leaf certificate, in certificate order.
    pub fn subject_alt_names(&self) -> &[SubjectAltName] {
        &self.subject_alt_names
    }

    /// The leaf certificate's DNS names.
    pub fn dns_sans(&self) -> impl Iterator<Item = &str> {
        self.subject_alt_names.iter().filter_map(|san| match san {
            SubjectAltName::Dns(name) => Some(name.as_str()),
            _ => None,
        })
    }

    /// The leaf certificate's URIs (SPIFFE IDs are URI SANs).
    pub fn uri_sans(&self) -> impl Iterator<Item = &str> {
        self.subject_alt_names.iter().filter_map(|san| match san {
            SubjectAltName::Uri(uri) => Some(uri.as_str()),
            _ => None,
        })
    }
}

/// The subject alternative names of a DER certificate; none if it has no such extension or
/// does not parse.
pub(crate) fn subject_alt_names(cert: &[u8]) -> Vec<SubjectAltName> {
    san_extension(cert).map(parse_general_names).unwrap_or_default()
}

const SEQUENCE: u8 = 0x30;
const OID: u8 = 0x06;
const OCTET_STRING: u8 = 0x04;
const EXTENSIONS: u8 = 0xa3;
/// 2.5.29.17, the contents of the OID.
const SAN_OID: &[u8] = &[0x55, 0x1d, 0x11];

/// A DER reader over one level of TLV items; every read is bounds-checked.
struct Der<'a>(&'a [u8]);

impl<'a> Der<'a> {
    /// The next item's tag and contents, or `None` at the end or on a malformed length.
    fn next_item(&mut self) -> Option<(u8, &'a [u8])> {
        let tag = *self.0.first()?;
        let first = *self.0.get(1)?;
        let (len, header) = if first < 0x80 {
            (usize::from(first), 2)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 {
                return None;
            }
            let bytes = self.0.get(2..2 + n)?;
            (bytes.iter().fold(0usize, |len, b| (len << 8) | usize::from(*b)), 2 + n)
        };
        let end = header.checked_add(len)?;
        let contents = self.0.get(header..end)?;
        self.0 = self.0.get(end..)?;
        Some((tag, contents))
    }

    /// The contents of the next item if it has `tag`.
    fn expect(&mut self, tag: u8) -> Option<&'a [u8]> {
        self.next_item().filter(|(t, _)| *t == tag).map(|(_, contents)| contents)
    }
}

/// The GeneralNames bytes of the subjectAltName extension.
fn san_extension(cert: &[u8]) -> Option<&[u8]> {
    let certificate = Der(cert).expect(SEQUENCE)?;
    let mut tbs = Der(Der(certificate).expect(SEQUENCE)?);
    let extensions = std::iter::from_fn(|| tbs.next_item())
        .find(|(tag, _)| *tag == EXTENSIONS)
        .map(|(_, contents)| contents)?;
    let mut list = Der(Der(extensions).expect(SEQUENCE)?);
    while let Some(extension) = list.expect(SEQUENCE) {
        let mut fields = Der(extension);
        if fields.expect(OID)? != SAN_OID {
            continue;
        }
        let value = std::iter::from_fn(|| fields.next_item())
            .find(|(tag, _)| *tag == OCTET_STRING)
            .map(|(_, contents)| contents)?;
        return Der(value).expect(SEQUENCE);
    }
    None
}

fn parse_general_names(names: &[u8]) -> Vec<SubjectAltName> {
    let mut reader = Der(names);
    let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
    std::iter::from_fn(|| reader.next_item())
        .filter_map(|(tag, contents)| match tag {
            0x81 => Some(SubjectAltName::Email(text(contents))),
            0x82 => Some(SubjectAltName::Dns(text(contents))),
            0x86 => Some(SubjectAltName::Uri(text(contents))),
            0x87 => match contents.len() {
                4 => <[u8; 4]>::try_from(contents).ok().map(|ip| SubjectAltName::Ip(ip.into())),
                16 => <[u8; 16]>::try_from(contents).ok().map(|ip| SubjectAltName::Ip(ip.into())),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_alt_names_of_an_rcgen_certificate_come_back_in_order() {
        let mut params = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        params.subject_alt_names.push(rcgen::SanType::IpAddress("127.0.0.1".parse().unwrap()));
        params.subject_alt_names.push(rcgen::SanType::IpAddress("::1".parse().unwrap()));
        let uri = rcgen::string::Ia5String::try_from("spiffe://example.org/web").unwrap();
        params.subject_alt_names.push(rcgen::SanType::URI(uri));
        let email = rcgen::string::Ia5String::try_from("ops@example.org").unwrap();
        params.subject_alt_names.push(rcgen::SanType::Rfc822Name(email));
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        assert_eq!(
            subject_alt_names(cert.der()),
            vec![
                SubjectAltName::Dns("localhost".into()),
                SubjectAltName::Ip("127.0.0.1".parse().unwrap()),
                SubjectAltName::Ip("::1".parse().unwrap()),
                SubjectAltName::Uri("spiffe://example.org/web".into()),
                SubjectAltName::Email("ops@example.org".into()),
            ]
        );
    }

    #[test]
    fn a_certificate_without_the_extension_has_no_names() {
        let params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        assert_eq!(subject_alt_names(cert.der()), vec![]);
    }

    /// A certificate with every kind of name, made once.
    fn sample_der() -> &'static [u8] {
        static DER: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
        DER.get_or_init(|| {
            let mut params = rcgen::CertificateParams::new(vec!["a.example".to_owned()]).unwrap();
            params.subject_alt_names.push(rcgen::SanType::IpAddress("::1".parse().unwrap()));
            let uri = rcgen::string::Ia5String::try_from("spiffe://x/y").unwrap();
            params.subject_alt_names.push(rcgen::SanType::URI(uri));
            let key = rcgen::KeyPair::generate().unwrap();
            params.self_signed(&key).unwrap().der().to_vec()
        })
    }

    proptest::proptest! {
        /// Corrupted certificates (bytes overwritten anywhere, lengths included) give some
        /// names or none, never a panic or an out-of-bounds read.
        #[test]
        fn corrupted_certificates_never_panic(
            edits in proptest::collection::vec((0usize..4096, proptest::prelude::any::<u8>()), 1..8)
        ) {
            let mut der = sample_der().to_vec();
            for (at, byte) in edits {
                let len = der.len();
                der[at % len] = byte;
            }
            let _ = subject_alt_names(&der);
        }
    }

    #[test]
    fn every_truncation_and_garbage_yields_no_panic() {
        let params = rcgen::CertificateParams::new(vec!["a.example".to_owned()]).unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let der = params.self_signed(&key).unwrap().der().to_vec();
        for len in 0..der.len() {
            // A truncated certificate's outer length no longer fits: no names, no panic.
            assert_eq!(subject_alt_names(&der[..len]), vec![], "truncated at {len}");
        }
        for garbage in [&[0x30, 0x85, 1, 2, 3, 4, 5][..], &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff]] {
            assert_eq!(subject_alt_names(garbage), vec![]);
        }
    }
}
