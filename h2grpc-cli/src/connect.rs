//! Connecting: the target's socket, dialled here (so a failure says what to do), tapped when
//! `--wire` is on, then handed to the library's channel.
//!
//! TLS ([`crate::tls`]) sits between the socket and the tap: the tap wraps the TLS stream, so
//! `--wire` shows the HTTP/2 frames, not ciphertext.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use h2grpc::trace::{Tap, TapLog};
use h2grpc::{Channel, ErrorKind, Target};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::oneshot;

use crate::error::CliError;
use crate::tls::{self, TlsInfo};
use crate::Global;

/// A byte stream to the server.
pub(crate) trait Io: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Io for T {}

/// A channel on one connection, and what `--wire` needs to see that connection.
#[derive(Debug)]
pub(crate) struct Connection {
    pub(crate) channel: Channel,
    /// The tap's log, when tapped.
    pub(crate) log: Option<TapLog>,
    /// The TLS connection's version, cipher suite and ALPN, over TLS.
    pub(crate) tls: Option<TlsInfo>,
    /// Fires when the library drops the socket: the connection is over, every byte is logged.
    closed: oneshot::Receiver<()>,
}

impl Connection {
    /// Drops the channel and waits (up to a second) for its connection to close, so that the
    /// closing frames (GOAWAY) are in the log.
    pub(crate) async fn close(self) -> Option<TapLog> {
        drop(self.channel);
        let _ = tokio::time::timeout(Duration::from_secs(1), self.closed).await;
        self.log
    }
}

/// Dials `target`, speaks TLS if `global` asks for it, and makes the HTTP/2 connection.
pub(crate) async fn connect(target: &str, global: &Global) -> Result<Connection, CliError> {
    let timeout = global.connect_timeout;
    let (plain_target, https) = tls::split_https(target);
    let parsed = Target::parse(&plain_target).map_err(|err| CliError::invalid(err.to_string()))?;
    let client_tls = tls::client_tls(global, https)?;
    let late = || {
        CliError::connect(format!(
            "connecting to {target} took longer than {timeout:?} — is the server up? \
             (--connect-timeout to wait longer)"
        ))
    };
    let socket = tokio::time::timeout(timeout, dial(&parsed)).await.map_err(|_| late())??;
    let (socket, info): (Box<dyn Io>, _) = match &client_tls {
        None => (socket, None),
        Some(client_tls) => {
            let name = match &parsed {
                Target::Tcp { host, .. } => host.as_str(),
                _ => "localhost",
            };
            let name = global.servername.as_deref().unwrap_or(name);
            let stream = tokio::time::timeout(timeout, client_tls.connect(socket, name))
                .await
                .map_err(|_| late())?
                .map_err(|err| CliError::connect(tls::in_cli_words(&err.to_string())))?;
            let info = TlsInfo::of(&stream, name, !global.insecure);
            (Box::new(stream), Some(info))
        }
    };
    let (socket, closed) = NotifyDrop::new(socket);
    let mut builder =
        Channel::builder(&plain_target).map_err(|err| CliError::invalid(err.to_string()))?;
    builder.connect_timeout(timeout);
    if let Some(client_tls) = client_tls {
        // The stream is TLS already: this makes the calls say `:scheme https`.
        builder.tls(client_tls);
    }
    let (channel, log) = if global.wire.is_some() {
        let tap = Tap::new(socket);
        let log = tap.log();
        (builder.connect_with_io(tap).await, Some(log))
    } else {
        (builder.connect_with_io(socket).await, None)
    };
    let channel = channel.map_err(|err| {
        // The library's message names its API; the IO error under it is what happened.
        let io = std::error::Error::source(&err).map_or_else(|| err.to_string(), |e| e.to_string());
        CliError::connect(match (err.kind(), &info) {
            (ErrorKind::Tls, _) => tls::in_cli_words(&err.to_string()),
            (_, Some(_)) => format!(
                "{target} ended the connection right after the TLS handshake ({io}) — did it \
                 refuse our client certificate (--cert/--key)? Is it a gRPC server?"
            ),
            (_, None) => format!(
                "{target} does not speak HTTP/2 in plaintext ({io}) — is it a gRPC server? \
                 One that speaks TLS needs https://{plain_target} or --cacert FILE"
            ),
        })
    })?;
    Ok(Connection { channel, log, tls: info, closed })
}

