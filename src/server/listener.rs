//! Serving on a listening socket the caller already has: one it bound itself, one inherited
//! from systemd (the `daemon` module, feature `daemon`), one handed over by a supervisor.

use std::io;

use super::{Builder, Server};
use crate::error::{Error, ErrorKind};
use crate::transport;

/// A listening socket made elsewhere, for [`Builder::listen_on`]: a Unix or TCP listener,
/// from std or from tokio. `From` each of them.
///
/// The server serves it exactly like one it bound itself (peer credentials, limits, graceful
/// shutdown), except that on shutdown it removes no socket file: the file belongs to whoever
/// created it.
#[derive(Debug)]
pub struct Listener(Inner);

#[derive(Debug)]
enum Inner {
    Unix(std::os::unix::net::UnixListener),
    TokioUnix(tokio::net::UnixListener),
    Tcp(std::net::TcpListener),
    TokioTcp(tokio::net::TcpListener),
}

impl From<std::os::unix::net::UnixListener> for Listener {
    fn from(listener: std::os::unix::net::UnixListener) -> Listener {
        Listener(Inner::Unix(listener))
    }
}

impl From<tokio::net::UnixListener> for Listener {
    fn from(listener: tokio::net::UnixListener) -> Listener {
        Listener(Inner::TokioUnix(listener))
    }
}

impl From<std::net::TcpListener> for Listener {
    fn from(listener: std::net::TcpListener) -> Listener {
        Listener(Inner::Tcp(listener))
    }
}

impl From<tokio::net::TcpListener> for Listener {
    fn from(listener: tokio::net::TcpListener) -> Listener {
        Listener(Inner::TokioTcp(listener))
    }
}

impl Listener {
    /// Whether this is a Unix socket (else TCP).
    ///
    /// ```
    /// let tcp = std::net::TcpListener::bind("127.0.0.1:0")?;
    /// assert!(!h2grpc::server::Listener::from(tcp).is_unix());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn is_unix(&self) -> bool {
        matches!(self.0, Inner::Unix(_) | Inner::TokioUnix(_))
    }

    fn into_transport(self) -> io::Result<transport::Listener> {
        // A listener with no path (not ours to remove): `local_target` asks the socket.
        let unix = |listener| transport::Listener::Unix { listener, path: None };
        Ok(match self.0 {
            Inner::Unix(listener) => unix(listener),
            Inner::TokioUnix(listener) => unix(listener.into_std()?),
            Inner::Tcp(listener) => transport::Listener::Tcp(listener),
            Inner::TokioTcp(listener) => transport::Listener::Tcp(listener.into_std()?),
        })
    }
}

impl Builder {
    /// Serves on a listener you already have (see [`Listener`]) and returns the server, ready
    /// to [`serve`](Server::serve). The services added so far move into the server.
    ///
    /// On shutdown the listener is closed but its socket file, if any, stays: the server did
    /// not create it. [`socket_mode`](Self::socket_mode) does not apply; the socket is as its
    /// creator made it.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use h2grpc::{Server, Service, Status};
    ///
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("echo.sock");
    /// let listener = tokio::net::UnixListener::bind(&path)?;
    /// let echo = Service::new("echo.v1.Echo")
    ///     .unary("Say", |_ctx, text: String| async move { Ok::<_, Status>(text) });
    /// let server = Server::builder().add_service(echo).listen_on(listener)?;
    /// let shutdown = server.shutdown_handle();
    /// let serving = tokio::spawn(server.serve());
    ///
    /// let channel = h2grpc::Channel::connect(&format!("unix:{}", path.display())).await?;
    /// let reply: String = channel
    ///     .unary("/echo.v1.Echo/Say", &"hi".to_string(), Default::default())
    ///     .await?
    ///     .into_inner();
    /// assert_eq!(reply, "hi");
    ///
    /// shutdown.shutdown();
    /// serving.await??;
    /// assert!(path.exists(), "not the server's file to remove");
    /// # Ok(()) }
    /// ```
    pub fn listen_on(&mut self, listener: impl Into<Listener>) -> Result<Server, Error> {
        let listener = listener.into().into_transport().map_err(|e| {
            Error::with_source(
                ErrorKind::Bind,
                "cannot take the listener over from tokio; pass the std listener instead",
                e,
            )
        })?;
        Ok(self.build(Some(listener)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::scratch::temp_socket_path;

    #[test]
    fn a_std_unix_listener_reports_its_own_path_and_is_not_removed() {
        let (_dir, path) = temp_socket_path("s.sock");
        let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let server = Server::builder().listen_on(listener).unwrap();
        assert_eq!(server.local_target(), Some(crate::transport::Target::Unix(path.clone())));
    }

    #[test]
    fn a_tcp_listener_reports_its_port() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = Server::builder().listen_on(listener).unwrap();
        let want = crate::transport::Target::Tcp { host: "127.0.0.1".into(), port };
        assert_eq!(server.local_target(), Some(want));
    }
}
