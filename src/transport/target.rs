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
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::error::{Error, ErrorKind};

/// The accepted forms, quoted in every parse error.
const FORMS: &str = "use unix:path/to.sock, unix:///abs/path.sock, unix-abstract:name, \
                     host:port (also dns:///host:port, [::1]:port, :port), \
                     ipv4:addr[:port][,addr[:port]...] or ipv6:[addr]:port[,[addr]:port...]";

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
        if s.is_empty() {
            return Err(invalid(s, "the target is empty"));
        }
        if let Some(rest) = strip_scheme(s, "unix:") {
            return parse_unix(s, rest);
        }
        if let Some(name) = strip_scheme(s, "unix-abstract:") {
            if name.is_empty() {
                return Err(invalid(s, "the abstract socket name is empty"));
            }
            if name.contains('\0') {
                return Err(invalid(s, "the abstract socket name contains a nul byte"));
            }
            return Ok(Target::UnixAbstract(name.to_owned()));
        }
        if let Some(list) = strip_scheme(s, "ipv4:") {
            return parse_list(s, list, parse_ipv4).map(Target::Ipv4);
        }
        if let Some(list) = strip_scheme(s, "ipv6:") {
            return parse_list(s, list, parse_ipv6).map(Target::Ipv6);
        }
        if let Some(rest) = strip_scheme(s, "dns:") {
            let host_port = match rest.strip_prefix("//") {
                None => rest,
                Some(after) => {
                    let slash = after.find('/').unwrap_or(after.len());
                    if slash > 0 {
                        return Err(invalid(
                            s,
                            "a dns server authority (dns://server/...) is not supported",
                        ));
                    }
                    // `after` is empty or starts with '/'.
                    after.get(1..).unwrap_or_default()
                }
            };
            return parse_host_port(s, host_port);
        }
        if let Some((scheme, _)) = s.split_once("://") {
            if is_scheme(scheme) {
                let hint = if scheme.eq_ignore_ascii_case("https") {
                    " (https:// targets are for Channel::builder, with h2grpc's tls feature)"
                } else {
                    ""
                };
                return Err(invalid(s, &format!("the scheme {scheme:?} is not supported{hint}")));
            }
        }
        parse_host_port(s, s)
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

fn invalid(s: &str, reason: &str) -> Error {
    Error::new(ErrorKind::InvalidTarget, format!("invalid target {s:?}: {reason}; {FORMS}"))
}

/// `s` without `scheme` (which ends in ':'), matched case-insensitively as URI schemes are.
fn strip_scheme<'a>(s: &'a str, scheme: &str) -> Option<&'a str> {
    let head = s.get(..scheme.len())?;
    head.eq_ignore_ascii_case(scheme).then(|| &s[scheme.len()..])
}