async fn dial_list(
    target: &Target,
    addrs: Vec<std::net::SocketAddr>,
) -> Result<Box<dyn Io>, CliError> {
    match tokio::net::TcpStream::connect(&addrs[..]).await {
        Ok(stream) => {
            let _ = stream.set_nodelay(true);
            Ok(Box::new(stream))
        }
        Err(err) => Err(CliError::connect(format!(
            "cannot connect to any address of {target}: {err} — is the server running?"
        ))),
    }
}

async fn dial(target: &Target) -> Result<Box<dyn Io>, CliError> {
    match target {
        Target::Unix(path) => {
            let shown = path.display();
            match tokio::net::UnixStream::connect(path).await {
                Ok(stream) => Ok(Box::new(stream)),
                Err(err) => Err(CliError::connect(match err.kind() {
                    io::ErrorKind::NotFound => {
                        format!("no such socket: {shown} — is the server running?")
                    }
                    io::ErrorKind::ConnectionRefused => format!(
                        "nothing listens on {shown} (connection refused) — is the server running?"
                    ),
                    io::ErrorKind::PermissionDenied => format!(
                        "permission denied on {shown} — run as a user who may open the socket"
                    ),
                    _ => format!("cannot connect to {shown}: {err}"),
                })),
            }
        }
        Target::UnixAbstract(name) => dial_abstract(name),
        // One connection is all the CLI needs: the first listed address that accepts.
        Target::Ipv4(list) => dial_list(target, list.iter().map(|a| (*a).into()).collect()).await,
        Target::Ipv6(list) => dial_list(target, list.iter().map(|a| (*a).into()).collect()).await,
        Target::Tcp { host, port } => match tokio::net::TcpStream::connect((host.as_str(), *port))
            .await
        {
            Ok(stream) => {
                let _ = stream.set_nodelay(true);
                Ok(Box::new(stream))
            }
            Err(err) if err.kind() == io::ErrorKind::ConnectionRefused => {
                Err(CliError::connect(format!(
                    "connection refused by {} — is the server running and listening there?",
                    target.authority()
                )))
            }
            Err(err) => {
                Err(CliError::connect(format!("cannot connect to {}: {err}", target.authority())))
            }
        },
    }
}

#[cfg(target_os = "linux")]
fn dial_abstract(name: &str) -> Result<Box<dyn Io>, CliError> {
    use std::os::linux::net::SocketAddrExt;
    let failed = |err: io::Error| match err.kind() {
        io::ErrorKind::ConnectionRefused => CliError::connect(format!(
            "no abstract socket named {name:?} (connection refused) — is the server running?"
        )),
        _ => CliError::connect(format!("cannot connect to unix-abstract:{name}: {err}")),
    };
    let addr =
        std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).map_err(failed)?;
    let stream = std::os::unix::net::UnixStream::connect_addr(&addr).map_err(failed)?;
    stream.set_nonblocking(true).map_err(failed)?;
    Ok(Box::new(tokio::net::UnixStream::from_std(stream).map_err(failed)?))
}

#[cfg(not(target_os = "linux"))]
fn dial_abstract(name: &str) -> Result<Box<dyn Io>, CliError> {
    Err(CliError::invalid(format!("unix-abstract:{name}: abstract sockets exist on Linux only")))
}

/// A stream that says when it is dropped.
struct NotifyDrop {
    io: Box<dyn Io>,
    _dropped: oneshot::Sender<()>,
}

impl NotifyDrop {
    fn new(io: Box<dyn Io>) -> (NotifyDrop, oneshot::Receiver<()>) {
        let (tx, rx) = oneshot::channel();
        (NotifyDrop { io, _dropped: tx }, rx)
    }
}

impl AsyncRead for NotifyDrop {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl AsyncWrite for NotifyDrop {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }
}
