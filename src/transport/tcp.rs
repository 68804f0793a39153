//! Binding TCP listeners.

use std::io;
use std::net::{SocketAddr, TcpListener, ToSocketAddrs};

use crate::error::{Error, ErrorKind};

/// Binds a TCP listener on the first of `addr`'s addresses that works (std sets `SO_REUSEADDR`
/// on Unix, so a restarted server can rebind at once). The listener is non-blocking, ready for
/// `tokio` to adopt. Bind port 0 to let the system choose a free port.
#[allow(dead_code)] // used by server
pub(crate) fn bind_tcp(addr: impl ToSocketAddrs) -> Result<TcpListener, Error> {
    let addrs: Vec<SocketAddr> = addr
        .to_socket_addrs()
        .map_err(|e| {
            Error::with_source(
                ErrorKind::Bind,
                "cannot resolve the address to bind; use host:port, e.g. 127.0.0.1:50051",
                e,
            )
        })?
        .collect();
    let shown = addrs.iter().map(SocketAddr::to_string).collect::<Vec<_>>().join(", ");
    if addrs.is_empty() {
        return Err(Error::new(
            ErrorKind::Bind,
            "the address to bind resolved to nothing; use host:port, e.g. 127.0.0.1:50051",
        ));
    }
    let listener = TcpListener::bind(&addrs[..]).map_err(|e| {
        let msg = match e.kind() {
            io::ErrorKind::AddrInUse => {
                format!("another process is listening on {shown}; stop it or choose another port")
            }
            io::ErrorKind::PermissionDenied => format!(
                "permission denied binding {shown}; ports below 1024 need privileges, choose \
                 another port"
            ),
            io::ErrorKind::AddrNotAvailable => format!(
                "{shown} is not an address of this machine; bind 127.0.0.1, [::1] or 0.0.0.0"
            ),
            _ => format!("cannot bind {shown}"),
        };
        Error::with_source(ErrorKind::Bind, msg, e)
    })?;
    listener.set_nonblocking(true).map_err(|e| {
        Error::with_source(ErrorKind::Bind, format!("cannot make {shown} non-blocking"), e)
    })?;
    Ok(listener)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bind_tcp_binds_a_free_port_non_blocking() {
        let listener = bind_tcp("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        assert!(addr.ip().is_loopback() && addr.port() != 0, "{addr}");
        assert_eq!(listener.accept().unwrap_err().kind(), io::ErrorKind::WouldBlock);
        std::net::TcpStream::connect(addr).unwrap();
    }

    #[test]
    fn bind_tcp_refuses_a_port_in_use_naming_the_address() {
        let first = bind_tcp("127.0.0.1:0").unwrap();
        let addr = first.local_addr().unwrap();
        let err = bind_tcp(addr).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Bind);
        let want = format!("another process is listening on {addr}; stop it");
        assert!(err.to_string().contains(&want), "{err}");
    }

    #[test]
    fn bind_tcp_refuses_an_empty_address_list() {
        let err = bind_tcp(&[][..] as &[SocketAddr]).unwrap_err();
        assert!(err.to_string().contains("resolved to nothing"), "{err}");
    }

    #[test]
    fn bind_tcp_refuses_an_unparsable_address() {
        let err = bind_tcp("127.0.0.1:notaport").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Bind);
        assert!(err.to_string().contains("use host:port"), "{err}");
    }
}
