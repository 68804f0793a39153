//! Byte streams under HTTP/2: Unix sockets first, TCP second.
//!
//! A client names where to connect with a [`Target`], parsed from the gRPC naming forms
//! (`unix:path`, `unix:///abs/path`, `unix-abstract:name`, `host:port`); a server learns who
//! connected as a [`Peer`] (for Unix sockets, the peer process's uid, gid and pid, reported by
//! the kernel).
//!
//! ```
//! use h2grpc::Target;
//!
//! let target: Target = "unix:///run/echo/echo.sock".parse()?;
//! assert_eq!(target.authority(), "localhost"); // what C-core and grpc-go send for unix targets
//! assert_eq!(target.to_string(), "unix:/run/echo/echo.sock");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Layout
//!
//! ```text
//! target.rs   Target: parse, Display, authority
//! address.rs  Address: one dialable endpoint (what a resolver returns)
//! peer.rs     Peer: Unix { uid, gid, pid } | Tcp(addr) | Unknown | Tls(TlsPeer)
//! unix.rs     bind_unix (stale-socket rules), bind_unix_abstract, remove_socket_file
//! unix_mode.rs  bind with mode and group set before the socket is reachable
//! tcp.rs      bind_tcp
//! tls/        ServerTls, ClientTls, TlsPeer (feature "tls")
//! mod.rs      Stream, dial, Listener -> TokioListener::accept
//! ```
//!
//! Binding is synchronous and needs no runtime, so a server reports a bad socket path before it
//! starts; the bound `Listener` becomes a `TokioListener` once a runtime is running.

mod address;
mod into_target;
mod peer;
#[cfg(test)]
pub(crate) mod scratch;
mod target;
pub(crate) mod tcp;
#[cfg(feature = "tls")]
pub mod tls;
pub(crate) mod unix;
mod unix_mode;

use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

pub use self::address::Address;
pub use self::into_target::IntoTarget;
pub use self::peer::Peer;
pub use self::target::Target;
use crate::error::{Error, ErrorKind};

/// A connected byte stream of either kind.
///
/// Both tokio streams are `Unpin`, so the `AsyncRead`/`AsyncWrite` impls delegate through
/// `Pin::new`: no `unsafe`, no pin-project.
#[derive(Debug)]
pub(crate) enum Stream {
    /// A Unix socket, named by a path or an abstract name.
    Unix(tokio::net::UnixStream),
    /// A TCP connection, with `TCP_NODELAY` set.
    Tcp(tokio::net::TcpStream),
}

