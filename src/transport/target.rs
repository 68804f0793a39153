//! [`Target`]: where a client connects, parsed from the gRPC naming forms.
//!
//! The forms follow grpc/grpc `doc/naming.md` and grpc-go's resolvers (GRPC-WIRE.md section 6):
//!
//! ```text
//! unix:relative/path.sock      Unix("relative/path.sock")   (relative to the working directory)
//! unix:/abs/path.sock          Unix("/abs/path.sock")
//! unix:///abs/path.sock        Unix("/abs/path.sock")       (URI form: empty authority)
//! unix://host/path.sock        rejected                     (grpc-go rejects an authority too)
//! unix-abstract:name           UnixAbstract("name")         (Linux abstract namespace)
//! host:port                    Tcp { host, port }           (no scheme means dns)
//! dns:host:port                Tcp { host, port }
//! dns:///host:port             Tcp { host, port }
//! [::1]:50051                  Tcp { host: "::1", port: 50051 }
//! :50051                       Tcp { host: "localhost", port: 50051 }
//! ipv4:10.0.0.1:50051,10.0.0.2 Ipv4([10.0.0.1:50051, 10.0.0.2:443]) (static list, port 443 default)
//! ipv6:[::1]:50051,::2         Ipv6([[::1]:50051, [::2]:443])
//! ```
//!
//! A `Tcp` target is resolved through DNS to every address (IPv4 and IPv6) when the channel
//! connects; the `ipv4:`/`ipv6:` lists are used as given.
//!
//! Paths and names are taken literally: no percent-decoding.

use std::fmt;
use std::net::{SocketAddr, SocketAddrV4, SocketAddrV6};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::error::Error;

mod forms;

/// Where a client connects: parsed from the gRPC naming forms.
///
/// `Display` prints a form that parses back to the same target, and
/// [`authority`](Target::authority) gives the HTTP/2 `:authority` to send.
///
/// ```
/// use h2grpc::Target;
/// use std::path::PathBuf;
///
/// let t: Target = "unix:///run/echo.sock".parse()?;
/// assert_eq!(t, Target::Unix(PathBuf::from("/run/echo.sock")));
/// assert_eq!(t.authority(), "localhost");
///
/// let t = Target::parse("dns:///[::1]:50051")?;
/// assert_eq!(t, Target::Tcp { host: "::1".into(), port: 50051 });
/// assert_eq!(t.to_string(), "[::1]:50051");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A Unix socket file: `unix:path` (relative or absolute) or `unix:///abs/path`.
    Unix(PathBuf),
    /// A Linux abstract-namespace socket: `unix-abstract:name`. The name holds no NUL; the
    /// leading NUL of the socket address is added when connecting.
    UnixAbstract(String),
    /// A TCP endpoint: `host:port`, `dns:host:port`, `dns:///host:port`, `[::1]:port`.
    Tcp {
        /// A host name or IP address; IPv6 addresses are stored without brackets.
        host: String,
        /// The port, from 1 to 65535.
        port: u16,
    },
    /// A static list of IPv4 addresses: `ipv4:10.0.0.1:50051,10.0.0.2:50051` (a missing port
    /// is 443). Never empty.
    Ipv4(Vec<SocketAddrV4>),
    /// A static list of IPv6 addresses: `ipv6:[::1]:50051,[::2]:50051` (a missing port is 443;
    /// brackets are needed when a port follows). Never empty.
    Ipv6(Vec<SocketAddrV6>),
}

