//! Socket activation: the listening sockets systemd passes as fd 3.. (`sd_listen_fds(3)`).
//!
//! ```text
//! LISTEN_PID=<our pid>  LISTEN_FDS=<n>  LISTEN_FDNAMES=<name>:<name>...    fds 3 .. 3+n-1
//! ```
//!
//! Stricter than `sd_listen_fds`, which treats a wrong `LISTEN_PID` as "no sockets": variables
//! that are present but wrong are an error here, because a daemon that then binds its own
//! socket would run silently beside the one systemd holds.

use std::fs;
use std::os::unix::fs::FileTypeExt;

use crate::error::{Error, ErrorKind};
use crate::server::Listener;

/// `SD_LISTEN_FDS_START`: the first passed descriptor.
const FIRST_FD: usize = 3;
/// More would be a mistake in the environment rather than a real unit.
const MAX_FDS: usize = 4096;
const VARS: [&str; 3] = ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"];

/// The listening sockets systemd passed to this process, each with its name
/// (`FileDescriptorName=` in the `.socket` unit; `unknown` when it gives none).
#[derive(Debug)]
pub struct ListenFds {
    sockets: Vec<(String, Option<Listener>)>,
}

/// Takes the listening sockets systemd passed (`LISTEN_PID`, `LISTEN_FDS`, `LISTEN_FDNAMES`,
/// fds 3 and up), checking that each is a listening stream socket (Unix or TCP), and removes
/// the three variables so that child processes do not inherit them. `Ok(None)` when the
/// variables are absent: the process was not socket-activated.
///
/// Variables that are present but wrong are an error that says what to fix: `LISTEN_PID`
/// naming another process, `LISTEN_FDS=0`, a descriptor that is closed, a regular file, a
/// datagram socket or a stream socket that does not listen (`Accept=yes`).
///
/// Call it once, early: removing environment variables races with other threads reading
/// the environment (which is why Rust 2024 makes `remove_var` unsafe), so call it before
/// spawning threads of your own; tokio's worker threads do not read the environment.
///
/// ```
/// // Run by hand, not by systemd:
/// assert!(h2grpc::daemon::listen_fds()?.is_none());
/// # Ok::<(), h2grpc::Error>(())
/// ```
pub fn listen_fds() -> Result<Option<ListenFds>, Error> {
    let var = |name| std::env::var(name).ok();
    let parsed = parse(
        var("LISTEN_PID").as_deref(),
        var("LISTEN_FDS").as_deref(),
        var("LISTEN_FDNAMES").as_deref(),
        std::process::id(),
    );
    let taken = match parsed {
        Ok(Some(names)) => take_all(names).map(Some),
        Ok(None) => Ok(None),
        Err(e) => Err(e),
    };
    for name in VARS {
        std::env::remove_var(name);
    }
    taken.map_err(|msg| Error::new(ErrorKind::Bind, format!("socket activation: {msg}")))
}

impl ListenFds {
    /// How many sockets were passed (taken ones included).
    pub fn len(&self) -> usize {
        self.sockets.len()
    }

    /// Whether no socket was passed; never true for what [`listen_fds`] returns.
    pub fn is_empty(&self) -> bool {
        self.sockets.is_empty()
    }

    /// The sockets' names, in fd order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.sockets.iter().map(|(name, _)| name.as_str())
    }

    /// Takes the first socket named `name` that is not taken yet.
    pub fn take(&mut self, name: &str) -> Option<Listener> {
        self.sockets.iter_mut().find(|(n, l)| n == name && l.is_some())?.1.take()
    }

    /// The socket for `name`: the one so named, or else the only socket when the unit named
    /// none (`unknown`). Otherwise an error listing the names there are.
    pub fn select(&mut self, name: &str) -> Result<Listener, Error> {
        if let Some(listener) = self.take(name) {
            return Ok(listener);
        }
        if let [(only, slot)] = &mut self.sockets[..] {
            if only == "unknown" {
                if let Some(listener) = slot.take() {
                    return Ok(listener);
                }
            }
        }
        let names: Vec<&str> = self.names().collect();
        Err(Error::new(
            ErrorKind::Bind,
            format!(
                "socket activation: systemd passed sockets named {names:?} but none named \
                 {name:?} (still untaken); set FileDescriptorName={name} in the .socket unit"
            ),
        ))
    }
}

