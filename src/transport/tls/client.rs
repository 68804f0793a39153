//! [`ClientTls`], and the client's half of a handshake: SNI and server-name verification,
//! ALPN `h2`, and errors that name the reason.

use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::client::TlsStream;

use super::{alpn_h2_if_unset, describe, Remote};
use crate::error::{Error, ErrorKind};
use crate::trace::{Direction, Payload, Side, Trace};
use crate::transport::{Peer, Target};

/// A channel's TLS configuration: the CA roots that verify the server, an optional client
/// certificate (mutual TLS), and the name to verify. Hand it to
/// [`ChannelBuilder::tls`](crate::client::ChannelBuilder::tls); an `https://host:port`
/// target turns TLS on by itself, with the roots of the `tls-webpki-roots` or
/// `tls-native-roots` feature.
///
/// ```
/// use h2grpc::transport::tls::ClientTls;
///
/// # let ca = rcgen::CertificateParams::new(Vec::<String>::new())?;
/// # let key = rcgen::KeyPair::generate()?;
/// # let (ca_pem, key_pem) = (ca.self_signed(&key)?.pem(), key.serialize_pem());
/// # let chain_pem = ca_pem.clone();
/// let tls = ClientTls::new()
///     .ca_pem(&ca_pem)?                   // trust this CA
///     .identity_pem(&chain_pem, &key_pem)? // present this certificate (mutual TLS)
///     .server_name("api.internal");        // verify this name, whatever the target says
/// let mut builder = h2grpc::Channel::builder("10.0.0.7:8443")?;
/// builder.tls(tls);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct ClientTls {
    roots: rustls::RootCertStore,
    identity: Option<Arc<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>>,
    server_name: Option<String>,
    /// The config built from the fields above, or the user's own.
    config: Arc<rustls::ClientConfig>,
    from_rustls: bool,
    /// Accept a server that selects no ALPN protocol (see [`ClientTls::assume_http2`]).
    assume_http2: bool,
}

impl std::fmt::Debug for ClientTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientTls")
            .field("roots", &self.roots.len())
            .field("client_cert", &self.identity.is_some())
            .field("server_name", &self.server_name)
            .field("from_rustls", &self.from_rustls)
            .field("assume_http2", &self.assume_http2)
            .finish()
    }
}

impl Default for ClientTls {
    fn default() -> Self {
        ClientTls::new()
    }
}

impl ClientTls {
    /// No trusted roots yet (add them with [`ca_pem`](Self::ca_pem)), no client certificate,
    /// the server name taken from the target.
    pub fn new() -> Self {
        let roots = rustls::RootCertStore::empty();
        // Fails only if the ring provider lacked TLS 1.2 and 1.3, which it has.
        let config = build(&roots, None).expect("the ring provider speaks TLS 1.2 and 1.3");
        ClientTls {
            roots,
            identity: None,
            server_name: None,
            config,
            from_rustls: false,
            assume_http2: false,
        }
    }

    /// Mozilla's root certificates, compiled in (feature `tls-webpki-roots`).
    #[cfg(feature = "tls-webpki-roots")]
    pub fn with_webpki_roots() -> Self {
        let mut tls = ClientTls::new();
        tls.roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        tls.rebuild().unwrap_or_else(|_| ClientTls::new())
    }

    /// The operating system's trusted roots (feature `tls-native-roots`). Fails when none
    /// can be loaded.
    #[cfg(feature = "tls-native-roots")]
    pub fn with_native_roots() -> Result<Self, Error> {
        let mut tls = ClientTls::new();
        let loaded = rustls_native_certs::load_native_certs();
        tls.roots.add_parsable_certificates(loaded.certs);
        if tls.roots.is_empty() {
            return Err(Error::new(
                ErrorKind::Tls,
                format!("no root certificates found in the system store: {:?}", loaded.errors),
            ));
        }
        tls.rebuild()
    }

    /// The roots `https://` targets use unless [`ChannelBuilder::tls`] says otherwise:
    /// webpki's, or the system's, or none (every server then fails verification).
    ///
    /// [`ChannelBuilder::tls`]: crate::client::ChannelBuilder::tls
    pub(crate) fn for_https() -> Self {
        #[cfg(feature = "tls-webpki-roots")]
        return ClientTls::with_webpki_roots();
        #[cfg(all(feature = "tls-native-roots", not(feature = "tls-webpki-roots")))]
        return ClientTls::with_native_roots().unwrap_or_default();
        #[cfg(not(any(feature = "tls-native-roots", feature = "tls-webpki-roots")))]
        ClientTls::new()
    }

