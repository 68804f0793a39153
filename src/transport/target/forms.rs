//! Parsing the gRPC naming forms into a [`Target`]: one function a form, and the error that
//! quotes every accepted form.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};
use std::path::PathBuf;

use super::Target;
use crate::error::{Error, ErrorKind};

/// The accepted forms, quoted in every parse error.
const FORMS: &str = "use unix:path/to.sock, unix:///abs/path.sock, unix-abstract:name, \
                     host:port (also dns:///host:port, [::1]:port, :port), \
                     ipv4:addr[:port][,addr[:port]...] or ipv6:[addr]:port[,[addr]:port...]";

/// `s` as a target, in any of the forms the module docs of `target` list.
pub(super) fn parse(s: &str) -> Result<Target, Error> {
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
