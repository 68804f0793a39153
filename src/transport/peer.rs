//! [`Peer`]: who is on the other end of a connection.

use std::net::SocketAddr;

/// Who is on the other end of a connection.
///
/// For a Unix socket the kernel reports the credentials the peer process had when it connected
/// (`SO_PEERCRED` on Linux), which a server can use for authorization: they cannot be forged by
/// the peer. For TCP it is the peer's socket address, which says nothing about who the peer is.
/// Under TLS (feature `tls`) it is `Peer::Tls`: the TCP peer inside, and what the handshake
/// established, with a client's verified certificate under mutual TLS (see `Peer::tls`).
///
/// ```
/// use h2grpc::Peer;
///
/// let peer = Peer::Unix { uid: 1000, gid: 1000, pid: Some(4242) };
/// assert_eq!(peer.uid(), Some(1000));
/// assert_eq!(peer.addr(), None);
///
/// let peer = Peer::Tcp("127.0.0.1:50051".parse()?);
/// assert_eq!(peer.uid(), None);
/// assert_eq!(peer.addr().map(|a| a.port()), Some(50051));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Peer {
    /// A process on this machine, connected over a Unix socket (a path or an abstract name).
    Unix {
        /// The peer's effective user ID when it connected.
        uid: u32,
        /// The peer's effective group ID when it connected.
        gid: u32,
        /// The peer's process ID when it connected, where the platform reports one. The process
        /// may have exited since, and its ID been reused.
        pid: Option<i32>,
    },
    /// A TCP peer at this address.
    Tcp(SocketAddr),
    /// A stream that is neither (an in-memory pipe, a stream you wrapped yourself), or whose
    /// peer the operating system would not report.
    Unknown,
    /// A connection under TLS (feature `tls`): the transport peer inside, and what the
    /// handshake established, the client's verified certificate included (see [`Peer::tls`]).
    #[cfg(feature = "tls")]
    Tls(std::sync::Arc<crate::transport::tls::TlsPeer>),
}

impl Peer {
    /// The peer's user ID, for a Unix socket peer.
    ///
    /// ```
    /// use h2grpc::Peer;
    /// assert_eq!(Peer::Unix { uid: 0, gid: 0, pid: None }.uid(), Some(0));
    /// assert_eq!(Peer::Unknown.uid(), None);
    /// ```
    pub fn uid(&self) -> Option<u32> {
        self.unix_credentials().map(|(uid, _, _)| uid)
    }

    /// The peer's group ID, for a Unix socket peer.
    ///
    /// ```
    /// use h2grpc::Peer;
    /// assert_eq!(Peer::Unix { uid: 1000, gid: 100, pid: None }.gid(), Some(100));
    /// assert_eq!(Peer::Unknown.gid(), None);
    /// ```
    pub fn gid(&self) -> Option<u32> {
        self.unix_credentials().map(|(_, gid, _)| gid)
    }

    /// The peer's process ID, for a Unix socket peer on a platform that reports it.
    ///
    /// ```
    /// use h2grpc::Peer;
    /// assert_eq!(Peer::Unix { uid: 1000, gid: 100, pid: Some(7) }.pid(), Some(7));
    /// assert_eq!(Peer::Unix { uid: 1000, gid: 100, pid: None }.pid(), None);
    /// ```
    pub fn pid(&self) -> Option<i32> {
        self.unix_credentials().and_then(|(_, _, pid)| pid)
    }

    /// The peer's socket address, for a TCP peer.
    ///
    /// ```
    /// use h2grpc::Peer;
    /// use std::net::SocketAddr;
    /// let addr: SocketAddr = "[::1]:40000".parse()?;
    /// assert_eq!(Peer::Tcp(addr).addr(), Some(addr));
    /// assert_eq!(Peer::Unix { uid: 0, gid: 0, pid: None }.addr(), None);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn addr(&self) -> Option<SocketAddr> {
        match *self.transport() {
            Peer::Tcp(addr) => Some(addr),
            _ => None,
        }
    }

    /// The transport peer: this one, or the one a TLS connection runs over.
    fn transport(&self) -> &Peer {
        match self {
            #[cfg(feature = "tls")]
            Peer::Tls(tls) => tls.transport().transport(),
            peer => peer,
        }
    }

    /// `(uid, gid, pid)` of a Unix socket peer, under TLS or not.
    fn unix_credentials(&self) -> Option<(u32, u32, Option<i32>)> {
        match *self.transport() {
            Peer::Unix { uid, gid, pid } => Some((uid, gid, pid)),
            _ => None,
        }
    }

    /// What the TLS handshake established, for a connection under TLS (feature `tls`): the
    /// client's verified certificate chain and its subject alternative names under mutual TLS.
    /// An interceptor authorizes by them as by [`uid`](Self::uid) on a Unix socket:
    ///
    /// ```
    /// use h2grpc::{Server, Status};
    ///
    /// let mut builder = Server::builder();
    /// builder.intercept(|ctx| {
    ///     let spiffe_id = ctx.peer().tls().and_then(|tls| tls.uri_sans().next()).unwrap_or("");
    ///     if spiffe_id == "spiffe://example.org/ns/prod/sa/billing" {
    ///         Ok(())
    ///     } else {
    ///         Err(Status::permission_denied(format!("{spiffe_id:?} may not call this server")))
    ///     }
    /// });
    /// ```
    #[cfg(feature = "tls")]
    pub fn tls(&self) -> Option<&crate::transport::tls::TlsPeer> {
        match self {
            Peer::Tls(tls) => Some(tls),
            _ => None,
        }
    }

    /// The credentials of the process at the other end of `stream`, or `Unknown` if the operating
    /// system does not report them.
    pub(crate) fn of_unix(stream: &tokio::net::UnixStream) -> Peer {
        match stream.peer_cred() {
            Ok(cred) => Peer::Unix { uid: cred.uid(), gid: cred.gid(), pid: cred.pid() },
            Err(_) => Peer::Unknown,
        }
    }

    /// The address at the other end of `stream`, or `Unknown` if the connection is already gone.
    pub(crate) fn of_tcp(stream: &tokio::net::TcpStream) -> Peer {
        stream.peer_addr().map_or(Peer::Unknown, Peer::Tcp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accessors_answer_only_for_their_own_kind() {
        let unix = Peer::Unix { uid: 1, gid: 2, pid: Some(3) };
        assert_eq!(
            (unix.uid(), unix.gid(), unix.pid(), unix.addr()),
            (Some(1), Some(2), Some(3), None)
        );
        let addr: SocketAddr = "127.0.0.1:9".parse().unwrap();
        let tcp = Peer::Tcp(addr);
        assert_eq!((tcp.uid(), tcp.gid(), tcp.pid(), tcp.addr()), (None, None, None, Some(addr)));
        let unknown = Peer::Unknown;
        assert_eq!(
            (unknown.uid(), unknown.gid(), unknown.pid(), unknown.addr()),
            (None, None, None, None)
        );
    }
}
