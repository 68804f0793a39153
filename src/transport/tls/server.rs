//! [`ServerTls`], and accepting one TLS connection: the handshake within the server's
//! handshake timeout, the ALPN check, and the [`TlsPeer`] the calls will see.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::server::TlsStream;
use tokio_util::sync::CancellationToken;

use super::identity::{subject_alt_names, TlsPeer};
use super::{alpn_h2_if_unset, describe, Remote};
use crate::error::{Error, ErrorKind};
use crate::trace::{Direction, Payload, Side, Trace};
use crate::transport::Peer;

/// A server's TLS configuration: its certificate and key, and whether (and against which CA)
/// it verifies client certificates. Hand it to
/// [`Builder::tls`](crate::server::Builder::tls); every connection the server accepts then
/// starts with a TLS handshake negotiating ALPN `h2`.
///
/// ```
/// use h2grpc::transport::tls::ServerTls;
///
/// # let ca = rcgen::CertificateParams::new(Vec::<String>::new())?;
/// # let key = rcgen::KeyPair::generate()?;
/// # let (chain_pem, key_pem) = (ca.self_signed(&key)?.pem(), key.serialize_pem());
/// # let ca_pem = chain_pem.clone();
/// // Server authentication only:
/// let tls = ServerTls::from_pem(&chain_pem, &key_pem)?;
/// // Mutual TLS: every client must present a certificate issued by this CA.
/// let mtls = ServerTls::from_pem(&chain_pem, &key_pem)?.require_client_cert(&ca_pem)?;
/// # drop((tls, mtls));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct ServerTls {
    config: Arc<rustls::ServerConfig>,
    /// The certificate and key, kept to rebuild the config with a client verifier; `None`
    /// for a config the user built.
    identity: Option<Arc<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>)>>,
}

impl std::fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerTls")
            .field("alpn", &self.config.alpn_protocols)
            .field("from_pem", &self.identity.is_some())
            .finish_non_exhaustive()
    }
}

impl ServerTls {
    /// The certificate chain (leaf first, then any intermediates) and its private key, both
    /// PEM; no client certificates asked for. Fails with [`ErrorKind::Tls`] when the PEM
    /// holds no certificate or no key, or the key does not fit the certificate.
    pub fn from_pem(cert_chain: impl AsRef<[u8]>, key: impl AsRef<[u8]>) -> Result<Self, Error> {
        let chain = super::certificates(cert_chain.as_ref(), "the certificate chain")?;
        let key = super::private_key(key.as_ref())?;
        let identity = Arc::new((chain, key));
        let config = build(&identity, None)?;
        Ok(ServerTls { config, identity: Some(identity) })
    }

    /// A configuration built with rustls directly: certificate resolvers (rotation), custom
    /// client verifiers, other protocol versions. If it sets no ALPN protocols, `h2` is set;
    /// a config whose ALPN list lacks `h2` serves no gRPC client.
    ///
    /// Build it with the same `rustls` as h2grpc: [`h2grpc::transport::tls::rustls`](super::rustls).
    pub fn from_rustls(config: Arc<rustls::ServerConfig>) -> Self {
        let unset = config.alpn_protocols.is_empty();
        let config = alpn_h2_if_unset(unset, config, |config| &mut config.alpn_protocols);
        ServerTls { config, identity: None }
    }

    /// Mutual TLS: refuse every client that does not present a certificate issued by one of
    /// the CAs in `ca_pem`. The verified chain and its names are then on each call's
    /// [`Peer::tls`], for interceptors to authorize by.
    pub fn require_client_cert(self, ca_pem: impl AsRef<[u8]>) -> Result<Self, Error> {
        self.client_verifier(ca_pem.as_ref(), true)
    }

    /// Optional client certificates: a client may present none, but one it presents must be
    /// issued by a CA in `ca_pem`. [`TlsPeer::certificates`] tells the two apart.
    pub fn accept_client_cert(self, ca_pem: impl AsRef<[u8]>) -> Result<Self, Error> {
        self.client_verifier(ca_pem.as_ref(), false)
    }