impl IntoIterator for ListenFds {
    type Item = (String, Listener);
    type IntoIter = std::vec::IntoIter<(String, Listener)>;

    /// The sockets not taken yet, with their names.
    fn into_iter(self) -> Self::IntoIter {
        let untaken = self.sockets.into_iter().filter_map(|(n, l)| Some((n, l?)));
        untaken.collect::<Vec<_>>().into_iter()
    }
}

/// The names of the passed fds, `None` if the variables are absent; or what is wrong.
fn parse(
    pid: Option<&str>,
    fds: Option<&str>,
    names: Option<&str>,
    own_pid: u32,
) -> Result<Option<Vec<String>>, String> {
    let (pid, fds) = match (pid, fds) {
        (None, None) => return Ok(None),
        (Some(pid), None) => return Err(format!("LISTEN_PID={pid} is set but LISTEN_FDS is not")),
        (None, Some(fds)) => {
            return Err(format!(
                "LISTEN_FDS={fds} is set but LISTEN_PID is not, so the sockets may be meant for \
                 another process; set LISTEN_PID to the daemon's pid"
            ))
        }
        (Some(pid), Some(fds)) => (pid, fds),
    };
    if pid.parse::<u32>().ok() != Some(own_pid) {
        return Err(format!(
            "LISTEN_PID={pid} but this process is {own_pid}: the sockets were passed to another \
             process (a wrapper that forked?); start the daemon itself from the service unit"
        ));
    }
    let count = match fds.parse::<usize>() {
        Ok(0) => {
            return Err("LISTEN_FDS=0: no socket was passed; check the .socket unit's \
                        ListenStream=, or unset LISTEN_FDS to bind the socket path instead"
                .to_owned())
        }
        Ok(n) if n <= MAX_FDS => n,
        _ => return Err(format!("LISTEN_FDS={fds} is not a count of sockets (1 to {MAX_FDS})")),
    };
    let names: Vec<String> = match names {
        Some(names) => names.split(':').map(str::to_owned).collect(),
        None => vec!["unknown".to_owned(); count],
    };
    if names.len() != count {
        return Err(format!(
            "LISTEN_FDNAMES has {} names for LISTEN_FDS={count} sockets",
            names.len()
        ));
    }
    Ok(Some(names))
}

/// Takes fds 3.. as listeners (the variables must still be set: listenfd reads them).
fn take_all(names: Vec<String>) -> Result<ListenFds, String> {
    let mut fds = listenfd::ListenFd::from_env();
    if fds.len() != names.len() {
        return Err(format!("expected {} descriptors, found {}", names.len(), fds.len()));
    }
    let mut sockets = Vec::with_capacity(names.len());
    for (index, name) in names.into_iter().enumerate() {
        let fd = FIRST_FD + index;
        let listener =
            take(&mut fds, index, fd).map_err(|what| format!("fd {fd} (named {name:?}) {what}"))?;
        sockets.push((name, Some(listener)));
    }
    Ok(ListenFds { sockets })
}

fn take(fds: &mut listenfd::ListenFd, index: usize, fd: usize) -> Result<Listener, String> {
    // What the descriptor is, for the error message; listenfd checks again, with fstat.
    match fs::metadata(format!("/dev/fd/{fd}")) {
        Err(_) => return Err("is not open (a closed descriptor)".to_owned()),
        Ok(meta) if !meta.file_type().is_socket() => {
            let kind = if meta.is_file() {
                "a regular file"
            } else if meta.is_dir() {
                "a directory"
            } else if meta.file_type().is_fifo() {
                "a pipe"
            } else if meta.file_type().is_char_device() || meta.file_type().is_block_device() {
                "a device"
            } else {
                "an anonymous inode such as an epoll or event fd (was it closed when the \
                 process started, and reused since?)"
            };
            return Err(format!("is {kind}, not a socket"));
        }
        Ok(_) => {}
    }
    if let Ok(Some(listener)) = fds.take_unix_listener(index) {
        listening(&listener)?;
        return Ok(listener.into());
    }
    if let Ok(Some(listener)) = fds.take_tcp_listener(index) {
        listening(&listener)?;
        return Ok(listener.into());
    }
    let datagram = matches!(fds.take_unix_datagram(index), Ok(Some(_)))
        || matches!(fds.take_udp_socket(index), Ok(Some(_)));
    Err(if datagram {
        "is a datagram socket; gRPC needs a stream socket (ListenStream=, not ListenDatagram=)"
    } else {
        "is neither a Unix nor a TCP stream socket; use ListenStream= in the .socket unit"
    }
    .to_owned())
}

