//! For tests: a socket path in a fresh temporary directory.

use std::path::PathBuf;

/// `name` in a new temporary directory, and the directory, which is removed when dropped.
pub(crate) fn temp_socket_path(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join(name);
    (dir, path)
}
