//! [`Resolver`]: where a channel's addresses come from. DNS and static lists are built in; a
//! user can plug in their own source (a file, a service registry).

use std::future::Future;
use std::io;
use std::pin::Pin;

use crate::transport::Address;

/// The future a [`Resolver`] returns.
pub type Resolution<'a> = Pin<Box<dyn Future<Output = io::Result<Vec<Address>>> + Send + 'a>>;

/// A source of addresses for a [`Channel`](crate::Channel).
///
/// The channel asks at its first call, again when a connection is lost or an attempt to
/// connect fails, and on a timer ([`resolve_refresh`], 60 s by default), never more often than
/// [`min_resolve_interval`] (30 s by default, as in grpc). Each answer replaces the address
/// list: connections to addresses still listed are kept, new addresses get a connection, and
/// those no longer listed are closed. An error (or an empty list) before any address was known
/// makes calls fail with UNAVAILABLE naming the target and the error; once addresses are
/// known, a failed resolution keeps them in use.
///
/// [`resolve_refresh`]: crate::client::ChannelBuilder::resolve_refresh
/// [`min_resolve_interval`]: crate::client::ChannelBuilder::min_resolve_interval
///
/// A custom resolver, reading `host:port` lines from a file that a deployment tool rewrites:
///
/// ```
/// use h2grpc::client::{Resolution, Resolver};
/// use h2grpc::transport::Address;
/// use std::io;
///
/// struct FileResolver(std::path::PathBuf);
///
/// impl Resolver for FileResolver {
///     fn resolve(&self) -> Resolution<'_> {
///         Box::pin(async move {
///             let text = tokio::fs::read_to_string(&self.0).await?;
///             text.lines()
///                 .filter(|line| !line.trim().is_empty())
///                 .map(|line| {
///                     let addr = line.trim().parse().map_err(io::Error::other)?;
///                     Ok(Address::Tcp(addr))
///                 })
///                 .collect()
///         })
///     }
/// }
///
/// let channel = h2grpc::Channel::builder("backends:50051")?
///     .resolver(FileResolver("/etc/backends.txt".into()))
///     .round_robin()
///     .connect_lazy();
/// # drop(channel);
/// # Ok::<(), h2grpc::Error>(())
/// ```
pub trait Resolver: Send + Sync + 'static {
    /// The current addresses of the target, in order of preference (pick_first tries them in
    /// this order).
    fn resolve(&self) -> Resolution<'_>;
}

/// Resolves `host:port` through the system resolver (tokio's `lookup_host`, that is
/// `getaddrinfo`) to every address it gives, IPv4 and IPv6, in the order given.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() -> std::io::Result<()> {
/// use h2grpc::client::{DnsResolver, Resolver};
/// let addrs = DnsResolver::new("127.0.0.1", 50051).resolve().await?;
/// assert_eq!(addrs, vec![h2grpc::transport::Address::Tcp("127.0.0.1:50051".parse().unwrap())]);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct DnsResolver {
    host: String,
    port: u16,
}

impl DnsResolver {
    /// A resolver for `host` (a name or an IP address literal) and `port`.
    pub fn new(host: impl Into<String>, port: u16) -> DnsResolver {
        DnsResolver { host: host.into(), port }
    }
}

impl Resolver for DnsResolver {
    fn resolve(&self) -> Resolution<'_> {
        Box::pin(async move {
            let mut addrs: Vec<Address> = Vec::new();
            for addr in tokio::net::lookup_host((self.host.as_str(), self.port)).await? {
                let addr = Address::Tcp(addr);
                // getaddrinfo lists an address once per socket type on some systems.
                if !addrs.contains(&addr) {
                    addrs.push(addr);
                }
            }
            Ok(addrs)
        })
    }
}

/// A fixed list of addresses: what `unix:`, `ipv4:` and `ipv6:` targets use.
///
/// ```
/// use h2grpc::client::StaticResolver;
/// use h2grpc::transport::Address;
/// let resolver = StaticResolver::new(vec![Address::Tcp("10.0.0.1:50051".parse()?)]);
/// # drop(resolver);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct StaticResolver(Vec<Address>);

impl StaticResolver {
    /// A resolver that always answers `addrs`.
    pub fn new(addrs: Vec<Address>) -> StaticResolver {
        StaticResolver(addrs)
    }
}

impl Resolver for StaticResolver {
    fn resolve(&self) -> Resolution<'_> {
        let addrs = self.0.clone();
        Box::pin(async move { Ok(addrs) })
    }
}

impl std::fmt::Debug for dyn Resolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Resolver")
    }
}