/// A connected stream socket passes listenfd's type check; `accept` on it would fail forever.
#[cfg(any(target_os = "linux", target_os = "android", target_os = "freebsd"))]
fn listening<S: std::os::fd::AsFd>(socket: &S) -> Result<(), String> {
    match socket2::SockRef::from(socket).is_listener() {
        Ok(true) => Ok(()),
        Ok(false) => Err("is a stream socket that is not listening (Accept=yes passes \
                          connections; gRPC needs Accept=no)"
            .to_owned()),
        Err(e) => Err(format!("cannot be checked for listening: {e}")),
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android", target_os = "freebsd")))]
fn listening<S: std::os::fd::AsFd>(_socket: &S) -> Result<(), String> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_err(pid: Option<&str>, fds: Option<&str>, names: Option<&str>) -> String {
        parse(pid, fds, names, 42).expect_err("must be refused")
    }

    #[test]
    fn parse_without_the_variables_is_not_activated() {
        assert_eq!(parse(None, None, None, 42), Ok(None));
        assert_eq!(parse(None, None, Some("grpc"), 42), Ok(None));
    }

    #[test]
    fn parse_names_each_fd() {
        let two = parse(Some("42"), Some("2"), Some("grpc:admin"), 42).unwrap();
        assert_eq!(two, Some(vec!["grpc".to_owned(), "admin".to_owned()]));
        let unnamed = parse(Some("42"), Some("1"), None, 42).unwrap();
        assert_eq!(unnamed, Some(vec!["unknown".to_owned()]));
    }

    #[test]
    fn parse_refuses_what_systemd_never_sends() {
        assert!(parse_err(Some("41"), Some("1"), None).contains("LISTEN_PID=41 but this process"));
        assert!(parse_err(Some("x"), Some("1"), None).contains("LISTEN_PID=x"));
        assert!(parse_err(None, Some("1"), None).contains("LISTEN_PID is not"));
        assert!(parse_err(Some("42"), None, None).contains("LISTEN_FDS is not"));
        assert!(parse_err(Some("42"), Some("0"), None).starts_with("LISTEN_FDS=0: no socket"));
        assert!(parse_err(Some("42"), Some("-1"), None).contains("not a count"));
        assert!(parse_err(Some("42"), Some("99999"), None).contains("not a count"));
        assert!(parse_err(Some("42"), Some("2"), Some("grpc")).contains("1 names for"));
    }

    fn passed(names: &[&str]) -> ListenFds {
        let sockets = names.iter().map(|name| {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            (name.to_string(), Some(Listener::from(listener)))
        });
        ListenFds { sockets: sockets.collect() }
    }

    #[test]
    fn select_takes_by_name_or_the_only_unnamed_socket() {
        let mut fds = passed(&["admin", "grpc"]);
        assert!(fds.select("grpc").is_ok());
        let err = fds.select("grpc").unwrap_err().to_string();
        assert!(err.contains(r#"named ["admin", "grpc"] but none named "grpc""#), "{err}");
        assert_eq!(fds.into_iter().map(|(n, _)| n).collect::<Vec<_>>(), ["admin"]);

        assert!(passed(&["unknown"]).select("grpc").is_ok());
        let mut other = passed(&["other"]);
        let err = other.select("grpc").unwrap_err().to_string();
        assert!(err.contains("FileDescriptorName=grpc"), "{err}");
        assert!(other.take("other").is_some(), "a refused selection takes nothing");
    }
}