impl Target {
    /// Parses a target in one of the gRPC naming forms (see [`Target`]).
    ///
    /// Fails with [`ErrorKind::InvalidTarget`], and a message listing the accepted forms, on an
    /// empty string, an empty path or name, a `unix://host/...` authority, a NUL byte, a missing
    /// or non-numeric port, an unbracketed IPv6 address, or another scheme such as `http://`.
    ///
    /// [`ErrorKind::InvalidTarget`]: crate::error::ErrorKind::InvalidTarget
    ///
    /// ```
    /// use h2grpc::{ErrorKind, Target};
    ///
    /// assert_eq!(Target::parse(":50051")?, Target::Tcp { host: "localhost".into(), port: 50051 });
    /// assert_eq!(Target::parse("unix-abstract:echo")?, Target::UnixAbstract("echo".into()));
    ///
    /// let err = Target::parse("http://localhost:50051").unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidTarget);
    /// assert!(err.to_string().contains("host:port"));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn parse(s: &str) -> Result<Target, Error> {
        forms::parse(s)
    }

    /// The HTTP/2 `:authority` to send to this target.
    ///
    /// `localhost` for Unix and abstract sockets, as C-core and grpc-go send; `host:port` for TCP,
    /// with IPv6 addresses in brackets.
    ///
    /// ```
    /// use h2grpc::Target;
    ///
    /// assert_eq!(Target::parse("unix:echo.sock")?.authority(), "localhost");
    /// assert_eq!(Target::parse("dns:example.com:443")?.authority(), "example.com:443");
    /// assert_eq!(Target::parse("[::1]:50051")?.authority(), "[::1]:50051");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn authority(&self) -> String {
        match self {
            Target::Unix(_) | Target::UnixAbstract(_) => "localhost".to_owned(),
            Target::Tcp { host, port } if host.contains(':') => format!("[{host}]:{port}"),
            Target::Tcp { host, port } => format!("{host}:{port}"),
            // C-core names an ipv4:/ipv6: channel by its first address.
            Target::Ipv4(list) => list.first().map(ToString::to_string).unwrap_or_default(),
            Target::Ipv6(list) => {
                list.first().map(|a| format!("[{}]:{}", a.ip(), a.port())).unwrap_or_default()
            }
        }
    }

    /// The addresses of a target that needs no name resolution (Unix sockets and the
    /// `ipv4:`/`ipv6:` lists); `None` for a `host:port` target, which DNS resolves.
    pub(crate) fn static_addresses(&self) -> Option<Vec<crate::transport::Address>> {
        use crate::transport::Address;
        match self {
            Target::Unix(path) => Some(vec![Address::Unix(path.clone())]),
            Target::UnixAbstract(name) => Some(vec![Address::UnixAbstract(name.clone())]),
            Target::Tcp { .. } => None,
            Target::Ipv4(list) => {
                Some(list.iter().map(|a| Address::Tcp(SocketAddr::V4(*a))).collect())
            }
            Target::Ipv6(list) => {
                Some(list.iter().map(|a| Address::Tcp(SocketAddr::V6(*a))).collect())
            }
        }
    }

    /// Whether connections go over a Unix socket (whose reconnection backoff starts shorter).
    pub(crate) fn is_unix(&self) -> bool {
        matches!(self, Target::Unix(_) | Target::UnixAbstract(_))
    }
}

impl FromStr for Target {
    type Err = Error;

    /// Same as [`Target::parse`].
    ///
    /// ```
    /// use h2grpc::Target;
    /// let t: Target = "127.0.0.1:50051".parse()?;
    /// assert_eq!(t, Target::Tcp { host: "127.0.0.1".into(), port: 50051 });
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn from_str(s: &str) -> Result<Target, Error> {
        Target::parse(s)
    }
}

impl fmt::Display for Target {
    /// Prints a form that [`Target::parse`] reads back to the same target (a path that is not
    /// UTF-8 is printed lossily).
    ///
    /// ```
    /// use h2grpc::Target;
    /// use std::path::Path;
    ///
    /// let t = Target::from(Path::new("/run/echo.sock"));
    /// assert_eq!(t.to_string(), "unix:/run/echo.sock");
    /// assert_eq!(Target::parse(&t.to_string())?, t);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Unix(path) => {
                let path = path.to_string_lossy();
                // "unix://x" would read "x" as an authority: a path starting "//" needs the URI
                // form, whose empty authority is "unix://" + path.
                let prefix = if path.starts_with("//") { "unix://" } else { "unix:" };
                write!(f, "{prefix}{path}")
            }
            Target::UnixAbstract(name) => write!(f, "unix-abstract:{name}"),
            Target::Tcp { .. } => f.write_str(&self.authority()),
            Target::Ipv4(list) => {
                let list: Vec<String> = list.iter().map(ToString::to_string).collect();
                write!(f, "ipv4:{}", list.join(","))
            }
            Target::Ipv6(list) => {
                let list: Vec<String> =
                    list.iter().map(|a| format!("[{}]:{}", a.ip(), a.port())).collect();
                write!(f, "ipv6:{}", list.join(","))
            }
        }
    }
}

impl From<&Path> for Target {
    /// A Unix socket path.
    ///
    /// ```
    /// use h2grpc::Target;
    /// use std::path::{Path, PathBuf};
    /// assert_eq!(Target::from(Path::new("a.sock")), Target::Unix(PathBuf::from("a.sock")));
    /// ```
    fn from(path: &Path) -> Target {
        Target::Unix(path.to_owned())
    }
}

impl From<PathBuf> for Target {
    /// A Unix socket path.
    ///
    /// ```
    /// use h2grpc::Target;
    /// use std::path::PathBuf;
    /// let dir = tempfile::tempdir()?;
    /// let path = dir.path().join("echo.sock");
    /// assert_eq!(Target::from(path.clone()), Target::Unix(path));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn from(path: PathBuf) -> Target {
        Target::Unix(path)
    }
}

#[cfg(test)]
mod tests;
