//! [`Address`]: one endpoint a client dials, as a resolver returns it.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

/// One endpoint to dial: what a [`Resolver`](crate::client::Resolver) returns for a target.
///
/// A channel keeps one connection (a subchannel) per address and balances calls over them.
///
/// ```
/// use h2grpc::transport::Address;
/// let addr = Address::Tcp("127.0.0.1:50051".parse()?);
/// assert_eq!(addr.to_string(), "127.0.0.1:50051");
/// assert_eq!(Address::Unix("/run/a.sock".into()).to_string(), "unix:/run/a.sock");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Address {
    /// A Unix socket file.
    Unix(PathBuf),
    /// A Linux abstract-namespace socket name (without the leading NUL).
    UnixAbstract(String),
    /// A resolved TCP address.
    Tcp(SocketAddr),
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Unix(path) => write!(f, "unix:{}", path.to_string_lossy()),
            Address::UnixAbstract(name) => write!(f, "unix-abstract:{name}"),
            Address::Tcp(addr) => write!(f, "{addr}"),
        }
    }
}

impl From<SocketAddr> for Address {
    fn from(addr: SocketAddr) -> Address {
        Address::Tcp(addr)
    }
}
