//! Writing a daemon: systemd socket activation, readiness notification, SIGTERM drain.
//! Feature `daemon`.
//!
//! The same binary runs by hand (it binds its socket) and under systemd (it serves the socket
//! systemd holds, which stays open across restarts, so no client is refused meanwhile):
//!
//! ```no_run
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let service = h2grpc::Service::new("demo.v1.Demo");
//! let server = h2grpc::Server::builder()
//!     .add_service(service)
//!     .socket_mode(0o660) // used only when it binds the socket itself
//!     .bind_activated_or_unix("grpc", "/run/demo/demo.sock")?;
//! h2grpc::daemon::serve(server).await?; // READY=1; SIGTERM: STOPPING=1, drain, exit 0
//! # Ok(()) }
//! ```
//!
//! The units (`systemctl enable --now demo.socket`; the first connection starts the service):
//!
//! ```ini
//! # /etc/systemd/system/demo.socket
//! [Socket]
//! ListenStream=/run/demo/demo.sock
//! FileDescriptorName=grpc
//! SocketMode=0660
//! SocketGroup=demo
//! # Accept=no, the default: one listening socket for the service, HTTP/2 multiplexes calls.
//!
//! [Install]
//! WantedBy=sockets.target
//!
//! # /etc/systemd/system/demo.service
//! [Unit]
//! Requires=demo.socket
//!
//! [Service]
//! Type=notify
//! ExecStart=/usr/local/bin/demo
//! # Above the server's shutdown_grace (10 s by default), so the drain is never killed.
//! TimeoutStopSec=30
//! ```
//!
//! # Layout
//!
//! ```text
//! activation.rs  listen_fds: LISTEN_PID/LISTEN_FDS/LISTEN_FDNAMES, fds 3.. checked; ListenFds
//! notify.rs      notify: sd_notify over NOTIFY_SOCKET
//! serve.rs       serve: READY=1, SIGTERM/SIGINT -> STOPPING=1 + graceful shutdown
//! mod.rs         Builder::bind_activated_or_unix
//! ```

mod activation;
mod notify;
mod serve;

use std::path::Path;

pub use self::activation::{listen_fds, ListenFds};
pub use self::notify::notify;
pub use self::serve::serve;

use crate::error::Error;
use crate::server::{Builder, Server};

impl Builder {
    /// Serves the socket systemd passed (socket activation) if there is one, else binds
    /// `path` with [`bind_unix`](Self::bind_unix). Feature `daemon`.
    ///
    /// With several sockets passed, the one named `name` (`FileDescriptorName=` in the
    /// `.socket` unit) is served; a single socket with no name is served whatever `name` is.
    /// The activation variables are checked and removed as [`listen_fds`] says, and a wrong
    /// one is an error rather than a silent fallback. On shutdown an inherited socket is left
    /// in place: it is systemd's.
    ///
    /// ```
    /// let dir = tempfile::tempdir()?;
    /// // Not socket-activated here, so this binds the path:
    /// let server = h2grpc::Server::builder()
    ///     .bind_activated_or_unix("grpc", dir.path().join("demo.sock"))?;
    /// assert!(dir.path().join("demo.sock").exists());
    /// # drop(server);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn bind_activated_or_unix(
        &mut self,
        name: &str,
        path: impl AsRef<Path>,
    ) -> Result<Server, Error> {
        match listen_fds()? {
            Some(mut passed) => {
                let listener = passed.select(name)?;
                self.listen_on(listener)
            }
            None => self.bind_unix(path),
        }
    }
}
