//! Binding Unix socket listeners safely: stale sockets are replaced, anything else is left alone.
//!
//! What `bind_unix` finds at the path decides what it does:
//!
//! ```text
//! nothing                                  bind
//! a socket nobody listens on (refused)     remove it, bind            (a crashed server's leftover)
//! a socket with a live listener            refuse: another process is listening
//! a socket we may not connect to           refuse: cannot tell whether it is in use
//! a file, directory, symlink, fifo, ...    refuse, never delete
//! ```
//!
//! ASP.NET Core deletes whatever socket file is there before listening; we probe it first, so a
//! second server started by mistake fails instead of silently stealing the first one's path.

use std::fs::{self, FileType};
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;

use super::unix_mode::Step;
use crate::error::{Error, ErrorKind};

/// Size of `sockaddr_un.sun_path`; std needs one byte of it for the terminating NUL.
#[cfg(any(target_os = "linux", target_os = "android"))]
const SUN_PATH_LEN: usize = 108;
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const SUN_PATH_LEN: usize = 104;

/// Binds a Unix socket listener at `path`, replacing a stale socket file but nothing else.
///
/// `mode` (e.g. `0o600`) and `group` are set before the socket appears at `path` and before it
/// accepts connections (see [`unix_mode`](super::unix_mode)): it is never reachable with the
/// umask's wider mode. The listener is non-blocking, ready for `tokio` to adopt.
#[allow(dead_code)] // used by server
pub(crate) fn bind_unix(path: &Path, mode: Option<u32>) -> Result<UnixListener, Error> {
    bind_unix_as(path, mode, None)
}

/// [`bind_unix`] with the socket file's group too.
pub(crate) fn bind_unix_as(
    path: &Path,
    mode: Option<u32>,
    group: Option<u32>,
) -> Result<UnixListener, Error> {
    let shown = path.display();
    let len = path.as_os_str().len();
    if len == 0 {
        return Err(Error::new(ErrorKind::Bind, "the socket path is empty; name a socket file"));
    }
    if len >= SUN_PATH_LEN {
        return Err(Error::new(
            ErrorKind::Bind,
            format!(
                "socket path {shown} is {len} bytes, over the {}-byte limit of unix socket \
                 addresses; choose a shorter path (e.g. in /tmp or $XDG_RUNTIME_DIR) or a \
                 relative one",
                SUN_PATH_LEN - 1
            ),
        ));
    }
    clear_stale_socket(path)?;
    let listener = if mode.is_none() && group.is_none() {
        UnixListener::bind(path).map_err(|e| bind_error(path, e))?
    } else {
        super::unix_mode::bind_with_mode(path, mode, group, SUN_PATH_LEN).map_err(|(step, e)| {
            match step {
                Step::Chmod => Error::with_source(
                    ErrorKind::Bind,
                    format!("cannot set mode {:#o} on {shown}: check the mode", mode.unwrap_or(0)),
                    e,
                ),
                Step::Chown => Error::with_source(
                    ErrorKind::Bind,
                    format!(
                        "cannot set group {} on {shown}: a process may only choose a group it \
                         is in (or run as root)",
                        group.unwrap_or(0)
                    ),
                    e,
                ),
                Step::Link if e.kind() == io::ErrorKind::AlreadyExists => {
                    bind_error(path, io::Error::new(io::ErrorKind::AddrInUse, e))
                }
                _ => bind_error(path, e),
            }
        })?
    };
    let ready = || -> Result<(), Error> {
        listener.set_nonblocking(true).map_err(|e| {
            Error::with_source(ErrorKind::Bind, format!("cannot make {shown} non-blocking"), e)
        })
    };
    if let Err(e) = ready() {
        drop(listener);
        remove_socket_file(path);
        return Err(e);
    }
    Ok(listener)
}