    fn client_verifier(self, ca_pem: &[u8], required: bool) -> Result<Self, Error> {
        let Some(identity) = self.identity else {
            return Err(Error::new(
                ErrorKind::Tls,
                "client certificates of a ServerTls::from_rustls config are set in that config \
                 (ServerConfig::builder().with_client_cert_verifier)",
            ));
        };
        let roots = Arc::new(super::root_store(ca_pem, "the client CA certificates")?);
        let mut verifier = WebPkiClientVerifier::builder_with_provider(roots, super::provider());
        if !required {
            verifier = verifier.allow_unauthenticated();
        }
        let verifier = verifier.build().map_err(|err| {
            Error::with_source(ErrorKind::Tls, "cannot verify clients with these CAs", err)
        })?;
        let config = build(&identity, Some(verifier))?;
        Ok(ServerTls { config, identity: Some(identity) })
    }
}

fn build(
    identity: &(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>),
    clients: Option<Arc<dyn rustls::server::danger::ClientCertVerifier>>,
) -> Result<Arc<rustls::ServerConfig>, Error> {
    let builder = rustls::ServerConfig::builder_with_provider(super::provider())
        .with_safe_default_protocol_versions()
        .map_err(|err| Error::with_source(ErrorKind::Tls, "no usable TLS versions", err))?;
    let builder = match clients {
        Some(verifier) => builder.with_client_cert_verifier(verifier),
        None => builder.with_no_client_auth(),
    };
    let (chain, key) = identity;
    let mut config = builder.with_single_cert(chain.clone(), key.clone_key()).map_err(|err| {
        Error::with_source(
            ErrorKind::Tls,
            "the certificate and private key do not make a usable pair",
            err,
        )
    })?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(Arc::new(config))
}

/// Runs the TLS handshake on an accepted connection, within `timeout`, and checks that the
/// client negotiated ALPN `h2`. Gives up (`None`) when shutdown begins first. A failure is
/// logged through the trace (and `tracing`, with that feature) and ends only this connection.
pub(crate) async fn accept<IO>(
    tls: &ServerTls,
    io: IO,
    transport: Peer,
    timeout: Duration,
    drain: &CancellationToken,
    trace: &Trace,
) -> Option<(TlsStream<IO>, Peer)>
where
    IO: AsyncRead + AsyncWrite + Unpin,
{
    let handshake = tokio_rustls::TlsAcceptor::from(tls.config.clone()).accept(io);
    let mut handshake = pin!(tokio::time::timeout(timeout, handshake));
    let mut drained = pin!(drain.cancelled());
    let done = std::future::poll_fn(|cx| {
        if drained.as_mut().poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        handshake.as_mut().poll(cx).map(Some)
    });
    let refused = |why: String| {
        refuse(trace, &transport, &why);
        None
    };
    let stream = match done.await? {
        Ok(Ok(stream)) => stream,
        Ok(Err(err)) => return refused(describe(&err, Remote::Client)),
        Err(_) => {
            return refused(format!("the TLS handshake did not finish within {timeout:?}"));
        }
    };
    match established(stream, transport.clone()) {
        Ok((stream, peer)) => {
            if let Some(tls) = peer.tls() {
                let summary = summary(tls);
                trace.connection(Side::Server, Direction::Recv, Payload::Tls { summary: &summary });
            }
            Some((stream, peer))
        }
        Err(why) => refused(why),
    }
}

/// The ALPN check and the [`TlsPeer`] of a finished handshake.
fn established<IO>(
    stream: TlsStream<IO>,
    transport: Peer,
) -> Result<(TlsStream<IO>, Peer), String> {
    let (_, conn) = stream.get_ref();
    if conn.alpn_protocol() != Some(b"h2") {
        // grpc-go: "credentials: cannot check peer: missing selected ALPN property".
        return Err("the client negotiated no ALPN protocol; gRPC over TLS needs ALPN h2 \
                    (an HTTP/1.1 client, or a gRPC client too old to send ALPN)"
            .to_owned());
    }
    let peer = tls_peer(transport, conn, conn.server_name().map(str::to_owned));
    Ok((stream, Peer::Tls(Arc::new(peer))))
}