    /// Trusts the CA certificates in `pem` (added to those already trusted).
    pub fn ca_pem(mut self, pem: impl AsRef<[u8]>) -> Result<Self, Error> {
        self.no_user_config("ca_pem")?;
        let added = super::root_store(pem.as_ref(), "the CA certificates")?;
        self.roots.roots.extend(added.roots);
        self.rebuild()
    }

    /// Presents this certificate chain (leaf first) and key to servers that ask for one:
    /// mutual TLS.
    pub fn identity_pem(
        mut self,
        cert_chain: impl AsRef<[u8]>,
        key: impl AsRef<[u8]>,
    ) -> Result<Self, Error> {
        self.no_user_config("identity_pem")?;
        let chain = super::certificates(cert_chain.as_ref(), "the client certificate chain")?;
        let key = super::private_key(key.as_ref())?;
        self.identity = Some(Arc::new((chain, key)));
        self.rebuild()
    }

    /// Verifies the server's certificate for `name`, and sends it as SNI, instead of the
    /// target's host: for connecting by IP address to a server whose certificate names a
    /// host, or through a tunnel (grpc's `ssl_target_name_override`).
    pub fn server_name(mut self, name: impl Into<String>) -> Self {
        self.server_name = Some(name.into());
        self
    }

    /// Speak HTTP/2 to a server whose TLS handshake selects no ALPN protocol (a TLS proxy
    /// that strips ALPN, an old server), as tonic's `assume_http2` does. A server that selects
    /// another protocol is still refused. Default `false`: gRPC requires ALPN `h2`, and
    /// grpc-go and C-core refuse such servers.
    pub fn assume_http2(mut self, assume: bool) -> Self {
        self.assume_http2 = assume;
        self
    }

    /// A configuration built with rustls directly (custom verifiers, session resumption,
    /// client certificate resolvers). If it sets no ALPN protocols, `h2` is set.
    pub fn from_rustls(config: Arc<rustls::ClientConfig>) -> Self {
        let unset = config.alpn_protocols.is_empty();
        let config = alpn_h2_if_unset(unset, config, |config| &mut config.alpn_protocols);
        ClientTls {
            roots: rustls::RootCertStore::empty(),
            identity: None,
            server_name: None,
            config,
            from_rustls: true,
            assume_http2: false,
        }
    }

    fn no_user_config(&self, what: &str) -> Result<(), Error> {
        if self.from_rustls {
            return Err(Error::new(
                ErrorKind::Tls,
                format!("{what}: a ClientTls::from_rustls config is set in that config"),
            ));
        }
        Ok(())
    }

    fn rebuild(mut self) -> Result<Self, Error> {
        self.config = build(&self.roots, self.identity.as_deref())?;
        Ok(self)
    }

    /// The client's half of a TLS handshake on a stream you connected yourself, for
    /// [`ChannelBuilder::connect_with_io`](crate::client::ChannelBuilder::connect_with_io):
    /// SNI and verification for `server_name` (or the [`server_name`](Self::server_name)
    /// override), ALPN `h2`. With a [`Tap`](crate::trace::Tap) around the returned stream, the
    /// tap records the plaintext HTTP/2 above TLS.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), Box<dyn std::error::Error>> {
    /// use h2grpc::{trace::Tap, Channel, ClientTls};
    /// let tls = ClientTls::new().ca_pem(std::fs::read("ca.pem")?)?;
    /// let tcp = tokio::net::TcpStream::connect("127.0.0.1:8443").await?;
    /// let tap = Tap::new(tls.connect(tcp, "localhost").await?);
    /// let log = tap.log(); // the decrypted bytes, for h2grpc::trace::frames
    /// // .tls(..) here only makes the calls say `:scheme https`: the stream is already TLS.
    /// let channel = Channel::builder("https://localhost:8443")?.tls(tls).connect_with_io(tap).await?;
    /// # drop((log, channel)); Ok(()) }
    /// ```
    pub async fn connect<IO>(&self, io: IO, server_name: &str) -> Result<TlsStream<IO>, Error>
    where
        IO: AsyncRead + AsyncWrite + Unpin,
    {
        let name = self.server_name.as_deref().unwrap_or(server_name);
        self.handshake(io, name, name, &Trace::off()).await
    }

    /// The TLS handshake over `io` to `target`: SNI and verification for the server name
    /// (the override, else the target's host, else `localhost` for Unix sockets), ALPN `h2`.
    pub(crate) async fn connect_to<IO>(
        &self,
        io: IO,
        target: &Target,
        trace: &Trace,
    ) -> Result<TlsStream<IO>, Error>
    where
        IO: AsyncRead + AsyncWrite + Unpin,
    {
        let name = match (&self.server_name, target) {
            (Some(name), _) => name.as_str(),
            (None, Target::Tcp { host, .. }) => host.as_str(),
            (None, _) => "localhost",
        };
        self.handshake(io, name, &target.to_string(), trace).await
    }

