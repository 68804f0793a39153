//! Generated code kept in the repository: generate into a temporary directory, then compare
//! with the checked-in files (a test) or rewrite them (`H2GRPC_BLESS=1`).

use std::io;
use std::path::Path;

/// The environment variable that turns a check into a rewrite, when set to `1`.
pub(crate) const BLESS: &str = "H2GRPC_BLESS";

/// Whether `H2GRPC_BLESS=1` is set.
pub(crate) fn blessing() -> bool {
    std::env::var_os(BLESS).is_some_and(|v| v == "1")
}

/// Compares every file in `generated` with the file of the same name in `dir`. With `bless`,
/// writes the ones that differ or are missing (creating `dir`); without, fails naming them and
/// the command that rewrites them.
pub(crate) fn sync(generated: &Path, dir: &Path, bless: bool) -> io::Result<()> {
    let mut names = std::fs::read_dir(generated)?
        .map(|entry| entry.map(|e| e.file_name()))
        .collect::<io::Result<Vec<_>>>()?;
    names.sort();
    let mut stale = Vec::new();
    for name in names {
        let made = std::fs::read(generated.join(&name))?;
        let path = dir.join(&name);
        if std::fs::read(&path).ok().as_ref() == Some(&made) {
            continue;
        }
        if bless {
            std::fs::create_dir_all(dir)?;
            std::fs::write(&path, &made)?;
        } else {
            stale.push(path.display().to_string());
        }
    }
    if stale.is_empty() {
        return Ok(());
    }
    Err(io::Error::other(format!(
        "generated code is stale or missing: {}; regenerate it with `{}` and review the diff",
        stale.join(", "),
        bless_command()
    )))
}

/// The command that reruns this test with blessing on: `H2GRPC_BLESS=1 cargo test -p <package>
/// <test>`, the package and test named when Cargo and the test harness say them.
fn bless_command() -> String {
    let mut command = format!("{BLESS}=1 cargo test");
    if let Ok(package) = std::env::var("CARGO_PKG_NAME") {
        command.push_str(" -p ");
        command.push_str(&package);
    }
    // libtest names each test's thread after the test.
    if let Some(test) = std::thread::current().name().filter(|name| *name != "main") {
        command.push(' ');
        command.push_str(test);
    }
    command
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROTO: &str =
        "syntax = \"proto3\"; package ping; message P {} service Pinger { rpc Ping(P) returns (P); }";

    /// A proto in `root/proto`, checked in (or not) under `root/src/generated`.
    fn check(root: &Path, bless: bool) -> io::Result<()> {
        crate::configure().compile_checked_in_with(
            &[root.join("proto/ping.proto")],
            &[root.join("proto")],
            root.join("src/generated"),
            bless,
        )
    }

    fn project() -> tempfile::TempDir {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join("proto")).unwrap();
        std::fs::write(root.path().join("proto/ping.proto"), PROTO).unwrap();
        root
    }

    #[test]
    fn a_missing_file_is_reported_with_the_command_that_writes_it() {
        let root = project();
        let err = check(root.path(), false).unwrap_err().to_string();
        assert!(err.contains("ping.rs"), "{err}");
        assert!(err.contains("H2GRPC_BLESS=1 cargo test"), "{err}");
        assert!(!root.path().join("src/generated").exists());
    }

    #[test]
    fn blessing_writes_the_files_and_then_the_check_passes() {
        let root = project();
        check(root.path(), true).unwrap();
        let code = std::fs::read_to_string(root.path().join("src/generated/ping.rs")).unwrap();
        assert!(code.contains("pub trait Pinger"));
        check(root.path(), false).unwrap();
    }

    #[test]
    fn a_stale_file_is_detected_and_blessing_rewrites_it() {
        let root = project();
        check(root.path(), true).unwrap();
        let path = root.path().join("src/generated/ping.rs");
        let current = std::fs::read_to_string(&path).unwrap();
        // The proto changed (a new message) but the checked-in code did not.
        std::fs::write(root.path().join("proto/ping.proto"), format!("{PROTO} message Q {{}}"))
            .unwrap();
        let err = check(root.path(), false).unwrap_err().to_string();
        assert!(err.contains("stale") && err.contains("ping.rs"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), current, "a check writes nothing");
        check(root.path(), true).unwrap();
        assert!(std::fs::read_to_string(&path).unwrap().contains("pub struct Q"));
        check(root.path(), false).unwrap();
    }

    #[test]
    fn the_command_names_the_package_and_this_test() {
        let command = bless_command();
        assert!(command.starts_with("H2GRPC_BLESS=1 cargo test"), "{command}");
        assert!(command.ends_with("the_command_names_the_package_and_this_test"), "{command}");
    }
}