impl ServerTls {
    /// The server's half of a TLS handshake on a stream you accepted yourself, for
    /// [`Server::serve_connection`](crate::Server::serve_connection): the stream to serve and
    /// the [`Peer`] the calls will see (`transport` inside [`Peer::Tls`]). With a
    /// [`Tap`](crate::trace::Tap) around the returned stream, the tap records the plaintext
    /// HTTP/2 above TLS. No timeout is applied: wrap it in `tokio::time::timeout`.
    ///
    /// ```no_run
    /// # async fn f(tls: h2grpc::ServerTls, server: h2grpc::Server) -> Result<(), Box<dyn std::error::Error>> {
    /// use h2grpc::trace::Tap;
    /// let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    /// let (tcp, addr) = listener.accept().await?;
    /// let (stream, peer) = tls.accept(tcp, h2grpc::Peer::Tcp(addr)).await?;
    /// let tap = Tap::new(stream); // tap.log(): the decrypted bytes
    /// server.serve_connection(tap, peer).await;
    /// # Ok(()) }
    /// ```
    pub async fn accept<IO>(&self, io: IO, transport: Peer) -> Result<(TlsStream<IO>, Peer), Error>
    where
        IO: AsyncRead + AsyncWrite + Unpin,
    {
        let handshake = tokio_rustls::TlsAcceptor::from(self.config.clone()).accept(io).await;
        let stream = handshake.map_err(|err| {
            Error::new(
                ErrorKind::Tls,
                format!("TLS handshake failed: {}", describe(&err, Remote::Client)),
            )
        })?;
        established(stream, transport).map_err(|why| Error::new(ErrorKind::Tls, why))
    }
}

fn refuse(trace: &Trace, transport: &Peer, why: &str) {
    let line = format!("refused a TLS connection from {}: {why}", peer_name(transport));
    trace.connection(Side::Server, Direction::Recv, Payload::TlsFailed { reason: &line });
    #[cfg(feature = "tracing")]
    tracing::warn!(target: "h2grpc::server", "{line}");
}

fn peer_name(peer: &Peer) -> String {
    match peer.addr() {
        Some(addr) => addr.to_string(),
        None => format!("{peer:?}"),
    }
}

/// What the trace shows of an established connection.
pub(super) fn summary(peer: &TlsPeer) -> String {
    let mut line = format!(
        "{}, {}, ALPN {}",
        peer.protocol_version,
        peer.cipher_suite,
        peer.alpn.as_deref().unwrap_or("none")
    );
    if let Some(name) = &peer.server_name {
        line.push_str(&format!(", SNI {name}"));
    }
    if let Some(san) = peer.subject_alt_names.first() {
        line.push_str(&format!(", peer certificate {san:?}"));
    }
    line
}

/// A [`TlsPeer`] from an established connection of either side.
pub(super) fn tls_peer(
    transport: Peer,
    conn: &rustls::CommonState,
    server_name: Option<String>,
) -> TlsPeer {
    let certificates = conn.peer_certificates().map(<[_]>::to_vec).unwrap_or_default();
    let subject_alt_names =
        certificates.first().map(|leaf| subject_alt_names(leaf)).unwrap_or_default();
    TlsPeer {
        transport,
        protocol_version: conn.protocol_version().map(|v| format!("{v:?}")).unwrap_or_default(),
        cipher_suite: conn
            .negotiated_cipher_suite()
            .map(|s| format!("{:?}", s.suite()))
            .unwrap_or_default(),
        alpn: conn.alpn_protocol().map(|p| String::from_utf8_lossy(p).into_owned()),
        server_name,
        certificates,
        subject_alt_names,
    }
}