/// RFC 3986: `ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`.
fn is_scheme(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

fn parse_unix(s: &str, rest: &str) -> Result<Target, Error> {
    let path = match rest.strip_prefix("//") {
        None => rest,
        Some(after) => {
            let slash = after.find('/').unwrap_or(after.len());
            let authority = &after[..slash];
            if !authority.is_empty() {
                return Err(invalid(
                    s,
                    &format!(
                        "unix targets take no host (got {authority:?}); an absolute path needs \
                         three slashes, unix:///abs/path"
                    ),
                ));
            }
            &after[slash..]
        }
    };
    if path.is_empty() {
        return Err(invalid(s, "the socket path is empty"));
    }
    if path.contains('\0') {
        return Err(invalid(s, "the socket path contains a nul byte"));
    }
    Ok(Target::Unix(PathBuf::from(path)))
}

/// The default port of `ipv4:`/`ipv6:` entries without one (grpc `doc/naming.md`).
const DEFAULT_PORT: u16 = 443;

fn parse_list<A>(
    s: &str,
    list: &str,
    one: fn(&str, &str) -> Result<A, Error>,
) -> Result<Vec<A>, Error> {
    if list.is_empty() {
        return Err(invalid(s, "the address list is empty"));
    }
    list.split(',').map(|entry| one(s, entry)).collect()
}

fn parse_port(s: &str, port: Option<&str>) -> Result<u16, Error> {
    match port {
        None => Ok(DEFAULT_PORT),
        Some(port) => match port.parse::<u16>() {
            Ok(port) if port != 0 => Ok(port),
            _ => Err(invalid(s, &format!("the port {port:?} is not a number from 1 to 65535"))),
        },
    }
}

fn parse_ipv4(s: &str, entry: &str) -> Result<SocketAddrV4, Error> {
    let (ip, port) = match entry.split_once(':') {
        Some((ip, port)) => (ip, Some(port)),
        None => (entry, None),
    };
    let Ok(ip) = ip.parse::<Ipv4Addr>() else {
        return Err(invalid(s, &format!("{ip:?} is not an ipv4 address")));
    };
    Ok(SocketAddrV4::new(ip, parse_port(s, port)?))
}

fn parse_ipv6(s: &str, entry: &str) -> Result<SocketAddrV6, Error> {
    let (ip, port) = match entry.strip_prefix('[') {
        Some(bracketed) => {
            let Some((ip, after)) = bracketed.split_once(']') else {
                return Err(invalid(s, "the ipv6 address has no closing bracket"));
            };
            match after {
                "" => (ip, None),
                _ => match after.strip_prefix(':') {
                    Some(port) => (ip, Some(port)),
                    None => return Err(invalid(s, &format!("unexpected {after:?} after {ip:?}"))),
                },
            }
        }
        None => (entry, None),
    };
    let Ok(ip) = ip.parse::<Ipv6Addr>() else {
        return Err(invalid(s, &format!("{ip:?} is not an ipv6 address")));
    };
    Ok(SocketAddrV6::new(ip, parse_port(s, port)?, 0, 0))
}

fn parse_host_port(s: &str, host_port: &str) -> Result<Target, Error> {
    let (host, port) = if let Some(bracketed) = host_port.strip_prefix('[') {
        let Some((host, after)) = bracketed.split_once(']') else {
            return Err(invalid(s, "the ipv6 address has no closing bracket"));
        };
        // A zone may follow the address: fe80::1%eth0.
        let addr = host.split_once('%').map_or(host, |(addr, _zone)| addr);
        if addr.parse::<Ipv6Addr>().is_err() {
            return Err(invalid(s, &format!("{host:?} is not an ipv6 address")));
        }
        let Some(port) = after.strip_prefix(':') else {
            return Err(invalid(s, "the port is missing after the ipv6 address"));
        };
        (host, port)
    } else {
        let Some((host, port)) = host_port.rsplit_once(':') else {
            return Err(invalid(s, "the port is missing"));
        };
        if host.contains(':') {
            return Err(invalid(s, "an ipv6 address needs brackets, as in [::1]:50051"));
        }
        let valid = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_');
        if !host.chars().all(valid) {
            return Err(invalid(s, &format!("{host:?} is not a host name or ip address")));
        }
        // ":port" means this machine (grpc-go initAuthority).
        (if host.is_empty() { "localhost" } else { host }, port)
    };
    match port.parse::<u16>() {
        Ok(port) if port != 0 => Ok(Target::Tcp { host: host.to_owned(), port }),
        _ => Err(invalid(s, &format!("the port {port:?} is not a number from 1 to 65535"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unix(p: &str) -> Target {
        Target::Unix(PathBuf::from(p))
    }

    fn tcp(host: &str, port: u16) -> Target {
        Target::Tcp { host: host.to_owned(), port }
    }

    fn good() -> Vec<(&'static str, Target)> {
        vec![
            ("unix:relative/echo.sock", unix("relative/echo.sock")),
            ("unix:echo.sock", unix("echo.sock")),
            ("unix:/abs/echo.sock", unix("/abs/echo.sock")),
            ("unix:///abs/echo.sock", unix("/abs/echo.sock")),
            ("UNIX:/abs/echo.sock", unix("/abs/echo.sock")),
            ("unix:////double", unix("//double")),
            ("unix-abstract:echo", Target::UnixAbstract("echo".to_owned())),
            (
                "unix-abstract:with/slash and space",
                Target::UnixAbstract("with/slash and space".to_owned()),
            ),
            ("localhost:50051", tcp("localhost", 50051)),
            ("dns:localhost:50051", tcp("localhost", 50051)),
            ("dns:///localhost:50051", tcp("localhost", 50051)),
            ("dns:///[::1]:443", tcp("::1", 443)),
            ("[::1]:50051", tcp("::1", 50051)),
            ("[fe80::1%eth0]:50051", tcp("fe80::1%eth0", 50051)),
            ("127.0.0.1:50051", tcp("127.0.0.1", 50051)),
            ("example.com:65535", tcp("example.com", 65535)),
            (":50051", tcp("localhost", 50051)),
            ("dns::50051", tcp("localhost", 50051)),
            (
                "ipv4:127.0.0.1:1,10.0.0.2",
                Target::Ipv4(vec!["127.0.0.1:1".parse().unwrap(), "10.0.0.2:443".parse().unwrap()]),
            ),
            ("IPV4:1.2.3.4:5", Target::Ipv4(vec!["1.2.3.4:5".parse().unwrap()])),
            (
                "ipv6:[::1]:50051,::2,[fe80::3]",
                Target::Ipv6(vec![
                    "[::1]:50051".parse().unwrap(),
                    "[::2]:443".parse().unwrap(),
                    "[fe80::3]:443".parse().unwrap(),
                ]),
            ),
        ]
    }

    const BAD: &[(&str, &str)] = &[
        ("", "empty"),
        ("unix:", "path is empty"),
        ("unix://", "path is empty"),
        ("unix://host/x", "no host (got \"host\")"),
        ("unix://relative", "no host"),
        ("unix:/a\0b", "nul byte"),
        ("unix-abstract:", "name is empty"),
        ("unix-abstract:a\0b", "nul byte"),
        ("host:notaport", "\"notaport\" is not a number"),
        ("host:0", "\"0\" is not a number"),
        ("host:65536", "\"65536\" is not a number"),
        ("host:", "\"\" is not a number"),
        ("localhost", "port is missing"),
        ("http://x", "scheme \"http\" is not supported"),
        ("https://x:443", "scheme \"https\" is not supported"),
        ("dns://8.8.8.8/example.com:443", "dns server authority"),
        ("dns:///", "port is missing"),
        ("::1:50051", "needs brackets"),
        ("[::1:50051", "no closing bracket"),
        ("[::1]", "port is missing"),
        ("[nothost]:1", "not an ipv6 address"),
        ("a b:1", "not a host name"),
        ("user@host:1", "not a host name"),
        ("ipv4:", "address list is empty"),
        ("ipv6:", "address list is empty"),
        ("ipv4:1.2.3.4:1,", "\"\" is not an ipv4 address"),
        ("ipv4:1.2.3.4:70000", "\"70000\" is not a number"),
        ("ipv4:1.2.3.4:0", "\"0\" is not a number"),
        ("ipv4:localhost:1", "not an ipv4 address"),
        ("ipv6:[::1]:65536", "\"65536\" is not a number"),
        ("ipv6:[::1", "no closing bracket"),
        ("ipv6:[::1]x", "unexpected \"x\""),
        ("ipv6:1.2.3.4", "not an ipv6 address"),
        ("xds:///svc", "scheme \"xds\" is not supported"),
    ];

    #[test]
    fn parse_accepts_every_documented_form() {
        for (input, want) in good() {
            let got = Target::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(got, want, "{input:?}");
        }
    }

    #[test]
    fn parse_rejects_bad_forms_with_a_message_naming_the_accepted_forms() {
        for (input, reason) in BAD {
            let err = Target::parse(input).expect_err(input);
            assert_eq!(err.kind(), ErrorKind::InvalidTarget, "{input:?}");
            let msg = err.to_string();
            assert!(msg.contains(reason), "{input:?}: {msg}");
            assert!(msg.contains("unix:///abs/path.sock") && msg.contains("host:port"), "{msg}");
            assert!(msg.contains("ipv4:addr[:port]") && msg.contains("ipv6:[addr]:port"), "{msg}");
        }
    }

    #[test]
    fn display_round_trips_through_parse() {
        let extra = [
            unix("//double/slash"),
            unix("rel:with:colons"),
            tcp("fe80::1%eth0", 1),
            unix("dns:x"),
        ];
        for target in good().into_iter().map(|(_, t)| t).chain(extra) {
            let shown = target.to_string();
            assert_eq!(Target::parse(&shown).ok(), Some(target.clone()), "{shown:?}");
        }
    }

    #[test]
    fn display_prints_canonical_forms() {
        assert_eq!(unix("/abs/x.sock").to_string(), "unix:/abs/x.sock");
        assert_eq!(unix("rel.sock").to_string(), "unix:rel.sock");
        assert_eq!(unix("//x").to_string(), "unix:////x");
        assert_eq!(Target::UnixAbstract("n".to_owned()).to_string(), "unix-abstract:n");
        assert_eq!(tcp("::1", 80).to_string(), "[::1]:80");
        assert_eq!(tcp("localhost", 80).to_string(), "localhost:80");
    }

    #[test]
    fn authority_is_localhost_for_unix_and_host_port_for_tcp() {
        assert_eq!(unix("/x.sock").authority(), "localhost");
        assert_eq!(Target::UnixAbstract("x".to_owned()).authority(), "localhost");
        assert_eq!(tcp("127.0.0.1", 50051).authority(), "127.0.0.1:50051");
        assert_eq!(tcp("::1", 50051).authority(), "[::1]:50051");
        assert_eq!(Target::parse(":7").unwrap().authority(), "localhost:7");
    }

    #[test]
    fn from_path_makes_a_unix_target() {
        assert_eq!(Target::from(Path::new("/x.sock")), unix("/x.sock"));
        assert_eq!(Target::from(PathBuf::from("x.sock")), unix("x.sock"));
    }
}