#[allow(dead_code)] // used by server
impl Stream {
    /// Who is at the other end.
    pub(crate) fn peer(&self) -> Peer {
        match self {
            Stream::Unix(s) => Peer::of_unix(s),
            Stream::Tcp(s) => Peer::of_tcp(s),
        }
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Unix(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tcp(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Unix(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tcp(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Unix(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Stream::Tcp(s) => Pin::new(s).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Stream::Unix(s) => s.is_write_vectored(),
            Stream::Tcp(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Unix(s) => Pin::new(s).poll_flush(cx),
            Stream::Tcp(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Unix(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tcp(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}

/// Dials one [`Address`]: the single place where the client opens a byte stream, so that a
/// transport wrapper (TLS) can sit around it. TCP connections get `TCP_NODELAY` (gRPC messages
/// are small and latency-bound). Fails with [`ErrorKind::Connect`], the address named in the
/// message.
pub(crate) async fn dial(address: &Address) -> Result<Stream, Error> {
    let result = match address {
        Address::Unix(path) => {
            // tokio reads a path starting with NUL as an abstract name; a path holds no NUL.
            if path.as_os_str().as_bytes().contains(&0) {
                return Err(Error::new(
                    ErrorKind::Connect,
                    format!("cannot connect to {address}: a socket path cannot contain a nul byte"),
                ));
            }
            tokio::net::UnixStream::connect(path).await.map(Stream::Unix)
        }
        Address::UnixAbstract(name) => connect_abstract(name).await.map(Stream::Unix),
        Address::Tcp(addr) => tokio::net::TcpStream::connect(addr).await.map(|s| {
            // Only a latency optimization: a socket that refuses it still works.
            let _ = s.set_nodelay(true);
            Stream::Tcp(s)
        }),
    };
    result.map_err(|e| {
        let hint = match e.kind() {
            io::ErrorKind::PermissionDenied if matches!(address, Address::Unix(_)) => {
                "check the socket file's owner and mode"
            }
            io::ErrorKind::Unsupported => {
                "abstract unix sockets exist only on linux; use unix:/path"
            }
            _ => "is the server running?",
        };
        Error::with_source(ErrorKind::Connect, format!("cannot connect to {address}: {hint}"), e)
    })
}

/// Connects to the Linux abstract socket `name`.
#[cfg(target_os = "linux")]
async fn connect_abstract(name: &str) -> io::Result<tokio::net::UnixStream> {
    use std::os::linux::net::SocketAddrExt;
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes())?;
    tokio::net::UnixStream::connect_addr(&addr.into()).await
}

/// Abstract sockets are Linux-only.
#[cfg(not(target_os = "linux"))]
async fn connect_abstract(_name: &str) -> io::Result<tokio::net::UnixStream> {
    Err(io::Error::new(io::ErrorKind::Unsupported, "no abstract unix sockets on this system"))
}

/// A bound listener of either kind, before a runtime adopts it (see [`Listener::into_tokio`]).
#[derive(Debug)]
#[allow(dead_code)] // used by server
pub(crate) enum Listener {
    /// A Unix socket listener, from [`unix::bind_unix`] or [`unix::bind_unix_abstract`].
    Unix {
        /// The listener.
        listener: std::os::unix::net::UnixListener,
        /// The socket file to remove on shutdown; `None` for an abstract socket.
        path: Option<PathBuf>,
    },
    /// A TCP listener, from [`tcp::bind_tcp`].
    Tcp(std::net::TcpListener),
}

/// A listener registered with the tokio runtime.
#[derive(Debug)]
#[allow(dead_code)] // used by server
pub(crate) enum TokioListener {
    /// A Unix socket listener.
    Unix(tokio::net::UnixListener),
    /// A TCP listener.
    Tcp(tokio::net::TcpListener),
}

#[allow(dead_code)] // used by server
impl Listener {
    /// Registers the listener with the current tokio runtime (so it must be called inside one),
    /// returning the socket file to remove on shutdown, if any.
    pub(crate) fn into_tokio(self) -> io::Result<(TokioListener, Option<PathBuf>)> {
        match self {
            Listener::Unix { listener, path } => {
                listener.set_nonblocking(true)?;
                Ok((TokioListener::Unix(tokio::net::UnixListener::from_std(listener)?), path))
            }
            Listener::Tcp(listener) => {
                listener.set_nonblocking(true)?;
                Ok((TokioListener::Tcp(tokio::net::TcpListener::from_std(listener)?), None))
            }
        }
    }

    /// What a client would connect to: the socket path or abstract name, or the TCP address
    /// with an unspecified IP (`0.0.0.0`, `::`) replaced by loopback.
    ///
    /// A bound socket always has an address; were the system not to report it, the result is a
    /// target nothing listens on (an empty path, or port 0).
    pub(crate) fn local_target(&self) -> Target {
        match self {
            Listener::Unix { path: Some(path), .. } => Target::Unix(path.clone()),
            Listener::Unix { listener, path: None } => match listener.local_addr() {
                Ok(addr) => unix_target(&addr),
                Err(_) => Target::Unix(PathBuf::new()),
            },
            Listener::Tcp(listener) => match listener.local_addr() {
                Ok(addr) => {
                    let ip = match addr.ip() {
                        std::net::IpAddr::V4(ip) if ip.is_unspecified() => {
                            std::net::Ipv4Addr::LOCALHOST.into()
                        }
                        std::net::IpAddr::V6(ip) if ip.is_unspecified() => {
                            std::net::Ipv6Addr::LOCALHOST.into()
                        }
                        ip => ip,
                    };
                    Target::Tcp { host: ip.to_string(), port: addr.port() }
                }
                Err(_) => Target::Tcp { host: "localhost".to_owned(), port: 0 },
            },
        }
    }
}

fn unix_target(addr: &std::os::unix::net::SocketAddr) -> Target {
    if let Some(path) = addr.as_pathname() {
        return Target::Unix(path.to_owned());
    }
    #[cfg(target_os = "linux")]
    {
        use std::os::linux::net::SocketAddrExt;
        if let Some(name) = addr.as_abstract_name() {
            return Target::UnixAbstract(String::from_utf8_lossy(name).into_owned());
        }
    }
    Target::Unix(PathBuf::new())
}

#[allow(dead_code)] // used by server
impl TokioListener {
    /// Waits for the next connection; TCP connections get `TCP_NODELAY`.
    pub(crate) async fn accept(&self) -> io::Result<Stream> {
        match self {
            TokioListener::Unix(listener) => Ok(Stream::Unix(listener.accept().await?.0)),
            TokioListener::Tcp(listener) => {
                let (stream, _) = listener.accept().await?;
                // Only a latency optimization: a socket that refuses it still works.
                let _ = stream.set_nodelay(true);
                Ok(Stream::Tcp(stream))
            }
        }
    }
}

#[cfg(test)]
mod tests;