    /// The handshake verifying `name`; errors name the server as `label`.
    async fn handshake<IO>(
        &self,
        io: IO,
        name: &str,
        label: &str,
        trace: &Trace,
    ) -> Result<TlsStream<IO>, Error>
    where
        IO: AsyncRead + AsyncWrite + Unpin,
    {
        let name = name.to_owned();
        let server_name = ServerName::try_from(name.clone()).map_err(|_| {
            Error::new(
                ErrorKind::Tls,
                format!("{name:?} is neither a DNS name nor an IP address to verify a server by"),
            )
        })?;
        let connector = tokio_rustls::TlsConnector::from(self.config.clone());
        let stream = connector.connect(server_name, io).await.map_err(|err| {
            let why = describe(&err, Remote::Server);
            let hint = if self.roots.is_empty() && !self.from_rustls {
                "; this ClientTls trusts no CA yet: add one with ClientTls::ca_pem, or turn on \
                 h2grpc's tls-webpki-roots or tls-native-roots feature"
            } else {
                ""
            };
            Error::new(ErrorKind::Tls, format!("TLS handshake with {label} failed: {why}{hint}"))
        })?;
        let (_, conn) = stream.get_ref();
        let alpn = conn.alpn_protocol();
        if alpn != Some(b"h2") && !(alpn.is_none() && self.assume_http2) {
            return Err(Error::new(
                ErrorKind::Tls,
                format!(
                    "{label} did not negotiate ALPN h2 in the TLS handshake: it is not a gRPC \
                     server, or too old to speak ALPN (ClientTls::assume_http2 accepts that)"
                ),
            ));
        }
        if trace.is_on() {
            let peer = super::server::tls_peer(Peer::Unknown, conn, Some(name));
            let summary = super::server::summary(&peer);
            trace.connection(Side::Client, Direction::Send, Payload::Tls { summary: &summary });
        }
        Ok(stream)
    }
}

fn build(
    roots: &rustls::RootCertStore,
    identity: Option<&(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>,
) -> Result<Arc<rustls::ClientConfig>, Error> {
    let builder = rustls::ClientConfig::builder_with_provider(super::provider())
        .with_safe_default_protocol_versions()
        .map_err(|err| Error::with_source(ErrorKind::Tls, "no usable TLS versions", err))?
        .with_root_certificates(roots.clone());
    let mut config = match identity {
        Some((chain, key)) => {
            builder.with_client_auth_cert(chain.clone(), key.clone_key()).map_err(|err| {
                Error::with_source(
                    ErrorKind::Tls,
                    "the client certificate and private key do not make a usable pair",
                    err,
                )
            })?
        }
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(Arc::new(config))
}

/// `https://host:port` as `host:port` (port 443 when none is given), for
/// [`Channel::builder`](crate::Channel::builder).
pub(crate) fn strip_https(target: &str) -> Option<String> {
    let rest = target.strip_prefix("https://")?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let has_port = match rest.rfind(']') {
        Some(bracket) => rest[bracket..].contains(':'),
        None => rest.contains(':'),
    };
    Some(if has_port { rest.to_owned() } else { format!("{rest}:443") })
}

/// A TLS failure inside an HTTP/2 handshake error: under TLS 1.3 a server refuses a client
/// certificate after the client's half of the handshake has finished, so the refusal (a TLS
/// alert) arrives as the first read of the HTTP/2 handshake.
///
/// h2 keeps only the kind and text of an IO error, not the rustls error inside, so the alert
/// is recognised by kind (`InvalidData`, what tokio-rustls reports TLS errors as) and named
/// by its text.
pub(crate) fn describe_h2_error(err: &h2::Error) -> Option<String> {
    let io = err.get_io()?;
    if io.kind() != std::io::ErrorKind::InvalidData {
        return None;
    }
    let text = io.to_string();
    let certificate_alert =
        ["Certificate", "UnknownCA", "AccessDenied"].iter().any(|a| text.contains(a));
    Some(if certificate_alert {
        format!("the server refused our client certificate ({text}): does it trust our CA, and did we set ClientTls::identity_pem?")
    } else {
        format!("TLS failed right after the handshake: {text}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn https_targets_lose_their_scheme_and_gain_port_443() {
        assert_eq!(strip_https("https://example.com:8443").as_deref(), Some("example.com:8443"));
        assert_eq!(strip_https("https://example.com").as_deref(), Some("example.com:443"));
        assert_eq!(strip_https("https://example.com/").as_deref(), Some("example.com:443"));
        assert_eq!(strip_https("https://[::1]").as_deref(), Some("[::1]:443"));
        assert_eq!(strip_https("https://[::1]:50051").as_deref(), Some("[::1]:50051"));
        assert_eq!(strip_https("example.com:443"), None);
    }
}
