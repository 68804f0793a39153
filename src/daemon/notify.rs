//! `sd_notify`: one datagram of `NAME=value` lines to the socket named by `NOTIFY_SOCKET`.

use std::ffi::OsString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::UnixDatagram;

/// Sends `state` (e.g. `"READY=1"`, `"STOPPING=1"`, `"STATUS=draining"`; several lines allowed)
/// to the service manager, as `sd_notify(3)`: one datagram to the Unix socket named by
/// `NOTIFY_SOCKET` (a path, or `@name` for an abstract socket). Returns `Ok(false)` without
/// doing anything when `NOTIFY_SOCKET` is unset, so a daemon runs the same by hand.
///
/// [`serve`](super::serve) sends `READY=1` and `STOPPING=1` itself.
///
/// ```
/// # std::env::remove_var("NOTIFY_SOCKET");
/// // Not started by systemd: nothing to tell, nothing fails.
/// assert!(!h2grpc::daemon::notify("STATUS=warming up")?);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn notify(state: &str) -> io::Result<bool> {
    let Some(address) = std::env::var_os("NOTIFY_SOCKET") else {
        return Ok(false);
    };
    send(&address, state)?;
    Ok(true)
}

fn send(address: &OsString, state: &str) -> io::Result<()> {
    let bytes = address.as_bytes();
    let socket = UnixDatagram::unbound()?;
    let sent = match bytes.first() {
        Some(b'/') => socket.send_to(state.as_bytes(), address),
        Some(b'@') => send_abstract(&socket, &bytes[1..], state.as_bytes()),
        _ => {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!(
                    "NOTIFY_SOCKET={} is neither a socket path nor an @abstract name (vsock is \
                     not supported)",
                    address.to_string_lossy()
                ),
            ))
        }
    };
    match sent {
        Ok(n) if n == state.len() => Ok(()),
        Ok(n) => Err(io::Error::new(
            io::ErrorKind::WriteZero,
            format!("sd_notify sent {n} of {} bytes", state.len()),
        )),
        Err(e) => Err(io::Error::new(
            e.kind(),
            format!("cannot notify the service manager at {}: {e}", address.to_string_lossy()),
        )),
    }
}

#[cfg(target_os = "linux")]
fn send_abstract(socket: &UnixDatagram, name: &[u8], data: &[u8]) -> io::Result<usize> {
    use std::os::linux::net::SocketAddrExt;
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
    socket.send_to_addr(data, &addr)
}

#[cfg(not(target_os = "linux"))]
fn send_abstract(_socket: &UnixDatagram, _name: &[u8], _data: &[u8]) -> io::Result<usize> {
    Err(io::Error::new(io::ErrorKind::Unsupported, "abstract unix sockets exist only on linux"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::scratch::temp_socket_path;

    #[test]
    fn send_reaches_a_path_socket() {
        let (_dir, path) = temp_socket_path("notify");
        let receiver = UnixDatagram::bind(&path).unwrap();
        send(&path.clone().into_os_string(), "READY=1\nSTATUS=up").unwrap();
        let mut buf = [0; 64];
        let n = receiver.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"READY=1\nSTATUS=up");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn send_reaches_an_abstract_socket() {
        use std::os::linux::net::SocketAddrExt;
        let dir = tempfile::tempdir().unwrap();
        let name = format!("h2grpc-notify-{}", dir.path().file_name().unwrap().to_string_lossy());
        let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let receiver = UnixDatagram::bind_addr(&addr).unwrap();
        send(&format!("@{name}").into(), "STOPPING=1").unwrap();
        let mut buf = [0; 64];
        let n = receiver.recv(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"STOPPING=1");
    }

    #[test]
    fn send_names_an_unsupported_address() {
        let err = send(&"vsock:2:1234".into(), "READY=1").unwrap_err();
        assert!(err.to_string().contains("NOTIFY_SOCKET=vsock:2:1234"), "{err}");
    }
}
