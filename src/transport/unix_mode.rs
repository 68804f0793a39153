//! Binding a Unix socket so that it is never reachable with a wider mode than asked.
//!
//! `bind(2)` creates the socket file with the umask's mode, and a `chmod` after it leaves a
//! moment in which others may connect. The umask cannot be narrowed for one thread only. So:
//!
//! ```text
//! socket()                          not bound, not listening
//! bind(dir/.h2grpc-<random>.tmp)    a file under a temporary name; connect() is refused (no listen)
//! chown(group), chmod(mode)         the final owner and mode
//! link(tmp, path)                   the socket appears at `path`, already with its mode;
//!                                   link never replaces anything (EEXIST), unlike rename
//! unlink(tmp)
//! listen()                          now it accepts, and only as the mode allows
//! ```
//!
//! The kernel keeps the address the socket was bound to, so the listener's `local_addr` (and
//! what a client's `peer_addr` reports) is the temporary name; the server reports `path`.

use std::fs::{self, Permissions};
use std::hash::{BuildHasher, Hasher};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};

use socket2::{Domain, SockAddr, Socket, Type};

/// The backlog `listen(2)` gets; the kernel caps it at `net.core.somaxconn`.
const BACKLOG: i32 = 1024;

/// The step of [`bind_with_mode`] that failed, for the caller's error message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// Creating or binding the socket under its temporary name.
    Bind,
    /// Setting the group.
    Chown,
    /// Setting the mode.
    Chmod,
    /// Linking it into place: `AlreadyExists` when something appeared at the path meanwhile.
    Link,
    /// Listening.
    Listen,
}

/// Binds and listens at `path` with `mode` and `group` set before anyone can connect.
/// `path` must be free (the caller cleared a stale socket); the error of a lost race is
/// `(Step::Link, AlreadyExists)`.
pub(crate) fn bind_with_mode(
    path: &Path,
    mode: Option<u32>,
    group: Option<u32>,
    max_len: usize,
) -> Result<UnixListener, (Step, io::Error)> {
    let (socket, tmp) = bind_temporary(path, max_len).map_err(|e| (Step::Bind, e))?;
    let exposed = (|| {
        if let Some(gid) = group {
            std::os::unix::fs::chown(&tmp, None, Some(gid)).map_err(|e| (Step::Chown, e))?;
        }
        if let Some(mode) = mode {
            let mode = Permissions::from_mode(mode);
            fs::set_permissions(&tmp, mode).map_err(|e| (Step::Chmod, e))?;
        }
        fs::hard_link(&tmp, path).map_err(|e| (Step::Link, e))
    })();
    // The temporary name goes whatever happened; the socket stays reachable through `path`.
    let _ = fs::remove_file(&tmp);
    exposed?;
    let listening = socket.listen(BACKLOG).map_err(|e| (Step::Listen, e));
    if listening.is_err() {
        let _ = fs::remove_file(path);
    }
    listening?;
    Ok(UnixListener::from(std::os::fd::OwnedFd::from(socket)))
}

/// A socket bound under a fresh temporary name in `path`'s directory, not listening.
fn bind_temporary(path: &Path, max_len: usize) -> io::Result<(Socket, PathBuf)> {
    let dir = path.parent().unwrap_or(Path::new(""));
    let name_len = path.file_name().map_or(1, |n| n.as_bytes().len());
    let mut last = None;
    for attempt in 0..32u64 {
        let random = format!("{:016x}", random_u64(attempt));
        let long = dir.join(format!(".h2grpc-{}.tmp", &random[..8]));
        // Near the sun_path limit, a name no longer than the final one still fits.
        let tmp = if long.as_os_str().len() < max_len {
            long
        } else {
            dir.join(&random[..name_len.min(16)])
        };
        let socket = Socket::new(Domain::UNIX, Type::STREAM, None)?;
        match socket.bind(&SockAddr::unix(&tmp)?) {
            Ok(()) => return Ok((socket, tmp)),
            Err(e) if e.kind() == io::ErrorKind::AddrInUse => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::from(io::ErrorKind::AddrInUse)))
}

/// Random enough for a temporary name that is retried on collision: std's per-process random
/// hash keys, the pid and the attempt.
fn random_u64(attempt: u64) -> u64 {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(attempt);
    hasher.write_u32(std::process::id());
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::scratch::temp_socket_path;
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    use std::os::unix::net::UnixStream;

    #[test]
    fn bind_with_mode_sets_the_mode_and_leaves_no_temporary_file() {
        let (dir, path) = temp_socket_path("s.sock");
        let listener = bind_with_mode(&path, Some(0o640), None, 108).unwrap();
        let meta = fs::symlink_metadata(&path).unwrap();
        assert!(meta.file_type().is_socket());
        assert_eq!(meta.mode() & 0o777, 0o640);
        let entries: Vec<_> =
            fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().path()).collect();
        assert_eq!(entries, std::slice::from_ref(&path));
        let _client = UnixStream::connect(&path).unwrap();
        listener.accept().unwrap();
    }

    #[test]
    fn bind_with_mode_never_replaces_what_appeared_at_the_path() {
        let (dir, path) = temp_socket_path("s.sock");
        fs::write(&path, b"precious").unwrap();
        let (step, err) = bind_with_mode(&path, Some(0o600), None, 108).unwrap_err();
        assert_eq!((step, err.kind()), (Step::Link, io::ErrorKind::AlreadyExists));
        assert_eq!(fs::read(&path).unwrap(), b"precious");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1, "temporary name removed");
    }

    #[test]
    fn bind_with_mode_sets_a_group_it_is_in() {
        let (dir, path) = temp_socket_path("s.sock");
        let gid = fs::metadata(dir.path()).unwrap().gid();
        let _listener = bind_with_mode(&path, None, Some(gid), 108).unwrap();
        assert_eq!(fs::metadata(&path).unwrap().gid(), gid);
    }

    #[test]
    fn bind_with_mode_fits_a_path_near_the_sun_path_limit() {
        let dir = tempfile::tempdir().unwrap();
        let room = 107 - dir.path().as_os_str().len() - 1;
        let path = dir.path().join("x".repeat(room));
        let _listener = bind_with_mode(&path, Some(0o600), None, 108).unwrap();
        assert_eq!(fs::metadata(&path).unwrap().mode() & 0o777, 0o600);
    }
}