/// Binds a listener on the Linux abstract socket `name` (no file; no permissions apply).
#[cfg(target_os = "linux")]
#[allow(dead_code)] // used by server
pub(crate) fn bind_unix_abstract(name: &str) -> Result<UnixListener, Error> {
    use std::os::linux::net::SocketAddrExt;

    if name.is_empty() {
        return Err(Error::new(
            ErrorKind::Bind,
            "the abstract socket name is empty; choose a name",
        ));
    }
    if name.contains('\0') {
        return Err(Error::new(
            ErrorKind::Bind,
            format!("abstract socket name {name:?} contains a nul byte; choose a name without one"),
        ));
    }
    // The address holds a leading NUL, then the name.
    if name.len() >= SUN_PATH_LEN {
        return Err(Error::new(
            ErrorKind::Bind,
            format!(
                "abstract socket name {name:?} is {} bytes, over the {}-byte limit; choose a \
                 shorter name",
                name.len(),
                SUN_PATH_LEN - 1
            ),
        ));
    }
    let cannot = |e: io::Error| {
        let msg = if e.kind() == io::ErrorKind::AddrInUse {
            format!(
                "another process is listening on unix-abstract:{name}; stop it or choose another \
                 name"
            )
        } else {
            format!("cannot bind unix-abstract:{name}")
        };
        Error::with_source(ErrorKind::Bind, msg, e)
    };
    let addr =
        std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).map_err(cannot)?;
    let listener = UnixListener::bind_addr(&addr).map_err(cannot)?;
    listener.set_nonblocking(true).map_err(cannot)?;
    Ok(listener)
}

/// Removes the socket file at `path` on shutdown: only if it is still a socket (never a file a
/// user put there since), ignoring one that is already gone.
#[allow(dead_code)] // used by server
pub(crate) fn remove_socket_file(path: &Path) {
    if fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_socket()) {
        // Shutdown has no one to report to; a file we cannot remove is replaced as stale on the
        // next bind.
        let _ = fs::remove_file(path);
    }
}

/// Makes way for binding `path`: `Ok` if nothing is there (any more), else a refusal.
fn clear_stale_socket(path: &Path) -> Result<(), Error> {
    let shown = path.display();
    let meta = match fs::symlink_metadata(path) {
        Ok(meta) => meta,
        // A missing directory surfaces, with a better message, when binding.
        Err(e) if is_missing_dir(&e) => return Ok(()),
        Err(e) => {
            return Err(Error::with_source(
                ErrorKind::Bind,
                format!("cannot inspect {shown}: check the permissions of its directory"),
                e,
            ))
        }
    };
    if !meta.file_type().is_socket() {
        return Err(Error::new(
            ErrorKind::Bind,
            format!(
                "{shown} exists and is not a socket ({}); refusing to remove it, choose another \
                 socket path",
                describe(meta.file_type())
            ),
        ));
    }
    match UnixStream::connect(path) {
        Ok(_probe) => Err(Error::new(
            ErrorKind::Bind,
            format!(
                "another process is listening on {shown}; stop it or choose another socket path"
            ),
        )),
        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
            // Stale. Remove it only if it is still the very socket we probed; if something else
            // replaced it meanwhile, binding fails with "already exists" instead.
            let same = fs::symlink_metadata(path).is_ok_and(|now| {
                now.file_type().is_socket() && now.dev() == meta.dev() && now.ino() == meta.ino()
            });
            match if same { fs::remove_file(path) } else { Ok(()) } {
                Err(e) if e.kind() != io::ErrorKind::NotFound => Err(Error::with_source(
                    ErrorKind::Bind,
                    format!(
                        "cannot remove the stale socket {shown}: check the permissions of its \
                         directory"
                    ),
                    e,
                )),
                _ => Ok(()),
            }
        }
        Err(e) => Err(Error::with_source(
            ErrorKind::Bind,
            format!(
                "cannot tell whether the socket {shown} is in use; if it is stale, remove it, or \
                 choose another socket path"
            ),
            e,
        )),
    }
}

fn is_missing_dir(e: &io::Error) -> bool {
    matches!(e.kind(), io::ErrorKind::NotFound | io::ErrorKind::NotADirectory)
}

fn describe(ft: FileType) -> &'static str {
    if ft.is_symlink() {
        "a symbolic link"
    } else if ft.is_dir() {
        "a directory"
    } else if ft.is_file() {
        "a regular file"
    } else if ft.is_fifo() {
        "a fifo"
    } else {
        "a device"
    }
}

fn bind_error(path: &Path, e: io::Error) -> Error {
    let shown = path.display();
    let msg = match e.kind() {
        io::ErrorKind::AddrInUse => format!(
            "{shown} already exists (another process may have just bound it); choose another \
             socket path"
        ),
        io::ErrorKind::PermissionDenied => {
            format!("permission denied creating {shown}; choose a directory you can write to")
        }
        _ if is_missing_dir(&e) => {
            let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
            let parent = parent.unwrap_or(Path::new(".")).display();
            format!("directory {parent} does not exist; create it before binding {shown}")
        }
        _ => format!("cannot bind {shown}"),
    };
    Error::with_source(ErrorKind::Bind, msg, e)
}

#[cfg(test)]
mod tests;
